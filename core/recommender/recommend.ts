/**
 * The `recommend` API's logic, independent of Lambda and of the AWS SDK: build features for popular candidates the
 * user has not seen recently, score them on the SageMaker endpoint within a tight timeout, rank, and on timeout,
 * throttling, error, bad response or a missing endpoint return the popularity ranking instead, marked as fallback.
 * Every response carries an inference id; the prediction is stored so feedback events can be joined to it.
 */
import { z } from 'zod';
import type { FeatureStore } from './feature-store';
import { bucketStart, DEVICES, FEATURE_VERSION, featureVector, slidingCount, SURFACES, toCsv } from './features';

/** Settings of the serving function. */
export interface ServingSettings {
  readonly endpointName: string;
  /** Give up on the endpoint after this long and serve the fallback. */
  readonly invokeTimeoutMs: number;
  /** Candidates scored per request (rows sent to the endpoint). */
  readonly candidates: number;
  /** Largest k a caller may ask for. */
  readonly maxK: number;
  /** Recent interactions read per user (for features and to exclude seen items). */
  readonly recentItemsPerUser: number;
  /** Bucket of the popularity counters (same as the consumer's). */
  readonly popularityBucketMinutes: number;
  /** How long predictions are kept for the feedback join. */
  readonly predictionTtlHours: number;
}

/** Why the fallback ranking was served. */
export type FallbackReason =
  'timeout' | 'throttled' | 'model-error' | 'no-endpoint' | 'bad-response' | 'error' | 'no-candidates';

/** A scoring failure, classified. */
export class ScoringError extends Error {
  constructor(
    readonly reason: Exclude<FallbackReason, 'no-candidates'>,
    message: string,
  ) {
    super(message);
    this.name = 'ScoringError';
  }
}

/** Scores CSV rows on the model; one score per row. */
export type Scorer = (
  csv: string,
  rows: number,
  timeoutMs: number,
) => Promise<{ scores: number[]; modelVersion: string }>;

/** Ports of the serving logic. */
export interface ServingPorts {
  readonly store: FeatureStore;
  readonly score: Scorer;
  readonly newInferenceId: () => string;
  readonly now: () => Date;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
}

/** A validated request. */
export interface RecommendRequest {
  readonly userId: string;
  readonly k: number;
  readonly surface?: string;
  readonly device?: string;
}

/** One ranked item. */
export interface RankedItem {
  readonly itemId: string;
  readonly score: number;
  readonly position: number;
}

/** The response body. */
export interface RecommendResponse {
  readonly inferenceId: string;
  readonly userId: string;
  readonly modelVersion: string;
  readonly fallback: boolean;
  readonly fallbackReason?: FallbackReason;
  readonly featureVersion: number;
  readonly items: RankedItem[];
}

/** What the handler turns into metrics. */
export interface ServingOutcome {
  readonly response: RecommendResponse;
  readonly latencyMs: number;
  readonly modelLatencyMs?: number;
  readonly predictionStored: boolean;
}

/** Request validation (query string values arrive as strings). */
export function requestSchema(maxK: number) {
  return z.strictObject({
    userId: z.string().min(1).max(256),
    k: z.coerce.number().int().min(1).max(maxK).default(10),
    surface: z.enum(SURFACES as [string, ...string[]]).optional(),
    device: z.enum(DEVICES as [string, ...string[]]).optional(),
  });
}

/** Parses a request; throws a message naming the problems. */
export function parseRequest(input: unknown, maxK: number): RecommendRequest {
  const parsed = requestSchema(maxK).safeParse(input);
  if (!parsed.success) {
    throw new RequestError(parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

/** A bad request (HTTP 400). */
export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

interface ErrorLike {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Maps an SDK or transport error of InvokeEndpoint to a fallback reason. */
export function classifyScoringError(error: unknown): Exclude<FallbackReason, 'no-candidates'> {
  if (error instanceof ScoringError) return error.reason;
  const e = (error ?? {}) as ErrorLike;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  const message = e.message ?? '';
  if (name === 'TimeoutError' || name === 'AbortError' || /timed? ?out/i.test(message)) return 'timeout';
  if (name === 'ThrottlingException' || name === 'TooManyRequestsException' || status === 429) return 'throttled';
  // SageMaker runtime answers a missing endpoint with `ValidationError: Endpoint … not found.`
  if (
    (name === 'ValidationError' || name === 'ValidationException') &&
    /endpoint/i.test(message) &&
    /(not found|could not find|does not exist)/i.test(message)
  ) {
    return 'no-endpoint';
  }
  if (
    name === 'ModelError' ||
    name === 'ModelNotReadyException' ||
    name === 'InternalFailure' ||
    name === 'ServiceUnavailable' ||
    (status !== undefined && status >= 500)
  ) {
    return 'model-error';
  }
  return 'error';
}

/** Parses built-in XGBoost's CSV output (one score per row, comma- or newline-separated). */
export function parseScores(body: string, rows: number): number[] {
  const scores = body
    .trim()
    .split(/[\s,]+/)
    .filter((s) => s.length > 0)
    .map(Number);
  if (scores.length !== rows || scores.some((s) => !Number.isFinite(s))) {
    throw new ScoringError(
      'bad-response',
      `expected ${rows} numeric scores; received ${JSON.stringify(body.slice(0, 200))}`,
    );
  }
  return scores;
}

/** Races a promise against a timeout; calls `onTimeout` (e.g. abort the request) when it fires. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new ScoringError('timeout', `no answer from the endpoint within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Serves one request. Never throws for model failures (the fallback is served); throws when features cannot be read. */
export async function recommend(
  request: RecommendRequest,
  settings: ServingSettings,
  ports: ServingPorts,
): Promise<ServingOutcome> {
  const started = Date.now();
  const now = ports.now();
  const current = bucketStart(now, settings.popularityBucketMinutes);
  const previous = current - settings.popularityBucketMinutes * 60_000;
  const [recent, popularNow, popularBefore] = await Promise.all([
    ports.store.recentInteractions(request.userId, settings.recentItemsPerUser),
    ports.store.popular(current),
    ports.store.popular(previous),
  ]);

  const popularity = new Map<string, number>();
  for (const item of new Set([...popularNow.keys(), ...popularBefore.keys()])) {
    popularity.set(
      item,
      slidingCount(popularNow.get(item) ?? 0, popularBefore.get(item) ?? 0, now, settings.popularityBucketMinutes),
    );
  }
  const ranked = [...popularity].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const rankOf = new Map(ranked.map(([item], i) => [item, i]));
  const seen = new Set(recent.map((r) => r.itemId));
  const candidates = ranked.filter(([item]) => !seen.has(item)).slice(0, settings.candidates);
  // Not enough unseen items: fill from the seen ones so a heavy user still gets k items.
  if (candidates.length < request.k) {
    candidates.push(...ranked.filter(([item]) => seen.has(item)).slice(0, request.k - candidates.length));
  }

  const inferenceId = ports.newInferenceId();
  let fallbackReason: FallbackReason | undefined;
  let modelVersion = 'fallback';
  let modelLatencyMs: number | undefined;
  let items: RankedItem[];

  const fallbackItems = (): RankedItem[] => {
    const top = candidates[0]?.[1] ?? 0;
    return candidates.slice(0, request.k).map(([itemId, pop], position) => ({
      itemId,
      score: top > 0 ? Math.round((pop / top) * 1e6) / 1e6 : 0,
      position,
    }));
  };

  if (candidates.length === 0) {
    fallbackReason = 'no-candidates';
    items = [];
  } else {
    try {
      const counts = await ports.store.itemCounts(
        candidates.map(([item]) => item),
        [current, previous],
      );
      const context = {
        recentInteractions: recent.length,
        recentClicks: recent.filter((r) => r.eventType === 'click').length,
        popularityListLength: ranked.length,
        now,
        surface: request.surface,
        device: request.device,
      };
      const rows = candidates.map(([itemId, pop]) => {
        const c = counts.get(itemId) ?? { impressions: 0, clicks: 0 };
        return featureVector(
          {
            itemId,
            popularity: pop,
            rank: rankOf.get(itemId) ?? ranked.length,
            impressions: c.impressions,
            clicks: c.clicks,
          },
          context,
        );
      });
      const modelStarted = Date.now();
      const remaining = settings.invokeTimeoutMs;
      const result = await ports.score(toCsv(rows), rows.length, remaining);
      modelLatencyMs = Date.now() - modelStarted;
      if (result.scores.length !== rows.length) {
        throw new ScoringError('bad-response', `expected ${rows.length} scores; received ${result.scores.length}`);
      }
      modelVersion = result.modelVersion;
      items = candidates
        .map(([itemId], i) => ({ itemId, score: result.scores[i] }))
        .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1))
        .slice(0, request.k)
        .map((r, position) => ({ ...r, position }));
    } catch (error) {
      fallbackReason = classifyScoringError(error);
      ports.log('warn', 'serving the popularity fallback', {
        reason: fallbackReason,
        error: (error as Error)?.message,
        endpoint: settings.endpointName,
      });
      items = fallbackItems();
    }
  }

  const response: RecommendResponse = {
    inferenceId,
    userId: request.userId,
    modelVersion: fallbackReason ? 'fallback' : modelVersion,
    fallback: fallbackReason !== undefined,
    ...(fallbackReason ? { fallbackReason } : {}),
    featureVersion: FEATURE_VERSION,
    items,
  };

  let predictionStored = true;
  try {
    await ports.store.putPrediction(
      {
        inferenceId,
        modelVersion: response.modelVersion,
        userId: request.userId,
        items: items.map((i) => i.itemId),
        fallback: response.fallback,
        createdAt: now.toISOString(),
      },
      Math.floor(now.getTime() / 1000) + settings.predictionTtlHours * 3600,
    );
  } catch (error) {
    predictionStored = false;
    ports.log('error', 'could not store the prediction; its feedback will not be joined', {
      inferenceId,
      error: (error as Error).message,
    });
  }
  return { response, latencyMs: Date.now() - started, modelLatencyMs, predictionStored };
}
