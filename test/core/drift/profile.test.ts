import {
  BASELINE_PROFILE_KIND,
  expectationsFromBaseline,
  parseBaselineProfile,
  ProfileAccumulator,
  projectVectors,
  toBaselineProfile,
} from '../../../core/drift/profile';
import { decileEdges, binCounts } from '../../../core/drift/stats';

describe('profile accumulator', () => {
  test('numerical: count, missing, mean, population std, min/max, exact deciles when the sample holds all values', () => {
    const acc = new ProfileAccumulator();
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    for (const v of values) acc.add({ x: v });
    acc.add({ x: null });
    acc.add({ y: 'only y' });
    const f = acc.features().x;
    expect(f.kind).toBe('numerical');
    if (f.kind !== 'numerical') return;
    expect(f).toMatchObject({ count: 10, missing: 2, mean: 5.5, min: 1, max: 10 });
    expect(f.std).toBeCloseTo(Math.sqrt(8.25), 12);
    expect(f.edges).toEqual(Array.from(decileEdges(values)));
    expect(f.binCounts).toEqual(Array.from(binCounts(values, f.edges)));
    expect(f.sample.sort((a, b) => a - b)).toEqual(values);
  });

  test('the majority kind wins; values of other kinds count as missing', () => {
    const acc = new ProfileAccumulator();
    for (let i = 0; i < 8; i++) acc.add({ f: i });
    acc.add({ f: 'eight' });
    acc.add({ f: [1, 2] });
    const f = acc.features().f;
    expect(f).toMatchObject({ kind: 'numerical', count: 8, missing: 2 });
  });

  test('categorical counts are exact up to the cap, then new categories go to __OTHER__', () => {
    const acc = new ProfileAccumulator({ sampling: { maxCategories: 2 } });
    for (const c of ['a', 'b', 'a', 'c', 'd', 'a']) acc.add({ c });
    expect(acc.features().c).toEqual({
      kind: 'categorical',
      count: 6,
      missing: 0,
      counts: { a: 3, b: 1, __OTHER__: 2 },
    });
  });

  test('with fixed expectations, bins are counted exactly on the reference edges and unknown features are listed', () => {
    const reference = new ProfileAccumulator();
    for (let i = 0; i < 100; i++) reference.add({ x: i });
    const baseline = toBaselineProfile(reference);
    const current = new ProfileAccumulator({
      expectations: expectationsFromBaseline(baseline),
      sampling: { sampleSize: 10 },
    });
    const values = Array.from({ length: 1000 }, (_, i) => (i % 200) - 50);
    for (const v of values) current.add({ x: v, extra: 1 });
    const f = current.features().x;
    if (f.kind !== 'numerical') throw new Error('kind');
    expect(f.edges).toEqual(baseline.features.x.kind === 'numerical' ? baseline.features.x.edges : []);
    expect(f.binCounts).toEqual(Array.from(binCounts(values, f.edges)));
    expect(f.sample).toHaveLength(10);
    expect([...current.unexpected]).toEqual(['extra']);
  });

  test('sampling is deterministic for a seed', () => {
    const run = (seed: number) => {
      const acc = new ProfileAccumulator({ sampling: { sampleSize: 50, seed } });
      for (let i = 0; i < 10_000; i++) acc.add({ x: i });
      const f = acc.features().x;
      return f.kind === 'numerical' ? f.sample : [];
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  test('projection preserves distances approximately (Johnson–Lindenstrauss)', () => {
    const a = Array.from({ length: 256 }, (_, i) => Math.sin(i));
    const b = Array.from({ length: 256 }, (_, i) => Math.cos(i));
    const [pa, pb] = projectVectors([a, b], { seed: 3, inputDimension: 256, outputDimension: 128 });
    const dist = (x: number[], y: number[]) => Math.sqrt(x.reduce((s, v, i) => s + (v - y[i]) ** 2, 0));
    expect(dist(pa, pb) / dist(a, b)).toBeGreaterThan(0.7);
    expect(dist(pa, pb) / dist(a, b)).toBeLessThan(1.3);
  });
});

describe('profile documents', () => {
  const acc = new ProfileAccumulator();
  for (let i = 0; i < 300; i++) acc.add({ x: i % 17, c: `k${i % 3}`, e: [i, i + 1] });
  const profile = toBaselineProfile(acc, { source: 'unit test', createdAt: new Date('2026-11-23T00:00:00Z') });

  test('round-trip through JSON', () => {
    expect(profile.kind).toBe(BASELINE_PROFILE_KIND);
    expect(parseBaselineProfile(JSON.parse(JSON.stringify(profile)))).toEqual(JSON.parse(JSON.stringify(profile)));
  });

  test('an invalid document fails naming the field', () => {
    const broken = JSON.parse(JSON.stringify(profile));
    broken.features.x.std = -1;
    expect(() => parseBaselineProfile(broken)).toThrow(/invalid baseline profile: features\.x\.std/);
    const wrongBins = JSON.parse(JSON.stringify(profile));
    wrongBins.features.x.binCounts.pop();
    expect(() => parseBaselineProfile(wrongBins)).toThrow(/features\.x\.binCounts must have edges\.length \+ 1/);
    expect(() => parseBaselineProfile({ kind: 'something-else' })).toThrow(/invalid baseline profile: kind/);
  });
});

describe('the columnar path of one-row CSV captures', () => {
  test('gives exactly the profile of record objects, with times, outputs, multi-row lines and bad rows', async () => {
    const { consumeRecords, streamRecords } = await import('../../../core/drift/readers');
    const { accumulatorSink } = await import('../../../core/drift/profile');
    const columns = ['age', 'plan', 'score_in'];
    const schema = {
      csvColumns: columns,
      features: [
        { name: 'age', kind: 'numerical' as const },
        { name: 'plan', kind: 'categorical' as const },
        { name: 'score_in', kind: 'numerical' as const },
        { name: 'output.score', kind: 'numerical' as const },
      ],
    };
    const line = (csv: string, i: number) =>
      JSON.stringify({
        captureData: {
          endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: csv, encoding: 'CSV' },
          endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: String(i / 100), encoding: 'CSV' },
        },
        eventMetadata: { eventId: `e${i}`, inferenceTime: new Date(Date.UTC(2026, 10, 23, i % 24)).toISOString() },
        eventVersion: '0',
      });
    const lines = Array.from({ length: 400 }, (_, i) =>
      line(
        i % 50 === 0
          ? `${i},pro,1\n${i + 1},free,2`
          : i % 77 === 0
            ? `${i},pro`
            : `${i % 90},${['a', 'b'][i % 2]},${i / 7}\r\n`,
        i,
      ),
    ).join('\n');
    const options = { sampling: { sampleSize: 1000 }, trackPhases: true };
    const byRecords = new ProfileAccumulator(options);
    const summaryA = await consumeRecords(lines, { schema, timeField: 'inferenceTime' }, (r) =>
      byRecords.add(r.record, r.time),
    );
    const byColumns = new ProfileAccumulator(options);
    const summaryB = await streamRecords(
      lines,
      { schema, timeField: 'inferenceTime' },
      accumulatorSink(byColumns, columns),
    );
    expect(summaryB.counters).toEqual(summaryA.counters);
    // Lines 77, 154, 231, 308 and 385 have two columns (line 0 is a two-row line).
    expect(summaryA.counters.invalidReasons).toEqual({ 'input:column-mismatch': 5 });
    expect(byColumns.records).toBe(byRecords.records);
    expect(byColumns.features()).toEqual(byRecords.features());
    expect(Array.from(byColumns.phaseRecords!)).toEqual(Array.from(byRecords.phaseRecords!));
  });
});
