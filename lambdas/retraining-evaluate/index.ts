/**
 * Retraining loop, evaluation: compares the candidate's validation metric with the champion's
 * ({@link evaluateCandidate}). Both come in the state input (training job result, registry metadata).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { evaluateCandidate, type Evaluation, type EvaluationInput } from '../shared/retraining/evaluate';

const logger = new Logger();

/** The Lambda entry point. */
export async function handler(event: EvaluationInput): Promise<Evaluation> {
  const evaluation = evaluateCandidate(event);
  logger.info('evaluated candidate', { ...evaluation });
  return evaluation;
}
