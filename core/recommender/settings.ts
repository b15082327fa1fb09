/**
 * Settings of the recommender's Lambdas from their environment, validated (the values are written at synth time
 * from the stage config by `lib/constructs/recommender-serving.ts`).
 */
import { DEFAULT_QUOTAS, validateQuotas, type CandidateQuotas } from './candidates';
import type { ConsumerSettings } from './consume';
import type { ServingSettings } from './recommend';

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

function positive(env: NodeJS.ProcessEnv, name: string, options: { integer?: boolean; max?: number } = {}): number {
  const raw = required(env, name);
  const value = Number(raw);
  const integer = options.integer ?? true;
  if (
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value)) ||
    value > (options.max ?? Infinity)
  ) {
    throw new Error(
      `environment variable ${name} must be a positive ${integer ? 'integer' : 'number'}${options.max ? ` up to ${options.max}` : ''}; received "${raw}"`,
    );
  }
  return value;
}

function nonNegative(env: NodeJS.ProcessEnv, name: string): number {
  const raw = required(env, name);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`environment variable ${name} must be a non-negative integer; received "${raw}"`);
  }
  return value;
}

function fraction(env: NodeJS.ProcessEnv, name: string): number {
  const raw = required(env, name);
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value >= 1) {
    throw new Error(`environment variable ${name} must be a number in [0, 1); received "${raw}"`);
  }
  return value;
}

/** Common settings of both functions. */
export interface CommonSettings {
  readonly caseStudy: string;
  readonly stage: string;
  readonly tableName: string;
}

function common(env: NodeJS.ProcessEnv): CommonSettings {
  return {
    caseStudy: required(env, 'CASE_STUDY'),
    stage: required(env, 'STAGE'),
    tableName: required(env, 'TABLE_NAME'),
  };
}

/** The stream consumer's settings. */
export function consumerSettingsFromEnv(
  env: NodeJS.ProcessEnv,
): ConsumerSettings & CommonSettings & { rawBucket: string; servedFeaturesBucket?: string; canaryTolerance?: number } {
  return {
    ...common(env),
    rawBucket: required(env, 'RAW_BUCKET'),
    quarantinePrefix: env.QUARANTINE_PREFIX ?? 'quarantine/',
    ...(env.SERVED_FEATURES_BUCKET ? { servedFeaturesBucket: env.SERVED_FEATURES_BUCKET } : {}),
    ...(env.SERVED_FEATURES_PREFIX ? { servedFeaturesPrefix: env.SERVED_FEATURES_PREFIX } : {}),
    ...(env.CANARY_CTR_TOLERANCE !== undefined ? { canaryTolerance: fraction(env, 'CANARY_CTR_TOLERANCE') } : {}),
    ttlHours: positive(env, 'FEATURE_TTL_HOURS'),
    popularityBucketMinutes: positive(env, 'POPULARITY_BUCKET_MINUTES'),
    popularityListSize: positive(env, 'POPULARITY_LIST_SIZE'),
    ctrWindowMinutes: positive(env, 'CTR_WINDOW_MINUTES'),
  };
}

/** Shares of the candidate budget from `CANDIDATE_QUOTAS` (`covisit=0.4,fresh=0.2`), else the defaults. */
function quotas(env: NodeJS.ProcessEnv): CandidateQuotas {
  const raw = env.CANDIDATE_QUOTAS;
  if (!raw) return DEFAULT_QUOTAS;
  const parsed: Record<string, number> = { ...DEFAULT_QUOTAS };
  for (const part of raw.split(',')) {
    const [key, value] = part.split('=').map((x) => x.trim());
    if (!(key in DEFAULT_QUOTAS) || value === undefined || value === '' || !Number.isFinite(Number(value))) {
      throw new Error(
        `environment variable CANDIDATE_QUOTAS must look like "covisit=0.4,fresh=0.2"; received "${raw}"`,
      );
    }
    parsed[key] = Number(value);
  }
  const q = parsed as unknown as CandidateQuotas;
  validateQuotas(q);
  return q;
}

/** The serving function's settings (`SLATE_STREAM_NAME`: where served slates are logged; absent: not logged). */
export function servingSettingsFromEnv(
  env: NodeJS.ProcessEnv,
): ServingSettings & CommonSettings & { slateStreamName?: string } {
  return {
    ...common(env),
    ...(env.SLATE_STREAM_NAME ? { slateStreamName: env.SLATE_STREAM_NAME } : {}),
    quotas: quotas(env),
    freshSlots: env.FRESH_SLOTS === undefined ? 1 : nonNegative(env, 'FRESH_SLOTS'),
    endpointName: required(env, 'ENDPOINT_NAME'),
    invokeTimeoutMs: positive(env, 'INVOKE_TIMEOUT_MS'),
    candidates: positive(env, 'CANDIDATES', { max: 200 }),
    maxK: positive(env, 'MAX_K', { max: 50 }),
    recentItemsPerUser: positive(env, 'RECENT_ITEMS_PER_USER'),
    popularityBucketMinutes: positive(env, 'POPULARITY_BUCKET_MINUTES'),
    predictionTtlHours: positive(env, 'FEATURE_TTL_HOURS'),
  };
}
