import { readFileSync } from 'fs';
import { join } from 'path';
import { ks2Samp, ksExactTwoSided, KS_MAX_EXACT_N } from '../../../../core/drift/stats';

interface KsExpected {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymp';
}
interface LcgSpec {
  n: number;
  mult: number;
  mod: number;
  scale: number;
  offset: number;
}
interface Fixture {
  ksExact: [number, number, number, boolean, number, number | null][];
  ksGenerated: (KsExpected & { name: string; a: LcgSpec; b: LcgSpec })[];
  numeric: { name: string; reference: (number | null)[]; current: (number | null)[]; ks: KsExpected }[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../fixtures/drift/stats.json'), 'utf8')) as Fixture;

/** JSON stores NaN/±Infinity as null. */
const values = (xs: (number | null)[]): number[] => xs.map((v) => v ?? Number.NaN);

/** Same formula as `lcg_sample` in the generator: exact integer part, then '/', '*', '+' left to right. */
function lcgSample({ n, mult, mod, scale, offset }: LcgSpec): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (((i * mult) % mod) / mod) * scale + offset;
  return out;
}

const STATISTIC_TOL = 1e-9;
const P_TOL = 1e-4;

describe('ks2Samp vs scipy.stats.ks_2samp (fixture)', () => {
  it.each(fixture.numeric.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = ks2Samp(values(c.reference), values(c.current));
    expect(Math.abs(result.statistic - c.ks.statistic)).toBeLessThanOrEqual(STATISTIC_TOL);
    expect(Math.abs(result.pValue - c.ks.pValue)).toBeLessThanOrEqual(P_TOL);
    expect(result.method).toBe(c.ks.method);
  });

  it.each(fixture.ksGenerated.map((c) => [c.name, c] as const))('large generated sample %s', (_name, c) => {
    const a = lcgSample(c.a);
    const b = lcgSample(c.b);
    const result = ks2Samp(a, b);
    expect(Math.abs(result.statistic - c.statistic)).toBeLessThanOrEqual(STATISTIC_TOL);
    expect(Math.abs(result.pValue - c.pValue)).toBeLessThanOrEqual(P_TOL);
    expect(result.method).toBe(c.method);
    expect(result.method).toBe(Math.max(c.a.n, c.b.n) <= KS_MAX_EXACT_N ? 'exact' : 'asymp');
  });

  it('covers both branches around the 10000 boundary and an asymptotic case with max(n, m) > 10000', () => {
    const names = fixture.ksGenerated.map((c) => `${c.name}:${c.method}`);
    expect(names).toEqual(expect.arrayContaining(['exact-10000x9000:exact', 'asymp-10001x9000:asymp']));
    expect(fixture.numeric.find((c) => c.name === 'exact-fails-falls-back-5x5')?.ks.method).toBe('asymp');
  });

  it('p-values agree far tighter than the acceptance tolerance (the port is exact, not approximate)', () => {
    for (const c of fixture.numeric) {
      const result = ks2Samp(values(c.reference), values(c.current));
      expect(Math.abs(result.pValue - c.ks.pValue)).toBeLessThan(1e-10);
    }
  });
});

describe('ksExactTwoSided vs scipy _attempt_exact_2kssamp', () => {
  it('matches the (n1, n2, d) grid including scipy failures', () => {
    const bad: string[] = [];
    for (const [n1, n2, d, success, snapped, p] of fixture.ksExact) {
      const r = ksExactTwoSided(n1, n2, d);
      if (r.success !== success || Math.abs(r.statistic - snapped) > 1e-15)
        bad.push(`${n1},${n2},${d}: ${JSON.stringify(r)}`);
      if (p !== null && !(Math.abs(r.pValue - p) <= 1e-12)) bad.push(`${n1},${n2},${d}: p ${r.pValue} want ${p}`);
    }
    expect(bad).toEqual([]);
  });

  it('hand-computed exact p-values', () => {
    // Disjoint samples of 3 and 3: only 2 of the C(6,3) = 20 orderings reach D = 1.
    expect(ksExactTwoSided(3, 3, 1).pValue).toBeCloseTo(0.1, 15);
    // Sizes 1 and 2, D = 1: 2 of the 3 orderings put the single value at an end.
    expect(ksExactTwoSided(1, 2, 1).pValue).toBeCloseTo(2 / 3, 15);
    expect(ksExactTwoSided(4, 6, 0)).toEqual({ success: true, statistic: 0, pValue: 1 });
    // d is snapped to the lattice 1/lcm.
    expect(ksExactTwoSided(2, 3, 0.34).statistic).toBeCloseTo(2 / 6, 15);
  });

  it('rejects invalid sizes', () => {
    expect(() => ksExactTwoSided(0, 3, 0.5)).toThrow(/argument `n1` must be an integer >= 1; received 0/);
    expect(() => ksExactTwoSided(3, 3, 1.5)).toThrow(/argument `d` must be in \[0, 1\]; received 1.5/);
  });
});

describe('ks2Samp behaviour', () => {
  it('hand-computed small case', () => {
    const r = ks2Samp([1, 2, 3], [4, 5, 6]);
    expect(r).toEqual({ statistic: 1, pValue: expect.closeTo(0.1, 15), method: 'exact', n1: 3, n2: 3 });
  });

  it('handles ties like scipy (right-continuous ECDFs on the pooled sample)', () => {
    // ECDF differences at 1, 2, 3: a = [1, 2, 2, 3] -> 1/4, 3/4, 1; b = [2, 2, 2, 3] -> 0, 3/4, 1.
    expect(ks2Samp([1, 2, 2, 3], [2, 2, 2, 3]).statistic).toBeCloseTo(0.25, 15);
    expect(ks2Samp([5, 5, 5], [5, 5]).statistic).toBe(0);
    expect(ks2Samp([5, 5, 5], [5, 5]).pValue).toBe(1);
  });

  it('is symmetric in its arguments and ignores input order', () => {
    const a = [0.3, -1.2, 2.2, 0.1, 0.1, 5, -3];
    const b = [1.1, 0.4, 0.4, 2.9, -0.5];
    const ab = ks2Samp(a, b);
    const ba = ks2Samp([...b].reverse(), [...a].reverse());
    expect(ba.statistic).toBe(ab.statistic);
    expect(ba.pValue).toBe(ab.pValue);
  });

  it('drops NaN and ±Infinity and reports the sizes used', () => {
    const clean = ks2Samp([1, 2, 3, 4], [2.5, 3.5]);
    const dirty = ks2Samp([1, Number.NaN, 2, 3, Infinity, 4], [2.5, -Infinity, 3.5, Number.NaN]);
    expect(dirty).toEqual(clean);
    expect(dirty.n1).toBe(4);
    expect(dirty.n2).toBe(2);
  });

  it('does not modify its inputs', () => {
    const a = new Float64Array([3, 1, 2]);
    ks2Samp(a, [0, 5]);
    expect(Array.from(a)).toEqual([3, 1, 2]);
  });

  it('throws a RangeError naming the empty argument', () => {
    expect(() => ks2Samp([], [1])).toThrow(RangeError);
    expect(() => ks2Samp([], [1])).toThrow(/ks2Samp: argument `a` needs at least 1 finite value/);
    expect(() => ks2Samp([1], [Number.NaN, Number.NaN])).toThrow(
      /argument `b` needs at least 1 finite value\(s\) \(NaN and ±Infinity are dropped\); received 2 value\(s\), 2 of them NaN\/±Infinity\/missing, leaving 0/,
    );
  });

  // Speed is measured by `npm run bench:drift`, not asserted here (wall-clock limits flake on a loaded machine).
  it('handles large inputs: 200k vs 150k (asymptotic) and 10000 vs 9999 (exact, worst-case lcm)', () => {
    const a = lcgSample({ n: 200_000, mult: 7919, mod: 199_999, scale: 1, offset: 0 });
    const b = lcgSample({ n: 150_000, mult: 104_729, mod: 149_993, scale: 1, offset: 0.001 });
    const big = ks2Samp(a, b);
    expect(big.method).toBe('asymp');
    expect(big.n1).toBe(200_000);
    expect(big.n2).toBe(150_000);

    const c = lcgSample({ n: 10_000, mult: 7919, mod: 10_007, scale: 1, offset: 0 });
    const d = lcgSample({ n: 9_999, mult: 3001, mod: 9_973, scale: 1, offset: 0.3 });
    const exact = ks2Samp(c, d);
    expect(exact.method).toBe('exact');
    expect(exact.statistic).toBeGreaterThan(0.25);
    expect(exact.pValue).toBeLessThan(1e-100);
  });
});
