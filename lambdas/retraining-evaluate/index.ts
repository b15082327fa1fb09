/**
 * Retraining loop, evaluation: re-scores candidate and champion on the same validation data from their batch-transform
 * outputs and decides ({@link runEvaluation}); the first model is judged on its training job's metric.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { S3ObjectStore } from '../shared/aws/s3-object-store';
import { runEvaluation, type Evaluation, type EvaluationRequest } from '../../core/retraining/evaluate';

const logger = new Logger();
const tracer = new Tracer();
const store = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));

/** The Lambda entry point. */
export async function handler(event: EvaluationRequest): Promise<Evaluation> {
  const evaluation = await runEvaluation(store, event);
  logger.info('evaluated candidate', { ...evaluation });
  return evaluation;
}
