/**
 * Population Stability Index on aligned histograms: decile bins of the reference for numeric features, the
 * (optionally top-K folded) union of categories for categorical features.
 */
import {
  alignCategoricalCounts,
  type AlignCategoriesOptions,
  type CategoricalHistograms,
  type CategoryCounts,
  type NumericHistograms,
  numericHistograms,
} from './histogram';
import { countFinite, histogramTotals, requireCount } from './sample';

/** Lower clip applied to every bin share before the logarithm. */
export const PSI_MIN_SHARE = 1e-4;

/** Options of the PSI functions. */
export interface PsiOptions {
  /** Lower clip of bin shares (default {@link PSI_MIN_SHARE}); shares are not renormalised after clipping. */
  readonly minShare?: number;
}

/**
 * Population Stability Index of two histograms on the same bins:
 * PSI = Σ (c_i − r_i) · ln(c_i / r_i), with r_i = ref_i / Σ ref and c_i = cur_i / Σ cur, each share clipped
 * below at `minShare` (default 1e-4) and NOT renormalised after clipping (the common convention; an empty bin
 * therefore contributes a large but finite term instead of infinity). Natural logarithm. Identical histograms
 * give exactly 0. No scipy equivalent: the fixture computes the same formula with numpy (`np.clip`, `np.log`),
 * agreement 1e-9.
 *
 * Throws `RangeError` if the arrays differ in length, are empty, hold a negative/non-finite count, or either
 * total is 0.
 */
export function psiFromCounts(
  referenceCounts: ArrayLike<number>,
  currentCounts: ArrayLike<number>,
  options: PsiOptions = {},
): number {
  const minShare = options.minShare ?? PSI_MIN_SHARE;
  if (!(minShare > 0 && minShare < 1)) {
    throw new RangeError(`psiFromCounts: option \`minShare\` must be in (0, 1); received ${minShare}`);
  }
  if (referenceCounts.length !== currentCounts.length || referenceCounts.length === 0) {
    throw new RangeError(
      `psiFromCounts: \`referenceCounts\` and \`currentCounts\` must be non-empty and of equal length; received ${referenceCounts.length} and ${currentCounts.length}`,
    );
  }
  const [refTotal, curTotal] = histogramTotals(
    'psiFromCounts',
    'referenceCounts',
    referenceCounts,
    'currentCounts',
    currentCounts,
  );
  let psi = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    const r = Math.max(referenceCounts[i] / refTotal, minShare);
    const c = Math.max(currentCounts[i] / curTotal, minShare);
    psi += (c - r) * Math.log(c / r);
  }
  return psi;
}

/** PSI of a numeric feature with the histograms it was computed on. */
export interface NumericPsiResult extends NumericHistograms {
  /** The Population Stability Index. */
  readonly psi: number;
}

/**
 * PSI of a numeric feature on the reference's decile bins ({@link numericHistograms}): NaN/±Infinity dropped,
 * edges = de-duplicated 10%..90% quantiles of the reference (numpy linear interpolation), bins
 * (-∞, e1], (e1, e2], ..., (ek, +∞), shares clipped at 1e-4, no renormalisation, natural log.
 * Throws `RangeError` if either sample has no finite value.
 */
export function psiNumeric(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  options: PsiOptions & { readonly edges?: ArrayLike<number> } = {},
): NumericPsiResult {
  requireCount(countFinite(reference), reference.length, 'psiNumeric', 'reference', 1);
  requireCount(countFinite(current), current.length, 'psiNumeric', 'current', 1);
  const hist = numericHistograms(reference, current, options.edges);
  return { ...hist, psi: psiFromCounts(hist.reference, hist.current, options) };
}

/** PSI of a categorical feature with the aligned histograms it was computed on. */
export interface CategoricalPsiResult extends CategoricalHistograms {
  /** The Population Stability Index. */
  readonly psi: number;
}

/**
 * PSI of a categorical feature on the union of categories, folded into `__OTHER__` beyond the top K
 * ({@link alignCategoricalCounts}, default K = 50). Same clipping as {@link psiFromCounts}.
 * Throws `RangeError` if either side has a zero total.
 */
export function psiCategorical(
  reference: CategoryCounts,
  current: CategoryCounts,
  options: PsiOptions & AlignCategoriesOptions = {},
): CategoricalPsiResult {
  const hist = alignCategoricalCounts(reference, current, options);
  return { ...hist, psi: psiFromCounts(hist.reference, hist.current, options) };
}
