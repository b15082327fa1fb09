/**
 * A small, fast, seeded pseudo-random number generator for reproducible subsampling and permutation tests
 * (`Math.random` cannot be seeded). xoshiro128** (Blackman & Vigna) with its 128-bit state expanded from a
 * 32-bit seed by SplitMix32. Not cryptographically secure. No scipy/numpy counterpart: streams differ from numpy's.
 */

// Hot loops: local bindings avoid repeated global lookups (slow inside vm contexts such as Jest).
const { cos, imul, log, sin, sqrt, trunc } = Math;
const { isInteger } = Number;

/** A seeded random source. */
export interface Rng {
  /** Next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number;
  /** Next uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number;
  /** Uniform integer in [0, bound) without modulo bias (rejection sampling); `bound` is an integer in [1, 2^32]. */
  nextInt(bound: number): number;
  /** Standard normal variate (Box–Muller). */
  nextNormal(): number;
}

/** SplitMix32 step, used only to expand the seed into the generator state. */
function splitMix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = imul(z ^ (z >>> 16), 0x85ebca6b);
  z = imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Creates a xoshiro128** generator. The same `seed` (any finite number; it is reduced to 32 bits, so seeds
 * equal modulo 2^32 give the same stream) always yields the same sequence on every platform.
 * Throws `RangeError` for a non-finite seed.
 */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed))
    throw new RangeError(`createRng: argument \`seed\` must be a finite number; received ${seed}`);
  const init = { s: trunc(seed) | 0 };
  let s0 = splitMix32(init);
  let s1 = splitMix32(init);
  let s2 = splitMix32(init);
  let s3 = splitMix32(init);
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
  const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));
  const nextUint32 = (): number => {
    const result = imul(rotl(imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  const nextFloat = (): number => {
    const hi = nextUint32() >>> 5; // 27 bits
    const lo = nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  };
  const nextInt = (bound: number): number => {
    if (!isInteger(bound) || bound < 1 || bound > 4294967296) {
      throw new RangeError(`Rng.nextInt: argument \`bound\` must be an integer in [1, 2^32]; received ${bound}`);
    }
    const limit = 4294967296 - (4294967296 % bound);
    for (;;) {
      const r = nextUint32();
      if (r < limit) return r % bound;
    }
  };
  let spare: number | undefined;
  const nextNormal = (): number => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = nextFloat();
    const v = nextFloat();
    const r = sqrt(-2 * log(u));
    spare = r * sin(2 * Math.PI * v);
    return r * cos(2 * Math.PI * v);
  };
  return { nextUint32, nextFloat, nextInt, nextNormal };
}

/** Shuffles `array` in place with the Fisher–Yates algorithm driven by `rng`; returns it. */
export function shuffleInPlace<T extends { length: number; [index: number]: number }>(array: T, rng: Rng): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}

/**
 * `k` distinct indices drawn uniformly without replacement from [0, n), in ascending order (partial
 * Fisher–Yates). Returns all indices when k >= n.
 */
export function sampleIndices(n: number, k: number, rng: Rng): Uint32Array {
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  if (k >= n) return all;
  for (let i = 0; i < k; i++) {
    const j = i + rng.nextInt(n - i);
    const tmp = all[i];
    all[i] = all[j];
    all[j] = tmp;
  }
  return all.slice(0, k).sort();
}
