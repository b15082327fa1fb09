import { NumberReservoir, SeededRandom, VectorReservoir } from '../../../core/drift/reservoir';
import { createRng } from '../../../core/drift/stats';

describe('SeededRandom', () => {
  it('is deterministic per seed, differs between seeds, and draws from the project PRNG', () => {
    const draw = (seed: number) => {
      const r = new SeededRandom(seed);
      return Array.from({ length: 5 }, () => r.next());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(2)).not.toEqual(draw(1));
    // Same stream as stats/random's xoshiro128** (one generator for every sample in the project).
    const rng = createRng(1);
    expect(draw(1)).toEqual(Array.from({ length: 5 }, () => rng.nextUint32() / 4294967296));
  });

  it('produces uniform values in the documented ranges', () => {
    const rnd = new SeededRandom(123);
    const bins = new Array(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = rnd.next();
      if (!(x >= 0 && x < 1)) outOfRange++;
      bins[Math.floor(x * 10)]++;
      const o = rnd.nextOpen();
      if (!(o > 0 && o < 1)) outOfRange++;
      const k = rnd.nextInt(7);
      if (!(Number.isInteger(k) && k >= 0 && k < 7)) outOfRange++;
    }
    expect(outOfRange).toBe(0);
    for (const count of bins) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});

describe('NumberReservoir', () => {
  it('keeps everything until full, then exactly capacity values from the input', () => {
    const r = new NumberReservoir(5, 1);
    r.addAll([1, 2, 3]);
    expect(Array.from(r.values())).toEqual([1, 2, 3]);
    expect(r.size).toBe(3);
    for (let i = 4; i <= 1000; i++) r.add(i);
    expect(r.seen).toBe(1000);
    expect(r.size).toBe(5);
    const sample = Array.from(r.values());
    expect(new Set(sample).size).toBe(5);
    for (const v of sample) expect(v >= 1 && v <= 1000).toBe(true);
    expect(r.values()).toBeInstanceOf(Float64Array);
  });

  it('is deterministic for a seed and input order, and seed-dependent', () => {
    const run = (seed: number) => {
      const r = new NumberReservoir(50, seed);
      for (let i = 0; i < 100_000; i++) r.add(i * 0.5);
      return Array.from(r.values());
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('accepts iterables and array-likes', () => {
    const a = new NumberReservoir(3, 1);
    a.addAll(new Set([1, 2, 3, 4, 5, 6]));
    const b = new NumberReservoir(3, 1);
    b.addAll(Float64Array.of(1, 2, 3, 4, 5, 6));
    expect(a.values()).toEqual(b.values());
  });

  it('samples uniformly (every position equally likely)', () => {
    const n = 200;
    const k = 10;
    const trials = 4000;
    const counts = new Array(n).fill(0);
    for (let t = 0; t < trials; t++) {
      const r = new NumberReservoir(k, t);
      for (let i = 0; i < n; i++) r.add(i);
      for (const v of r.values()) counts[v]++;
    }
    const expected = (trials * k) / n; // 200
    let chi2 = 0;
    for (const c of counts) chi2 += (c - expected) ** 2 / expected;
    // df = 199: mean 199, sd ≈ 20; 300 is far in the tail
    expect(chi2).toBeLessThan(300);
    // first and last tenth as likely as the middle (no bias towards early or late items)
    const tenth = (from: number) => counts.slice(from, from + n / 10).reduce((a, b) => a + b, 0);
    expect(Math.abs(tenth(0) - tenth(n - n / 10))).toBeLessThan(0.1 * tenth(0));
  });

  it('handles capacity 1 and huge streams cheaply', () => {
    const r = new NumberReservoir(1, 3);
    for (let i = 0; i < 2_000_000; i++) r.add(i);
    expect(r.size).toBe(1);
    expect(r.values()[0]).toBeGreaterThanOrEqual(0);
  });

  it('rejects invalid capacities', () => {
    for (const c of [0, -1, 1.5, NaN]) expect(() => new NumberReservoir(c)).toThrow(RangeError);
  });
});

describe('VectorReservoir', () => {
  it('stores whole vectors and rejects other lengths without consuming randomness', () => {
    const a = new VectorReservoir(4, 3, 9);
    const b = new VectorReservoir(4, 3, 9);
    for (let i = 0; i < 500; i++) {
      const v = [i, i + 0.5, -i];
      expect(a.add(v)).toBe(true);
      b.add(Float64Array.from(v));
      if (i % 7 === 0) expect(b.add([1, 2])).toBe(false);
    }
    expect(b.rejected).toBe(72);
    expect(a.seen).toBe(500);
    expect(b.seen).toBe(500);
    expect(a.flat()).toEqual(b.flat());
    const vectors = a.vectors();
    expect(vectors).toHaveLength(4);
    for (const v of vectors) {
      expect(v).toHaveLength(3);
      expect(v[1]).toBe(v[0] + 0.5);
      expect(v[2]).toBe(-v[0]);
    }
    expect(a.flat()).toHaveLength(12);
  });

  it('selects the same items as a NumberReservoir with the same seed', () => {
    const numbers = new NumberReservoir(8, 5);
    const vectors = new VectorReservoir(8, 2, 5);
    for (let i = 0; i < 10_000; i++) {
      numbers.add(i);
      vectors.add([i, i]);
    }
    expect(vectors.vectors().map((v) => v[0])).toEqual(Array.from(numbers.values()));
  });

  it('returns partial samples and copies', () => {
    const r = new VectorReservoir(10, 2, 1);
    r.add([1, 2]);
    const flat = r.flat();
    flat[0] = 99;
    expect(Array.from(r.flat())).toEqual([1, 2]);
    expect(r.size).toBe(1);
  });

  it('rejects invalid dimensions', () => {
    expect(() => new VectorReservoir(2, 0)).toThrow(RangeError);
    expect(() => new VectorReservoir(0, 2)).toThrow(RangeError);
  });
});
