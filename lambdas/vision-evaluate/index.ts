/**
 * Retraining loop, vision evaluation: both models' batch-transform answers on the fixed human-verified test set,
 * each read through its own class map; McNemar's exact test and the minimum gain decide; the report is written for
 * the model package ({@link runVisionEvaluation}).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { S3ObjectStore } from '../shared/aws/s3-object-store';
import {
  fromLoopRequest,
  runVisionEvaluation,
  type LoopEvaluationRequest,
  type VisionEvaluation,
} from '../../core/vision/promotion';

const logger = new Logger();
const tracer = new Tracer();
const store = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));
const alpha = Number(process.env.PROMOTION_ALPHA ?? '0.05');
if (!(alpha > 0 && alpha < 1)) {
  throw new Error(`environment variable PROMOTION_ALPHA must be in (0, 1); received "${process.env.PROMOTION_ALPHA}"`);
}

/** The Lambda entry point. */
export async function handler(event: LoopEvaluationRequest): Promise<VisionEvaluation> {
  const evaluation = await runVisionEvaluation(store, fromLoopRequest(event, alpha));
  logger.info('evaluated candidate', { ...evaluation });
  return evaluation;
}
