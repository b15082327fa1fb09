/**
 * Seeded fixed-size reservoir sampling (Li's Algorithm L) over numbers and over fixed-length vectors.
 *
 * Each reservoir keeps a uniform random sample of `capacity` items of everything offered to it, in O(capacity)
 * memory and O(capacity · (1 + log(n / capacity))) random draws. The sample is fully deterministic for a given
 * seed and input sequence (seeded xoshiro128**, no `Math.random`).
 */

import { createRng, type Rng } from './stats/random';

/**
 * Seeded random numbers for sampling, on top of the project's one PRNG (xoshiro128**, `stats/random.ts`), so every
 * sample in the project is reproducible from a seed with the same generator.
 */
export class SeededRandom {
  private readonly rng: Rng;

  /** @param seed Any number; only its low 32 bits (as an unsigned integer) matter. */
  constructor(seed: number) {
    this.rng = createRng(seed >>> 0);
  }

  /** Uniform in [0, 1) (32 bits of resolution). */
  next(): number {
    return this.rng.nextUint32() / 4294967296;
  }

  /** Uniform in the open interval (0, 1) — safe to take the logarithm of. */
  nextOpen(): number {
    return (this.rng.nextUint32() + 0.5) / 4294967296;
  }

  /** Uniform integer in [0, n) for 1 ≤ n ≤ 2^32. */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/**
 * Algorithm L bookkeeping shared by both reservoirs: decides, for each offered item, whether it enters the
 * reservoir and at which slot.
 */
class AlgorithmL {
  /** Items offered so far. */
  seen = 0;
  private readonly random: SeededRandom;
  /** log(W) of Algorithm L (kept in log space for numerical stability). */
  private logW = 0;
  /** 0-based index of the next item to be taken once the reservoir is full. */
  private nextIndex = 0;

  constructor(
    private readonly capacity: number,
    seed: number,
  ) {
    this.random = new SeededRandom(seed);
  }

  /**
   * Slot for the next offered item: `seen` while filling, then a random slot for selected items, or -1 when the
   * item is skipped.
   */
  offer(): number {
    const i = this.seen++;
    const k = this.capacity;
    if (i < k) {
      if (i === k - 1) {
        this.logW = Math.log(this.random.nextOpen()) / k;
        this.nextIndex = i;
        this.advance();
      }
      return i;
    }
    if (i !== this.nextIndex) return -1;
    const slot = this.random.nextInt(k);
    this.logW += Math.log(this.random.nextOpen()) / k;
    this.advance();
    return slot;
  }

  private advance(): void {
    // skip = floor(log(U) / log(1 - W)), with log(1 - W) = log(-expm1(log W)).
    const skip = Math.floor(Math.log(this.random.nextOpen()) / Math.log(-Math.expm1(this.logW)));
    this.nextIndex += skip + 1;
  }
}

function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`reservoir capacity must be an integer >= 1, got ${String(capacity)}`);
  }
}

/** A uniform fixed-size sample of a stream of numbers, stored in a `Float64Array`. */
export class NumberReservoir {
  /** Maximum sample size. */
  readonly capacity: number;
  private readonly storage: Float64Array;
  private readonly sampler: AlgorithmL;

  /**
   * @param capacity Sample size (integer ≥ 1).
   * @param seed PRNG seed (same seed + same input ⇒ same sample).
   */
  constructor(capacity: number, seed = 0) {
    checkCapacity(capacity);
    this.capacity = capacity;
    this.storage = new Float64Array(capacity);
    this.sampler = new AlgorithmL(capacity, seed);
  }

  /** Number of values offered so far. */
  get seen(): number {
    return this.sampler.seen;
  }

  /** Current sample size: `min(seen, capacity)`. */
  get size(): number {
    return Math.min(this.sampler.seen, this.capacity);
  }

  /** Offers one value (the caller decides what to do with NaN/missing values; they are stored as given). */
  add(value: number): void {
    if (this.merged) throw new Error('NumberReservoir: add() after absorb()');
    const slot = this.sampler.offer();
    if (slot >= 0) this.storage[slot] = value;
  }

  /** Offers every value of `values`, in order. */
  addAll(values: Iterable<number> | ArrayLike<number>): void {
    if (isArrayLike(values)) {
      for (let i = 0; i < values.length; i++) this.add(values[i]);
    } else {
      for (const v of values) this.add(v);
    }
  }

  /** A copy of the current sample (length {@link size}), in reservoir slot order (not sorted). */
  values(): Float64Array {
    return this.storage.slice(0, this.size);
  }

  private merged = false;

  /**
   * Becomes a uniform sample of its stream and another one (`sample` of a stream of `seen` values), see
   * {@link mergeSamples}. The reservoir is final afterwards: nothing can be added.
   */
  absorb(sample: Float64Array, seen: number, random: SeededRandom): void {
    const merged = mergeSamples(this.values(), this.seen, sample, seen, this.capacity, random);
    this.storage.set(merged);
    this.sampler.seen += seen;
    this.merged = true;
  }
}

/** A uniform fixed-size sample of a stream of fixed-length vectors (e.g. embeddings), stored in one `Float64Array`. */
export class VectorReservoir {
  /** Maximum sample size (vectors). */
  readonly capacity: number;
  /** Length of every vector. */
  readonly dimension: number;
  private readonly storage: Float64Array;
  private readonly sampler: AlgorithmL;
  private rejectedCount = 0;

  /**
   * @param capacity Sample size in vectors (integer ≥ 1).
   * @param dimension Vector length (integer ≥ 1).
   * @param seed PRNG seed (same seed + same input ⇒ same sample).
   */
  constructor(capacity: number, dimension: number, seed = 0) {
    checkCapacity(capacity);
    if (!Number.isInteger(dimension) || dimension < 1) {
      throw new RangeError(`vector dimension must be an integer >= 1, got ${String(dimension)}`);
    }
    this.capacity = capacity;
    this.dimension = dimension;
    this.storage = new Float64Array(capacity * dimension);
    this.sampler = new AlgorithmL(capacity, seed);
  }

  /** Number of vectors offered so far (excluding rejected ones). */
  get seen(): number {
    return this.sampler.seen;
  }

  /** Vectors rejected because their length was not {@link dimension}. */
  get rejected(): number {
    return this.rejectedCount;
  }

  /** Current sample size: `min(seen, capacity)`. */
  get size(): number {
    return Math.min(this.sampler.seen, this.capacity);
  }

  /**
   * Offers one vector. Returns false (and counts it in {@link rejected}, without consuming randomness) when its
   * length is not {@link dimension}.
   */
  add(vector: ArrayLike<number>): boolean {
    if (this.merged) throw new Error('VectorReservoir: add() after absorb()');
    const d = this.dimension;
    if (vector.length !== d) {
      this.rejectedCount++;
      return false;
    }
    const slot = this.sampler.offer();
    if (slot >= 0) {
      const base = slot * d;
      const storage = this.storage;
      for (let j = 0; j < d; j++) storage[base + j] = vector[j];
    }
    return true;
  }

  /** A copy of the current sample as one row-major array of `size × dimension` values. */
  flat(): Float64Array {
    return this.storage.slice(0, this.size * this.dimension);
  }

  private merged = false;

  /** Like {@link NumberReservoir.absorb}, for vectors of this reservoir's dimension (`flat` is row-major). */
  absorb(flat: Float64Array, seen: number, rejected: number, random: SeededRandom): void {
    const merged = mergeSamples(this.flat(), this.seen, flat, seen, this.capacity, random, this.dimension);
    this.storage.set(merged);
    this.sampler.seen += seen;
    this.rejectedCount += rejected;
    this.merged = true;
  }

  /** A copy of the current sample as one `Float64Array` per vector, in reservoir slot order. */
  vectors(): Float64Array[] {
    const out: Float64Array[] = [];
    const d = this.dimension;
    for (let i = 0; i < this.size; i++) out.push(this.storage.slice(i * d, (i + 1) * d));
    return out;
  }
}

function isArrayLike(values: Iterable<number> | ArrayLike<number>): values is ArrayLike<number> {
  return typeof (values as ArrayLike<number>).length === 'number';
}

/**
 * Merges two uniform samples into a uniform sample of the union, of at most `capacity` items: `a` is a uniform
 * sample of a stream of `seenA` items, `b` of `seenB`. How many items come from each side is drawn from the
 * hypergeometric distribution (sequentially: the next item of the union's sample is from `a` with probability
 * remaining-in-a / remaining-in-union), then that many are picked uniformly from each sample (partial Fisher–Yates).
 * Items are `width` consecutive numbers (1 for numbers, the dimension for vectors). Deterministic for a given random
 * generator.
 */
export function mergeSamples(
  a: Float64Array,
  seenA: number,
  b: Float64Array,
  seenB: number,
  capacity: number,
  random: SeededRandom,
  width = 1,
): Float64Array {
  if (seenA === 0 && b.length / width <= capacity) return b.slice();
  if (seenB === 0 && a.length / width <= capacity) return a.slice();
  const itemsA = a.length / width;
  const itemsB = b.length / width;
  const size = Math.min(seenA + seenB, capacity);
  let fromA = 0;
  let remainingA = seenA;
  let remaining = seenA + seenB;
  for (let j = 0; j < size; j++) {
    if (random.next() * remaining < remainingA) {
      fromA++;
      remainingA--;
    }
    remaining--;
  }
  // Never more than a side holds (it holds min(seen, capacity) items, which bounds the draw).
  fromA = Math.min(fromA, itemsA);
  const fromB = Math.min(size - fromA, itemsB);
  const out = new Float64Array((fromA + fromB) * width);
  pickInto(out, 0, a, itemsA, fromA, width, random);
  pickInto(out, fromA * width, b, itemsB, fromB, width, random);
  return out;
}

/** Copies `count` items chosen uniformly without replacement from `source` into `out` at `offset`. */
function pickInto(
  out: Float64Array,
  offset: number,
  source: Float64Array,
  items: number,
  count: number,
  width: number,
  random: SeededRandom,
): void {
  if (count === items) {
    out.set(source.subarray(0, items * width), offset);
    return;
  }
  const index = new Uint32Array(items);
  for (let i = 0; i < items; i++) index[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + random.nextInt(items - i);
    const t = index[i];
    index[i] = index[j];
    index[j] = t;
  }
  if (width === 1) {
    for (let i = 0; i < count; i++) out[offset + i] = source[index[i]];
    return;
  }
  for (let i = 0; i < count; i++) {
    const from = index[i] * width;
    for (let d = 0; d < width; d++) out[offset + i * width + d] = source[from + d];
  }
}
