/**
 * The vision system's daily review job, step by step (the `DailyReview` state machine calls each): plan the
 * backfill of the previous day's deferred predictions (one batch-transform manifest), record the transform's
 * answers in the prediction log, then select the day's review items (active learning with a budget plus the random
 * audit) and send them to the reviewers' queue. Pure logic over ports, no AWS imports.
 */
import type { ObjectStore } from '../storage/object-store';
import type { ReviewRequest } from '../review/request';
import { selectForReview, validateActiveLearningPolicy, type ActiveLearningPolicy } from './active-learning';
import { planBackfill, recordBackfill, type BackfillInput } from './backfill';
import { readDayLog, utcDay } from './prediction-log';

/** Where the job reads and writes, and how it chooses. */
export interface DailyReviewSettings extends Omit<BackfillInput, 'day'> {
  readonly policy: ActiveLearningPolicy;
}

/** One step of the job. */
export type DailyReviewStep =
  /**
   * `time`: the run's start; the day reviewed is the one before it (UTC), unless the execution's input (`input`)
   * names one (`{"day": "yyyy-mm-dd"}`: an operator re-running a missed day).
   */
  | { readonly action: 'plan'; readonly time: string; readonly input?: unknown }
  | { readonly action: 'record'; readonly day: string; readonly outputUri: string }
  | { readonly action: 'select'; readonly day: string };

/** Sends review requests to the reviewers' queue. */
export type SendRequests = (requests: readonly ReviewRequest[]) => Promise<void>;

/** Parses the job's settings (the function's environment); throws one line naming the variable. */
export function dailyReviewSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): DailyReviewSettings {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`environment variable ${name} is required`);
    return value;
  };
  let policy: ActiveLearningPolicy;
  try {
    policy = JSON.parse(required('REVIEW_POLICY')) as ActiveLearningPolicy;
  } catch (e) {
    throw new Error(`environment variable REVIEW_POLICY is not valid JSON: ${(e as Error).message}`);
  }
  return {
    bucket: required('LOG_BUCKET'),
    predictionsPrefix: required('PREDICTIONS_PREFIX'),
    deferredPrefix: required('DEFERRED_PREFIX'),
    backfillPrefix: required('BACKFILL_PREFIX'),
    endpointName: required('ENDPOINT_NAME'),
    imagesUri: required('IMAGES_URI'),
    policy: validateActiveLearningPolicy(policy),
  };
}

/** The day before `time` (UTC), the day a run reviews. */
export function reviewedDay(time: string): string {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) throw new Error(`time must be an ISO-8601 time; received "${time}"`);
  return utcDay(new Date(ms - 86_400_000));
}

/** The day a run reviews: the one its input names, else the day before its start. */
export function dayOfRun(time: string, input?: unknown): string {
  const named = input !== null && typeof input === 'object' ? (input as { day?: unknown }).day : undefined;
  if (named === undefined) return reviewedDay(time);
  if (typeof named !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(named) || Number.isNaN(Date.parse(named))) {
    throw new Error(`the input's day must be a date yyyy-mm-dd; received ${JSON.stringify(named)}`);
  }
  return named;
}

/** Runs one step. */
export async function runDailyReviewStep(
  store: ObjectStore,
  settings: DailyReviewSettings,
  step: DailyReviewStep,
  send: SendRequests,
  /** The clock: backfilled predictions are logged at the time they are recorded. */
  now: () => Date = () => new Date(),
): Promise<Record<string, unknown>> {
  switch (step.action) {
    case 'plan': {
      const day = dayOfRun(step.time, step.input);
      const plan = await planBackfill(store, { ...settings, day });
      const outputUri = `s3://${settings.bucket}/${settings.backfillPrefix}${settings.endpointName}/dt=${day}/out/`;
      return { day, ...plan, outputUri };
    }
    case 'record': {
      const result = await recordBackfill(store, {
        ...settings,
        day: step.day,
        outputUri: step.outputUri,
        finishedAt: now().toISOString(),
      });
      return { day: step.day, ...result };
    }
    case 'select': {
      const log = await readDayLog(store, settings.bucket, settings.predictionsPrefix, settings.endpointName, step.day);
      const selection = selectForReview(log.records, settings.policy);
      if (selection.requests.length > 0) await send(selection.requests);
      return {
        day: step.day,
        considered: selection.considered,
        audit: selection.audit,
        uncertain: selection.uncertain,
        overBudget: selection.overBudget,
        invalidLines: log.invalid.length,
      };
    }
    default:
      throw new Error(
        `unknown step ${JSON.stringify((step as { action?: unknown }).action)}; expected plan, record or select`,
      );
  }
}
