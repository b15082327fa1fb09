/**
 * The `recommend` API's logic, independent of Lambda and of the AWS SDK. Two stages: candidate generation
 * (`candidates.ts`: co-visitation neighbours of the user's recent items, trending, fresh items) and ranking — each
 * candidate's vector built from the feature contract (`contract.ts`), scored on the SageMaker endpoint within a tight
 * timeout (with the request's inference id). On timeout, throttling, error, a bad response or a missing endpoint the
 * candidates are ranked by popularity instead, marked as fallback with the reason. Every response carries an
 * inference id; the served slate (items, positions, scores and the features as scored) is logged for training and
 * monitoring, and the prediction stored so the stream consumer can join feedback to it.
 */
import { z } from 'zod';
import { DEFAULT_QUOTAS, generateCandidates, type Candidate, type CandidateQuotas } from './candidates';
import { DEVICES, FEATURE_VERSION, featureVector, requestPart, SURFACES, type Engagement } from './contract';
import type { FeatureStore } from './feature-store';
import { bucketStart, slidingCount, toCsv } from './features';
import { SLATE_RECORD_TYPE, type ServedSlate } from './slate';
import { issuesText } from '../contracts/issues';

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
  /** Shares of the candidate budget per source. @default DEFAULT_QUOTAS */
  readonly quotas?: CandidateQuotas;
  /** Positions at the end of the slate kept for the best-scored fresh candidates (exploration). @default 1 */
  readonly freshSlots?: number;
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

/** Scores CSV rows on the model; one score per row. `inferenceId` goes with the request (`InferenceId`). */
export type Scorer = (
  csv: string,
  rows: number,
  timeoutMs: number,
  inferenceId?: string,
) => Promise<{ scores: number[]; modelVersion: string }>;

/** Ports of the serving logic. */
export interface ServingPorts {
  readonly store: FeatureStore;
  readonly score: Scorer;
  readonly newInferenceId: () => string;
  readonly now: () => Date;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
  /** Logs the served slate (the event stream in AWS). @default not logged */
  readonly logSlate?: (slate: ServedSlate) => Promise<void>;
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
  /** Whether the slate was logged (false when logging failed or there is no logger). @default not known */
  readonly slateLogged?: boolean;
  /** The slate as logged (also when logging failed). */
  readonly slate?: ServedSlate;
}

/** Request validation (query string values arrive as strings). */
export function requestSchema(maxK: number) {
  return z.strictObject({
    userId: z.string().min(1).max(256),
    // Ten items unless the API serves fewer (a default is not validated against max).
    k: z.coerce.number().int().min(1).max(maxK).default(Math.min(10, maxK)),
    surface: z.enum(SURFACES as [string, ...string[]]).optional(),
    device: z.enum(DEVICES as [string, ...string[]]).optional(),
  });
}

/** Parses a request; throws a message naming the problems. */
export function parseRequest(input: unknown, maxK: number): RecommendRequest {
  const parsed = requestSchema(maxK).safeParse(input);
  if (!parsed.success) {
    throw new RequestError(issuesText(parsed.error, 'request'));
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

/**
 * Parses the ranker's answer: its JSON (`{"scores": [...], "model_version", "feature_version"}`, whose feature
 * version must be the contract's) or CSV (one score per row, comma- or newline-separated).
 */
export function parseModelResponse(body: string, rows: number): { scores: number[]; modelVersion?: string } {
  const text = body.trim();
  if (!text.startsWith('{')) return { scores: parseScores(text, rows) };
  let json: { scores?: unknown; model_version?: unknown; feature_version?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new ScoringError('bad-response', `the model's JSON does not parse: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (json.feature_version !== undefined && String(json.feature_version) !== String(FEATURE_VERSION)) {
    throw new ScoringError(
      'bad-response',
      `the model was trained on feature version ${String(json.feature_version)}; the API serves version ${FEATURE_VERSION}`,
    );
  }
  const scores = Array.isArray(json.scores) ? json.scores.map(Number) : [];
  if (scores.length !== rows || scores.some((s) => !Number.isFinite(s))) {
    throw new ScoringError(
      'bad-response',
      `expected ${rows} numeric scores; received ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  return {
    scores,
    ...(typeof json.model_version === 'string' && json.model_version ? { modelVersion: json.model_version } : {}),
  };
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

/** Puts the best-scored fresh candidates missing from the top k in the last `slots` positions (exploration). */
export function reserveFreshSlots<T extends { readonly source?: string }>(
  ranked: readonly T[],
  k: number,
  slots: number,
): T[] {
  const top = ranked.slice(0, k);
  const missing = ranked.slice(k).filter((c) => c.source === 'fresh');
  const present = top.filter((c) => c.source === 'fresh').length;
  const add = Math.max(0, Math.min(slots - present, missing.length, k));
  if (add === 0) return top;
  const kept = top.filter((c) => c.source === 'fresh');
  const others = top.filter((c) => c.source !== 'fresh').slice(0, k - kept.length - add);
  const keep = new Set<T>([...others, ...kept]);
  return [...top.filter((c) => keep.has(c)), ...missing.slice(0, add)];
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
  const [recent, popularNow, popularBefore, freshNow, freshBefore] = await Promise.all([
    ports.store.recentEngagements(request.userId, settings.recentItemsPerUser),
    ports.store.popular(current),
    ports.store.popular(previous),
    ports.store.popular(current, 'fresh'),
    ports.store.popular(previous, 'fresh'),
  ]);
  const engagements = recent.filter((r) => r.eventType !== 'impression');
  const recentItems = engagements.map((r) => r.itemId);

  const popularity = new Map<string, number>();
  for (const item of new Set([...popularNow.keys(), ...popularBefore.keys()])) {
    popularity.set(
      item,
      slidingCount(popularNow.get(item) ?? 0, popularBefore.get(item) ?? 0, now, settings.popularityBucketMinutes),
    );
  }
  const fresh = new Map<string, number>([...freshBefore, ...freshNow]);
  const neighbours = recentItems.length > 0 ? await ports.store.neighbours([...new Set(recentItems)]) : new Map();
  const candidates = generateCandidates(
    { recentItems, neighbours, popularity, fresh },
    settings.candidates,
    settings.quotas ?? DEFAULT_QUOTAS,
    request.k,
  );

  const inferenceId = ports.newInferenceId();
  let fallbackReason: FallbackReason | undefined;
  let modelVersion = 'fallback';
  let modelLatencyMs: number | undefined;
  let vectors: number[][] = [];
  let ranked: { candidate: Candidate; score: number; vector: number[] }[] = [];

  if (candidates.length === 0) {
    fallbackReason = 'no-candidates';
  } else {
    const ids = candidates.map((c) => c.itemId);
    const [counts, meta] = await Promise.all([
      ports.store.itemCounts(ids, [current, previous]),
      ports.store.itemMeta(ids),
    ]);
    const context = requestPart({
      recent: engagements.map((r): Engagement => ({ itemId: r.itemId, eventType: r.eventType, category: r.category })),
      now,
      surface: request.surface,
      device: request.device,
    });
    vectors = candidates.map((c) => {
      const n = counts.get(c.itemId) ?? { impressions: 0, clicks: 0 };
      return featureVector(
        {
          itemId: c.itemId,
          category: meta.get(c.itemId)?.category,
          popularity: popularity.get(c.itemId) ?? 0,
          impressions: n.impressions,
          clicks: n.clicks,
          covisitation: c.covisitation,
        },
        context,
      );
    });
    try {
      const modelStarted = Date.now();
      const result = await ports.score(toCsv(vectors), vectors.length, settings.invokeTimeoutMs, inferenceId);
      modelLatencyMs = Date.now() - modelStarted;
      if (result.scores.length !== vectors.length) {
        throw new ScoringError('bad-response', `expected ${vectors.length} scores; received ${result.scores.length}`);
      }
      modelVersion = result.modelVersion;
      ranked = candidates.map((candidate, i) => ({ candidate, score: result.scores[i], vector: vectors[i] }));
    } catch (error) {
      fallbackReason = classifyScoringError(error);
      ports.log('warn', 'serving the popularity fallback', {
        reason: fallbackReason,
        error: (error as Error)?.message,
        endpoint: settings.endpointName,
      });
      // Popularity relative to the most popular candidate.
      const top = Math.max(0, ...candidates.map((c) => popularity.get(c.itemId) ?? 0));
      ranked = candidates.map((candidate, i) => ({
        candidate,
        score: top > 0 ? Math.round(((popularity.get(candidate.itemId) ?? 0) / top) * 1e6) / 1e6 : 0,
        vector: vectors[i],
      }));
    }
  }
  ranked.sort((a, b) => b.score - a.score || (a.candidate.itemId < b.candidate.itemId ? -1 : 1));
  const shown = reserveFreshSlots(
    ranked.map((r) => ({ ...r, source: r.candidate.source })),
    request.k,
    settings.freshSlots ?? 1,
  );
  const items: RankedItem[] = shown.map((r, position) => ({
    itemId: r.candidate.itemId,
    score: r.score,
    position,
  }));

  const response: RecommendResponse = {
    inferenceId,
    userId: request.userId,
    modelVersion: fallbackReason ? 'fallback' : modelVersion,
    fallback: fallbackReason !== undefined,
    ...(fallbackReason ? { fallbackReason } : {}),
    featureVersion: FEATURE_VERSION,
    items,
  };
  const slate: ServedSlate = {
    record_type: SLATE_RECORD_TYPE,
    inference_id: inferenceId,
    event_time: now.toISOString(),
    user_id: request.userId,
    surface: request.surface ?? 'home',
    ...(request.device ? { device: request.device } : {}),
    model_version: response.modelVersion,
    feature_version: FEATURE_VERSION,
    fallback: response.fallback,
    ...(fallbackReason ? { fallback_reason: fallbackReason } : {}),
    candidates: candidates.length,
    items: shown.map((r, position) => ({
      item_id: r.candidate.itemId,
      position,
      score: r.score,
      source: r.candidate.source,
      features: r.vector,
    })),
  };

  const [predictionStored, slateLogged] = await Promise.all([
    ports.store
      .putPrediction(
        {
          inferenceId,
          modelVersion: response.modelVersion,
          userId: request.userId,
          items: items.map((i) => i.itemId),
          fallback: response.fallback,
          createdAt: now.toISOString(),
        },
        Math.floor(now.getTime() / 1000) + settings.predictionTtlHours * 3600,
      )
      .then(
        () => true,
        (error: unknown) => {
          ports.log('error', 'could not store the prediction; its feedback will not be joined', {
            inferenceId,
            error: (error as Error).message,
          });
          return false;
        },
      ),
    ports.logSlate
      ? ports.logSlate(slate).then(
          () => true,
          (error: unknown) => {
            ports.log('error', 'could not log the served slate; it will be missing from training data', {
              inferenceId,
              error: (error as Error).message,
            });
            return false;
          },
        )
      : Promise.resolve(false),
  ]);
  return { response, latencyMs: Date.now() - started, modelLatencyMs, predictionStored, slateLogged, slate };
}
