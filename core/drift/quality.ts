/**
 * Realised quality: how well the served model did in a window, once labels arrived — for the recommender the CTR
 * and nDCG@10 of the served slates against the clicks that followed, for vision the accuracy on audit labels.
 * Each value comes with an interval (Wilson for proportions, normal for means) and a one-sided test of a drop
 * against the reference (the deployed model's quality baseline, or the preceding windows); a significant drop that
 * is also large enough (relative drop ≥ `relativeDrop`) counts, and sustained drops request retraining under the
 * same k-of-n and cooldown as drift (see `checker.ts`).
 *
 * Labels reach the checker as **outcome records**, JSON lines under
 * `s3://<artifacts>/drift/outcomes/<endpoint>/yyyy/mm/dd/hh/*.jsonl` (the hour of serving):
 * `{"kind":"slate","time":"…","modelVersion":"v3","items":["i1","i2",…],"clicked":["i2"]}` (recommender) and
 * `{"kind":"label","time":"…","modelVersion":"v3","predicted":"cat","label":"dog"}` (vision audits).
 */
import { z } from 'zod';
import { adjustPValues, type DriftPolicy } from './engine';
import { normalCdf, normalQuantile, twoProportionZTest } from './stats';
import { parseTimeValue } from './time';
import { issuesText } from '../contracts/issues';

/** Sufficient statistics of one quality metric: a proportion (CTR, accuracy) or a mean (nDCG@10 per slate). */
export type QualityStats =
  | { readonly kind: 'proportion'; readonly successes: number; readonly trials: number }
  | { readonly kind: 'mean'; readonly n: number; readonly sum: number; readonly sumSquares: number };

/** One metric of a window with its reference. */
export interface QualityObservation {
  /** `ctr`, `ndcg@10`, `accuracy`. */
  readonly name: string;
  readonly current: QualityStats;
  readonly reference?: QualityStats;
  /** Where the reference came from (`quality baseline of v3`, `preceding 24 windows`). */
  readonly referenceSource?: string;
}

/** How drops are judged. */
export interface QualityPolicy {
  readonly alpha: number;
  readonly correction: DriftPolicy['correction'];
  /** A metric needs at least this many samples (slates, impressions, labels) to count as dropped. */
  readonly minSamples: number;
  /** Smallest relative drop (reference − current) / reference that counts. */
  readonly relativeDrop: number;
  /** Level of the reported intervals. */
  readonly confidence: number;
}

/** Defaults of {@link QualityPolicy}. */
export const DEFAULT_QUALITY_POLICY: QualityPolicy = {
  alpha: 0.05,
  correction: 'bonferroni',
  minSamples: 200,
  relativeDrop: 0.1,
  confidence: 0.95,
};

/** A value with its interval. */
export interface Interval {
  readonly lower: number;
  readonly upper: number;
  readonly level: number;
}

/** The verdict on one metric. */
export interface QualityResult {
  name: string;
  kind: QualityStats['kind'];
  value: number;
  interval: Interval;
  samples: number;
  reference?: { value: number; interval: Interval; samples: number; source: string };
  /** One-sided test of a drop: z and p-value (1 without a reference). */
  z: number;
  pValue: number;
  adjustedPValue: number;
  /** (reference − current) / reference; negative when quality rose. */
  relativeDrop: number;
  dropped: boolean;
  note?: string;
}

/** Samples behind a statistic. */
export function samplesOf(s: QualityStats): number {
  return s.kind === 'proportion' ? s.trials : s.n;
}

/** The point value of a statistic. */
export function valueOf(s: QualityStats): number {
  if (s.kind === 'proportion') return s.trials > 0 ? s.successes / s.trials : 0;
  return s.n > 0 ? s.sum / s.n : 0;
}

/** Wilson score interval of a proportion (the interval of choice for small counts and rates near 0 or 1). */
export function wilsonInterval(successes: number, trials: number, level = 0.95): Interval {
  if (trials <= 0) return { lower: 0, upper: 1, level };
  const z = normalQuantile(0.5 + level / 2);
  const p = successes / trials;
  const z2n = (z * z) / trials;
  const center = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2n / (4 * trials))) / (1 + z2n);
  return { lower: Math.max(0, center - half), upper: Math.min(1, center + half), level };
}

function meanAndVariance(s: Extract<QualityStats, { kind: 'mean' }>): { mean: number; variance: number } {
  if (s.n <= 0) return { mean: 0, variance: 0 };
  const mean = s.sum / s.n;
  // Sample variance (n − 1), clamped: the sums can round to a tiny negative spread.
  const variance = s.n > 1 ? Math.max(0, (s.sumSquares - s.n * mean * mean) / (s.n - 1)) : 0;
  return { mean, variance };
}

/** Normal (Wald) interval of a mean from its sums. */
export function meanInterval(s: Extract<QualityStats, { kind: 'mean' }>, level = 0.95): Interval {
  const { mean, variance } = meanAndVariance(s);
  if (s.n <= 1) return { lower: mean, upper: mean, level };
  const half = normalQuantile(0.5 + level / 2) * Math.sqrt(variance / s.n);
  return { lower: mean - half, upper: mean + half, level };
}

function intervalOf(s: QualityStats, level: number): Interval {
  return s.kind === 'proportion' ? wilsonInterval(s.successes, s.trials, level) : meanInterval(s, level);
}

/** One-sided test of current < reference: pooled z-test for proportions, Welch's z for means. */
function dropTest(current: QualityStats, reference: QualityStats): { z: number; pValue: number } {
  if (current.kind === 'proportion' && reference.kind === 'proportion') {
    const r = twoProportionZTest(current.successes, current.trials, reference.successes, reference.trials, 'smaller');
    return { z: r.z, pValue: r.pValue };
  }
  if (current.kind === 'mean' && reference.kind === 'mean' && current.n > 1 && reference.n > 1) {
    const c = meanAndVariance(current);
    const r = meanAndVariance(reference);
    const se = Math.sqrt(c.variance / current.n + r.variance / reference.n);
    if (se === 0) return { z: 0, pValue: c.mean < r.mean ? 0 : 1 };
    const z = (c.mean - r.mean) / se;
    return { z, pValue: normalCdf(z) };
  }
  return { z: 0, pValue: 1 };
}

/** Judges every metric of a window; p-values are corrected together. Pure. */
export function compareQuality(
  observations: readonly QualityObservation[],
  policy: QualityPolicy = DEFAULT_QUALITY_POLICY,
): QualityResult[] {
  const results: QualityResult[] = observations.map((o) => {
    const value = valueOf(o.current);
    const samples = samplesOf(o.current);
    const result: QualityResult = {
      name: o.name,
      kind: o.current.kind,
      value,
      interval: intervalOf(o.current, policy.confidence),
      samples,
      z: 0,
      pValue: 1,
      adjustedPValue: 1,
      relativeDrop: 0,
      dropped: false,
    };
    if (!o.reference || samplesOf(o.reference) === 0 || o.reference.kind !== o.current.kind) {
      result.note = 'no reference yet';
      return result;
    }
    const reference = valueOf(o.reference);
    result.reference = {
      value: reference,
      interval: intervalOf(o.reference, policy.confidence),
      samples: samplesOf(o.reference),
      source: o.referenceSource ?? 'reference',
    };
    const test = dropTest(o.current, o.reference);
    result.z = test.z;
    result.pValue = test.pValue;
    result.relativeDrop = reference > 0 ? (reference - value) / reference : 0;
    return result;
  });
  const tested = results.filter((r) => r.reference);
  const adjusted = adjustPValues(
    tested.map((r) => r.pValue),
    policy.correction,
  );
  tested.forEach((r, i) => {
    r.adjustedPValue = adjusted[i];
    r.dropped = adjusted[i] <= policy.alpha && r.relativeDrop >= policy.relativeDrop && r.samples >= policy.minSamples;
    if (r.samples < policy.minSamples) r.note = `fewer than ${policy.minSamples} samples`;
  });
  return results;
}

/** Pools statistics of the same kind (e.g. several windows into one reference). */
export function poolStats(list: readonly QualityStats[]): QualityStats | undefined {
  if (list.length === 0) return undefined;
  if (list.every((s) => s.kind === 'proportion')) {
    return list.reduce<QualityStats>(
      (a, s) =>
        a.kind === 'proportion' && s.kind === 'proportion'
          ? { kind: 'proportion', successes: a.successes + s.successes, trials: a.trials + s.trials }
          : a,
      { kind: 'proportion', successes: 0, trials: 0 },
    );
  }
  if (list.every((s) => s.kind === 'mean')) {
    return list.reduce<QualityStats>(
      (a, s) =>
        a.kind === 'mean' && s.kind === 'mean'
          ? { kind: 'mean', n: a.n + s.n, sum: a.sum + s.sum, sumSquares: a.sumSquares + s.sumSquares }
          : a,
      { kind: 'mean', n: 0, sum: 0, sumSquares: 0 },
    );
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Outcomes: served slates with their clicks, predictions with their audit labels.

/** nDCG@k of one served slate with binary relevance (clicked or not); 0 when nothing was clicked. */
export function ndcgAtK(items: readonly string[], clicked: ReadonlySet<string>, k = 10): number {
  const n = Math.min(k, items.length);
  let dcg = 0;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    if (clicked.has(items[i])) {
      dcg += 1 / Math.log2(i + 2);
      hits++;
    }
  }
  if (hits === 0) return 0;
  let ideal = 0;
  for (let i = 0; i < hits; i++) ideal += 1 / Math.log2(i + 2);
  return dcg / ideal;
}

const outcomeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('slate'),
    time: z.union([z.string(), z.number()]),
    modelVersion: z.string().min(1),
    items: z.array(z.string()).min(1),
    clicked: z.array(z.string()),
  }),
  z.object({
    kind: z.literal('label'),
    time: z.union([z.string(), z.number()]),
    modelVersion: z.string().min(1),
    predicted: z.string(),
    label: z.string(),
  }),
]);

/** One outcome record. */
export type Outcome = z.infer<typeof outcomeSchema> & { readonly timeMs: number };

/** Parses one outcome line; a reason when it is not one. */
export function parseOutcomeLine(line: string): Outcome | 'invalid-json' | 'invalid-outcome' | 'invalid-time' {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return 'invalid-json';
  }
  const parsed = outcomeSchema.safeParse(json);
  if (!parsed.success) return 'invalid-outcome';
  const timeMs = parseTimeValue(parsed.data.time);
  if (typeof timeMs !== 'number') return 'invalid-time';
  return { ...parsed.data, timeMs };
}

/** Versions whose outcomes are not a model's (the popularity fallback). */
const NOT_A_MODEL = new Set(['fallback', 'unknown']);

/** Accumulates outcomes into the window's quality statistics. */
export class OutcomeAccumulator {
  private slates = 0;
  private ndcgSum = 0;
  private ndcgSquares = 0;
  private impressions = 0;
  private clicks = 0;
  private labels = 0;
  private correct = 0;
  /** Lines that were not outcomes, by reason. */
  readonly invalid: Record<string, number> = {};

  constructor(private readonly k = 10) {}

  /** Adds one outcome (fallback slates are left out: they are not the model's quality). */
  add(o: Outcome): void {
    if (NOT_A_MODEL.has(o.modelVersion)) return;
    if (o.kind === 'slate') {
      const clicked = new Set(o.clicked);
      const ndcg = ndcgAtK(o.items, clicked, this.k);
      this.slates++;
      this.ndcgSum += ndcg;
      this.ndcgSquares += ndcg * ndcg;
      const shown = o.items.slice(0, this.k);
      this.impressions += shown.length;
      this.clicks += shown.filter((i) => clicked.has(i)).length;
    } else {
      this.labels++;
      if (o.predicted === o.label) this.correct++;
    }
  }

  /** Counts a line that was not an outcome. */
  reject(reason: string): void {
    this.invalid[reason] = (this.invalid[reason] ?? 0) + 1;
  }

  /** The window's metrics (only those with samples). */
  observations(): Array<{ name: string; current: QualityStats }> {
    const out: Array<{ name: string; current: QualityStats }> = [];
    if (this.slates > 0) {
      out.push({ name: 'ctr', current: { kind: 'proportion', successes: this.clicks, trials: this.impressions } });
      out.push({
        name: `ndcg@${this.k}`,
        current: { kind: 'mean', n: this.slates, sum: this.ndcgSum, sumSquares: this.ndcgSquares },
      });
    }
    if (this.labels > 0) {
      out.push({ name: 'accuracy', current: { kind: 'proportion', successes: this.correct, trials: this.labels } });
    }
    return out;
  }
}

/** The stored quality reference of a deployed model: `drift/baselines/<endpoint>/quality.json`. */
export interface QualityBaseline {
  readonly kind: 'ml-blueprint/quality-baseline';
  readonly version: 1;
  readonly createdAt: string;
  /** The model whose quality this is (the one the deployed model replaced, or the canary). */
  readonly modelVersion?: string;
  readonly source: string;
  readonly metrics: Record<string, QualityStats>;
}

const statsSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('proportion'), successes: z.number().min(0), trials: z.number().min(0) }),
  z.strictObject({ kind: z.literal('mean'), n: z.number().min(0), sum: z.number(), sumSquares: z.number().min(0) }),
]);

/** zod schema of {@link QualityBaseline}. */
export const qualityBaselineSchema = z.strictObject({
  kind: z.literal('ml-blueprint/quality-baseline'),
  version: z.literal(1),
  createdAt: z.string(),
  modelVersion: z.string().optional(),
  source: z.string(),
  metrics: z.record(z.string(), statsSchema),
});

/** Validates a quality baseline; throws naming the problems. */
export function parseQualityBaseline(json: unknown): QualityBaseline {
  const parsed = qualityBaselineSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`invalid quality baseline: ${issuesText(parsed.error, '(document)', 5)}`);
  }
  return parsed.data;
}

/** Where the quality baseline of an endpoint lives in the artifacts bucket. */
export const qualityBaselineKey = (endpointName: string) => `drift/baselines/${endpointName}/quality.json`;

/** Where outcome records of an endpoint live: `{prefix}{endpoint}/yyyy/mm/dd/hh/`. */
export const DEFAULT_OUTCOMES_PREFIX = 'drift/outcomes/';
