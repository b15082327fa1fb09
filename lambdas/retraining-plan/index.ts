/**
 * Retraining loop, first state: validates the trigger and derives runtime names, dataset window and lock expiry
 * from the execution ({@link planRun}).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { planInputSchema, planRun, type RunPlan } from '../../core/retraining/plan';

const logger = new Logger();

/** The Lambda entry point; the state machine passes execution name, start time and trigger. */
export async function handler(event: unknown): Promise<RunPlan> {
  const plan = planRun(planInputSchema.parse(event));
  logger.info('planned retraining run', { datasetId: plan.datasetId, trigger: plan.trigger.kind });
  return plan;
}
