/**
 * Retraining loop, vision dataset: merges the window's labels into the label memory, keeps the fixed test set,
 * writes the manifests and class map, and returns this run's training channels and hyperparameters
 * ({@link prepareVisionTraining}).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { S3ObjectStore } from '../shared/aws/s3-object-store';
import {
  prepareVisionTraining,
  type VisionTrainingInput,
  type VisionTrainingInputRequest,
} from '../../core/vision/training-input';

const logger = new Logger();
const tracer = new Tracer();
const store = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));

/** The Lambda entry point. */
export async function handler(event: VisionTrainingInputRequest): Promise<VisionTrainingInput> {
  const result = await prepareVisionTraining(store, event);
  logger.info('vision dataset written', {
    labels: result.labels,
    train: result.train,
    validation: result.validation,
    test: result.test,
    classes: result.classes,
    newClasses: result.newClasses,
    skipped: result.skipped,
    channels: result.channels.map((c) => c.ChannelName),
  });
  return result;
}
