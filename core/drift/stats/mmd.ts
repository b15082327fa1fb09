/**
 * Maximum Mean Discrepancy with an RBF (Gaussian) kernel: the unbiased MMD² estimator, the median-heuristic
 * bandwidth and a seeded permutation test. Works on 1-D samples or on points of any fixed dimension (e.g.
 * embeddings).
 */
import { createRng, type Rng, sampleIndices, shuffleInPlace } from './random';
import { isFiniteNumber } from './sample';

// Hot loops: local bindings avoid repeated global lookups (slow inside vm contexts such as Jest).
const { exp, sqrt } = Math;

/** Points as a 1-D sample (`number[]`, `Float64Array`) or as rows of equal length (`number[][]`). */
export type PointsInput = ArrayLike<number> | ReadonlyArray<ArrayLike<number>>;

/** Points stored row-major: point i is `data[i * dim .. (i + 1) * dim)`. */
export interface PointMatrix {
  /** Coordinates, `n * dim` values. */
  readonly data: Float64Array;
  /** Number of points. */
  readonly n: number;
  /** Dimension of each point. */
  readonly dim: number;
}

/** Default maximum number of points per side used by {@link mmdPermutationTest}. */
export const MMD_DEFAULT_MAX_POINTS = 500;
/** Hard limit of `maxPointsPerSide`: the pooled Gram matrix takes 8·(2·max)² bytes (128 MB at this limit). */
export const MMD_MAX_POINTS_LIMIT = 2000;
/** Default number of permutations of {@link mmdPermutationTest}. */
export const MMD_DEFAULT_PERMUTATIONS = 200;
/** Default seed of {@link mmdPermutationTest}. */
export const MMD_DEFAULT_SEED = 0x5eed;

function isRows(points: PointsInput): points is ReadonlyArray<ArrayLike<number>> {
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p === null || p === undefined) continue;
    return typeof p === 'object';
  }
  return false;
}

/**
 * Converts points to a row-major {@link PointMatrix}, dropping every point with a non-finite coordinate (NaN =
 * missing, ±Infinity) or that is `null`/`undefined`. A 1-D sample becomes `dim = 1`. Throws `RangeError` if rows
 * differ in dimension, have dimension 0, or fewer than `minPoints` points remain.
 */
export function toPointMatrix(points: PointsInput, fn = 'toPointMatrix', arg = 'points', minPoints = 1): PointMatrix {
  let dim = 1;
  const rows: ArrayLike<number>[] = [];
  if (isRows(points)) {
    let first = true;
    for (let i = 0; i < points.length; i++) {
      const row = points[i];
      if (row === null || row === undefined) continue;
      if (first) {
        dim = row.length;
        first = false;
        if (dim === 0) throw new RangeError(`${fn}: argument \`${arg}\` has points of dimension 0`);
      } else if (row.length !== dim) {
        throw new RangeError(
          `${fn}: argument \`${arg}\` must have points of equal dimension; point ${i} has ${row.length}, expected ${dim}`,
        );
      }
      let ok = true;
      for (let d = 0; d < dim && ok; d++) ok = isFiniteNumber(row[d]);
      if (ok) rows.push(row);
    }
  } else {
    for (let i = 0; i < points.length; i++) {
      const v = points[i];
      if (isFiniteNumber(v)) rows.push([v]);
    }
  }
  if (rows.length < minPoints) {
    throw new RangeError(
      `${fn}: argument \`${arg}\` needs at least ${minPoints} point(s) with finite coordinates (points with NaN/±Infinity are dropped); received ${points.length}, leaving ${rows.length}`,
    );
  }
  const data = new Float64Array(rows.length * dim);
  rows.forEach((row, i) => {
    for (let d = 0; d < dim; d++) data[i * dim + d] = row[d];
  });
  return { data, n: rows.length, dim };
}

function squaredDistance(a: Float64Array, i: number, b: Float64Array, j: number, dim: number): number {
  let s = 0;
  const ai = i * dim;
  const bj = j * dim;
  for (let d = 0; d < dim; d++) {
    const diff = a[ai + d] - b[bj + d];
    s += diff * diff;
  }
  return s;
}

function medianOfSorted(sorted: Float64Array): number {
  const n = sorted.length;
  const mid = n >>> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function medianSigmaOf(m: PointMatrix): number {
  const { data, n, dim } = m;
  const distances = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) distances[k++] = sqrt(squaredDistance(data, i, data, j, dim));
  }
  if (distances.length === 0) return 1;
  distances.sort();
  const median = medianOfSorted(distances);
  if (median > 0) return median;
  let firstPositive = 0;
  while (firstPositive < distances.length && distances[firstPositive] === 0) firstPositive++;
  if (firstPositive === distances.length) return 1;
  return medianOfSorted(distances.subarray(firstPositive));
}

/**
 * Median-heuristic RBF bandwidth σ of a reference sample: the median (numpy convention: mean of the two middle
 * values for an even count) of the Euclidean distances ‖x_i − x_j‖ over all pairs i < j of reference points
 * (`numpy.median(scipy.spatial.distance.pdist(x))`). If that median is 0 (more than half the pairs are
 * duplicates) the median of the strictly positive distances is used; if all points coincide (or there is one
 * point) σ = 1. Use γ = 1 / (2σ²). O(n² log n) — subsample large inputs first (as {@link mmdPermutationTest}
 * does). Points with non-finite coordinates are dropped; `RangeError` if none remain.
 */
export function medianHeuristicSigma(reference: PointsInput): number {
  return medianSigmaOf(toPointMatrix(reference, 'medianHeuristicSigma', 'reference', 1));
}

/** Unbiased MMD² of two point matrices of the same dimension for k(x, y) = exp(−γ‖x − y‖²). */
function mmd2Of(x: PointMatrix, y: PointMatrix, gamma: number): number {
  const kernel = (a: Float64Array, i: number, b: Float64Array, j: number): number =>
    exp(-gamma * squaredDistance(a, i, b, j, x.dim));
  let sxx = 0;
  for (let i = 0; i < x.n; i++) for (let j = i + 1; j < x.n; j++) sxx += kernel(x.data, i, x.data, j);
  let syy = 0;
  for (let i = 0; i < y.n; i++) for (let j = i + 1; j < y.n; j++) syy += kernel(y.data, i, y.data, j);
  let sxy = 0;
  for (let i = 0; i < x.n; i++) for (let j = 0; j < y.n; j++) sxy += kernel(x.data, i, y.data, j);
  return (2 * sxx) / (x.n * (x.n - 1)) + (2 * syy) / (y.n * (y.n - 1)) - (2 * sxy) / (x.n * y.n);
}

function checkSameDim(x: PointMatrix, y: PointMatrix, fn: string): void {
  if (x.dim !== y.dim) {
    throw new RangeError(
      `${fn}: reference and current points must have the same dimension; received ${x.dim} and ${y.dim}`,
    );
  }
}

/**
 * Unbiased estimator of the squared Maximum Mean Discrepancy with the RBF kernel k(a, b) = exp(−γ‖a − b‖²):
 * MMD²_u = Σ_{i≠j} k(x_i, x_j) / (n(n−1)) + Σ_{i≠j} k(y_i, y_j) / (m(m−1)) − 2 Σ_{i,j} k(x_i, y_j) / (nm)
 * (Gretton et al. 2012, eq. 3). Can be slightly negative when the distributions agree. Matches the numpy
 * reference implementation in `scripts/fixtures/generate_drift_fixtures.py` to 1e-9. Uses all points given
 * (O((n+m)²)); points with non-finite coordinates are dropped. Throws `RangeError` if either side has fewer
 * than 2 points, dimensions differ, or `gamma` is not a finite number > 0.
 */
export function rbfMmd2Unbiased(x: PointsInput, y: PointsInput, gamma: number): number {
  if (!(gamma > 0) || !Number.isFinite(gamma)) {
    throw new RangeError(`rbfMmd2Unbiased: argument \`gamma\` must be a finite number > 0; received ${gamma}`);
  }
  const xm = toPointMatrix(x, 'rbfMmd2Unbiased', 'x', 2);
  const ym = toPointMatrix(y, 'rbfMmd2Unbiased', 'y', 2);
  checkSameDim(xm, ym, 'rbfMmd2Unbiased');
  return mmd2Of(xm, ym, gamma);
}

/** Options of {@link mmdPermutationTest}. */
export interface MmdOptions {
  /** Number of random permutations B (integer >= 1). Default 200. */
  readonly permutations?: number;
  /** At most this many points per side are used (seeded subsample without replacement). Default 500, max 2000. */
  readonly maxPointsPerSide?: number;
  /** Seed of the generator used for subsampling and permutations. Default 0x5eed. */
  readonly seed?: number;
  /** RBF bandwidth σ; default: {@link medianHeuristicSigma} of the (subsampled) reference. */
  readonly sigma?: number;
}

/** Result of {@link mmdPermutationTest}. */
export interface MmdResult {
  /** Unbiased MMD² of the (subsampled) samples. */
  readonly mmd2: number;
  /** Permutation p-value (1 + #{b : MMD²_b >= MMD²}) / (1 + B), in [1/(1+B), 1]. */
  readonly pValue: number;
  /** Bandwidth used. */
  readonly sigma: number;
  /** γ = 1 / (2σ²). */
  readonly gamma: number;
  /** Number of permutations B. */
  readonly permutations: number;
  /** Number of reference points used (after dropping non-finite points and subsampling). */
  readonly nReference: number;
  /** Number of current points used. */
  readonly nCurrent: number;
}

function subsample(m: PointMatrix, max: number, rng: Rng): PointMatrix {
  if (m.n <= max) return m;
  const idx = sampleIndices(m.n, max, rng);
  const data = new Float64Array(max * m.dim);
  idx.forEach((src, i) => data.set(m.data.subarray(src * m.dim, (src + 1) * m.dim), i * m.dim));
  return { data, n: max, dim: m.dim };
}

function checkIntegerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `mmdPermutationTest: option \`${name}\` must be an integer in [${min}, ${max}]; received ${value}`,
    );
  }
  return value;
}

/**
 * Kernel two-sample test of `reference` vs `current` with the unbiased RBF MMD² statistic:
 *
 * 1. Points with a non-finite coordinate are dropped; each side needs at least 2 points (`RangeError`).
 * 2. Each side is subsampled without replacement to at most `maxPointsPerSide` points (default 500) with the
 *    seeded xoshiro128** generator (reference first, then current).
 * 3. σ = median heuristic of the subsampled reference ({@link medianHeuristicSigma}) unless given; γ = 1/(2σ²).
 * 4. The statistic is {@link rbfMmd2Unbiased} of the subsamples; B random relabelings of the pooled points
 *    (Fisher–Yates with the same generator) give p = (1 + #{MMD²_perm >= MMD²}) / (1 + B).
 *
 * Deterministic for a given seed and input. Cost O(B·(n+m)²) time and O((n+m)²) memory for the Gram matrix.
 * No scipy equivalent; MMD² itself is checked against numpy, the p-value by behaviour.
 */
export function mmdPermutationTest(reference: PointsInput, current: PointsInput, options: MmdOptions = {}): MmdResult {
  const fn = 'mmdPermutationTest';
  const permutations = checkIntegerOption(
    'permutations',
    options.permutations ?? MMD_DEFAULT_PERMUTATIONS,
    1,
    1_000_000,
  );
  const maxPoints = checkIntegerOption(
    'maxPointsPerSide',
    options.maxPointsPerSide ?? MMD_DEFAULT_MAX_POINTS,
    2,
    MMD_MAX_POINTS_LIMIT,
  );
  if (options.sigma !== undefined && (!(options.sigma > 0) || !Number.isFinite(options.sigma))) {
    throw new RangeError(`${fn}: option \`sigma\` must be a finite number > 0; received ${options.sigma}`);
  }
  const rng = createRng(options.seed ?? MMD_DEFAULT_SEED);
  const refAll = toPointMatrix(reference, fn, 'reference', 2);
  const curAll = toPointMatrix(current, fn, 'current', 2);
  checkSameDim(refAll, curAll, fn);
  const x = subsample(refAll, maxPoints, rng);
  const y = subsample(curAll, maxPoints, rng);
  const sigma = options.sigma ?? medianSigmaOf(x);
  const gamma = 1 / (2 * sigma * sigma);
  const mmd2 = mmd2Of(x, y, gamma);

  // Pooled Gram matrix, then each permutation only needs the within-group sums.
  const n = x.n;
  const m = y.n;
  const total = n + m;
  const dim = x.dim;
  const pooled = new Float64Array(total * dim);
  pooled.set(x.data, 0);
  pooled.set(y.data, n * dim);
  const gram = new Float64Array(total * total);
  let offDiagonalSum = 0;
  for (let i = 0; i < total; i++) {
    for (let j = i + 1; j < total; j++) {
      const k = exp(-gamma * squaredDistance(pooled, i, pooled, j, dim));
      gram[i * total + j] = k;
      gram[j * total + i] = k;
      offDiagonalSum += k;
    }
  }
  const groupSum = (indices: Uint32Array, from: number, to: number): number => {
    let s = 0;
    for (let a = from; a < to; a++) {
      const row = indices[a] * total;
      for (let b = a + 1; b < to; b++) s += gram[row + indices[b]];
    }
    return s;
  };
  const statistic = (indices: Uint32Array): number => {
    const sxx = groupSum(indices, 0, n);
    const syy = groupSum(indices, n, total);
    const sxy = offDiagonalSum - sxx - syy;
    return (2 * sxx) / (n * (n - 1)) + (2 * syy) / (m * (m - 1)) - (2 * sxy) / (n * m);
  };
  const indices = new Uint32Array(total);
  for (let i = 0; i < total; i++) indices[i] = i;
  // The observed value through the same code path, so an identity relabeling compares as equal.
  const observed = statistic(indices);
  let atLeast = 0;
  for (let b = 0; b < permutations; b++) {
    shuffleInPlace(indices, rng);
    if (statistic(indices) >= observed) atLeast++;
  }
  return {
    mmd2,
    pValue: (1 + atLeast) / (1 + permutations),
    sigma,
    gamma,
    permutations,
    nReference: n,
    nCurrent: m,
  };
}
