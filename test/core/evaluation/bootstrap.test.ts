import { pairedBootstrap } from '../../../core/evaluation/bootstrap';

describe('paired bootstrap interval', () => {
  test('a constant improvement has a degenerate interval at that improvement', () => {
    const base = [0.1, 0.5, 0.3, 0.9, 0.2];
    const r = pairedBootstrap(
      base,
      base.map((x) => x + 0.05),
      { resamples: 200 },
    );
    expect(r.meanDifference).toBeCloseTo(0.05, 12);
    expect(r.lower).toBeCloseTo(0.05, 12);
    expect(r.upper).toBeCloseTo(0.05, 12);
    expect(r.n).toBe(5);
  });

  test('the interval brackets the mean difference and narrows with more pairs', () => {
    const small = Array.from({ length: 40 }, (_, i) => ((i * 37) % 11) / 10);
    const large = Array.from({ length: 4000 }, (_, i) => ((i * 37) % 11) / 10);
    const shift = (xs: number[]) => xs.map((x, i) => x + (i % 2 === 0 ? 0.1 : -0.05));
    const a = pairedBootstrap(small, shift(small), { seed: 7 });
    const b = pairedBootstrap(large, shift(large), { seed: 7 });
    expect(a.lower).toBeLessThan(a.meanDifference);
    expect(a.upper).toBeGreaterThan(a.meanDifference);
    expect(b.upper - b.lower).toBeLessThan((a.upper - a.lower) / 5);
    expect(b.lower).toBeGreaterThan(0);
  });

  test('the same seed gives the same interval; pairs with an undefined side are dropped', () => {
    const x = [0.2, undefined, 0.4, 0.7, 0.1, 0.6];
    const y = [0.3, 0.9, undefined, 0.6, 0.4, 0.8];
    const r1 = pairedBootstrap(x, y, { seed: 3 });
    expect(pairedBootstrap(x, y, { seed: 3 })).toEqual(r1);
    expect(r1.n).toBe(4);
    expect(r1.meanDifference).toBeCloseTo((0.1 - 0.1 + 0.3 + 0.2) / 4, 12);
  });

  test('bad input is refused with what was received', () => {
    expect(() => pairedBootstrap([1], [1, 2])).toThrow(/same length; received 1 and 2/);
    expect(() => pairedBootstrap([undefined], [1])).toThrow(/at least one pair/);
    expect(() => pairedBootstrap([1], [1], { resamples: 10 })).toThrow(/at least 100; received 10/);
    expect(() => pairedBootstrap([1], [1], { confidence: 1 })).toThrow(/confidence must be in \(0, 1\); received 1/);
  });
});
