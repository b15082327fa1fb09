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

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Sorts finite doubles ascending in place, like `Float64Array.prototype.sort` (−0 before +0), with an LSD radix
 * sort on the IEEE 754 bit patterns: four passes of 16 bits, O(n). Large samples (the profiles keep up to 100,000
 * values per feature) sort several times faster than with the comparison sort. Falls back to the built-in sort for
 * small arrays, NaN, or a big-endian platform.
 */
export function sortFloat64(a: Float64Array): Float64Array {
  const n = a.length;
  if (n < 2048 || !LITTLE_ENDIAN || a.byteOffset % 8 !== 0) return a.sort();
  const words = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  let hi = new Uint32Array(n);
  let lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1];
    const l = words[2 * i];
    if ((h & 0x7ff00000) === 0x7ff00000 && ((h & 0xfffff) !== 0 || l !== 0)) return a.sort(); // NaN
    // Order-preserving map to unsigned keys: flip every bit of negatives, only the sign bit of the rest.
    if (h & 0x80000000) {
      hi[i] = ~h >>> 0;
      lo[i] = ~l >>> 0;
    } else {
      hi[i] = (h | 0x80000000) >>> 0;
      lo[i] = l;
    }
  }
  let hiOut = new Uint32Array(n);
  let loOut = new Uint32Array(n);
  const counts = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const src = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(src[i] >>> shift) & 0xffff]++;
    if (counts[(src[0] >>> shift) & 0xffff] === n) continue; // every key shares this digit
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const j = counts[(src[i] >>> shift) & 0xffff]++;
      hiOut[j] = hi[i];
      loOut[j] = lo[i];
    }
    [hi, hiOut] = [hiOut, hi];
    [lo, loOut] = [loOut, lo];
  }
  for (let i = 0; i < n; i++) {
    const h = hi[i];
    if (h & 0x80000000) {
      words[2 * i + 1] = (h & 0x7fffffff) >>> 0;
      words[2 * i] = lo[i];
    } else {
      words[2 * i + 1] = ~h >>> 0;
      words[2 * i] = ~lo[i] >>> 0;
    }
  }
  return a;
}

/** Whether `values` is sorted ascending (O(n)). */
export function isSorted(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] < values[i - 1]) return false;
  return true;
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
  return isSorted(finite) ? finite : sortFloat64(finite);
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
