import { readFileSync } from 'fs';
import { join } from 'path';
import {
  alignCategoricalCounts,
  binCounts,
  countCategories,
  DECILE_PROBABILITIES,
  decileEdges,
  numericHistograms,
  OTHER_CATEGORY,
  quantileSorted,
  sortFloat64,
  createRng,
} from '../../../../core/drift/stats';

interface Fixture {
  numeric: {
    name: string;
    reference: (number | null)[];
    current: (number | null)[];
    edges: number[];
    referenceCounts: number[];
    currentCounts: number[];
  }[];
  categorical: {
    name: string;
    reference: Record<string, number>;
    current: Record<string, number>;
    topK: number | null;
    categories: string[];
    referenceCounts: number[];
    currentCounts: number[];
    folded: boolean;
  }[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../fixtures/drift/stats.json'), 'utf8')) as Fixture;
const values = (xs: (number | null)[]): number[] => xs.map((v) => v ?? Number.NaN);

describe('quantileSorted (numpy.quantile, method="linear")', () => {
  it('interpolates like numpy', () => {
    const x = [1, 2, 3, 4, 10];
    expect(quantileSorted(x, 0)).toBe(1);
    expect(quantileSorted(x, 1)).toBe(10);
    expect(quantileSorted(x, 0.5)).toBe(3);
    expect(quantileSorted(x, 0.9)).toBeCloseTo(7.6, 14); // index 3.6: 4 + 0.6 * 6
    expect(quantileSorted(x, 0.1)).toBeCloseTo(1.4, 14); // index 0.4
    expect(quantileSorted([7], 0.3)).toBe(7);
  });

  it('uses the deciles 0.1..0.9 computed as k / 10', () => {
    expect(DECILE_PROBABILITIES).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(DECILE_PROBABILITIES[2]).toBe(3 / 10);
  });

  it('rejects bad arguments', () => {
    expect(() => quantileSorted([], 0.5)).toThrow(/argument `sorted` must not be empty/);
    expect(() => quantileSorted([1], 2)).toThrow(/argument `q` must be in \[0, 1\]; received 2/);
  });
});

describe('decileEdges and binCounts vs numpy (fixture)', () => {
  it.each(fixture.numeric.map((c) => [c.name, c] as const))('%s: identical edges and counts', (_name, c) => {
    const edges = decileEdges(values(c.reference));
    // Bit-identical to np.unique(np.quantile(ref, np.arange(1, 10) / 10)): bin membership depends on it.
    expect(Array.from(edges)).toEqual(c.edges);
    expect(Array.from(binCounts(values(c.reference), edges))).toEqual(c.referenceCounts);
    expect(Array.from(binCounts(values(c.current), edges))).toEqual(c.currentCounts);
  });

  it('de-duplicates equal edges so a constant column has one edge and two bins', () => {
    expect(Array.from(decileEdges([4, 4, 4, 4]))).toEqual([4]);
    expect(Array.from(decileEdges([1, 1, 1, 1, 1, 1, 1, 1, 2, 3]))).toEqual([
      1, 1.2000000000000002, 2.0999999999999996,
    ]);
  });

  it('bins are right-closed: (-inf, e1], (e1, e2], ..., (ek, +inf)', () => {
    const edges = [1, 2, 3];
    expect(Array.from(binCounts([0, 1, 1.5, 2, 2.5, 3, 3.5, 100], edges))).toEqual([2, 2, 2, 2]);
    expect(Array.from(binCounts([Number.NaN, Infinity, -Infinity, 2], edges))).toEqual([0, 1, 0, 0]);
  });

  it('rejects unsorted or non-finite edges and empty references', () => {
    expect(() => binCounts([1], [2, 1])).toThrow(
      /`edges` must be finite and strictly increasing; received 1 at index 1 after 2/,
    );
    expect(() => binCounts([1], [Number.NaN])).toThrow(RangeError);
    expect(() => decileEdges([Number.NaN])).toThrow(/decileEdges: argument `reference` needs at least 1 finite value/);
  });

  it('numericHistograms reuses given edges and rejects an all-missing current sample', () => {
    const h = numericHistograms([1, 2, 3, 4], [0, 5, 5], [2.5]);
    expect(Array.from(h.edges)).toEqual([2.5]);
    expect(Array.from(h.reference)).toEqual([2, 2]);
    expect(Array.from(h.current)).toEqual([1, 2]);
    expect(() => numericHistograms([1, 2], [Number.NaN])).toThrow(/argument `current` needs at least 1 finite value/);
  });
});

describe('alignCategoricalCounts', () => {
  it.each(fixture.categorical.map((c) => [c.name, c] as const))(
    '%s: same table as the Python reference',
    (_name, c) => {
      const h = alignCategoricalCounts(c.reference, c.current, { topK: c.topK ?? Infinity });
      expect(h.categories).toEqual(c.categories);
      expect(Array.from(h.reference)).toEqual(c.referenceCounts);
      expect(Array.from(h.current)).toEqual(c.currentCounts);
      expect(h.folded).toBe(c.folded);
    },
  );

  it('folds only when the union exceeds K, keeping the top K by reference frequency', () => {
    const ref = new Map([
      ['a', 10],
      ['b', 5],
      ['c', 1],
    ]);
    const cur = { a: 1, b: 1, c: 1, d: 7 };
    expect(alignCategoricalCounts(ref, cur, { topK: 4 }).folded).toBe(false);
    const folded = alignCategoricalCounts(ref, cur, { topK: 2 });
    expect(folded.categories).toEqual(['a', 'b', OTHER_CATEGORY]);
    expect(Array.from(folded.reference)).toEqual([10, 5, 1]);
    expect(Array.from(folded.current)).toEqual([1, 1, 8]);
  });

  it('defaults to K = 50', () => {
    const ref: Record<string, number> = {};
    for (let i = 0; i < 51; i++) ref[`c${String(i).padStart(2, '0')}`] = 100 - i;
    const h = alignCategoricalCounts(ref, { c00: 1 });
    expect(h.folded).toBe(true);
    expect(h.categories).toHaveLength(51);
    expect(h.categories[50]).toBe(OTHER_CATEGORY);
    expect(h.reference[50]).toBe(100 - 50);
  });

  it('rejects negative counts and bad K', () => {
    expect(() => alignCategoricalCounts({ a: -1 }, {})).toThrow(
      /`reference` count of category "a" must be a finite number >= 0; received -1/,
    );
    expect(() => alignCategoricalCounts({ a: 1 }, {}, { topK: 0 })).toThrow(/option `topK` must be an integer >= 1/);
  });

  it('countCategories skips null and undefined', () => {
    expect(countCategories(['x', 'y', null, 'x', undefined])).toEqual(
      new Map([
        ['x', 2],
        ['y', 1],
      ]),
    );
  });
});

describe('sortFloat64 (radix sort of finite doubles)', () => {
  test('sorts like Float64Array.prototype.sort: negatives, duplicates, -0 before 0, extremes', () => {
    const rng = createRng(11);
    const values = Float64Array.from({ length: 50_000 }, (_, i) =>
      i % 7 === 0 ? Math.round(rng.nextNormal() * 3) : i % 11 === 0 ? -0 : rng.nextNormal() * 10 ** rng.nextInt(12),
    );
    values[0] = Number.MAX_VALUE;
    values[1] = -Number.MAX_VALUE;
    values[2] = Number.MIN_VALUE;
    values[3] = -Number.MIN_VALUE;
    const expected = values.slice().sort();
    const sorted = sortFloat64(values.slice());
    expect(Array.from(sorted)).toEqual(Array.from(expected));
    expect(Object.is(sorted[sorted.indexOf(0)], -0)).toBe(true);
  });

  test('falls back to the built-in sort for NaN and small arrays', () => {
    const withNaN = Float64Array.from({ length: 5000 }, (_, i) => (i === 17 ? Number.NaN : 5000 - i));
    expect(Array.from(sortFloat64(withNaN.slice()))).toEqual(Array.from(withNaN.slice().sort()));
    expect(Array.from(sortFloat64(Float64Array.from([3, -1, 2])))).toEqual([-1, 2, 3]);
  });
});
