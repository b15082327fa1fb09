/**
 * Retraining loop, after deployment: refreshes the endpoint's drift baseline from the new model's validation data
 * ({@link refreshBaseline}).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { S3ObjectStore } from '../shared/aws/s3-object-store';
import { refreshBaseline, type BaselineInput, type BaselineResult } from '../../core/retraining/baseline';

const logger = new Logger();
const tracer = new Tracer();
const store = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));

/** The Lambda entry point. */
export async function handler(event: BaselineInput): Promise<BaselineResult> {
  const result = await refreshBaseline(store, event, new Date());
  logger.info('refreshed drift baseline', { ...result });
  return result;
}
