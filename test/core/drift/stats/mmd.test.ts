import { readFileSync } from 'fs';
import { join } from 'path';
import {
  createRng,
  medianHeuristicSigma,
  mmdPermutationTest,
  rbfMmd2Unbiased,
  toPointMatrix,
} from '../../../../core/drift/stats';

interface Fixture {
  mmd: { name: string; x: number[][]; y: number[][]; sigma: number; gamma: number; mmd2: number }[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../fixtures/drift/stats.json'), 'utf8')) as Fixture;

function normalSample(n: number, mean: number, sd: number, seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => mean + sd * rng.nextNormal());
}

describe('MMD² and median heuristic vs the numpy reference (fixture)', () => {
  it.each(fixture.mmd.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const sigma = medianHeuristicSigma(c.x);
    expect(Math.abs(sigma - c.sigma)).toBeLessThanOrEqual(1e-12 * c.sigma);
    expect(Math.abs(1 / (2 * sigma * sigma) - c.gamma)).toBeLessThanOrEqual(1e-12 * c.gamma);
    expect(Math.abs(rbfMmd2Unbiased(c.x, c.y, c.gamma) - c.mmd2)).toBeLessThanOrEqual(1e-9);
  });

  it('the permutation test reports the same MMD² when nothing is subsampled', () => {
    const c = fixture.mmd.find((m) => m.name === '3d-scale')!;
    const r = mmdPermutationTest(c.x, c.y, { permutations: 20 });
    expect(r.sigma).toBeCloseTo(c.sigma, 12);
    expect(Math.abs(r.mmd2 - c.mmd2)).toBeLessThanOrEqual(1e-9);
    expect(r.nReference).toBe(c.x.length);
    expect(r.nCurrent).toBe(c.y.length);
  });
});

describe('rbfMmd2Unbiased', () => {
  it('hand-computed two-point case', () => {
    // x = {0, 1}, y = {0.5, 3}, gamma = 0.5:
    // k_xx = e^-0.5, k_yy = e^-3.125, k_xy = e^-0.125 + e^-4.5 + e^-0.125 + e^-2
    const kxy = 2 * Math.exp(-0.125) + Math.exp(-4.5) + Math.exp(-2);
    const expected = Math.exp(-0.5) + Math.exp(-3.125) - (2 * kxy) / 4;
    expect(rbfMmd2Unbiased([0, 1], [0.5, 3], 0.5)).toBeCloseTo(expected, 15);
  });

  it('accepts 1-D samples, rows and typed arrays alike and drops non-finite points', () => {
    const a = rbfMmd2Unbiased([0, 1, 2], [1, 4], 0.3);
    expect(rbfMmd2Unbiased([[0], [1], [2]], [[1], [4]], 0.3)).toBe(a);
    expect(rbfMmd2Unbiased(new Float64Array([0, 1, 2]), [1, Number.NaN, 4], 0.3)).toBe(a);
    expect(rbfMmd2Unbiased([[0], [1], [2], [Infinity]], [[1], [4]], 0.3)).toBe(a);
  });

  it('rejects invalid input', () => {
    expect(() => rbfMmd2Unbiased([1], [1, 2], 1)).toThrow(/argument `x` needs at least 2 point\(s\)/);
    expect(() => rbfMmd2Unbiased([1, 2], [1, 2], 0)).toThrow(
      /argument `gamma` must be a finite number > 0; received 0/,
    );
    expect(() =>
      rbfMmd2Unbiased(
        [
          [1, 2],
          [3, 4],
        ],
        [[1], [2]],
        1,
      ),
    ).toThrow(/same dimension; received 2 and 1/);
    expect(() => toPointMatrix([[1, 2], [3]])).toThrow(/point 1 has 1, expected 2/);
  });
});

describe('medianHeuristicSigma', () => {
  it('is the median pairwise Euclidean distance', () => {
    // distances of {0, 1, 3}: 1, 3, 2 -> median 2
    expect(medianHeuristicSigma([0, 1, 3])).toBe(2);
    // distances of {0, 1, 3, 7}: 1, 3, 7, 2, 6, 4 -> median (3 + 4) / 2
    expect(medianHeuristicSigma([0, 1, 3, 7])).toBe(3.5);
    expect(
      medianHeuristicSigma([
        [0, 0],
        [3, 4],
      ]),
    ).toBe(5);
  });

  it('falls back to the positive distances, then to 1', () => {
    // 4 zeros + 1 one: 6 zero distances and 4 unit distances -> median 0 -> median of positives = 1
    expect(medianHeuristicSigma([0, 0, 0, 0, 2])).toBe(2);
    expect(medianHeuristicSigma([5, 5, 5])).toBe(1);
    expect(medianHeuristicSigma([5])).toBe(1);
  });
});

describe('mmdPermutationTest', () => {
  const ref = normalSample(300, 0, 1, 1);
  const same = normalSample(300, 0, 1, 2);
  const shifted = normalSample(300, 1, 1, 3);

  it('gives a large p-value for the same distribution and the minimum for a clear shift', () => {
    const null_ = mmdPermutationTest(ref, same, { permutations: 99, seed: 7 });
    expect(null_.pValue).toBeGreaterThan(0.05);
    const alt = mmdPermutationTest(ref, shifted, { permutations: 99, seed: 7 });
    expect(alt.pValue).toBe(1 / 100);
    expect(alt.mmd2).toBeGreaterThan(null_.mmd2);
    expect(alt.permutations).toBe(99);
  });

  it('p-values are roughly uniform under the null (not stuck at 1 or at the minimum)', () => {
    const ps: number[] = [];
    for (let s = 0; s < 20; s++) {
      const r = mmdPermutationTest(normalSample(60, 0, 1, 100 + s), normalSample(60, 0, 1, 200 + s), {
        permutations: 49,
        seed: s,
      });
      ps.push(r.pValue);
    }
    const small = ps.filter((p) => p <= 0.1).length;
    expect(small).toBeLessThanOrEqual(6);
    expect(Math.min(...ps)).toBeLessThan(0.6);
    expect(Math.max(...ps)).toBeGreaterThan(0.4);
  });

  it('is deterministic for a seed and subsamples each side to maxPointsPerSide', () => {
    const big = normalSample(2000, 0, 1, 9);
    const a = mmdPermutationTest(big, shifted, { permutations: 30, maxPointsPerSide: 200, seed: 42 });
    const b = mmdPermutationTest(big, shifted, { permutations: 30, maxPointsPerSide: 200, seed: 42 });
    expect(b).toEqual(a);
    expect(a.nReference).toBe(200);
    expect(a.nCurrent).toBe(200);
    const c = mmdPermutationTest(big, shifted, { permutations: 30, maxPointsPerSide: 200, seed: 43 });
    expect(c.mmd2).not.toBe(a.mmd2); // another subsample
  });

  it('uses a given sigma and works on multi-dimensional points', () => {
    const x = Array.from({ length: 40 }, (_, i) => [Math.cos(i), Math.sin(i), i % 3]);
    const y = Array.from({ length: 30 }, (_, i) => [Math.cos(i) + 2, Math.sin(i), i % 3]);
    const r = mmdPermutationTest(x, y, { sigma: 1.5, permutations: 49 });
    expect(r.sigma).toBe(1.5);
    expect(r.gamma).toBeCloseTo(1 / 4.5, 15);
    expect(r.mmd2).toBeCloseTo(rbfMmd2Unbiased(x, y, 1 / 4.5), 12);
    expect(r.pValue).toBe(1 / 50);
  });

  it('constant identical samples give MMD² = 0 and p = 1', () => {
    const r = mmdPermutationTest([3, 3, 3, 3], [3, 3, 3], { permutations: 19 });
    expect(r.mmd2).toBeCloseTo(0, 15);
    expect(r.pValue).toBe(1);
  });

  it('rejects invalid options and samples', () => {
    expect(() => mmdPermutationTest([1, 2], [1, 2], { permutations: 0 })).toThrow(
      /option `permutations` must be an integer in \[1, 1000000\]; received 0/,
    );
    expect(() => mmdPermutationTest([1, 2], [1, 2], { maxPointsPerSide: 5001 })).toThrow(/option `maxPointsPerSide`/);
    expect(() => mmdPermutationTest([1, 2], [1, 2], { sigma: -1 })).toThrow(
      /option `sigma` must be a finite number > 0/,
    );
    expect(() => mmdPermutationTest([1, Number.NaN], [1, 2])).toThrow(
      /mmdPermutationTest: argument `reference` needs at least 2 point\(s\) with finite coordinates/,
    );
  });
});
