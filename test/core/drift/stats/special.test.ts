import { readFileSync } from 'fs';
import { join } from 'path';
import {
  chiSquareSf,
  kolmogi,
  kolmogorov,
  kolmogorovCdf,
  kstwoCdf,
  kstwoSf,
  logGamma,
  normalCdf,
  normalSf,
  regularizedGammaP,
  regularizedGammaQ,
  smirnov,
} from '../../../../core/drift/stats';

interface SpecialFixture {
  gammaln: [number, number][];
  gammainc: [number, number, number, number][];
  norm: [number, number, number][];
  chi2Sf: [number, number, number][];
  kolmogorov: [number, number][];
  kolmogi: [number, number][];
  smirnov: [number, number, number][];
  kstwoSf: [number, number, number][];
}

const special = (
  JSON.parse(readFileSync(join(__dirname, '../../../fixtures/drift/stats.json'), 'utf8')) as {
    special: SpecialFixture;
  }
).special;

/** Returns a description of every row whose value is outside |got - want| <= abs + rel * |want|. */
function mismatches<R extends readonly number[]>(
  rows: readonly R[],
  compute: (row: R) => number,
  expected: (row: R) => number,
  tol: { abs?: number; rel?: number },
): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const got = compute(row);
    const want = expected(row);
    const limit = (tol.abs ?? 0) + (tol.rel ?? 0) * Math.abs(want);
    if (!(Math.abs(got - want) <= limit)) out.push(`${JSON.stringify(row)}: got ${got}, want ${want}`);
  }
  return out;
}

describe('logGamma (scipy.special.gammaln)', () => {
  it('matches scipy on a grid to 1e-13 relative', () => {
    expect(
      mismatches(
        special.gammaln,
        ([x]) => logGamma(x),
        ([, y]) => y,
        { abs: 1e-14, rel: 1e-13 },
      ),
    ).toEqual([]);
  });

  it('hits hand-computed values', () => {
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(2)).toBeCloseTo(0, 14);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(logGamma(0)).toBe(Infinity);
    expect(logGamma(-1)).toBeNaN();
  });
});

describe('regularized incomplete gamma (scipy.special.gammainc / gammaincc)', () => {
  it('matches scipy on a grid', () => {
    expect(
      mismatches(
        special.gammainc,
        ([a, x]) => regularizedGammaP(a, x),
        ([, , p]) => p,
        { abs: 1e-12, rel: 1e-11 },
      ),
    ).toEqual([]);
    expect(
      mismatches(
        special.gammainc,
        ([a, x]) => regularizedGammaQ(a, x),
        ([, , , q]) => q,
        { abs: 1e-12, rel: 1e-11 },
      ),
    ).toEqual([]);
  });

  it('P + Q = 1 and P(1, x) = 1 - e^-x', () => {
    for (const [a, x] of [
      [0.5, 0.2],
      [3, 7],
      [40, 38],
    ]) {
      expect(regularizedGammaP(a, x) + regularizedGammaQ(a, x)).toBeCloseTo(1, 13);
    }
    expect(regularizedGammaP(1, 2)).toBeCloseTo(1 - Math.exp(-2), 14);
    expect(regularizedGammaQ(1, 30)).toBeCloseTo(Math.exp(-30), 25);
  });

  it('rejects invalid arguments with a RangeError naming the argument', () => {
    expect(() => regularizedGammaP(0, 1)).toThrow(/argument `a` must be a finite number > 0; received 0/);
    expect(() => regularizedGammaQ(1, -1)).toThrow(/argument `x` must be a number >= 0; received -1/);
    expect(() => regularizedGammaQ(1, Number.NaN)).toThrow(RangeError);
  });
});

describe('normal distribution (scipy.stats.norm)', () => {
  it('matches scipy cdf and sf, including far tails', () => {
    expect(
      mismatches(
        special.norm,
        ([z]) => normalCdf(z),
        ([, c]) => c,
        { abs: 1e-300, rel: 1e-12 },
      ),
    ).toEqual([]);
    // z = ±38 is in the subnormal range where only a few digits exist.
    expect(
      mismatches(
        special.norm.filter(([z]) => Math.abs(z) < 37),
        ([z]) => normalSf(z),
        ([, , s]) => s,
        { abs: 1e-300, rel: 1e-12 },
      ),
    ).toEqual([]);
  });

  it('hand-checked quantiles', () => {
    expect(normalSf(0)).toBe(0.5);
    expect(2 * normalSf(1.959963984540054)).toBeCloseTo(0.05, 15);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 15);
    expect(normalSf(Infinity)).toBe(0);
    expect(normalSf(-Infinity)).toBe(1);
    expect(normalSf(Number.NaN)).toBeNaN();
  });
});

describe('chiSquareSf (scipy.stats.chi2.sf)', () => {
  it('matches scipy on a grid to 1e-12', () => {
    expect(
      mismatches(
        special.chi2Sf,
        ([x, k]) => chiSquareSf(x, k),
        ([, , p]) => p,
        { abs: 1e-12, rel: 1e-10 },
      ),
    ).toEqual([]);
  });

  it('hand-checked values', () => {
    expect(chiSquareSf(3.841458820694124, 1)).toBeCloseTo(0.05, 14);
    expect(chiSquareSf(4, 2)).toBeCloseTo(Math.exp(-2), 15); // dof 2 is exponential
    expect(chiSquareSf(0, 3)).toBe(1);
    expect(() => chiSquareSf(1, 0)).toThrow(/argument `dof` must be a finite number > 0; received 0/);
  });
});

describe('Kolmogorov distribution (scipy.special.kolmogorov / kolmogi)', () => {
  it('matches scipy.special.kolmogorov', () => {
    expect(
      mismatches(
        special.kolmogorov,
        ([x]) => kolmogorov(x),
        ([, p]) => p,
        { abs: 1e-15, rel: 1e-13 },
      ),
    ).toEqual([]);
    expect(kolmogorov(1.3581) + kolmogorovCdf(1.3581)).toBeCloseTo(1, 15);
  });

  it('matches scipy.special.kolmogi and inverts kolmogorov', () => {
    expect(
      mismatches(
        special.kolmogi,
        ([p]) => kolmogi(p),
        ([, x]) => x,
        { rel: 1e-12 },
      ),
    ).toEqual([]);
    expect(kolmogorov(kolmogi(0.05))).toBeCloseTo(0.05, 14);
    expect(kolmogi(0)).toBe(Infinity);
    expect(kolmogi(1)).toBe(0);
    expect(() => kolmogi(1.5)).toThrow(/argument `p` must be a probability in \[0, 1\]; received 1.5/);
  });
});

describe('smirnov (scipy.special.smirnov)', () => {
  it('matches scipy to 1e-9 absolute for n from 1 to 2e6', () => {
    expect(
      mismatches(
        special.smirnov,
        ([n, x]) => smirnov(n, x),
        ([, , p]) => p,
        { abs: 1e-9 },
      ),
    ).toEqual([]);
  });

  it('hand-checked closed forms', () => {
    expect(smirnov(1, 0.3)).toBeCloseTo(0.7, 15);
    // n = 2: P(D+ >= x) = (1 - x)^2 + ... ; for x >= 1/2 only the v = 0 term remains: (1 - x)^2
    expect(smirnov(2, 0.6)).toBeCloseTo(0.16, 15);
    expect(smirnov(5, 0)).toBe(1);
    expect(smirnov(5, 1)).toBe(0);
  });
});

describe('kstwoSf (scipy.stats.kstwo.sf)', () => {
  it('matches scipy across all algorithm branches to 1e-9 absolute', () => {
    expect(special.kstwoSf.length).toBeGreaterThan(200);
    expect(
      mismatches(
        special.kstwoSf,
        ([n, x]) => kstwoSf(x, n),
        ([, , p]) => p,
        { abs: 1e-9 },
      ),
    ).toEqual([]);
  });

  it('exact small cases, and sf + cdf = 1 up to the branch differences scipy also has', () => {
    // n = 1: D_1 = max(U, 1 - U), P(D_1 >= d) = 2(1 - d) for d in [1/2, 1]
    expect(kstwoSf(0.75, 1)).toBeCloseTo(0.5, 15);
    expect(kstwoSf(0.2, 1)).toBe(1);
    expect(kstwoSf(1, 10)).toBe(0);
    for (const [d, n] of [
      [0.1, 50],
      [0.05, 1000],
      [0.3, 12],
    ]) {
      // scipy computes the sf and the cdf with different algorithms in places (2·smirnov vs Pelz-Good), which
      // disagree by ~5e-9; this implementation makes the same choices.
      expect(Math.abs(kstwoSf(d, n) + kstwoCdf(d, n) - 1)).toBeLessThan(1e-7);
    }
    expect(() => kstwoSf(0.1, 2.5)).toThrow(/argument `n` must be an integer >= 1; received 2.5/);
  });
});
