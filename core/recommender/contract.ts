/**
 * The ranker's feature contract, defined once. The `recommend` API builds each candidate's vector with
 * {@link featureVector} and logs it with the served slate; the training dataset takes those logged vectors as they
 * were served (no training/serving skew by construction); the bootstrap dataset, before a first model has served,
 * computes the same columns point-in-time in SQL (`sql.ts`, whose column list a test compares with
 * {@link FEATURE_NAMES}). Changing a column's order or meaning is a model-breaking change: bump
 * {@link FEATURE_VERSION}.
 *
 * No AWS or CDK imports: the handlers, the SQL builder, the simulation and the benchmark use this file.
 */
import { INTERACTION_EVENT_SCHEMA } from '../contracts/events';

/** Version of the layout, recorded with every served slate and every trained model. */
export const FEATURE_VERSION = 2;

/** What a feature describes. */
export type FeatureGroup = 'item' | 'user' | 'user×item' | 'context';

/** One column of the contract. */
export interface FeatureDefinition {
  readonly name: string;
  readonly group: FeatureGroup;
  readonly description: string;
}

/** Prior of the smoothed item CTR: (clicks + CTR_PRIOR_CLICKS) / (impressions + CTR_PRIOR_IMPRESSIONS). */
export const CTR_PRIOR_CLICKS = 1;
export const CTR_PRIOR_IMPRESSIONS = 20;

/** The columns, in model input order. */
export const FEATURES: readonly FeatureDefinition[] = [
  {
    name: 'item_popularity',
    group: 'item',
    description: 'ln(1 + engagements with the item over the last popularity bucket, sliding)',
  },
  {
    name: 'item_ctr',
    group: 'item',
    description:
      'smoothed click-through rate since the start of the previous bucket: (clicks + 1) / (impressions + 20)',
  },
  {
    name: 'item_impressions',
    group: 'item',
    description: 'ln(1 + impressions since the start of the previous bucket)',
  },
  {
    name: 'user_activity',
    group: 'user',
    description: 'ln(1 + the user’s recent engagements kept for serving, at most recentItemsPerUser)',
  },
  { name: 'user_click_share', group: 'user', description: 'clicks among the user’s recent engagements (0 when none)' },
  {
    name: 'covisit_strength',
    group: 'user×item',
    description: 'ln(1 + Σ co-visitation strength of the candidate with each distinct recent item of the user)',
  },
  {
    name: 'category_affinity',
    group: 'user×item',
    description: 'share of the user’s recent engagements in the candidate’s category (0 when unknown)',
  },
  {
    name: 'user_item_engagements',
    group: 'user×item',
    description: 'ln(1 + the user’s recent engagements with this very item)',
  },
  { name: 'hour_of_day', group: 'context', description: 'UTC hour of the request / 23' },
  { name: 'day_of_week', group: 'context', description: '(ISO weekday of the request − 1) / 6, Monday = 0' },
  { name: 'surface', group: 'context', description: 'index of the surface in the event schema’s list, −1 unknown' },
  { name: 'device', group: 'context', description: 'index of the device class in the event schema’s list, −1 unknown' },
];

/** The column names, in order. */
export const FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);

/** Number of columns (`num_features` of the training job). */
export const NUM_FEATURES = FEATURES.length;

const valuesOf = (name: string): readonly string[] =>
  INTERACTION_EVENT_SCHEMA.fields.find((f) => f.name === name)?.values ?? [];
/** Surfaces and devices in schema order (their index is the feature value). */
export const SURFACES = valuesOf('surface');
export const DEVICES = valuesOf('device');

/** A user's engagement (any interaction but an impression) as kept for serving, newest first. */
export interface Engagement {
  readonly itemId: string;
  readonly eventType: string;
  readonly category?: string;
}

/** What is known about a candidate when it is scored. */
export interface CandidateSignals {
  readonly itemId: string;
  readonly category?: string;
  /** Engagements in the sliding popularity window (may be an estimate). */
  readonly popularity: number;
  readonly impressions: number;
  readonly clicks: number;
  /** Σ co-visitation strength with the user's distinct recent items. */
  readonly covisitation: number;
}

/** What is known about the request. */
export interface RequestSignals {
  /** The user's recent engagements, newest first (at most `recentItemsPerUser`). */
  readonly recent: readonly Engagement[];
  readonly now: Date;
  readonly surface?: string;
  readonly device?: string;
}

/** Smoothed click-through rate. */
export function smoothedCtr(clicks: number, impressions: number): number {
  return (clicks + CTR_PRIOR_CLICKS) / (impressions + CTR_PRIOR_IMPRESSIONS);
}

/** Values are rounded to 6 decimals: what is served, logged and trained on is the same decimal text. */
export const roundFeature = (x: number): number => Math.round(x * 1e6) / 1e6;

/** The request-level part of the vectors, computed once per request. */
export interface RequestPart {
  readonly activity: number;
  readonly clickShare: number;
  readonly categories: ReadonlyMap<string, number>;
  readonly items: ReadonlyMap<string, number>;
  readonly hour: number;
  readonly weekday: number;
  readonly surface: number;
  readonly device: number;
}

/** Precomputes what every candidate of a request shares. */
export function requestPart(request: RequestSignals): RequestPart {
  const categories = new Map<string, number>();
  const items = new Map<string, number>();
  let clicks = 0;
  for (const e of request.recent) {
    if (e.eventType === 'click') clicks++;
    if (e.category) categories.set(e.category, (categories.get(e.category) ?? 0) + 1);
    items.set(e.itemId, (items.get(e.itemId) ?? 0) + 1);
  }
  const n = request.recent.length;
  return {
    activity: n,
    clickShare: n > 0 ? clicks / n : 0,
    categories,
    items,
    hour: request.now.getUTCHours(),
    weekday: (request.now.getUTCDay() + 6) % 7,
    surface: request.surface ? SURFACES.indexOf(request.surface) : -1,
    device: request.device ? DEVICES.indexOf(request.device) : -1,
  };
}

/** One candidate's vector, in {@link FEATURES} order. */
export function featureVector(candidate: CandidateSignals, request: RequestPart | RequestSignals): number[] {
  const r = 'activity' in request ? request : requestPart(request);
  const inCategory = candidate.category ? (r.categories.get(candidate.category) ?? 0) : 0;
  return [
    Math.log1p(Math.max(0, candidate.popularity)),
    smoothedCtr(candidate.clicks, candidate.impressions),
    Math.log1p(Math.max(0, candidate.impressions)),
    Math.log1p(r.activity),
    r.clickShare,
    Math.log1p(Math.max(0, candidate.covisitation)),
    r.activity > 0 ? inCategory / r.activity : 0,
    Math.log1p(r.items.get(candidate.itemId) ?? 0),
    r.hour / 23,
    r.weekday / 6,
    r.surface,
    r.device,
  ].map(roundFeature);
}

/** Checks a vector against the contract; the reason when it does not fit. */
export function vectorProblem(vector: readonly number[], featureVersion: number): string | undefined {
  if (featureVersion !== FEATURE_VERSION) {
    return `feature_version ${featureVersion} is not the contract's (${FEATURE_VERSION})`;
  }
  if (vector.length !== NUM_FEATURES) {
    return `${vector.length} features; the contract (version ${FEATURE_VERSION}) has ${NUM_FEATURES}`;
  }
  const bad = vector.findIndex((v) => !Number.isFinite(v));
  return bad >= 0 ? `feature ${FEATURE_NAMES[bad]} is not a finite number` : undefined;
}

/** The index of a column by name (throws for an unknown name, so a typo cannot silently read column -1). */
export function featureIndex(name: string): number {
  const i = FEATURE_NAMES.indexOf(name);
  if (i < 0) throw new Error(`unknown feature "${name}"; the contract has ${FEATURE_NAMES.join(', ')}`);
  return i;
}
