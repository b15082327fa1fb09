/**
 * The recommender's slate-outcome writer (`ranking.outcomes`; `lib/case-studies/recommender/slate-outcomes.ts`):
 * how often it runs, how long it waits for records to reach the lake, how far back it catches up — and its
 * coherence with the drift checker, which judges a window's realised quality `drift.quality.settleMinutes` after the
 * window ends and only once: by then the writer must have written the window's hours.
 */
import { z } from 'zod';
import { between } from './validators';

/** Timeout of the writer function; each run stops starting queries in time to finish within it. */
export const SLATE_OUTCOMES_TIMEOUT_MINUTES = 15;

export const slateOutcomesConfigSchema = z.strictObject({
  /** How often the writer runs (each run writes every settled hour not yet written). */
  scheduleMinutes: between(5, 60, 'minutes'),
  /**
   * How late a record may reach the lake after it happened (Firehose buffering and retries): an hour is written
   * `attributionMinutes` + this after it ended. At least the Firehose buffer interval.
   */
  deliveryAllowanceMinutes: between(1, 120, 'minutes'),
  /** Settled hours not yet written are caught up this far back (missed runs, failures). */
  catchUpHours: between(1, 168, 'hours'),
});

/** What the coherence check reads. */
export interface SlateOutcomesCoherenceInput {
  readonly attributionMinutes: number;
  readonly outcomes: z.output<typeof slateOutcomesConfigSchema>;
  readonly qualitySettleMinutes: number;
  readonly firehoseBufferSeconds: number;
}

/**
 * The latest an hour's outcomes are written after the hour ends: attribution and delivery allowance (it settles),
 * then up to one schedule period until a run starts and one timeout until that run is done.
 */
export function slateOutcomesLatestMinutes(i: Pick<SlateOutcomesCoherenceInput, 'attributionMinutes' | 'outcomes'>) {
  return (
    i.attributionMinutes +
    i.outcomes.deliveryAllowanceMinutes +
    i.outcomes.scheduleMinutes +
    SLATE_OUTCOMES_TIMEOUT_MINUTES
  );
}

/** The problems of an incoherent configuration: `[path, message]`, one line each. */
export function slateOutcomesProblems(i: SlateOutcomesCoherenceInput): Array<[string[], string]> {
  const problems: Array<[string[], string]> = [];
  const latest = slateOutcomesLatestMinutes(i);
  if (i.qualitySettleMinutes <= latest) {
    problems.push([
      ['drift', 'quality', 'settleMinutes'],
      `must be more than ${latest} minutes: the slate outcomes of an hour are written up to ${latest} minutes after it ends (ranking.attributionMinutes ${i.attributionMinutes} + ranking.outcomes.deliveryAllowanceMinutes ${i.outcomes.deliveryAllowanceMinutes} + ranking.outcomes.scheduleMinutes ${i.outcomes.scheduleMinutes} + the writer's ${SLATE_OUTCOMES_TIMEOUT_MINUTES}-minute timeout), and the checker judges a window once`,
    ]);
  }
  if (i.outcomes.deliveryAllowanceMinutes * 60 < i.firehoseBufferSeconds) {
    problems.push([
      ['ranking', 'outcomes', 'deliveryAllowanceMinutes'],
      `must cover ingestion.firehose.bufferIntervalSeconds (${i.firehoseBufferSeconds} s): records reach the lake that late`,
    ]);
  }
  return problems;
}
