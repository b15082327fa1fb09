/**
 * Input handling shared by the numeric drift statistics: every statistic drops non-finite values (NaN, which is
 * how missing values arrive, and ±Infinity) before computing, and rejects a sample left with fewer values than
 * the statistic needs with a `RangeError` that names the function, the argument, what was received and what is
 * allowed.
 */

const numberIsFinite = Number.isFinite;

/** True for a finite number; false for NaN, ±Infinity and non-numbers such as `null` (a missing JSON value). */
export function isFiniteNumber(value: unknown): value is number {
  return numberIsFinite(value);
}

/**
 * Copies the finite values of `values` into a new `Float64Array`, in input order. NaN and ±Infinity are dropped;
 * non-number entries (e.g. `null` from JSON) are treated as missing and dropped as well.
 */
export function finiteValues(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isFiniteNumber(v)) out[count++] = v;
  }
  return count === out.length ? out : out.slice(0, count);
}

/** Number of finite values in `values`. */
export function countFinite(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (isFiniteNumber(values[i])) n++;
  return n;
}

/**
 * The finite values of `values`, sorted ascending in a new `Float64Array` (numeric sort; the input is not
 * modified). Throws `RangeError` when fewer than `minCount` finite values remain.
 *
 * @param fn Name of the public function, for the error message.
 * @param arg Name of the argument, for the error message.
 */
export function sortedFinite(values: ArrayLike<number>, fn: string, arg: string, minCount = 1): Float64Array {
  const finite = finiteValues(values);
  requireCount(finite.length, values.length, fn, arg, minCount);
  // Samples stored by the profiles are already sorted: an O(n) check saves the O(n log n) sort.
  for (let i = 1; i < finite.length; i++) if (finite[i] < finite[i - 1]) return finite.sort();
  return finite;
}

/** Throws the standard "too few finite values" `RangeError` when `finiteCount < minCount`. */
export function requireCount(
  finiteCount: number,
  receivedCount: number,
  fn: string,
  arg: string,
  minCount: number,
): void {
  if (finiteCount >= minCount) return;
  const dropped = receivedCount - finiteCount;
  const detail =
    dropped > 0
      ? `received ${receivedCount} value(s), ${dropped} of them NaN/±Infinity/missing, leaving ${finiteCount}`
      : `received ${receivedCount} value(s)`;
  throw new RangeError(
    `${fn}: argument \`${arg}\` needs at least ${minCount} finite value(s) (NaN and ±Infinity are dropped); ${detail}`,
  );
}

/** Validates a non-negative finite count (histogram bin or category count). */
export function checkCount(value: number, fn: string, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${fn}: ${what} must be a finite number >= 0; received ${String(value)}`);
  }
  return value;
}

/**
 * Validates two aligned histograms (every count finite and >= 0, each total positive) and returns their totals.
 * Errors name the function and the argument, e.g. ``psiFromCounts: `currentCounts` must have a positive total``.
 */
export function histogramTotals(
  fn: string,
  nameA: string,
  a: ArrayLike<number>,
  nameB: string,
  b: ArrayLike<number>,
): [totalA: number, totalB: number] {
  let totalA = 0;
  let totalB = 0;
  for (let i = 0; i < a.length; i++) {
    totalA += checkCount(a[i], fn, `${nameA}[${i}]`);
    totalB += checkCount(b[i], fn, `${nameB}[${i}]`);
  }
  if (!(totalA > 0)) throw new RangeError(`${fn}: \`${nameA}\` must have a positive total; received 0`);
  if (!(totalB > 0)) throw new RangeError(`${fn}: \`${nameB}\` must have a positive total; received 0`);
  return [totalA, totalB];
}
