import { readFileSync } from 'fs';
import { join } from 'path';
import { psiCategorical, psiFromCounts, psiNumeric, PSI_MIN_SHARE } from '../../../../core/drift/stats';

interface Fixture {
  numeric: { name: string; reference: (number | null)[]; current: (number | null)[]; edges: number[]; psi: number }[];
  categorical: {
    name: string;
    reference: Record<string, number>;
    current: Record<string, number>;
    topK: number | null;
    psi: number;
  }[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../fixtures/drift/stats.json'), 'utf8')) as Fixture;
const values = (xs: (number | null)[]): number[] => xs.map((v) => v ?? Number.NaN);
const TOL = 1e-9;

describe('psiNumeric vs the numpy reference (fixture)', () => {
  it.each(fixture.numeric.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = psiNumeric(values(c.reference), values(c.current));
    expect(Array.from(result.edges)).toEqual(c.edges);
    expect(Math.abs(result.psi - c.psi)).toBeLessThanOrEqual(TOL);
    expect(Number.isFinite(result.psi)).toBe(true);
  });
});

describe('psiCategorical vs the numpy reference (fixture)', () => {
  it.each(fixture.categorical.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = psiCategorical(c.reference, c.current, { topK: c.topK ?? Infinity });
    expect(Math.abs(result.psi - c.psi)).toBeLessThanOrEqual(TOL);
  });
});

describe('psiFromCounts', () => {
  it('hand-computed value', () => {
    // shares 0.5/0.5 vs 0.25/0.75: (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5) = 0.25 ln 3
    expect(psiFromCounts([50, 50], [25, 75])).toBeCloseTo(0.25 * Math.log(3), 15);
  });

  it('clips empty bins to 1e-4 without renormalising', () => {
    expect(PSI_MIN_SHARE).toBe(1e-4);
    const expected = (1 - 1e-4) * Math.log(1 / 1e-4) + (1e-4 - 1) * Math.log(1e-4 / 1);
    expect(psiFromCounts([10, 0], [0, 4])).toBeCloseTo(expected, 12);
    expect(psiFromCounts([10, 0], [0, 4], { minShare: 0.01 })).toBeCloseTo(
      (1 - 0.01) * Math.log(100) + (0.01 - 1) * Math.log(0.01),
      12,
    );
  });

  it('is 0 for proportional histograms', () => {
    expect(psiFromCounts([1, 2, 3], [10, 20, 30])).toBeCloseTo(0, 15);
  });

  it('rejects invalid input with a RangeError naming the argument', () => {
    expect(() => psiFromCounts([1, 2], [1])).toThrow(/must be non-empty and of equal length; received 2 and 1/);
    expect(() => psiFromCounts([0, 0], [1, 1])).toThrow(/`referenceCounts` must have a positive total; received 0/);
    expect(() => psiFromCounts([1, -1], [1, 1])).toThrow(
      /referenceCounts\[1\] must be a finite number >= 0; received -1/,
    );
    expect(() => psiFromCounts([1], [1], { minShare: 0 })).toThrow(/option `minShare` must be in \(0, 1\)/);
    expect(() => psiNumeric([Number.NaN], [1])).toThrow(
      /psiNumeric: argument `reference` needs at least 1 finite value/,
    );
  });
});
