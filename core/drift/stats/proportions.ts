/**
 * Two-proportion z-test, e.g. for click-through rates, matching
 * `statsmodels.stats.proportion.proportions_ztest([successesA, successesB], [trialsA, trialsB])`
 * (pooled variance, two-sided, value 0).
 */
import { normalCdf, normalSf } from './special';

/** The alternative, as statsmodels names it: A's rate differs from, is smaller than, or is larger than B's. */
export type ProportionAlternative = 'two-sided' | 'smaller' | 'larger';

/** Result of {@link twoProportionZTest}. */
export interface TwoProportionResult {
  /** z = (p_A − p_B) / sqrt(p̂ (1 − p̂) (1/n_A + 1/n_B)); positive when A's rate is higher. 0 in the degenerate cases. */
  readonly z: number;
  /** p-value of the alternative: two-sided 2 · P(Z > |z|), smaller P(Z < z), larger P(Z > z); 1 when degenerate. */
  readonly pValue: number;
  /** successesA / trialsA (0 when trialsA = 0). */
  readonly proportionA: number;
  /** successesB / trialsB (0 when trialsB = 0). */
  readonly proportionB: number;
  /** Pooled proportion p̂ = (x_A + x_B) / (n_A + n_B) (0 when there are no trials). */
  readonly pooled: number;
}

function checkArg(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `twoProportionZTest: argument \`${name}\` must be a finite number >= 0; received ${String(value)}`,
    );
  }
}

/**
 * Pooled two-proportion z-test of H0: p_A = p_B, two-sided, matching statsmodels' `proportions_ztest` formula
 * (reference values computed with `scipy.stats.norm.sf`): z = (x_A/n_A − x_B/n_B) / sqrt(p̂(1 − p̂)(1/n_A + 1/n_B)),
 * p = 2·P(Z > |z|). Pass the current window as A and the reference as B so that z > 0 means the rate went up.
 * One-sided alternatives (statsmodels' `alternative='smaller'|'larger'`): p = P(Z < z) or P(Z > z); a drop in a
 * click-through rate is `smaller`.
 *
 * Degenerate inputs return the neutral result z = 0, p = 1 instead of NaN (statsmodels would divide by zero):
 * zero trials on either side, or a pooled proportion of exactly 0 or 1 (no variance, the rates are equal).
 * Counts need not be integers. Throws `RangeError` for negative or non-finite arguments or successes > trials.
 */
export function twoProportionZTest(
  successesA: number,
  trialsA: number,
  successesB: number,
  trialsB: number,
  alternative: ProportionAlternative = 'two-sided',
): TwoProportionResult {
  checkArg('successesA', successesA);
  checkArg('trialsA', trialsA);
  checkArg('successesB', successesB);
  checkArg('trialsB', trialsB);
  if (successesA > trialsA) {
    throw new RangeError(`twoProportionZTest: \`successesA\` (${successesA}) must not exceed \`trialsA\` (${trialsA})`);
  }
  if (successesB > trialsB) {
    throw new RangeError(`twoProportionZTest: \`successesB\` (${successesB}) must not exceed \`trialsB\` (${trialsB})`);
  }
  const proportionA = trialsA > 0 ? successesA / trialsA : 0;
  const proportionB = trialsB > 0 ? successesB / trialsB : 0;
  const trials = trialsA + trialsB;
  const pooled = trials > 0 ? (successesA + successesB) / trials : 0;
  if (trialsA === 0 || trialsB === 0 || pooled <= 0 || pooled >= 1) {
    return { z: 0, pValue: 1, proportionA, proportionB, pooled };
  }
  const variance = pooled * (1 - pooled) * (1 / trialsA + 1 / trialsB);
  const z = (proportionA - proportionB) / Math.sqrt(variance);
  const pValue =
    alternative === 'smaller'
      ? normalCdf(z)
      : alternative === 'larger'
        ? normalSf(z)
        : Math.min(1, 2 * normalSf(Math.abs(z)));
  return { z, pValue, proportionA, proportionB, pooled };
}
