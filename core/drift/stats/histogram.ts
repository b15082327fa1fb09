/**
 * Histograms shared by PSI, Jensen–Shannon and the chi-square test: decile edges of a numeric reference sample
 * with binning of any sample on them, and alignment of two categorical count maps on a common category list
 * (with optional top-K folding into {@link OTHER_CATEGORY}).
 */
import { checkCount, finiteValues, isFiniteNumber, isSorted, requireCount, sortFloat64 } from './sample';

/** Name of the bucket that categories outside the top K are folded into. */
export const OTHER_CATEGORY = '__OTHER__';

/** Default number of categories kept before folding the rest into {@link OTHER_CATEGORY}. */
export const DEFAULT_TOP_K = 50;

/** Quantile probabilities of the decile edges: 0.1, 0.2, ..., 0.9 (computed as k / 10, like `np.arange(1, 10) / 10`). */
export const DECILE_PROBABILITIES: readonly number[] = Object.freeze([1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => k / 10));

/**
 * The q-quantile of an ascending-sorted sample, matching `numpy.quantile(x, q)` with numpy's default
 * `method='linear'` (Hyndman & Fan type 7): virtual index (n - 1)·q, linear interpolation between the
 * neighbouring order statistics with numpy's own `_lerp` formula, so results are bit-identical to numpy.
 *
 * @param sorted Finite values sorted ascending (not checked), at least one.
 * @param q Probability in [0, 1].
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantileSorted: argument `sorted` must not be empty; received 0 values');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantileSorted: argument \`q\` must be in [0, 1]; received ${q}`);
  const virtualIndex = (n - 1) * q;
  if (virtualIndex >= n - 1) return sorted[n - 1];
  const previous = Math.floor(virtualIndex);
  const a = sorted[previous];
  const b = sorted[previous + 1];
  const gamma = virtualIndex - previous;
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/**
 * Decile bin edges of a numeric reference sample: the 10%, 20%, ..., 90% quantiles (numpy's default linear
 * interpolation, see {@link quantileSorted}) of its finite values, with equal edges de-duplicated (`np.unique`),
 * so a constant column yields a single edge and two bins. Between 1 and 9 strictly increasing edges.
 * Throws `RangeError` when `reference` has no finite value.
 */
export function decileEdges(reference: ArrayLike<number>): Float64Array {
  const sorted = finiteValues(reference);
  requireCount(sorted.length, reference.length, 'decileEdges', 'reference', 1);
  if (!isSorted(sorted)) sortFloat64(sorted);
  const quantiles = Float64Array.from(DECILE_PROBABILITIES, (q) => quantileSorted(sorted, q)).sort();
  const edges: number[] = [];
  for (const e of quantiles) {
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return Float64Array.from(edges);
}

/**
 * Counts of the finite values of `values` in the bins defined by strictly increasing `edges`:
 * bin 0 = (-∞, e1], bin i = (e_i, e_{i+1}], last bin = (e_k, +∞); i.e. a value's bin is the number of edges
 * strictly below it (`np.searchsorted(edges, x, side='left')`). Returns `edges.length + 1` counts; NaN/±Infinity
 * are dropped (not counted). O(n log k).
 */
export function binCounts(values: ArrayLike<number>, edges: ArrayLike<number>): Float64Array {
  checkEdges(edges, 'binCounts');
  const k = edges.length;
  const counts = new Float64Array(k + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!isFiniteNumber(v)) continue;
    let lo = 0;
    let hi = k;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo] += 1;
  }
  return counts;
}

function checkEdges(edges: ArrayLike<number>, fn: string): void {
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i];
    if (!Number.isFinite(e) || (i > 0 && !(e > edges[i - 1]))) {
      throw new RangeError(
        `${fn}: argument \`edges\` must be finite and strictly increasing; received ${e} at index ${i}` +
          (i > 0 ? ` after ${edges[i - 1]}` : ''),
      );
    }
  }
}

/** Two histograms aligned on the same bins. */
export interface AlignedHistograms {
  /** Counts of the reference sample per bin. */
  readonly reference: Float64Array;
  /** Counts of the current sample per bin. */
  readonly current: Float64Array;
}

/** Numeric histograms on the reference decile bins (see {@link numericHistograms}). */
export interface NumericHistograms extends AlignedHistograms {
  /** Bin edges from {@link decileEdges} of the reference; there are `edges.length + 1` bins. */
  readonly edges: Float64Array;
}

/**
 * Histograms of a numeric reference and current sample on the reference's decile bins ({@link decileEdges},
 * {@link binCounts}). Non-finite values are dropped. Throws `RangeError` when either sample has no finite value.
 * Pass `edges` to reuse previously computed (e.g. stored) reference edges.
 */
export function numericHistograms(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  edges: ArrayLike<number> = decileEdges(reference),
): NumericHistograms {
  const ref = binCounts(reference, edges);
  const cur = binCounts(current, edges);
  requireCount(sumOf(ref), reference.length, 'numericHistograms', 'reference', 1);
  requireCount(sumOf(cur), current.length, 'numericHistograms', 'current', 1);
  return { edges: Float64Array.from(edges), reference: ref, current: cur };
}

/** Category counts: a `Map` or a plain record from category to a count >= 0. */
export type CategoryCounts = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

/** Options of {@link alignCategoricalCounts}. */
export interface AlignCategoriesOptions {
  /**
   * Maximum number of categories kept. When the union has more than `topK` categories, the `topK` most frequent
   * in the reference are kept and all others are summed into {@link OTHER_CATEGORY}. `Infinity` disables
   * folding. Default {@link DEFAULT_TOP_K}.
   */
  readonly topK?: number;
}

/** Categorical histograms aligned on a common category list (see {@link alignCategoricalCounts}). */
export interface CategoricalHistograms extends AlignedHistograms {
  /** Category of each bin; when folded, the last one is {@link OTHER_CATEGORY}. */
  readonly categories: readonly string[];
  /** Whether categories were folded into {@link OTHER_CATEGORY}. */
  readonly folded: boolean;
}

function isMap(counts: CategoryCounts): counts is ReadonlyMap<string, number> {
  // Duck-typed rather than `instanceof Map`, which fails for maps created in another realm (e.g. a vm context).
  const candidate = counts as { entries?: unknown; get?: unknown };
  return typeof candidate.entries === 'function' && typeof candidate.get === 'function';
}

function entriesOf(counts: CategoryCounts, fn: string, arg: string): [string, number][] {
  const entries: [string, number][] = isMap(counts) ? [...counts.entries()] : Object.entries(counts);
  for (const [category, count] of entries) {
    checkCount(count, fn, `\`${arg}\` count of category ${JSON.stringify(category)}`);
  }
  return entries;
}

/** Ordinal (UTF-16 code unit) string comparison, locale independent. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Aligns two categorical count maps on the union of their categories, so the Lambda can compute JS, PSI and
 * chi-square on the same bins.
 *
 * - Without folding, categories are in ordinal (UTF-16 code unit) order and a category missing from one side
 *   gets count 0 there.
 * - When the union has more than `topK` categories (default 50), the `topK` categories with the highest
 *   reference count are kept (ties: higher current count first, then ordinal name order), listed in ordinal
 *   order, followed by {@link OTHER_CATEGORY} holding the sum of all other categories. An input category that is
 *   itself named `__OTHER__` is never kept on its own; it is folded into the bucket.
 *
 * Counts must be finite and >= 0 (`RangeError` otherwise). Zero totals are allowed here; the statistics decide
 * what an empty side means.
 */
export function alignCategoricalCounts(
  reference: CategoryCounts,
  current: CategoryCounts,
  options: AlignCategoriesOptions = {},
): CategoricalHistograms {
  const topK = options.topK ?? DEFAULT_TOP_K;
  if (!(topK >= 1) || (!Number.isInteger(topK) && topK !== Number.POSITIVE_INFINITY)) {
    throw new RangeError(
      `alignCategoricalCounts: option \`topK\` must be an integer >= 1 or Infinity; received ${topK}`,
    );
  }
  const ref = new Map<string, number>();
  const cur = new Map<string, number>();
  for (const [c, n] of entriesOf(reference, 'alignCategoricalCounts', 'reference')) ref.set(c, (ref.get(c) ?? 0) + n);
  for (const [c, n] of entriesOf(current, 'alignCategoricalCounts', 'current')) cur.set(c, (cur.get(c) ?? 0) + n);
  const union = [...new Set([...ref.keys(), ...cur.keys()])].sort(compareStrings);
  const refOf = (c: string): number => ref.get(c) ?? 0;
  const curOf = (c: string): number => cur.get(c) ?? 0;

  if (union.length <= topK) {
    return {
      categories: union,
      reference: Float64Array.from(union, refOf),
      current: Float64Array.from(union, curOf),
      folded: false,
    };
  }
  const ranked = union
    .filter((c) => c !== OTHER_CATEGORY)
    .sort((a, b) => refOf(b) - refOf(a) || curOf(b) - curOf(a) || compareStrings(a, b));
  const keep = ranked.slice(0, topK).sort(compareStrings);
  const kept = new Set(keep);
  let refOther = 0;
  let curOther = 0;
  for (const c of union) {
    if (kept.has(c)) continue;
    refOther += refOf(c);
    curOther += curOf(c);
  }
  const categories = [...keep, OTHER_CATEGORY];
  return {
    categories,
    reference: Float64Array.from([...keep.map(refOf), refOther]),
    current: Float64Array.from([...keep.map(curOf), curOther]),
    folded: true,
  };
}

/**
 * Counts occurrences of each category in `values`. `null` and `undefined` (missing) are skipped; every other
 * value is used as is (callers decide how to stringify).
 */
export function countCategories(values: Iterable<string | null | undefined>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return counts;
}

/** Sum of an array of counts (plain left-to-right summation). */
export function sumOf(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}
