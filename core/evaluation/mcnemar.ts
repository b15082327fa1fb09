/**
 * McNemar's exact test on paired classifications: the vision case study's promotion rule. Only the discordant pairs
 * carry information: `b` images the champion got right and the candidate wrong, `c` the reverse. Under the null
 * hypothesis (equal error rates) `c ~ Binomial(b + c, 1/2)`; the one-sided p-value asks whether the candidate is better.
 * Two-sided p-values equal scipy's `binomtest(c, b + c, 0.5)` (symmetric null, so twice the smaller tail, capped at 1).
 */
import { logGamma } from '../drift/stats/special';

/** Counts and p-values of the test. */
export interface McNemarResult {
  /** Champion right, candidate wrong. */
  readonly b: number;
  /** Candidate right, champion wrong. */
  readonly c: number;
  /** P(X >= c) for X ~ Bin(b + c, 1/2): small when the candidate is better. 1 when there is no discordant pair. */
  readonly pCandidateBetter: number;
  /** Two-sided exact p-value. */
  readonly pTwoSided: number;
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** P(X >= k) for X ~ Binomial(n, 1/2), summed in log space. */
export function binomialHalfUpperTail(k: number, n: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  let total = 0;
  const logHalfN = -n * Math.LN2;
  for (let i = k; i <= n; i++) total += Math.exp(logChoose(n, i) + logHalfN);
  return Math.min(1, total);
}

/** McNemar's exact test from per-example correctness of the champion and the candidate (same examples, same order). */
export function mcnemarExact(championCorrect: readonly boolean[], candidateCorrect: readonly boolean[]): McNemarResult {
  if (championCorrect.length !== candidateCorrect.length) {
    throw new Error(
      `McNemar needs paired predictions of equal length; received ${championCorrect.length} and ${candidateCorrect.length}`,
    );
  }
  let b = 0;
  let c = 0;
  for (let i = 0; i < championCorrect.length; i++) {
    if (championCorrect[i] && !candidateCorrect[i]) b++;
    else if (!championCorrect[i] && candidateCorrect[i]) c++;
  }
  const n = b + c;
  const upper = binomialHalfUpperTail(c, n);
  const lower = binomialHalfUpperTail(n - c, n); // P(X <= c) by symmetry
  return {
    b,
    c,
    pCandidateBetter: n === 0 ? 1 : upper,
    pTwoSided: n === 0 ? 1 : Math.min(1, 2 * Math.min(upper, lower)),
  };
}
