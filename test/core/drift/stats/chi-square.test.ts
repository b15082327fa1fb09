import { readFileSync } from 'fs';
import { join } from 'path';
import { chiSquareCategorical, chiSquareHomogeneity, chiSquareSf } from '../../../../core/drift/stats';

interface Fixture {
  categorical: {
    name: string;
    reference: Record<string, number>;
    current: Record<string, number>;
    topK: number | null;
    chiSquare: { statistic: number; pValue: number; dof: number; cramersV: number; columns: number };
  }[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../fixtures/drift/stats.json'), 'utf8')) as Fixture;

describe('chi-square homogeneity vs scipy.stats.chi2_contingency(table, correction=False) (fixture)', () => {
  it.each(fixture.categorical.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = chiSquareCategorical(c.reference, c.current, { topK: c.topK ?? undefined });
    expect(Math.abs(r.statistic - c.chiSquare.statistic)).toBeLessThanOrEqual(
      1e-9 * Math.max(1, c.chiSquare.statistic),
    );
    expect(Math.abs(r.pValue - c.chiSquare.pValue)).toBeLessThanOrEqual(1e-6);
    expect(r.dof).toBe(c.chiSquare.dof);
    expect(r.columns).toBe(c.chiSquare.columns);
    expect(Math.abs(r.cramersV - c.chiSquare.cramersV)).toBeLessThanOrEqual(1e-9);
  });

  it('p-values agree far tighter than the acceptance tolerance', () => {
    for (const c of fixture.categorical) {
      const r = chiSquareCategorical(c.reference, c.current, { topK: c.topK ?? undefined });
      expect(Math.abs(r.pValue - c.chiSquare.pValue)).toBeLessThan(1e-12);
    }
  });
});

describe('chiSquareHomogeneity', () => {
  it('hand-computed 2x2 table without Yates correction', () => {
    // [[10, 20], [20, 10]]: every expected count is 15, statistic = 4 * 25 / 15.
    const r = chiSquareHomogeneity([10, 20], [20, 10]);
    expect(r.statistic).toBeCloseTo(20 / 3, 13);
    expect(r.dof).toBe(1);
    expect(r.pValue).toBeCloseTo(chiSquareSf(20 / 3, 1), 15);
    expect(r.cramersV).toBeCloseTo(Math.sqrt(20 / 3 / 60), 14);
    expect(r.total).toBe(60);
  });

  it('handles categories present in one row only without infinities', () => {
    const r = chiSquareHomogeneity([10, 0], [0, 10]);
    expect(r.statistic).toBeCloseTo(20, 12);
    expect(r.cramersV).toBeCloseTo(1, 14);
    expect(Number.isFinite(r.pValue)).toBe(true);
  });

  it('drops all-zero columns and treats a single column as dof 0', () => {
    expect(chiSquareHomogeneity([5, 0, 3], [2, 0, 9])).toMatchObject({ dof: 1, columns: 2 });
    expect(chiSquareHomogeneity([5, 0], [7, 0])).toEqual({
      statistic: 0,
      pValue: 1,
      dof: 0,
      cramersV: 0,
      columns: 1,
      total: 12,
    });
  });

  it('does not fold categories by default but can', () => {
    const ref: Record<string, number> = {};
    const cur: Record<string, number> = {};
    for (let i = 0; i < 60; i++) {
      ref[`k${i}`] = 10 + (i % 7);
      cur[`k${i}`] = 10 + (i % 5);
    }
    expect(chiSquareCategorical(ref, cur).dof).toBe(59);
    const folded = chiSquareCategorical(ref, cur, { topK: 10 });
    expect(folded.folded).toBe(true);
    expect(folded.dof).toBe(10);
  });

  it('rejects invalid tables', () => {
    expect(() => chiSquareHomogeneity([1, 2], [1])).toThrow(/must be non-empty and of equal length; received 2 and 1/);
    expect(() => chiSquareHomogeneity([0, 0], [1, 2])).toThrow(
      /`referenceCounts` must have a positive total; received 0/,
    );
    expect(() => chiSquareHomogeneity([1, Number.NaN], [1, 2])).toThrow(
      /referenceCounts\[1\] must be a finite number >= 0; received NaN/,
    );
  });
});
