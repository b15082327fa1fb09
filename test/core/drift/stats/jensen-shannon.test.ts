import { readFileSync } from 'fs';
import { join } from 'path';
import { jensenShannonCategorical, jensenShannonDistance, jensenShannonNumeric } from '../../../../core/drift/stats';

interface Fixture {
  numeric: {
    name: string;
    reference: (number | null)[];
    current: (number | null)[];
    referenceCounts: number[];
    currentCounts: number[];
    jensenShannon: number;
  }[];
  categorical: {
    name: string;
    reference: Record<string, number>;
    current: Record<string, number>;
    topK: number | null;
    categories: string[];
    jensenShannon: number;
  }[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../fixtures/drift/stats.json'), 'utf8')) as Fixture;
const values = (xs: (number | null)[]): number[] => xs.map((v) => v ?? Number.NaN);
const TOL = 1e-9;

describe('Jensen-Shannon vs scipy.spatial.distance.jensenshannon(p, q, base=2) (fixture)', () => {
  it.each(fixture.numeric.map((c) => [c.name, c] as const))('numeric %s', (_name, c) => {
    const result = jensenShannonNumeric(values(c.reference), values(c.current));
    expect(Array.from(result.reference)).toEqual(c.referenceCounts);
    expect(Array.from(result.current)).toEqual(c.currentCounts);
    expect(Math.abs(result.distance - c.jensenShannon)).toBeLessThanOrEqual(TOL);
    expect(Math.abs(jensenShannonDistance(c.referenceCounts, c.currentCounts) - c.jensenShannon)).toBeLessThanOrEqual(
      TOL,
    );
  });

  it.each(fixture.categorical.map((c) => [c.name, c] as const))('categorical %s', (_name, c) => {
    const result = jensenShannonCategorical(c.reference, c.current, { topK: c.topK ?? Infinity });
    expect(result.categories).toEqual(c.categories);
    expect(Math.abs(result.distance - c.jensenShannon)).toBeLessThanOrEqual(TOL);
  });
});

describe('jensenShannonDistance', () => {
  it("reproduces scipy's docstring examples", () => {
    expect(jensenShannonDistance([1, 0, 0], [0, 1, 0], 2)).toBeCloseTo(1, 15);
    expect(jensenShannonDistance([1, 0], [0.5, 0.5], Math.E)).toBeCloseTo(0.46450140402245893, 15);
    expect(jensenShannonDistance([1, 0, 0], [1, 0, 0])).toBe(0);
  });

  it('is symmetric, scale invariant and in [0, 1] for base 2', () => {
    const p = [3, 1, 4, 1, 5];
    const q = [2, 7, 1, 8, 2];
    const d = jensenShannonDistance(p, q);
    expect(jensenShannonDistance(q, p)).toBeCloseTo(d, 15);
    expect(
      jensenShannonDistance(
        p.map((x) => x * 10),
        q,
      ),
    ).toBeCloseTo(d, 15);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(1);
  });

  it('gives exactly 1 for all-new categories and never NaN for identical inputs', () => {
    expect(jensenShannonCategorical({ a: 3, b: 1 }, { x: 2 }).distance).toBe(1);
    expect(jensenShannonNumeric([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]).distance).toBe(0);
  });

  it('rejects invalid input', () => {
    expect(() => jensenShannonDistance([1], [1, 2])).toThrow(/must be non-empty and of equal length; received 1 and 2/);
    expect(() => jensenShannonDistance([0, 0], [1, 2])).toThrow(/`p` must have a positive total; received 0/);
    expect(() => jensenShannonDistance([1], [1], 1)).toThrow(/argument `base` must be a finite number > 0 and != 1/);
    expect(() => jensenShannonCategorical({}, { a: 1 })).toThrow(RangeError);
  });
});
