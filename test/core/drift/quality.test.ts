/** Realised quality: nDCG@k, intervals (checked against formulas evaluated with scipy), the one-sided drop rule. */
import {
  compareQuality,
  meanInterval,
  ndcgAtK,
  OutcomeAccumulator,
  parseOutcomeLine,
  parseQualityBaseline,
  poolStats,
  wilsonInterval,
  type QualityObservation,
} from '../../../core/drift/quality';
import { normalQuantile } from '../../../core/drift/stats';

describe('nDCG@k with binary relevance', () => {
  test('one click at rank 2 is 1/log2(3); clicks at ranks 1 and 3 against the ideal ranks 1 and 2', () => {
    expect(ndcgAtK(['a', 'b', 'c'], new Set(['b']))).toBeCloseTo(0.6309297535714575, 15);
    expect(ndcgAtK(['a', 'b', 'c'], new Set(['a', 'c']))).toBeCloseTo(0.9197207891481876, 15);
    expect(ndcgAtK(['a', 'b'], new Set(['a']))).toBe(1);
    expect(ndcgAtK(['a', 'b'], new Set())).toBe(0);
  });

  test('only the first k items count', () => {
    const items = Array.from({ length: 12 }, (_, i) => `i${i}`);
    expect(ndcgAtK(items, new Set(['i11']))).toBe(0);
    expect(ndcgAtK(items, new Set(['i11']), 12)).toBeGreaterThan(0);
  });
});

describe('intervals', () => {
  test('Wilson score interval (scipy norm.ppf(0.975) in the textbook formula)', () => {
    const a = wilsonInterval(10, 100);
    expect(a.lower).toBeCloseTo(0.0552291370606751, 12);
    expect(a.upper).toBeCloseTo(0.17436566150491345, 12);
    const b = wilsonInterval(450, 10_000);
    expect(b.lower).toBeCloseTo(0.04110865767535974, 12);
    expect(b.upper).toBeCloseTo(0.04924078084195594, 12);
    expect(wilsonInterval(0, 50).lower).toBe(0);
    expect(wilsonInterval(0, 50).upper).toBeCloseTo(0.07134759913335872, 12);
    expect(wilsonInterval(0, 0)).toEqual({ lower: 0, upper: 1, level: 0.95 });
  });

  test('normal interval of a mean uses the sample standard deviation', () => {
    const values = [0.2, 0.5, 0.9, 0.1, 0.4];
    const stats = {
      kind: 'mean' as const,
      n: 5,
      sum: values.reduce((a, b) => a + b, 0),
      sumSquares: values.reduce((a, b) => a + b * b, 0),
    };
    const i = meanInterval(stats);
    expect(i.lower).toBeCloseTo(0.14700860614029243, 12);
    expect(i.upper).toBeCloseTo(0.6929913938597076, 12);
  });

  test('normalQuantile matches scipy.stats.norm.ppf', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 13);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 12);
    expect(normalQuantile(0.3)).toBeCloseTo(-0.5244005127080409, 13);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(normalQuantile(2))).toBe(true);
  });
});

describe('the drop rule', () => {
  const ctr = (current: number, trials = 10_000, reference = 500): QualityObservation => ({
    name: 'ctr',
    current: { kind: 'proportion', successes: current, trials },
    reference: { kind: 'proportion', successes: reference, trials: 10_000 },
    referenceSource: 'quality baseline',
  });

  test('a significant, large drop counts; a rise does not', () => {
    const [drop] = compareQuality([ctr(300)]);
    expect(drop).toMatchObject({ name: 'ctr', dropped: true, value: 0.03, relativeDrop: expect.any(Number) });
    expect(drop.relativeDrop).toBeCloseTo(0.4, 12);
    expect(drop.reference).toMatchObject({ value: 0.05, samples: 10_000, source: 'quality baseline' });
    const [rise] = compareQuality([ctr(700)]);
    expect(rise.dropped).toBe(false);
    expect(rise.pValue).toBeGreaterThan(0.99);
  });

  test('a significant but small drop does not count (relativeDrop 0.1 by default)', () => {
    const [small] = compareQuality([ctr(46_500, 1_000_000, 500)]); // 4.65% vs 5%: -7%
    expect(small.adjustedPValue).toBeLessThan(0.05);
    expect(small.dropped).toBe(false);
  });

  test('too few samples: reported, not counted', () => {
    const [few] = compareQuality([ctr(2, 100)]);
    expect(few.dropped).toBe(false);
    expect(few.note).toBe('fewer than 200 samples');
  });

  test('without a reference there is nothing to compare', () => {
    const [none] = compareQuality([{ name: 'accuracy', current: { kind: 'proportion', successes: 50, trials: 60 } }]);
    expect(none).toMatchObject({ dropped: false, note: 'no reference yet', adjustedPValue: 1 });
  });

  test('means are compared with Welch z; p-values are corrected over the family', () => {
    const mean = (n: number, m: number, sd: number) => ({
      kind: 'mean' as const,
      n,
      sum: n * m,
      sumSquares: (n - 1) * sd * sd + n * m * m,
    });
    const results = compareQuality([
      { name: 'ndcg@10', current: mean(2_000, 0.2, 0.3), reference: mean(20_000, 0.3, 0.3) },
      ctr(490),
    ]);
    expect(results[0].dropped).toBe(true);
    expect(results[0].z).toBeCloseTo((0.2 - 0.3) / Math.sqrt(0.09 / 2_000 + 0.09 / 20_000), 8);
    expect(results[1].adjustedPValue).toBeCloseTo(Math.min(1, results[1].pValue * 2), 15);
  });

  test('pooled statistics add up', () => {
    expect(
      poolStats([
        { kind: 'proportion', successes: 1, trials: 10 },
        { kind: 'proportion', successes: 2, trials: 5 },
      ]),
    ).toEqual({ kind: 'proportion', successes: 3, trials: 15 });
    expect(poolStats([])).toBeUndefined();
  });
});

describe('outcome records', () => {
  test('slates give CTR and nDCG@10, audit labels give accuracy; fallback slates are left out', () => {
    const acc = new OutcomeAccumulator();
    const lines = [
      '{"kind":"slate","time":"2026-11-23T10:01:00Z","modelVersion":"v3","items":["a","b","c"],"clicked":["b"]}',
      '{"kind":"slate","time":"2026-11-23T10:02:00Z","modelVersion":"v3","items":["a","b"],"clicked":[]}',
      '{"kind":"slate","time":"2026-11-23T10:03:00Z","modelVersion":"fallback","items":["x"],"clicked":["x"]}',
      '{"kind":"label","time":"2026-11-23T10:04:00Z","modelVersion":"v3","predicted":"cat","label":"cat"}',
      '{"kind":"label","time":"2026-11-23T10:05:00Z","modelVersion":"v3","predicted":"cat","label":"dog"}',
      'not json',
      '{"kind":"slate","time":"2026-11-23T10:01:00Z","modelVersion":"v3","items":[]}',
      '{"kind":"label","time":"soon","modelVersion":"v3","predicted":"a","label":"a"}',
    ];
    for (const line of lines) {
      const o = parseOutcomeLine(line);
      if (typeof o === 'string') acc.reject(o);
      else acc.add(o);
    }
    expect(acc.invalid).toEqual({ 'invalid-json': 1, 'invalid-outcome': 1, 'invalid-time': 1 });
    const byName = Object.fromEntries(acc.observations().map((o) => [o.name, o.current]));
    expect(byName.ctr).toEqual({ kind: 'proportion', successes: 1, trials: 5 });
    expect(byName['ndcg@10']).toMatchObject({ kind: 'mean', n: 2 });
    expect(byName.accuracy).toEqual({ kind: 'proportion', successes: 1, trials: 2 });
  });

  test('a quality baseline is validated', () => {
    expect(() => parseQualityBaseline({ kind: 'ml-blueprint/quality-baseline', version: 1 })).toThrow(
      /^invalid quality baseline: createdAt/,
    );
  });
});
