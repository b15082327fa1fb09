/**
 * Time buckets of the real-time counters and the CSV body of a scoring request. The feature layout itself is the
 * contract in `contract.ts` (re-exported here for the callers that knew it from this file).
 * No AWS or CDK imports.
 */
export {
  CTR_PRIOR_CLICKS,
  CTR_PRIOR_IMPRESSIONS,
  DEVICES,
  FEATURE_VERSION,
  FEATURES as FEATURE_COLUMNS,
  SURFACES,
  featureVector,
  smoothedCtr,
} from './contract';

/** One CSV line (no header, no label) per row: the `text/csv` body the ranker's inference handler expects. */
export function toCsv(rows: readonly (readonly number[])[]): string {
  return rows.map((r) => r.join(',')).join('\n');
}

/** Start of the tumbling bucket of `bucketMinutes` that contains `t` (aligned to the epoch). */
export function bucketStart(t: Date | number, bucketMinutes: number): number {
  const ms = bucketMinutes * 60_000;
  const time = typeof t === 'number' ? t : t.getTime();
  return Math.floor(time / ms) * ms;
}

/**
 * Sliding-window estimate from two tumbling buckets (the sliding-window-counter approximation): the whole current
 * bucket plus the previous bucket weighted by how much of it still overlaps a window of one bucket ending now.
 */
export function slidingCount(current: number, previous: number, now: Date | number, bucketMinutes: number): number {
  const ms = bucketMinutes * 60_000;
  const time = typeof now === 'number' ? now : now.getTime();
  const elapsed = (time - bucketStart(time, bucketMinutes)) / ms;
  return current + previous * (1 - elapsed);
}
