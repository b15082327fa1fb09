import { adjustPValues, compareWindow, DEFAULT_POLICY, type DriftPolicy } from '../../../core/drift/engine';
import { expectationsFromBaseline, ProfileAccumulator, toBaselineProfile } from '../../../core/drift/profile';
import type { FeatureRecord } from '../../../core/drift/features';
import { createRng } from '../../../core/drift/stats';

/** Synthetic traffic: two numerical inputs, one categorical, a model score; `shift` moves every one of them. */
function traffic(
  n: number,
  seed: number,
  shift: { age?: number; country?: number; score?: number } = {},
): FeatureRecord[] {
  const rng = createRng(seed);
  const countries = ['us', 'uk', 'de', 'fr', 'jp'];
  const out: FeatureRecord[] = [];
  for (let i = 0; i < n; i++) {
    const moved = rng.nextFloat() < (shift.country ?? 0);
    out.push({
      age: 40 + (shift.age ?? 0) * 10 + 10 * rng.nextNormal(),
      income: Math.exp(10 + 0.5 * rng.nextNormal()),
      country: moved ? 'us' : countries[rng.nextInt(countries.length)],
      'output.score': 0.3 + (shift.score ?? 0) + 0.1 * rng.nextNormal(),
    });
  }
  return out;
}

function baselineOf(records: FeatureRecord[]) {
  const acc = new ProfileAccumulator({ sampling: { sampleSize: 20_000 } });
  for (const r of records) acc.add(r);
  return toBaselineProfile(acc, { createdAt: new Date('2026-01-01T00:00:00Z') });
}

function check(
  baseline: ReturnType<typeof baselineOf>,
  records: FeatureRecord[],
  policy: DriftPolicy = DEFAULT_POLICY,
) {
  const acc = new ProfileAccumulator({ sampling: baseline.sampling, expectations: expectationsFromBaseline(baseline) });
  for (const r of records) acc.add(r);
  return compareWindow(baseline, { records: acc.records, invalid: 0, features: acc.features() }, policy);
}

const baseline = baselineOf(traffic(20_000, 1));

describe('decision rule', () => {
  test('a large same-distribution window raises no alarm', () => {
    const report = check(baseline, traffic(50_000, 2));
    expect(report.drifted).toBe(false);
    expect(report.features.filter((f) => f.drifted)).toEqual([]);
    expect(report.driftedShare).toBe(0);
  });

  test('same distribution over many seeds: the family-wise false alarm rate stays near alpha', () => {
    let alarms = 0;
    for (let seed = 100; seed < 130; seed++) if (check(baseline, traffic(2_000, seed)).drifted) alarms++;
    expect(alarms).toBeLessThanOrEqual(2);
  });

  test('a tiny shift in a huge window is significant but too small to flag', () => {
    const report = check(baseline, traffic(200_000, 3, { age: 0.06 }));
    const age = report.features.find((f) => f.name === 'age')!;
    expect(age.test!.significant).toBe(true);
    expect(age.effect!.passed).toBe(false);
    expect(age.drifted).toBe(false);
    expect(report.drifted).toBe(false);
  });

  test('a real shift of most features drifts the dataset by share', () => {
    const report = check(baseline, traffic(5_000, 4, { age: 1, country: 0.8 }), {
      ...DEFAULT_POLICY,
      keySignal: () => false,
    });
    expect(
      report.features
        .filter((f) => f.drifted)
        .map((f) => f.name)
        .sort(),
    ).toEqual(['age', 'country']);
    expect(report.driftedShare).toBe(0.5);
    expect(report.drifted).toBe(true);
    expect(report.reason).toMatch(/2 of 4 features drifted/);
  });

  test('one drifted feature below the share threshold does not drift the dataset', () => {
    const report = check(baseline, traffic(5_000, 5, { age: 1 }), { ...DEFAULT_POLICY, keySignal: () => false });
    expect(report.features.find((f) => f.name === 'age')!.drifted).toBe(true);
    expect(report.driftedShare).toBe(0.25);
    expect(report.drifted).toBe(false);
  });

  test('a key signal (model output) drifts the dataset on its own', () => {
    const report = check(baseline, traffic(5_000, 6, { score: 0.1 }));
    expect(report.keySignalsDrifted).toEqual(['output.score']);
    expect(report.drifted).toBe(true);
    expect(report.reason).toMatch(/key signals drifted: output\.score/);
  });

  test('below the minimum window, metrics are reported but nothing is flagged', () => {
    const report = check(baseline, traffic(150, 7, { age: 3, score: 1 }));
    expect(report.drifted).toBe(false);
    expect(report.reason).toMatch(/below minWindowSize 200/);
    const age = report.features.find((f) => f.name === 'age')!;
    expect(age.stats.psi).toBeGreaterThan(1);
    expect(age.drifted).toBe(false);
    expect(age.note).toMatch(/below minWindowSize/);
  });

  test('per-feature effect and threshold overrides apply', () => {
    const report = check(baseline, traffic(5_000, 8, { age: 0.3 }), {
      ...DEFAULT_POLICY,
      features: { age: { effect: 'wasserstein', threshold: 0.2 } },
    });
    const age = report.features.find((f) => f.name === 'age')!;
    expect(age.method).toBe('ks+wasserstein');
    expect(age.effect).toMatchObject({ metric: 'wasserstein', threshold: 0.2, passed: true });
    expect(age.drifted).toBe(true);
  });

  test('an effect that does not fit the kind is rejected with the allowed list', () => {
    expect(() =>
      check(baseline, traffic(500, 9), { ...DEFAULT_POLICY, features: { country: { effect: 'wasserstein' } } }),
    ).toThrow(
      'feature "country" is categorical; effect "wasserstein" is not available for it (allowed: jensen-shannon, psi, cramers-v)',
    );
  });

  test('a feature missing from the window is reported, not judged, and never crashes', () => {
    const records = traffic(1_000, 10).map(({ income: _income, ...rest }) => rest);
    const report = check(baseline, records);
    const income = report.features.find((f) => f.name === 'income')!;
    expect(income.note).toBe('no current values');
    expect(income.test).toBeUndefined();
    expect(income.counts.currentMissing).toBe(1_000);
  });

  test('categories never seen in the reference produce finite statistics', () => {
    const records = traffic(2_000, 11).map((r) => ({ ...r, country: 'br' }));
    const country = check(baseline, records).features.find((f) => f.name === 'country')!;
    for (const v of [
      country.stats.psi,
      country.stats.jensenShannon,
      country.stats.chiSquare!.statistic,
      country.stats.cramersV,
    ]) {
      expect(Number.isFinite(v)).toBe(true);
    }
    expect(country.drifted).toBe(true);
  });
});

describe('default thresholds at their boundary', () => {
  /**
   * A numerical feature whose KS test is clearly significant and whose PSI is set by its decile counts: 10 equal
   * reference bins, the current window moving mass from the lower five bins to the upper five (shares a and 0.2 − a).
   */
  function windowWithPsi(lowerShare: number) {
    const reference = Array.from({ length: 2_000 }, (_, i) => i / 2_000);
    const current = reference.map((v) => v + 0.3);
    const edges = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    const numerical = (sample: number[], binCounts: number[]) =>
      ({
        kind: 'numerical',
        count: 100_000,
        missing: 0,
        mean: 0.5,
        std: 0.29,
        min: 0,
        max: 1,
        edges,
        binCounts,
        sample,
      }) as const;
    const upper = 0.2 - lowerShare;
    return compareWindow(
      { records: 100_000, features: { x: numerical(reference, Array(10).fill(10_000)) } },
      {
        records: 100_000,
        invalid: 0,
        features: {
          x: numerical(current, [...Array(5).fill(lowerShare * 100_000), ...Array(5).fill(upper * 100_000)]),
        },
      },
    ).features[0];
  }

  test('PSI 0.21 drifts and PSI 0.19 does not under the default threshold 0.2', () => {
    const above = windowWithPsi(0.05578);
    expect(above.stats.psi).toBeCloseTo(0.21, 4);
    expect(above.effect).toEqual({ metric: 'psi', value: above.stats.psi, threshold: 0.2, passed: true });
    expect(above.drifted).toBe(true);
    const below = windowWithPsi(0.0578);
    expect(below.stats.psi).toBeCloseTo(0.19, 4);
    expect(below.effect).toMatchObject({ threshold: 0.2, passed: false });
    expect(below.test!.significant).toBe(true);
    expect(below.drifted).toBe(false);
  });

  test('the documented defaults', () => {
    expect(DEFAULT_POLICY).toMatchObject({
      alpha: 0.05,
      correction: 'bonferroni',
      driftedShareThreshold: 0.5,
      minWindowSize: 200,
      thresholds: {
        psi: 0.2,
        jensenShannon: 0.1,
        wassersteinNormalized: 0.1,
        cramersV: 0.1,
        mmd2: 0.01,
        proportionRelativeChange: 0.1,
      },
    });
  });
});

describe('embeddings and proportions', () => {
  function vectors(n: number, seed: number, shift: number): FeatureRecord[] {
    const rng = createRng(seed);
    return Array.from({ length: n }, () => ({
      embedding: Array.from({ length: 64 }, (_, d) => rng.nextNormal() + (d < 8 ? shift : 0)),
    }));
  }
  const embeddingBaseline = baselineOf(vectors(2_000, 20, 0));

  test('embeddings are projected to 32 dimensions and compared with MMD', () => {
    const f = embeddingBaseline.features.embedding;
    expect(f.kind).toBe('embedding');
    if (f.kind !== 'embedding') return;
    expect(f.projection).toMatchObject({ inputDimension: 64, outputDimension: 32 });
    expect(f.sample[0]).toHaveLength(32);
  });

  test('same-distribution embeddings do not drift; shifted ones do', () => {
    const same = [30, 31, 32, 33, 34, 35, 36, 37, 38, 39].map(
      (seed) => check(embeddingBaseline, vectors(1_000, seed, 0)).features[0],
    );
    const shifted = check(embeddingBaseline, vectors(1_000, 22, 0.8)).features[0];
    expect(same[0].method).toBe('mmd-permutation+mmd2');
    expect(same.filter((f) => f.drifted)).toEqual([]);
    // Under the null the permutation p-value is uniform: few of ten fall below 0.05.
    expect(same.filter((f) => f.stats.mmdPValue! < 0.05).length).toBeLessThanOrEqual(2);
    expect(shifted.drifted).toBe(true);
    expect(shifted.stats.mmd2!).toBeGreaterThan(Math.max(...same.map((f) => f.stats.mmd2!)));
    expect(shifted.test!.adjustedPValue).toBeLessThanOrEqual(0.05);
  });

  test('a click-through-rate drop is a key signal; a stable rate is not', () => {
    const empty = { records: 1_000, invalid: 0, features: {} };
    const dropped = compareWindow({ records: 10_000, features: {} }, empty, DEFAULT_POLICY, [
      { name: 'ctr', reference: { successes: 500, trials: 10_000 }, current: { successes: 300, trials: 10_000 } },
    ]);
    expect(dropped.proportions[0]).toMatchObject({ name: 'ctr', drifted: true, reference: 0.05, current: 0.03 });
    expect(dropped.drifted).toBe(true);
    const stable = compareWindow({ records: 10_000, features: {} }, empty, DEFAULT_POLICY, [
      { name: 'ctr', reference: { successes: 500, trials: 10_000 }, current: { successes: 505, trials: 10_000 } },
    ]);
    expect(stable.drifted).toBe(false);
  });
});

describe('one-sided business signals', () => {
  const empty = { records: 1_000, invalid: 0, features: {} };
  const ctr = (name: string, current: number) => ({
    name,
    reference: { successes: 500, trials: 10_000 },
    current: { successes: current, trials: 10_000 },
  });

  test('a CTR drop drifts, a CTR rise of the same size does not (one-sided by default)', () => {
    const report = compareWindow({ records: 10_000, features: {} }, empty, DEFAULT_POLICY, [
      ctr('ctr.v1', 300),
      ctr('ctr.v2', 700),
    ]);
    const [drop, rise] = report.proportions;
    expect(drop).toMatchObject({ name: 'ctr.v1', direction: 'decrease', drifted: true });
    expect(rise).toMatchObject({ name: 'ctr.v2', direction: 'decrease', drifted: false });
    expect(rise.pValue).toBeGreaterThan(0.99);
    expect(report.keySignalsDrifted).toEqual(['ctr.v1']);
  });

  test('a signal set to both alarms on a rise too (rule patterns like ctr.*)', () => {
    const report = compareWindow(
      { records: 10_000, features: {} },
      empty,
      { ...DEFAULT_POLICY, features: { 'ctr.*': { direction: 'both' } } },
      [ctr('ctr.v2', 700)],
    );
    expect(report.proportions[0]).toMatchObject({ direction: 'both', drifted: true });
  });

  function confidence(n: number, seed: number, shift: number): FeatureRecord[] {
    const rng = createRng(seed);
    return Array.from({ length: n }, () => ({ 'output.confidence': 0.8 + shift + 0.05 * rng.nextNormal() }));
  }
  const confidenceBaseline = baselineOf(confidence(5_000, 40, 0));

  test('a confidence drop drifts; a rise of the same size does not', () => {
    const drop = check(confidenceBaseline, confidence(2_000, 41, -0.05)).features[0];
    const rise = check(confidenceBaseline, confidence(2_000, 42, 0.05)).features[0];
    expect(drop).toMatchObject({ name: 'output.confidence', direction: 'decrease', drifted: true });
    expect(rise).toMatchObject({ direction: 'decrease', drifted: false });
    expect(rise.effect!.passed).toBe(true); // the distribution moved, but the wrong way to matter
    expect(rise.test!.pValue).toBeGreaterThan(0.5);
  });

  test('any other numerical feature stays two-sided', () => {
    const report = check(baseline, traffic(5_000, 43, { age: -1 }), { ...DEFAULT_POLICY, keySignal: () => false });
    expect(report.features.find((f) => f.name === 'age')).toMatchObject({ direction: 'both', drifted: true });
  });
});

describe('multiple-testing correction', () => {
  test('Bonferroni multiplies by the family size, capped at 1', () => {
    expect(adjustPValues([0.01, 0.02, 0.5], 'bonferroni')).toEqual([0.03, 0.06, 1]);
  });

  test('Benjamini–Hochberg step-up matches the textbook example', () => {
    // p = [0.01, 0.04, 0.03, 0.005]; sorted 0.005, 0.01, 0.03, 0.04 → ×4/rank = 0.02, 0.02, 0.04, 0.04.
    const adjusted = adjustPValues([0.01, 0.04, 0.03, 0.005], 'benjamini-hochberg');
    expect(adjusted.map((p) => Number(p.toFixed(10)))).toEqual([0.02, 0.04, 0.04, 0.02]);
  });

  test('Benjamini–Hochberg flags more than Bonferroni on the same window', () => {
    const records = traffic(3_000, 30, { age: 0.15, country: 0.08 });
    const bonf = check(baseline, records, { ...DEFAULT_POLICY, keySignal: () => false });
    const bh = check(baseline, records, {
      ...DEFAULT_POLICY,
      keySignal: () => false,
      correction: 'benjamini-hochberg',
    });
    const sig = (r: typeof bonf) => r.features.filter((f) => f.test?.significant).length;
    expect(sig(bh)).toBeGreaterThanOrEqual(sig(bonf));
    for (const f of bh.features) {
      const b = bonf.features.find((x) => x.name === f.name)!;
      if (f.test && b.test) expect(f.test.adjustedPValue).toBeLessThanOrEqual(b.test.adjustedPValue + 1e-12);
    }
  });
});
