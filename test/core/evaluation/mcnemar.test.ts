import { binomialHalfUpperTail, mcnemarExact } from '../../../core/evaluation/mcnemar';

/** Paired correctness with `b` champion-only and `c` candidate-only correct examples, plus `both` correct by both. */
function pairs(b: number, c: number, both = 3): [boolean[], boolean[]] {
  const champion = [...Array(b).fill(true), ...Array(c).fill(false), ...Array(both).fill(true), false];
  const candidate = [...Array(b).fill(false), ...Array(c).fill(true), ...Array(both).fill(true), false];
  return [champion, candidate];
}

describe('McNemar exact test', () => {
  // Reference values: scipy.stats.binomtest(c, b + c, 0.5).pvalue and alternative='greater' (scipy 1.10).
  test.each([
    [7, 3, 0.34375, 0.9453125],
    [2, 8, 0.109375, 0.0546875],
    [5, 0, 0.0625, 1.0],
    [3, 12, 0.03515625, 0.017578125],
    [20, 40, 0.01348929373119186, 0.00674464686559593],
  ])('b=%i c=%i matches scipy (two-sided %f, greater %f)', (b, c, twoSided, greater) => {
    const r = mcnemarExact(...pairs(b, c));
    expect(r.b).toBe(b);
    expect(r.c).toBe(c);
    expect(r.pTwoSided).toBeCloseTo(twoSided, 12);
    expect(r.pCandidateBetter).toBeCloseTo(greater, 12);
  });

  test('without discordant pairs there is no evidence either way', () => {
    const r = mcnemarExact([true, false], [true, false]);
    expect(r).toEqual({ b: 0, c: 0, pCandidateBetter: 1, pTwoSided: 1 });
  });

  test('the binomial tail has its edge values', () => {
    expect(binomialHalfUpperTail(0, 4)).toBe(1);
    expect(binomialHalfUpperTail(5, 4)).toBe(0);
    expect(binomialHalfUpperTail(4, 4)).toBeCloseTo(1 / 16, 15);
  });

  test('unpaired input is refused', () => {
    expect(() => mcnemarExact([true], [true, false])).toThrow(/equal length; received 1 and 2/);
  });
});
