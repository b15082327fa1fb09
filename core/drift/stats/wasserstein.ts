/**
 * First Wasserstein (earth mover's) distance between two 1-D empirical distributions, matching
 * `scipy.stats.wasserstein_distance(u, v)`, plus a scale-free version normalised by the reference's standard
 * deviation.
 */
import { sortedFinite } from './sample';

// Hot loops: local bindings avoid repeated global lookups (slow inside vm contexts such as Jest).
const { abs, min, sqrt } = Math;

/**
 * Wasserstein-1 distance between the empirical distributions of `u` and `v`, matching
 * `scipy.stats.wasserstein_distance(u, v)` (unweighted) to 1e-9 relative: ∫ |U(x) − V(x)| dx over the pooled
 * sorted values, with right-continuous ECDFs, exactly as scipy's `_cdf_distance(1, u, v)`. O((n+m) log(n+m)).
 * NaN/±Infinity are dropped first; each sample must keep a finite value (`RangeError` otherwise).
 */
export function wassersteinDistance(u: ArrayLike<number>, v: ArrayLike<number>): number {
  return wassersteinSorted(sortedFinite(u, 'wassersteinDistance', 'u'), sortedFinite(v, 'wassersteinDistance', 'v'));
}

function wassersteinSorted(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  const m = y.length;
  let i = 0;
  let j = 0;
  let total = 0;
  // Walk the pooled sorted values; between consecutive pooled values both ECDFs are constant.
  let prev = min(x[0], y[0]);
  while (i < n || j < m) {
    const v = j >= m || (i < n && x[i] <= y[j]) ? x[i] : y[j];
    if (v > prev) {
      total += abs(i / n - j / m) * (v - prev);
      prev = v;
    }
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
  }
  return total;
}

/** Result of {@link wassersteinNormalized}. */
export interface WassersteinResult {
  /** Wasserstein-1 distance in the feature's units (as `scipy.stats.wasserstein_distance`). */
  readonly distance: number;
  /** Population standard deviation (ddof = 0, like `numpy.std`) of the finite reference values; 0 if all equal. */
  readonly referenceStd: number;
  /** The divisor used: `referenceStd` when it is > 0, otherwise 1. */
  readonly scale: number;
  /**
   * `distance / scale`: the distance in reference standard deviations. When the reference is constant
   * (std = 0) this is the raw distance (scale 1), so it is always finite: 0 for an unchanged constant column.
   */
  readonly normalized: number;
}

/**
 * Population standard deviation (ddof = 0, like `numpy.std(x)`) of a non-empty sample, two-pass for accuracy.
 * Exactly 0 when all values are equal (numpy can return ~1e-17 there, e.g. for ten copies of 0.1, because the
 * mean is not exactly representable; that would turn a normalised distance into ~1e17).
 */
export function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  let allEqual = true;
  for (let i = 1; i < n && allEqual; i++) allEqual = values[i] === values[0];
  if (allEqual) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    ss += d * d;
  }
  return sqrt(ss / n);
}

/**
 * Wasserstein-1 distance between `reference` and `current` (as {@link wassersteinDistance}) and the same divided
 * by the reference's population standard deviation (ddof = 0). If that std is 0 (constant or single-value
 * reference) the divisor is 1, i.e. `normalized` equals the raw distance — finite by construction, never
 * Infinity/NaN. NaN/±Infinity are dropped first; `RangeError` if either sample has no finite value.
 */
export function wassersteinNormalized(reference: ArrayLike<number>, current: ArrayLike<number>): WassersteinResult {
  const ref = sortedFinite(reference, 'wassersteinNormalized', 'reference');
  const cur = sortedFinite(current, 'wassersteinNormalized', 'current');
  const distance = wassersteinSorted(ref, cur);
  const referenceStd = populationStd(ref);
  const scale = referenceStd > 0 ? referenceStd : 1;
  return { distance, referenceStd, scale, normalized: distance / scale };
}
