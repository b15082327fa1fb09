import { readFileSync } from 'fs';
import { join } from 'path';
import { twoProportionZTest } from '../../../../core/drift/stats';

interface Fixture {
  proportions: {
    successesA: number;
    trialsA: number;
    successesB: number;
    trialsB: number;
    z: number;
    pValue: number;
  }[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../fixtures/drift/stats.json'), 'utf8')) as Fixture;

describe('twoProportionZTest vs the statsmodels proportions_ztest formula (fixture)', () => {
  it.each(fixture.proportions.map((c) => [`${c.successesA}/${c.trialsA} vs ${c.successesB}/${c.trialsB}`, c] as const))(
    '%s',
    (_name, c) => {
      const r = twoProportionZTest(c.successesA, c.trialsA, c.successesB, c.trialsB);
      expect(Math.abs(r.z - c.z)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(c.z)));
      expect(Math.abs(r.pValue - c.pValue)).toBeLessThanOrEqual(1e-12);
      expect(Number.isNaN(r.z) || Number.isNaN(r.pValue)).toBe(false);
    },
  );
});

describe('twoProportionZTest', () => {
  it('hand-computed value', () => {
    // 60/100 vs 40/100: pooled 0.5, se = sqrt(0.25 * 0.02), z = 0.2 / 0.0707... = 2.8284...
    const r = twoProportionZTest(60, 100, 40, 100);
    expect(r.z).toBeCloseTo(2 * Math.SQRT2, 13);
    expect(r.pValue).toBeCloseTo(0.004677734981047177, 14);
    expect(r).toMatchObject({ proportionA: 0.6, proportionB: 0.4, pooled: 0.5 });
  });

  it('returns z = 0, p = 1 for zero trials and for pooled proportions of 0 or 1', () => {
    for (const [xa, na, xb, nb] of [
      [0, 0, 3, 10],
      [3, 10, 0, 0],
      [0, 0, 0, 0],
      [0, 50, 0, 70],
      [50, 50, 70, 70],
    ]) {
      expect(twoProportionZTest(xa, na, xb, nb)).toMatchObject({ z: 0, pValue: 1 });
    }
  });

  it('rejects invalid counts', () => {
    expect(() => twoProportionZTest(-1, 10, 1, 10)).toThrow(
      /argument `successesA` must be a finite number >= 0; received -1/,
    );
    expect(() => twoProportionZTest(1, 10, 11, 10)).toThrow(/`successesB` \(11\) must not exceed `trialsB` \(10\)/);
    expect(() => twoProportionZTest(1, Number.NaN, 1, 10)).toThrow(/argument `trialsA`/);
  });
  it('one-sided alternatives: a drop is significant as "smaller", never as "larger" (scipy norm.cdf / norm.sf)', () => {
    // 3% vs 5% over 10,000 trials each: z = -7.2168783648703; norm.cdf(z) = 2.659725834699263e-13.
    const smaller = twoProportionZTest(300, 10_000, 500, 10_000, 'smaller');
    expect(smaller.z).toBeCloseTo(-7.216878364870324, 12);
    expect(Math.abs(smaller.pValue - 2.659725834699263e-13)).toBeLessThan(1e-24);
    expect(twoProportionZTest(300, 10_000, 500, 10_000, 'larger').pValue).toBeCloseTo(0.999999999999734, 14);
    expect(twoProportionZTest(500, 10_000, 300, 10_000, 'smaller').pValue).toBeCloseTo(0.999999999999734, 14);
    expect(twoProportionZTest(300, 10_000, 500, 10_000).pValue).toBeCloseTo(2 * 2.659725834699263e-13, 24);
    expect(twoProportionZTest(0, 0, 3, 10, 'smaller')).toMatchObject({ z: 0, pValue: 1 });
  });
});
