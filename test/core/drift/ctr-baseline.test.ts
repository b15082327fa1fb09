/** The references a deployed model is judged against: the replaced model's CTR and realised quality. */
import { ctrBaselineKey, writeCtrBaseline, writeQualityBaseline } from '../../../core/drift/ctr-baseline';
import { parseQualityBaseline } from '../../../core/drift/quality';
import { ctrBaselineKey as readerKey, parseCtrBaseline } from '../../../core/recommender/ctr';
import { MemoryObjectStore } from '../../../core/storage/object-store';

const HOUR = 3_600_000;
const END = new Date(Date.UTC(2026, 10, 23, 12, 17));

/** CTR counters per hourly bucket: the champion v1 (5 %), the new model v2 (7 %), and the fallback. */
const counters = {
  async ctrCounts(bucket: number) {
    const hour = new Date(bucket).getUTCHours();
    return [
      { modelVersion: 'v1', impressions: 1000, clicks: 50 + hour },
      { modelVersion: 'v2', impressions: 200, clicks: 14 },
      { modelVersion: 'fallback', impressions: 500, clicks: 5 },
    ];
  },
};

test('the champion it replaced: CTR summed over the buckets before the deploy, where the checker reads it', async () => {
  const store = new MemoryObjectStore();
  const doc = await writeCtrBaseline(counters, store, {
    artifactsBucket: 'artifacts',
    endpointName: 'ep',
    modelVersion: 'v1',
    source: 'champion',
    end: END,
    windows: 3,
    bucketMinutes: 60,
  });
  // Buckets 09:00, 10:00, 11:00 (the 12:00 bucket is not complete at 12:17).
  expect(doc).toEqual({
    clicks: 59 + 60 + 61,
    impressions: 3000,
    modelVersion: 'v1',
    source: 'champion',
    from: '2026-11-23T09:00:00.000Z',
    to: '2026-11-23T12:00:00.000Z',
  });
  expect(ctrBaselineKey('ep')).toBe(readerKey('ep'));
  expect(parseCtrBaseline(JSON.parse(store.text('artifacts', readerKey('ep'))!))).toEqual({
    clicks: 180,
    impressions: 3000,
  });
});

test('the canary: the new version over its canary buckets; no traffic writes nothing', async () => {
  const store = new MemoryObjectStore();
  const canary = await writeCtrBaseline(counters, store, {
    artifactsBucket: 'artifacts',
    endpointName: 'ep',
    modelVersion: 'v2',
    source: 'canary',
    end: new Date(END.getTime() - 2 * HOUR),
    windows: 1,
    bucketMinutes: 60,
  });
  expect(canary).toMatchObject({ clicks: 14, impressions: 200, source: 'canary' });
  const none = await writeCtrBaseline(counters, new MemoryObjectStore(), {
    artifactsBucket: 'artifacts',
    endpointName: 'ep',
    modelVersion: 'v9',
    source: 'champion',
    end: END,
    windows: 3,
    bucketMinutes: 60,
  });
  expect(none).toBeUndefined();
});

test('quality baseline: the last judged windows of the checker state, pooled', async () => {
  const store = new MemoryObjectStore();
  const input = {
    artifactsBucket: 'artifacts',
    endpointName: 'ep',
    statePrefix: 'drift/state/',
    modelVersion: 'v1',
    windows: 2,
    now: END,
  };
  expect(await writeQualityBaseline(store, input)).toBeUndefined();
  await store.put(
    'artifacts',
    'drift/state/ep.json',
    JSON.stringify({
      windows: [],
      qualityHistory: [
        { windowEnd: '2026-11-23T09:00:00.000Z', metrics: { ctr: { kind: 'proportion', successes: 1, trials: 100 } } },
        { windowEnd: '2026-11-23T10:00:00.000Z', metrics: { ctr: { kind: 'proportion', successes: 5, trials: 100 } } },
        {
          windowEnd: '2026-11-23T11:00:00.000Z',
          metrics: {
            ctr: { kind: 'proportion', successes: 7, trials: 100 },
            'ndcg@10': { kind: 'mean', n: 10, sum: 3, sumSquares: 1.5 },
          },
        },
      ],
    }),
  );
  const baseline = await writeQualityBaseline(store, input);
  expect(baseline!.metrics).toEqual({
    ctr: { kind: 'proportion', successes: 12, trials: 200 },
    'ndcg@10': { kind: 'mean', n: 10, sum: 3, sumSquares: 1.5 },
  });
  expect(baseline!.source).toBe('realised quality over 2 windows ending 2026-11-23T11:00:00.000Z');
  expect(parseQualityBaseline(JSON.parse(store.text('artifacts', 'drift/baselines/ep/quality.json')!))).toEqual(
    baseline,
  );
});
