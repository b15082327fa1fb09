/**
 * Paired bootstrap confidence interval of a mean difference: the recommender's promotion rule. Both models are
 * scored on the same requests, so the requests are resampled together and the interval is that of
 * `mean(candidate_i - champion_i)`; promotion needs the whole interval above the required improvement.
 */
import { createRng } from '../drift/stats/random';

/** Options of {@link pairedBootstrap}. */
export interface BootstrapOptions {
  /** Resamples drawn. @default 2000 */
  readonly resamples?: number;
  /** Two-sided confidence level of the percentile interval. @default 0.95 */
  readonly confidence?: number;
  /** Seed of the resampling, so a decision can be reproduced. @default 1 */
  readonly seed?: number;
}

/** The observed difference and its percentile interval. */
export interface BootstrapInterval {
  readonly meanDifference: number;
  readonly lower: number;
  readonly upper: number;
  readonly confidence: number;
  readonly resamples: number;
  /** Paired samples used. */
  readonly n: number;
}

/** Linear interpolation between closest ranks (numpy's default percentile). */
function quantile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
}

/**
 * Percentile interval of `mean(candidate - baseline)` over paired samples. Pairs where either side is `undefined`
 * (e.g. a request without any relevant item) are dropped first.
 */
export function pairedBootstrap(
  baseline: readonly (number | undefined)[],
  candidate: readonly (number | undefined)[],
  options: BootstrapOptions = {},
): BootstrapInterval {
  if (baseline.length !== candidate.length) {
    throw new Error(`paired samples must have the same length; received ${baseline.length} and ${candidate.length}`);
  }
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 100) {
    throw new Error(`resamples must be an integer of at least 100; received ${resamples}`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new Error(`confidence must be in (0, 1); received ${confidence}`);
  const diffs: number[] = [];
  for (let i = 0; i < baseline.length; i++) {
    const a = baseline[i];
    const b = candidate[i];
    if (a !== undefined && b !== undefined) diffs.push(b - a);
  }
  const n = diffs.length;
  if (n === 0) throw new Error('paired bootstrap needs at least one pair with both values defined; received none');
  const rng = createRng(options.seed ?? 1);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += diffs[rng.nextInt(n)];
    means[r] = sum / n;
  }
  means.sort();
  const alpha = (1 - confidence) / 2;
  return {
    meanDifference: diffs.reduce((s, d) => s + d, 0) / n,
    lower: quantile(means, alpha),
    upper: quantile(means, 1 - alpha),
    confidence,
    resamples,
    n,
  };
}
