/**
 * CTR per model version as a key drift signal: feedback joined by the consumer → per-window counters → CTR
 * signals → the drift checker's two-proportion z-test, through the checker's optional `proportions` port.
 */
import { runDriftCheck } from '../../../core/drift/checker';
import { ProfileAccumulator, toBaselineProfile } from '../../../core/drift/profile';
import { createRng } from '../../../core/drift/stats';
import { MemoryObjectStore, readText } from '../../../core/storage/object-store';
import { processBatch, type StreamRecord } from '../../../core/recommender/consume';
import { bucketsOf, ctrSettingsFromEnv, ctrSignals, parseCtrBaseline } from '../../../core/recommender/ctr';
import { driftCheckerSettings } from '../../support/drift-settings';
import { captureLine } from '../../support/capture';
import { MemoryFeatureStore } from '../../support/memory-feature-store';

const HOUR = 3_600_000;
const T10 = Date.UTC(2026, 10, 23, 10);
const window = { start: new Date(T10), end: new Date(T10 + HOUR) };

function counters(store: MemoryFeatureStore, bucket: number, version: string, impressions: number, clicks: number) {
  return store.addCtr(bucket, [{ bucket, modelVersion: version, impressions, clicks }]);
}

describe('ctrSignals', () => {
  test('one signal per model version against the stored baseline; fallback and unknown are not models', async () => {
    const store = new MemoryFeatureStore();
    await counters(store, T10, 'run-2', 1000, 50);
    await counters(store, T10, 'fallback', 300, 3);
    await counters(store, T10, 'unknown', 10, 1);
    const signals = await ctrSignals(store, window, {
      bucketMinutes: 60,
      referenceWindows: 24,
      baseline: { clicks: 800, impressions: 10_000 },
    });
    expect(signals).toEqual([
      { name: 'ctr.run-2', reference: { successes: 800, trials: 10_000 }, current: { successes: 50, trials: 1000 } },
    ]);
  });

  test('without a baseline: the same version over the preceding windows (rolling reference)', async () => {
    const store = new MemoryFeatureStore();
    for (let h = 1; h <= 3; h++) await counters(store, T10 - h * HOUR, 'run-2', 1000, 100);
    await counters(store, T10 - 30 * HOUR, 'run-2', 1000, 999); // beyond the 24 reference windows
    await counters(store, T10, 'run-2', 1000, 40);
    await counters(store, T10, 'run-3', 500, 20); // a new version has no reference yet: no signal
    const signals = await ctrSignals(store, window, { bucketMinutes: 60, referenceWindows: 24 });
    expect(signals).toEqual([
      { name: 'ctr.run-2', reference: { successes: 300, trials: 3000 }, current: { successes: 40, trials: 1000 } },
    ]);
  });

  test('sums sub-window buckets; clicks never exceed impressions', async () => {
    const store = new MemoryFeatureStore();
    expect(bucketsOf(window.start, window.end, 15)).toHaveLength(4);
    await counters(store, T10, 'v', 10, 2);
    await counters(store, T10 + 45 * 60_000, 'v', 10, 30);
    const [signal] = await ctrSignals(store, window, {
      bucketMinutes: 15,
      referenceWindows: 1,
      baseline: { clicks: 1, impressions: 10 },
    });
    expect(signal.current).toEqual({ successes: 20, trials: 20 });
  });

  test('baseline and environment are validated', () => {
    expect(parseCtrBaseline({ clicks: 5, impressions: 100 })).toEqual({ clicks: 5, impressions: 100 });
    expect(() => parseCtrBaseline({ clicks: 5, impressions: 2 })).toThrow(/0 <= n <= m/);
    expect(ctrSettingsFromEnv({})).toBeUndefined();
    expect(ctrSettingsFromEnv({ CTR_TABLE_NAME: 't', CTR_WINDOW_MINUTES: '60' })).toEqual({
      tableName: 't',
      bucketMinutes: 60,
      referenceWindows: 24,
    });
    expect(() => ctrSettingsFromEnv({ CTR_TABLE_NAME: 't', CTR_WINDOW_MINUTES: 'x' })).toThrow(/CTR_WINDOW_MINUTES/);
  });
});

describe('the drift checker with the CTR port', () => {
  const settings = driftCheckerSettings();

  /** Same feature distribution in baseline and window: only the CTR can drift. */
  async function objects() {
    const store = new MemoryObjectStore();
    const rng = createRng(5);
    const sample = () => ({
      features: { popularity: rng.nextNormal() },
      output: { score: 0.3 + 0.05 * rng.nextNormal() },
    });
    const acc = new ProfileAccumulator();
    for (let i = 0; i < 2000; i++) {
      const s = sample();
      acc.add({ ...s.features, 'output.score': s.output.score });
    }
    await store.put('artifacts', settings.baselineKey, JSON.stringify(toBaselineProfile(acc)));
    const lines = Array.from({ length: 500 }, (_, i) =>
      captureLine({ ...sample(), time: new Date(T10 + (i % 59) * 60_000) }),
    );
    await store.put(
      'capture',
      'datacapture/mlbp-sandbox-recommender/AllTraffic/2026/11/23/10/a.jsonl',
      lines.join('\n'),
    );
    return store;
  }

  /** Feedback of one model version as the stream carries it, through the real consumer logic. */
  async function feedback(features: MemoryFeatureStore, impressions: number, clicks: number) {
    await features.putPrediction({
      inferenceId: 'inf',
      modelVersion: 'run-2',
      userId: 'u',
      items: [],
      fallback: false,
      createdAt: '',
    });
    let n = 0;
    const records: StreamRecord[] = [];
    const push = (type: string) =>
      records.push({
        id: 'shardId-0:1',
        sequenceNumber: String(++n),
        partitionKey: 'u',
        approximateArrivalTimestamp: T10 / 1000,
        data: Buffer.from(
          JSON.stringify({
            event_id: `e${n}`,
            event_type: type,
            user_id: 'u',
            item_id: `i${n % 7}`,
            event_time: new Date(T10 + (n % 3500) * 1000).toISOString(),
            surface: 'home',
            inference_id: 'inf',
          }),
        ).toString('base64'),
      });
    for (let i = 0; i < impressions; i++) push('impression');
    for (let i = 0; i < clicks; i++) push('click');
    const settingsC = { ttlHours: 48, popularityBucketMinutes: 15, popularityListSize: 100, ctrWindowMinutes: 60 };
    await processBatch(
      records,
      settingsC,
      { store: features, quarantine: async () => undefined, log: () => undefined },
      new Date(T10 + HOUR),
    );
  }

  async function run(impressions: number, clicks: number) {
    const store = await objects();
    const features = new MemoryFeatureStore();
    await feedback(features, impressions, clicks);
    await store.put(
      'artifacts',
      'drift/baselines/mlbp-sandbox-recommender/ctr.json',
      JSON.stringify({ clicks: 1000, impressions: 10_000 }),
    );
    const ports = {
      store,
      publishDriftDetected: jest.fn(async () => undefined),
      metrics: { window: () => undefined, noOp: () => undefined },
      log: () => undefined,
      proportions: async (w: { start: Date; end: Date }) => {
        const object = await store.get('artifacts', 'drift/baselines/mlbp-sandbox-recommender/ctr.json');
        const text = object ? await readText(object) : '{}';
        return ctrSignals(features, w, {
          bucketMinutes: 60,
          referenceWindows: 24,
          baseline: parseCtrBaseline(JSON.parse(text)),
        });
      },
    };
    const result = await runDriftCheck(settings, ports, new Date(T10 + HOUR + 60_000));
    const report = JSON.parse(await readText((await store.get('artifacts', result.reportKey!))!));
    return { result, report, published: ports.publishDriftDetected };
  }

  test('CTR halved (10% → 5%): the key signal drifts and retraining is requested', async () => {
    const { result, report, published } = await run(2000, 100);
    expect(report.report.proportions).toEqual([
      expect.objectContaining({ name: 'ctr.run-2', drifted: true, reference: 0.1, current: 0.05 }),
    ]);
    expect(report.report.keySignalsDrifted).toContain('ctr.run-2');
    expect(result).toMatchObject({ drifted: true, retrainingRequested: true });
    expect(published).toHaveBeenCalledTimes(1);
  });

  test('CTR as in the baseline: no drift', async () => {
    const { result, report } = await run(2000, 200);
    expect(report.report.proportions[0]).toMatchObject({ name: 'ctr.run-2', drifted: false, current: 0.1 });
    expect(result.drifted).toBe(false);
  });
});
