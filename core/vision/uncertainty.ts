/**
 * How unsure the model is of one prediction, from its class probabilities, as a score in [0, 1] (1 = most unsure):
 * - `margin`: 1 − (p₁ − p₂), where p₁ ≥ p₂ are the two largest probabilities. It looks at the decision the
 *   reviewer would settle (which of the two leading classes), and ignores the tail;
 * - `entropy`: H(p) / ln K, the Shannon entropy normalised by its maximum for K classes. It also counts
 *   probability spread over many classes.
 * Both are 0 for a one-hot answer and 1 for a uniform one. Pure.
 */

/** Which uncertainty score active learning ranks by. */
export const UNCERTAINTY_METHODS = ['margin', 'entropy'] as const;
export type UncertaintyMethod = (typeof UNCERTAINTY_METHODS)[number];

function checkProbabilities(p: readonly number[]): void {
  if (p.length === 0) throw new Error('uncertainty needs at least one class probability; received none');
  for (const v of p) {
    if (!Number.isFinite(v) || v < 0 || v > 1) {
      throw new Error(`class probabilities must be numbers in [0, 1]; received ${v}`);
    }
  }
}

/** 1 − (p₁ − p₂); 0 when there is one class. */
export function marginUncertainty(p: readonly number[]): number {
  checkProbabilities(p);
  let first = 0;
  let second = 0;
  for (const v of p) {
    if (v > first) {
      second = first;
      first = v;
    } else if (v > second) second = v;
  }
  return p.length < 2 ? 0 : clamp01(1 - (first - second));
}

/** H(p) / ln K (natural logarithms, 0 · ln 0 = 0); 0 when there is one class. */
export function entropyUncertainty(p: readonly number[]): number {
  checkProbabilities(p);
  if (p.length < 2) return 0;
  let h = 0;
  for (const v of p) if (v > 0) h -= v * Math.log(v);
  return clamp01(h / Math.log(p.length));
}

/** The score of the chosen method. */
export function uncertainty(p: readonly number[], method: UncertaintyMethod): number {
  return method === 'margin' ? marginUncertainty(p) : entropyUncertainty(p);
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
