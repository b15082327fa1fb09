/**
 * Retraining loop, vision dataset: writes train/validation augmented manifests from the labelled-images query
 * result ({@link buildManifests}).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { S3ObjectStore } from '../shared/aws/s3-object-store';
import { buildManifests, type ManifestInput, type ManifestResult } from '../../core/retraining/manifests';

const logger = new Logger();
const tracer = new Tracer();
const store = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));

/** The Lambda entry point. */
export async function handler(event: ManifestInput): Promise<ManifestResult> {
  const result = await buildManifests(store, event);
  logger.info('wrote manifests', { train: result.train, validation: result.validation, classes: result.classes });
  return result;
}
