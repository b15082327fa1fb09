/** After a deployment the new model is judged against what it replaced: its CTR and its realised quality. */
import { ctrBaselineKey } from '../../../core/drift/ctr-baseline';
import { parseQualityBaseline, qualityBaselineKey } from '../../../core/drift/quality';
import { parseCtrBaseline } from '../../../core/recommender/ctr';
import { writeDeployReferences, type CtrCounters } from '../../../core/retraining/references';
import { MemoryObjectStore } from '../../../core/storage/object-store';

const NOW = new Date(Date.UTC(2026, 10, 23, 12, 17));
const base = { artifactsBucket: 'artifacts', endpointName: 'ep' };
const champion = { found: true, metadata: { datasetId: 'd1', trainingJobName: 'ep-run-1' } };

/** Hourly CTR counters: the replaced champion ep-run-1 (5 %), the new model ep-run-2, and the fallback. */
const counters: CtrCounters = {
  bucketMinutes: 60,
  async ctrCounts(bucket: number) {
    const hour = new Date(bucket).getUTCHours();
    return [
      { modelVersion: 'ep-run-1', impressions: 1000, clicks: 50 },
      ...(hour === 12 ? [{ modelVersion: 'ep-run-2', impressions: 300, clicks: 21 }] : []),
      { modelVersion: 'fallback', impressions: 500, clicks: 5 },
    ];
  },
};

/** The checker's state with three judged quality windows (CTR of 40/1000, 60/1000 and 50/1000). */
async function storeWithState(): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore();
  const window = (hour: number, clicks: number) => ({
    windowEnd: new Date(Date.UTC(2026, 10, 23, hour)).toISOString(),
    metrics: { ctr: { kind: 'proportion', successes: clicks, trials: 1000 } },
  });
  await store.put(
    'artifacts',
    'drift/state/ep.json',
    JSON.stringify({ windows: [], qualityHistory: [window(9, 40), window(10, 60), window(11, 50)] }),
  );
  return store;
}

test('a replaced champion: its CTR over the buckets before the deploy and its realised quality become the references', async () => {
  const store = await storeWithState();
  const result = await writeDeployReferences(
    store,
    counters,
    { ...base, champion, modelVersion: 'ep-run-2', ctrWindows: 3, qualityWindows: 2 },
    NOW,
  );
  expect(result.ctr).toEqual({
    written: true,
    detail:
      'CTR of ep-run-1 (champion): 150 clicks / 3000 impressions, 2026-11-23T09:00:00.000Z to 2026-11-23T12:00:00.000Z',
  });
  expect(parseCtrBaseline(JSON.parse(store.text('artifacts', ctrBaselineKey('ep'))!))).toEqual({
    clicks: 150,
    impressions: 3000,
  });
  expect(result.quality.written).toBe(true);
  const quality = parseQualityBaseline(JSON.parse(store.text('artifacts', qualityBaselineKey('ep'))!));
  // The newest two windows pooled: (60 + 50) / 2000.
  expect(quality.modelVersion).toBe('ep-run-1');
  expect(quality.metrics.ctr).toEqual({ kind: 'proportion', successes: 110, trials: 2000 });
});

test('a first model (the fallback served before): its canary CTR, and no quality reference (the checker pools the preceding windows)', async () => {
  const store = await storeWithState();
  const result = await writeDeployReferences(
    store,
    counters,
    { ...base, champion: { found: false, reason: 'no endpoint' }, modelVersion: 'ep-run-2' },
    NOW,
  );
  // The 11:00 bucket and the current 12:00 one, where its canary served.
  expect(JSON.parse(store.text('artifacts', ctrBaselineKey('ep'))!)).toMatchObject({
    clicks: 21,
    impressions: 300,
    modelVersion: 'ep-run-2',
    source: 'canary',
    from: '2026-11-23T11:00:00.000Z',
  });
  expect(result.quality).toEqual({
    written: false,
    detail: 'no model served before (the fallback is not a model): the checker pools the preceding windows',
  });
  expect(store.text('artifacts', qualityBaselineKey('ep'))).toBeUndefined();
});

test('nothing honest to write keeps the previous references and says why', async () => {
  const store = new MemoryObjectStore();
  await store.put('artifacts', ctrBaselineKey('ep'), '{"clicks":1,"impressions":10}');
  const quiet: CtrCounters = { bucketMinutes: 60, ctrCounts: async () => [] };
  const result = await writeDeployReferences(store, quiet, { ...base, champion, modelVersion: 'ep-run-2' }, NOW);
  expect(result).toEqual({
    ctr: {
      written: false,
      detail:
        'the replaced champion ep-run-1 had no impressions in the last 24 buckets: the previous CTR reference stays',
    },
    quality: {
      written: false,
      detail: 'no judged quality window of ep-run-1 yet: the previous quality reference stays',
    },
  });
  expect(store.text('artifacts', ctrBaselineKey('ep'))).toBe('{"clicks":1,"impressions":10}');
});

test('without CTR counters (vision) only the quality reference is written', async () => {
  const store = await storeWithState();
  const result = await writeDeployReferences(store, undefined, { ...base, champion, modelVersion: 'ep-run-2' }, NOW);
  expect(result.ctr).toEqual({ written: false, detail: 'the case study counts no CTR per model version' });
  expect(result.quality.written).toBe(true);
  expect(store.text('artifacts', ctrBaselineKey('ep'))).toBeUndefined();
});

test('a champion whose package names no training job writes no quality reference', async () => {
  const store = await storeWithState();
  const result = await writeDeployReferences(
    store,
    undefined,
    { ...base, champion: { found: true, metadata: { datasetId: 'd0' } }, modelVersion: 'ep-run-2' },
    NOW,
  );
  expect(result.quality).toEqual({
    written: false,
    detail: 'the replaced champion names no training job: the previous quality reference stays',
  });
});

test('a malformed payload is refused naming the field', async () => {
  await expect(
    writeDeployReferences(new MemoryObjectStore(), undefined, { ...base, champion, modelVersion: '' }, NOW),
  ).rejects.toThrow(/^invalid references input: modelVersion: /);
});
