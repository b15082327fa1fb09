/**
 * Back-off after rejected candidates. A drift that persists keeps firing, and a rejected candidate moves neither the
 * champion's "new data since" point nor the drift baseline, so without a back-off every cooldown would start another
 * GPU training job and two batch transforms that end the same way. After each consecutive rejection the next
 * drift-triggered run waits an exponentially growing interval, unless the new data has doubled since the rejection
 * (a new dataset is materially different) or a person (or the schedule) starts the run. A deployment ends the streak.
 *
 * Pure: no AWS, no clock (times are inputs, in epoch seconds).
 */

/** The back-off policy (`retraining.backoff` of the stage config). */
export interface BackoffPolicy {
  /** Interval after the first rejection. */
  readonly baseHours: number;
  /** Each further consecutive rejection multiplies the interval by this. */
  readonly factor: number;
  /** The interval never exceeds this. */
  readonly maxHours: number;
}

/** What the loop remembers after a rejection (one record per endpoint; deleted when a model deploys). */
export interface BackoffRecord {
  /** Consecutive rejections so far (at least 1). */
  readonly rejections: number;
  /** When the last rejected run started (epoch seconds). */
  readonly rejectedAt: number;
  /** New records counted by the last rejected run. */
  readonly newRecordsAtRejection: number;
  /** Drift-triggered runs before this time (epoch seconds) are skipped… */
  readonly notBefore: number;
  /** …unless at least this many new records have arrived since the champion's dataset. */
  readonly waiveAtRecords: number;
}

/** Why a run started, as far as the back-off cares. */
export type TriggerKind = 'drift' | 'schedule' | 'manual';

/** The decision of the back-off gate. */
export type BackoffDecision =
  | { readonly proceed: true; readonly reason: string }
  | { readonly proceed: false; readonly reason: string; readonly notBefore: number; readonly waiveAtRecords: number };

/** Validates a policy; the message says what was received and what is allowed. */
export function validateBackoffPolicy(policy: BackoffPolicy): void {
  if (!(policy.baseHours > 0)) throw new Error(`backoff.baseHours must be positive; received ${policy.baseHours}`);
  if (!(policy.factor >= 1)) throw new Error(`backoff.factor must be at least 1; received ${policy.factor}`);
  if (!(policy.maxHours >= policy.baseHours)) {
    throw new Error(`backoff.maxHours must be at least baseHours (${policy.baseHours}); received ${policy.maxHours}`);
  }
}

/**
 * Seconds a drift-triggered run waits after `rejections` consecutive rejections: 0 without a rejection, then
 * `baseHours × factor^(rejections − 1)`, capped at `maxHours`.
 */
export function backoffIntervalSeconds(policy: BackoffPolicy, rejections: number): number {
  if (!Number.isInteger(rejections) || rejections < 0) {
    throw new Error(`rejections must be a non-negative integer; received ${rejections}`);
  }
  if (rejections === 0) return 0;
  const hours = Math.min(policy.maxHours, policy.baseHours * policy.factor ** (rejections - 1));
  return Math.round(hours * 3600);
}

/**
 * The intervals (seconds) after the 1st, 2nd, … rejection up to the first that reaches the cap, which repeats for
 * every later rejection. The state machine embeds this list and indexes it with the rejection count, so the
 * exponent is computed here, once, at synth time.
 */
export function backoffSchedule(policy: BackoffPolicy, maxSteps = 32): number[] {
  validateBackoffPolicy(policy);
  const schedule: number[] = [];
  for (let n = 1; n <= maxSteps; n++) {
    const seconds = backoffIntervalSeconds(policy, n);
    schedule.push(seconds);
    if (seconds >= Math.round(policy.maxHours * 3600) || policy.factor === 1) break;
  }
  return schedule;
}

/** The record after one more rejection (`previous` undefined: the first of a streak). */
export function recordRejection(
  previous: BackoffRecord | undefined,
  rejectedAt: number,
  newRecords: number,
  policy: BackoffPolicy,
): BackoffRecord {
  const rejections = (previous?.rejections ?? 0) + 1;
  return {
    rejections,
    rejectedAt,
    newRecordsAtRejection: newRecords,
    notBefore: rejectedAt + backoffIntervalSeconds(policy, rejections),
    waiveAtRecords: Math.max(1, 2 * newRecords),
  };
}

/**
 * Whether a run may train. Only drift-triggered runs are held back; the time bound and the data bound are both
 * inclusive (a run exactly at `notBefore`, or with exactly twice the records, proceeds).
 */
export function decideBackoff(input: {
  readonly trigger: TriggerKind;
  readonly now: number;
  readonly newRecords: number;
  readonly record?: BackoffRecord;
}): BackoffDecision {
  const { trigger, now, newRecords, record } = input;
  if (trigger !== 'drift') return { proceed: true, reason: `started by ${trigger}: no back-off` };
  if (!record || record.rejections < 1)
    return { proceed: true, reason: 'no rejected candidate since the last deployment' };
  if (now >= record.notBefore) {
    return { proceed: true, reason: `back-off after ${record.rejections} rejection(s) has elapsed` };
  }
  if (newRecords >= record.waiveAtRecords) {
    return {
      proceed: true,
      reason: `new data doubled since the last rejection (${newRecords} ≥ ${record.waiveAtRecords} records): back-off waived`,
    };
  }
  return {
    proceed: false,
    reason: `back-off after ${record.rejections} consecutive rejection(s): drift-triggered runs resume at ${new Date(record.notBefore * 1000).toISOString()} or once ${record.waiveAtRecords} new records have arrived (now ${newRecords})`,
    notBefore: record.notBefore,
    waiveAtRecords: record.waiveAtRecords,
  };
}
