/**
 * The longest a retraining run can take: the sum of its bounded waits. The state machine's timeout is set to it,
 * and the lock must outlive it, so that a deployment can never still be running when its lock is released or
 * expires (the next run would then send an update to an endpoint that is `Updating`). Pure; hours in, hours out.
 */

/** What bounds a run. */
export interface RunBounds {
  /** Training job bound: max wait with spot, else max runtime. */
  readonly trainingHours: number;
  /** Manual approval wait (0 with automatic approval). */
  readonly approvalHours: number;
  /** One bounded endpoint wait (a deployment's polling; also each wait for a busy or deleted endpoint). */
  readonly deployMinutes: number;
}

/** Hours the run's fixed steps may take besides training, approval and the endpoint waits. */
export const FIXED_STEP_HOURS = {
  /** Each Athena query is bounded by 30 minutes: the count and up to four exports. */
  athena: 5 * 0.5 + 5 / 60,
  /** Two batch transforms (champion and candidate), 3 hours each. */
  scoring: 2 * 3,
  /** The loop's Lambdas (plan 1, evaluate 10, manifests 5, baseline 15 minutes). */
  lambdas: 31 / 60,
  /** API calls with their retries (6 attempts, at most a minute apart) across about 40 Task states. */
  apiCalls: 1,
} as const;

/**
 * The sum of the bounded waits, in hours (rounded up): training with its one retry (each bounded by the job's
 * limit plus an hour of Step Functions slack), the approval, three endpoint waits (busy at the start, busy or being
 * replaced before the deployment, the deployment's own polling), and the fixed steps.
 */
export function runBudgetHours(b: RunBounds): number {
  const training = 2 * (b.trainingHours + 1) + 2 / 60;
  const endpointWaits = (3 * b.deployMinutes) / 60;
  const fixed = Object.values(FIXED_STEP_HOURS).reduce((a, x) => a + x, 0);
  return Math.ceil(training + b.approvalHours + endpointWaits + fixed);
}

/** The lock must outlive the run by at least this much (an hour, for clock skew and the last notification). */
export const LOCK_MARGIN_HOURS = 1;

/** The shortest lock TTL a loop with these bounds accepts. */
export function minimumLockTtlHours(b: RunBounds): number {
  return runBudgetHours(b) + LOCK_MARGIN_HOURS;
}
