/**
 * Deferred predictions: the consumer logs what it predicted and what it could not (endpoint at zero); the backfill
 * turns a day's deferred images into one batch-transform manifest and reads the outputs back into the prediction
 * log, where the day's active learning finds them.
 */
import { MemoryObjectStore } from '../../../core/storage/object-store';
import { selectForReview } from '../../../core/vision/active-learning';
import { backfillInferenceId, planBackfill, recordBackfill } from '../../../core/vision/backfill';
import {
  consumeImages,
  EndpointUnavailableError,
  type ImageConsumerPorts,
  type ImageConsumerSettings,
} from '../../../core/vision/image-consumer';
import { consumerSettingsFromEnv } from '../../../core/vision/image-consumer-settings';
import { readBounded } from '../../../core/vision/image-stats';
import { readDayLog } from '../../../core/vision/prediction-log';
import { makePng } from '../../support/images';

const SETTINGS: ImageConsumerSettings = {
  endpointName: 'ep',
  imagesBucket: 'raw',
  quarantinePrefix: 'quarantine/images/',
  statsBucket: 'capture',
  statsPrefix: 'image-stats/',
  policy: {
    contentTypes: ['image/jpeg', 'image/png'],
    minBytes: 10,
    maxBytes: 100_000,
    maxPixels: 1_000_000,
    knownSources: ['camera'],
    imagesPrefix: 'images/',
  },
  confidenceThreshold: 0.6,
  predictionLog: { bucket: 'artifacts', predictionsPrefix: 'vision/predictions/', deferredPrefix: 'vision/deferred/' },
};
const NOW = new Date('2026-11-23T10:15:00Z');
const BACKFILL = {
  bucket: 'artifacts',
  deferredPrefix: 'vision/deferred/',
  backfillPrefix: 'vision/backfill/',
  predictionsPrefix: 'vision/predictions/',
  endpointName: 'ep',
  day: '2026-11-23',
  imagesUri: 's3://raw/images/',
};

/**
 * The model's answer for an image whose first red value is `r` (a fixture: this test is about the plumbing), naming
 * the model's version (its training job's name) as models/vision/inference.py does, when given one.
 */
const answer = (r: number, modelVersion?: string) => {
  const p = r < 100 ? [0.45, 0.4, 0.15] : [0.9, 0.05, 0.05];
  return {
    ...(modelVersion === undefined ? {} : { model_version: modelVersion }),
    label: 'circle',
    probabilities: p,
    top_k: [
      { label: 'circle', probability: p[0] },
      { label: 'square', probability: p[1] },
      { label: 'star', probability: p[2] },
    ],
    embedding: [r / 255, 0],
  };
};

async function consume(store: MemoryObjectStore, available: (i: number) => boolean, n = 10, modelVersion?: string) {
  const seen: Array<{ inferenceId: string }> = [];
  const ports: ImageConsumerPorts = {
    head: async (bucket, key) => store.head(bucket, key),
    read: async (bucket, key, max) =>
      readBounded(
        (async function* () {
          yield store.bytes(bucket, key)!;
        })(),
        max,
      ),
    put: (bucket, key, body) => store.put(bucket, key, body),
    predict: async (_bytes, _type, inferenceId) => {
      const i = Number(inferenceId.slice(2));
      if (!available(i)) throw new EndpointUnavailableError('no capacity');
      seen.push({ inferenceId });
      const { parseModelAnswer } = await import('../../../core/vision/prediction');
      return parseModelAnswer(JSON.stringify(answer(i * 20, modelVersion)));
    },
    review: async () => {
      throw new Error('with a prediction log, nothing is queued one by one');
    },
    count: () => undefined,
    log: () => undefined,
  };
  const records = [];
  for (let i = 0; i < n; i++) {
    const png = makePng(4, 4, () => [i * 20, 0, 0]);
    await store.put('raw', `images/cam/${i}.png`, png);
    const event = {
      event_id: `e-${i}`,
      image_key: `images/cam/${i}.png`,
      content_type: 'image/png',
      size_bytes: png.length,
      source: 'camera',
      event_time: '2026-11-23T10:00:00.000Z',
    };
    records.push({ id: `seq-${i}`, payload: JSON.stringify(event), origin: {} });
  }
  const result = await consumeImages(records, SETTINGS, ports, NOW);
  return { result, seen };
}

describe('prediction log and deferred predictions', () => {
  test('the consumer logs each prediction with its inference id and each deferred image; nothing queued one by one', async () => {
    const store = new MemoryObjectStore();
    const { result, seen } = await consume(store, (i) => i % 2 === 0);
    expect(result).toMatchObject({ accepted: 10, deferred: 5, logged: 5, reviewed: 0, failures: [] });
    expect(seen.map((s) => s.inferenceId)).toEqual(['e-0', 'e-2', 'e-4', 'e-6', 'e-8']);
    const log = await readDayLog(store, 'artifacts', 'vision/predictions/', 'ep', '2026-11-23');
    expect(log.invalid).toEqual([]);
    expect(log.records.map((r) => r.inference_id)).toEqual(['e-0', 'e-2', 'e-4', 'e-6', 'e-8']);
    expect(log.records[0]).toMatchObject({ image_key: 'images/cam/0.png', top_k: [{ label: 'circle' }, {}, {}] });
    const deferred = store.text('artifacts', 'vision/deferred/ep/dt=2026-11-23/seq-0-10.jsonl')!.trim().split('\n');
    expect(deferred.map((l) => JSON.parse(l).image_key)).toEqual([1, 3, 5, 7, 9].map((i) => `images/cam/${i}.png`));
  });

  test('the backfill scores the deferred images in one manifest and logs them for active learning', async () => {
    const store = new MemoryObjectStore();
    await consume(store, (i) => i < 6);
    // A second batch of the same day defers one image again: it is backfilled once.
    await store.put(
      'artifacts',
      'vision/deferred/ep/dt=2026-11-23/seq-99-1.jsonl',
      JSON.stringify({
        event_id: 'e-7-again',
        image_key: 'images/cam/7.png',
        content_type: 'image/png',
        size_bytes: 10,
        deferred_at: NOW.toISOString(),
      }) + '\nnot json\n',
    );
    const plan = await planBackfill(store, BACKFILL);
    expect(plan).toEqual({
      images: 4,
      manifestUri: 's3://artifacts/vision/backfill/ep/dt=2026-11-23/images.manifest',
      indexUri: 's3://artifacts/vision/backfill/ep/dt=2026-11-23/index.jsonl',
      invalid: 1,
    });
    expect(JSON.parse(store.text('artifacts', 'vision/backfill/ep/dt=2026-11-23/images.manifest')!)).toEqual([
      { prefix: 's3://raw/images/' },
      'cam/6.png',
      'cam/7.png',
      'cam/8.png',
      'cam/9.png',
    ]);
    // The transform wrote an output per image except one (a failed record).
    for (const i of [6, 7, 9]) {
      await store.put('curated', `backfill/out/cam/${i}.png.out`, JSON.stringify(answer(i * 20)));
    }
    const result = await recordBackfill(store, {
      ...BACKFILL,
      outputUri: 's3://curated/backfill/out/',
      finishedAt: '2026-11-24T02:00:00.000Z',
    });
    expect(result).toEqual({
      predictions: 3,
      missing: ['images/cam/8.png'],
      logUri: 's3://artifacts/vision/predictions/ep/dt=2026-11-23/backfill.jsonl',
    });
    const log = await readDayLog(store, 'artifacts', 'vision/predictions/', 'ep', '2026-11-23');
    const backfilled = log.records.filter((r) => r.backfilled);
    expect(backfilled.map((r) => r.inference_id)).toEqual(['e-6', 'e-7', 'e-9'].map(backfillInferenceId));
    expect(backfilled[0].predicted_at).toBe('2026-11-24T02:00:00.000Z');
    // Active learning sees live and backfilled predictions alike: the uncertain ones (dark images) come first.
    const sel = selectForReview(log.records, { dailyBudget: 2, auditShare: 0, auditSalt: 's', method: 'margin' });
    expect(sel.considered).toBe(9);
    expect(sel.requests.map((r) => r.imageKey)).toEqual(['images/cam/0.png', 'images/cam/1.png']);
  });

  test("the model's version flows: live and backfilled answers -> prediction log -> audit requests", async () => {
    const store = new MemoryObjectStore();
    await consume(store, (i) => i < 3, 6, 'vision-train-1');
    const live = await readDayLog(store, 'artifacts', 'vision/predictions/', 'ep', '2026-11-23');
    expect(live.records.map((r) => r.model_version)).toEqual(['vision-train-1', 'vision-train-1', 'vision-train-1']);
    // The transform runs the model deployed by then (a newer one): its outputs name it.
    await planBackfill(store, BACKFILL);
    await store.put('curated', 'out/cam/3.png.out', JSON.stringify(answer(60, 'vision-train-2')));
    await store.put('curated', 'out/cam/4.png.out', JSON.stringify(answer(80, 'vision-train-2')));
    await store.put('curated', 'out/cam/5.png.out', JSON.stringify(answer(100))); // an artifact naming none
    const recorded = await recordBackfill(store, {
      ...BACKFILL,
      outputUri: 's3://curated/out/',
      finishedAt: '2026-11-24T02:00:00.000Z',
    });
    expect(recorded.predictions).toBe(3);
    const log = await readDayLog(store, 'artifacts', 'vision/predictions/', 'ep', '2026-11-23');
    expect(log.invalid).toEqual([]);
    const versions = Object.fromEntries(log.records.map((r) => [r.image_key, r.model_version]));
    expect(versions).toEqual({
      'images/cam/0.png': 'vision-train-1',
      'images/cam/1.png': 'vision-train-1',
      'images/cam/2.png': 'vision-train-1',
      'images/cam/3.png': 'vision-train-2',
      'images/cam/4.png': 'vision-train-2',
      'images/cam/5.png': undefined,
    });
    expect(log.records.find((r) => r.image_key === 'images/cam/5.png')).not.toHaveProperty('model_version');
    // Everything audited: each request names the model that made its prediction (none when the answer named none).
    const sel = selectForReview(log.records, {
      dailyBudget: 0,
      auditShare: 0.999999,
      auditSalt: 's',
      method: 'margin',
    });
    expect(sel.audit).toBe(6);
    const requested = Object.fromEntries(sel.requests.map((r) => [r.imageKey, r.modelVersion]));
    expect(requested).toEqual(versions);
    expect(sel.requests.filter((r) => r.reason === 'audit')).toHaveLength(6);
  });

  test('nothing deferred: an empty plan (the transform is skipped)', async () => {
    const store = new MemoryObjectStore();
    await consume(store, () => true, 3);
    expect((await planBackfill(store, BACKFILL)).images).toBe(0);
  });

  test('settings: the prediction log is on when its bucket is set, and needs both prefixes', () => {
    const env = {
      INGEST_POLICY: JSON.stringify(SETTINGS.policy),
      CONFIDENCE_THRESHOLD: '0.6',
      ENDPOINT_NAME: 'ep',
      IMAGES_BUCKET: 'raw',
      QUARANTINE_PREFIX: 'q/',
      STATS_BUCKET: 'capture',
      STATS_PREFIX: 's/',
      PREDICTION_LOG_BUCKET: 'artifacts',
      PREDICTIONS_PREFIX: 'vision/predictions/',
    };
    expect(() => consumerSettingsFromEnv(env)).toThrow('environment variable DEFERRED_PREFIX is required');
    expect(consumerSettingsFromEnv({ ...env, DEFERRED_PREFIX: 'vision/deferred/' }).predictionLog).toEqual(
      SETTINGS.predictionLog,
    );
  });
});
