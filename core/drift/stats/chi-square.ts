/**
 * Pearson chi-square test of homogeneity of a categorical feature between the reference and current windows,
 * matching `scipy.stats.chi2_contingency(table, correction=False)` on the 2×K table, with Cramér's V.
 */
import { alignCategoricalCounts, type AlignCategoriesOptions, type CategoryCounts, sumOf } from './histogram';
import { checkCount } from './sample';
import { chiSquareSf } from './special';

/** Result of the chi-square homogeneity test. */
export interface ChiSquareResult {
  /** Pearson statistic Σ (O − E)² / E over the 2×K table (0 when K = 1). */
  readonly statistic: number;
  /** P(χ²_dof >= statistic) (1 when K = 1). */
  readonly pValue: number;
  /** Degrees of freedom, K − 1 (0 when K = 1). */
  readonly dof: number;
  /** Cramér's V = sqrt(statistic / (N · (min(2, K) − 1))), in [0, 1]; 0 when K = 1. */
  readonly cramersV: number;
  /** Number of columns K actually tested (after dropping all-zero columns). */
  readonly columns: number;
  /** Grand total N of the table. */
  readonly total: number;
}

/**
 * Chi-square test of homogeneity on the 2×K contingency table whose rows are `referenceCounts` and
 * `currentCounts` (aligned bins/categories), matching `scipy.stats.chi2_contingency(table, correction=False)`:
 * statistic (1e-9 relative), p-value (1e-6 absolute; in practice ~1e-13) and dof, with Cramér's V as
 * `scipy.stats.contingency.association(table, method='cramer', correction=False)`.
 *
 * - Expected counts come from the margins, E_ij = row_i · col_j / N, so categories present in only one row are
 *   fine (no infinities).
 * - Columns that are zero in both rows are dropped first (scipy would raise on their zero expected counts).
 * - No Yates continuity correction, also when dof = 1 (`correction=False`).
 * - K = 1 (a single non-empty column): dof 0, statistic 0, p-value 1, Cramér's V 0 (scipy's degenerate case).
 *
 * Throws `RangeError` if the arrays differ in length or are empty, a count is negative/non-finite, or a row
 * total is 0 (an empty sample; scipy raises too).
 */
export function chiSquareHomogeneity(
  referenceCounts: ArrayLike<number>,
  currentCounts: ArrayLike<number>,
): ChiSquareResult {
  const fn = 'chiSquareHomogeneity';
  if (referenceCounts.length !== currentCounts.length || referenceCounts.length === 0) {
    throw new RangeError(
      `${fn}: \`referenceCounts\` and \`currentCounts\` must be non-empty and of equal length; received ${referenceCounts.length} and ${currentCounts.length}`,
    );
  }
  const ref: number[] = [];
  const cur: number[] = [];
  for (let i = 0; i < referenceCounts.length; i++) {
    const r = checkCount(referenceCounts[i], fn, `referenceCounts[${i}]`);
    const c = checkCount(currentCounts[i], fn, `currentCounts[${i}]`);
    if (r + c > 0) {
      ref.push(r);
      cur.push(c);
    }
  }
  const refTotal = sumOf(ref);
  const curTotal = sumOf(cur);
  if (!(refTotal > 0)) throw new RangeError(`${fn}: \`referenceCounts\` must have a positive total; received 0`);
  if (!(curTotal > 0)) throw new RangeError(`${fn}: \`currentCounts\` must have a positive total; received 0`);
  const total = refTotal + curTotal;
  const k = ref.length;
  const dof = k - 1;
  if (dof === 0) return { statistic: 0, pValue: 1, dof: 0, cramersV: 0, columns: k, total };
  let statistic = 0;
  for (let j = 0; j < k; j++) {
    const col = ref[j] + cur[j];
    const eRef = (refTotal * col) / total;
    const eCur = (curTotal * col) / total;
    statistic += ((ref[j] - eRef) * (ref[j] - eRef)) / eRef + ((cur[j] - eCur) * (cur[j] - eCur)) / eCur;
  }
  const pValue = chiSquareSf(statistic, dof);
  const cramersV = Math.min(1, Math.sqrt(statistic / total / (Math.min(2, k) - 1)));
  return { statistic, pValue, dof, cramersV, columns: k, total };
}

/** Chi-square result for categorical counts, with the categories it was computed on. */
export interface CategoricalChiSquareResult extends ChiSquareResult {
  /** Categories of the aligned table, before all-zero columns were dropped. */
  readonly categories: readonly string[];
  /** Whether categories were folded into `__OTHER__`. */
  readonly folded: boolean;
}

/**
 * Chi-square homogeneity test ({@link chiSquareHomogeneity}) on two categorical count maps, over the union of
 * their categories. Unlike the JS/PSI helpers, no top-K folding by default (`topK: Infinity`); pass `topK` to
 * test on the same folded table the distances use.
 */
export function chiSquareCategorical(
  reference: CategoryCounts,
  current: CategoryCounts,
  options: AlignCategoriesOptions = {},
): CategoricalChiSquareResult {
  const hist = alignCategoricalCounts(reference, current, { topK: options.topK ?? Number.POSITIVE_INFINITY });
  return {
    ...chiSquareHomogeneity(hist.reference, hist.current),
    categories: hist.categories,
    folded: hist.folded,
  };
}
