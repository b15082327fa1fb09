/**
 * Retraining loop, recommender evaluation: popularity, champion and candidate ranked on the time-based holdout;
 * promotion only when the paired bootstrap interval of the nDCG@10 gain lies above the margin; the report is
 * written for the model package ({@link runRecommenderEvaluation}).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { S3ObjectStore } from '../shared/aws/s3-object-store';
import {
  runRecommenderEvaluation,
  type LoopEvaluationRequest,
  type RecommenderEvaluation,
} from '../../core/recommender/promotion';

const logger = new Logger();
const tracer = new Tracer();
const store = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));
const confidence = Number(process.env.BOOTSTRAP_CONFIDENCE ?? '0.95');
const resamples = Number(process.env.BOOTSTRAP_RESAMPLES ?? '2000');
if (!(confidence > 0 && confidence < 1)) {
  throw new Error(
    `environment variable BOOTSTRAP_CONFIDENCE must be in (0, 1); received "${process.env.BOOTSTRAP_CONFIDENCE}"`,
  );
}
if (!Number.isInteger(resamples) || resamples < 100) {
  throw new Error(
    `environment variable BOOTSTRAP_RESAMPLES must be an integer of at least 100; received "${process.env.BOOTSTRAP_RESAMPLES}"`,
  );
}

/** The Lambda entry point. */
export async function handler(event: LoopEvaluationRequest): Promise<RecommenderEvaluation> {
  const evaluation = await runRecommenderEvaluation(store, event, { confidence, resamples });
  logger.info('evaluated candidate', {
    promote: evaluation.promote,
    reason: evaluation.reason,
    reportUri: evaluation.reportUri,
  });
  return evaluation;
}
