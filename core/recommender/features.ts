/**
 * The recommender's feature vector, defined once. The serving Lambda builds one CSV row per candidate item in this
 * column order and the dataset build (training) must write the same columns after the label, so that the model
 * (SageMaker built-in XGBoost, `text/csv`, no header) sees identical features online and offline.
 * No AWS or CDK imports: handlers, CLIs and the dataset build use this file.
 */
import { INTERACTION_EVENT_SCHEMA } from '../contracts/events';

/** One column of the feature vector. */
export interface FeatureColumn {
  readonly name: string;
  readonly description: string;
}

/**
 * Column order of the CSV row sent to the endpoint (training files: `label,<these columns>`).
 * Changing the order or meaning is a model-breaking change: bump {@link FEATURE_VERSION}.
 */
export const FEATURE_COLUMNS: readonly FeatureColumn[] = [
  { name: 'item_popularity', description: 'ln(1 + interactions with the item in the sliding popularity window)' },
  { name: 'item_popularity_rank', description: 'rank of the item in the popularity list / list length (0 = top)' },
  { name: 'item_ctr', description: 'smoothed item click-through rate: (clicks + 1) / (impressions + 20)' },
  { name: 'user_activity', description: 'ln(1 + recent interactions of the user kept in the feature store)' },
  { name: 'user_click_share', description: 'share of clicks among the user’s recent interactions (0 when none)' },
  { name: 'hour_of_day', description: 'UTC hour of the request / 23' },
  { name: 'surface', description: 'index of the surface in the event schema’s list (home = 0 …), -1 when unknown' },
  { name: 'device', description: 'index of the device class in the event schema’s list, -1 when unknown' },
];

/** Version of the layout, recorded with every prediction. */
export const FEATURE_VERSION = 1;

/** Prior of the smoothed item CTR: (clicks + CTR_PRIOR_CLICKS) / (impressions + CTR_PRIOR_IMPRESSIONS). */
export const CTR_PRIOR_CLICKS = 1;
export const CTR_PRIOR_IMPRESSIONS = 20;

const valuesOf = (name: string): readonly string[] =>
  INTERACTION_EVENT_SCHEMA.fields.find((f) => f.name === name)?.values ?? [];
/** Surfaces and devices in schema order (their index is the feature value). */
export const SURFACES = valuesOf('surface');
export const DEVICES = valuesOf('device');

/** What is known about a candidate item. */
export interface ItemFeatures {
  readonly itemId: string;
  /** Interactions in the sliding popularity window (may be an estimate). */
  readonly popularity: number;
  /** 0-based rank in the popularity list. */
  readonly rank: number;
  readonly impressions: number;
  readonly clicks: number;
}

/** What is known about the user and the request. */
export interface ContextFeatures {
  readonly recentInteractions: number;
  readonly recentClicks: number;
  readonly popularityListLength: number;
  readonly now: Date;
  readonly surface?: string;
  readonly device?: string;
}

/** Smoothed click-through rate. */
export function smoothedCtr(clicks: number, impressions: number): number {
  return (clicks + CTR_PRIOR_CLICKS) / (impressions + CTR_PRIOR_IMPRESSIONS);
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** The feature vector of one candidate, in {@link FEATURE_COLUMNS} order. */
export function featureVector(item: ItemFeatures, context: ContextFeatures): number[] {
  const surface = context.surface ? SURFACES.indexOf(context.surface) : -1;
  const device = context.device ? DEVICES.indexOf(context.device) : -1;
  return [
    Math.log1p(Math.max(0, item.popularity)),
    context.popularityListLength > 0 ? item.rank / context.popularityListLength : 1,
    smoothedCtr(item.clicks, item.impressions),
    Math.log1p(context.recentInteractions),
    context.recentInteractions > 0 ? context.recentClicks / context.recentInteractions : 0,
    context.now.getUTCHours() / 23,
    surface,
    device,
  ].map(round);
}

/** One CSV line (no header, no label) per row: the `text/csv` body built-in XGBoost expects. */
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
