import { readFileSync } from 'fs';
import { join } from 'path';
import { populationStd, wassersteinDistance, wassersteinNormalized } from '../../../../core/drift/stats';

interface Fixture {
  numeric: {
    name: string;
    reference: (number | null)[];
    current: (number | null)[];
    wasserstein: { distance: number; referenceStd: number; normalized: number };
  }[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../fixtures/drift/stats.json'), 'utf8')) as Fixture;
const values = (xs: (number | null)[]): number[] => xs.map((v) => v ?? Number.NaN);

/** |got - want| <= rel * |want| (plus a tiny absolute floor for exact zeros). */
function expectRel(got: number, want: number, rel: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.abs(want) + 1e-300);
}

describe('Wasserstein-1 vs scipy.stats.wasserstein_distance (fixture)', () => {
  it.each(fixture.numeric.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const ref = values(c.reference);
    const cur = values(c.current);
    expectRel(wassersteinDistance(ref, cur), c.wasserstein.distance, 1e-9);
    const normalized = wassersteinNormalized(ref, cur);
    expectRel(normalized.distance, c.wasserstein.distance, 1e-9);
    expectRel(normalized.referenceStd, c.wasserstein.referenceStd, 1e-9);
    expectRel(normalized.normalized, c.wasserstein.normalized, 1e-9);
    expect(Number.isFinite(normalized.normalized)).toBe(true);
  });
});

describe('wassersteinDistance', () => {
  it("reproduces scipy's docstring example and hand-computed cases", () => {
    expect(wassersteinDistance([0, 1, 3], [5, 6, 8])).toBeCloseTo(5, 15);
    expect(wassersteinDistance([0, 1], [0, 1])).toBe(0);
    // Point masses: the distance is the gap.
    expect(wassersteinDistance([2], [-1.5])).toBe(3.5);
    // U = 1/2 on [0, 1), V = 0 there; then both 1/2 on [1, 2); U = 1 vs V = 1/2 on [2, 3).
    expect(wassersteinDistance([0, 2], [1, 3])).toBeCloseTo(1, 15);
  });

  it('is symmetric and drops NaN/±Infinity', () => {
    expect(wassersteinDistance([1, 5, 2], [0, 0.5])).toBeCloseTo(wassersteinDistance([0, 0.5], [1, 5, 2]), 15);
    expect(wassersteinDistance([1, Number.NaN, 5, Infinity, 2], [-Infinity, 0, 0.5])).toBe(
      wassersteinDistance([1, 5, 2], [0, 0.5]),
    );
  });

  it('throws for a sample without finite values', () => {
    expect(() => wassersteinDistance([], [1])).toThrow(
      /wassersteinDistance: argument `u` needs at least 1 finite value/,
    );
    expect(() => wassersteinNormalized([1], [Number.NaN])).toThrow(/argument `current` needs at least 1 finite value/);
  });
});

describe('wassersteinNormalized', () => {
  it('divides by the population (ddof = 0) std of the reference', () => {
    const r = wassersteinNormalized([1, 3], [4, 6]);
    expect(r.referenceStd).toBe(1);
    expect(r.distance).toBeCloseTo(3, 15);
    expect(r.normalized).toBeCloseTo(3, 15);
    expect(r.scale).toBe(1);
    const s = wassersteinNormalized([0, 4], [1, 5]);
    expect(s.referenceStd).toBe(2);
    expect(s.normalized).toBeCloseTo(0.5, 15);
  });

  it('uses scale 1 for a constant reference: finite, 0 when unchanged', () => {
    const unchanged = wassersteinNormalized([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [0.1]);
    expect(unchanged).toEqual({ distance: 0, referenceStd: 0, scale: 1, normalized: 0 });
    const moved = wassersteinNormalized([7], [9, 10]);
    expect(moved.referenceStd).toBe(0);
    expect(moved.normalized).toBeCloseTo(2.5, 15);
  });

  it('populationStd matches numpy.std', () => {
    expect(populationStd([2, 4, 4, 4, 5, 5, 7, 9])).toBe(2);
    expect(populationStd(Array(10).fill(0.1))).toBe(0);
  });
});
