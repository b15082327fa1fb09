/**
 * Time fields and phases of the seasonal comparison.
 *
 * A record's time comes from a **time field**: `inferenceTime` (the capture record's `eventMetadata.inferenceTime`,
 * the default for data capture) or a field of the record itself (plain JSONL, e.g. `event_time`). Accepted values:
 * ISO 8601 date-times (`2026-11-23T02:15:00Z`, an offset, or a date alone) and epoch numbers (seconds below 10^11,
 * milliseconds above). Time fields are never profiled as features.
 *
 * Phases are UTC **hours of the week**, Monday 00:00–01:00 being phase 0: a daily comparison pools the seven phases
 * of the same hour of day, a weekly one keeps the hour of the week. UTC on both sides keeps the phases matched
 * whatever the users' time zone.
 */

/** The capture time field: `eventMetadata.inferenceTime`. */
export const CAPTURE_TIME_FIELD = 'inferenceTime';

/** How a feature is compared over time. */
export type Seasonality = 'none' | 'daily' | 'weekly';

/** Every {@link Seasonality}. */
export const SEASONALITIES: readonly Seasonality[] = ['none', 'daily', 'weekly'];

/** Phases stored in a seasonal profile: the hours of a week. */
export const PHASES_PER_WEEK = 168;

/** Phases of a period. */
export function phasesOf(seasonality: Exclude<Seasonality, 'none'>): number {
  return seasonality === 'daily' ? 24 : PHASES_PER_WEEK;
}

/** Hour of the week (0–167, Monday 00:00 UTC = 0) of an epoch time in milliseconds. */
export function hourOfWeek(ms: number): number {
  const hours = Math.floor(ms / 3_600_000);
  // 1970-01-01 was a Thursday: hour 0 of the epoch is hour 72 of its week.
  return (((hours + 72) % PHASES_PER_WEEK) + PHASES_PER_WEEK) % PHASES_PER_WEEK;
}

/** The phase of an hour of the week in a period (hour of day for daily). */
export function phaseIn(seasonality: Exclude<Seasonality, 'none'>, weekHour: number): number {
  return seasonality === 'daily' ? weekHour % 24 : weekHour;
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** A readable phase label: `02:00` (daily) or `Tue 02:00` (weekly). */
export function phaseLabel(seasonality: Exclude<Seasonality, 'none'>, phase: number): string {
  const hour = `${String(phase % 24).padStart(2, '0')}:00`;
  return seasonality === 'daily' ? hour : `${DAYS[Math.floor(phase / 24)]} ${hour}`;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Epoch milliseconds of a time value, or a reason when there is none: `missing` (absent, null, empty) or
 * `unparsable` (anything else that is not an ISO 8601 date-time or a finite epoch number).
 */
export function parseTimeValue(value: unknown): number | 'missing' | 'unparsable' {
  if (value === undefined || value === null || value === '') return 'missing';
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return 'unparsable';
    return value < 1e11 ? value * 1000 : value;
  }
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value)) return 'unparsable';
  const ms = Date.parse(value.length > 10 && value.charCodeAt(10) === 32 ? value.replace(' ', 'T') : value);
  return Number.isNaN(ms) ? 'unparsable' : ms;
}

/**
 * Whether a string looks like an ISO 8601 date-time (`YYYY-MM-DDTHH:MM…`): such a column is a timestamp, never a
 * categorical feature. A cheap check on fixed positions, then the full pattern.
 */
export function looksLikeTimestamp(value: string): boolean {
  if (value.length < 16) return false;
  const c = value.charCodeAt(10);
  return (
    value.charCodeAt(4) === 45 &&
    value.charCodeAt(7) === 45 &&
    (c === 84 || c === 32) &&
    value.charCodeAt(13) === 58 &&
    ISO_DATE_TIME.test(value)
  );
}
