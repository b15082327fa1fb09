import {
  consumeImages,
  EndpointUnavailableError,
  type ImageConsumerPorts,
  type ImageConsumerSettings,
} from '../../../core/vision/image-consumer';
import { consumerSettingsFromEnv } from '../../../core/vision/image-consumer-settings';
import { ImageError, readBounded } from '../../../core/vision/image-stats';
import type { ReviewItem } from '../../../core/vision/ground-truth';
import { parseModelAnswer, type Prediction } from '../../../core/vision/prediction';
import { parsePredictionLogLine } from '../../../core/vision/prediction-log';
import { makeJpeg, makePng } from '../../support/images';

const SETTINGS: ImageConsumerSettings = {
  endpointName: 'mlbp-sandbox-vision',
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
};

function world(predict: (bytes: Uint8Array) => Promise<Prediction>) {
  const objects = new Map<string, Uint8Array>();
  const written = new Map<string, string>();
  const reviews: ReviewItem[] = [];
  const counts: Record<string, number> = {};
  const ports: ImageConsumerPorts = {
    head: async (_b, key) => (objects.has(key) ? { size: objects.get(key)!.length } : undefined),
    read: async (_b, key, max) =>
      readBounded(
        (async function* () {
          yield objects.get(key)!;
        })(),
        max,
      ),
    put: async (bucket, key, body) => {
      written.set(`${bucket}/${key}`, body);
    },
    predict: async (bytes) => predict(bytes),
    review: async (items) => {
      reviews.push(...items);
    },
    count: (m, v = 1) => {
      counts[m] = (counts[m] ?? 0) + v;
    },
    log: () => undefined,
  };
  return { objects, written, reviews, counts, ports };
}

let seq = 0;
const record = (event: Record<string, unknown> | string) => ({
  id: String(++seq).padStart(5, '0'),
  payload: typeof event === 'string' ? event : JSON.stringify(event),
  origin: { shard: 'shardId-0' },
});
const event = (key: string, size: number, over: Record<string, unknown> = {}) => ({
  event_id: `e-${key}`,
  image_key: key,
  content_type: key.endsWith('.png') ? 'image/png' : 'image/jpeg',
  size_bytes: size,
  source: 'camera',
  event_time: '2026-11-23T10:00:00.000Z',
  ...over,
});
const NOW = new Date('2026-11-23T10:15:00Z');

describe('image consumer', () => {
  test('accepts, measures, predicts, routes low confidence to review and quarantines the rest with reasons', async () => {
    const w = world(async (bytes) => ({ predictedClass: 1, confidence: bytes[0] === 0xff ? 0.3 : 0.9 }));
    const good = makePng(8, 8, () => [10, 20, 30]);
    const jpg = makeJpeg(8, 8, () => [200, 200, 200]);
    w.objects.set('images/a.png', good);
    w.objects.set('images/b.jpg', jpg);
    w.objects.set('images/fake.jpg', good); // PNG bytes declared as JPEG
    const result = await consumeImages(
      [
        record(event('images/a.png', good.length)),
        record(event('images/b.jpg', jpg.length)),
        record(event('images/c.png', 500, { source: 'scraper' })),
        record(event('images/missing.png', 500)),
        record(event('images/fake.jpg', good.length)),
        record('not json'),
      ],
      SETTINGS,
      w.ports,
      NOW,
    );
    expect(result.failures).toEqual([]);
    expect(result.accepted).toBe(2);
    expect(result.quarantined).toEqual({
      'unknown-source': 1,
      'missing-object': 1,
      'content-mismatch': 1,
      'not-json': 1,
    });
    const quarantineKeys = [...w.written.keys()].filter((k) => k.startsWith('raw/quarantine/'));
    expect(quarantineKeys).toHaveLength(4);
    expect(quarantineKeys).toContain('raw/quarantine/images/reason=unknown-source/dt=2026-11-23/00003.json');
    const doc = JSON.parse(w.written.get('raw/quarantine/images/reason=unknown-source/dt=2026-11-23/00003.json')!);
    expect(doc).toMatchObject({ reason: 'unknown-source', origin: { shard: 'shardId-0' } });

    const statsKey = 'capture/image-stats/mlbp-sandbox-vision/2026/11/23/10/00001-6.jsonl';
    expect(result.statsKey).toBe('image-stats/mlbp-sandbox-vision/2026/11/23/10/00001-6.jsonl');
    const lines = w.written.get(statsKey)!.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(JSON.parse(lines[0]).captureData.endpointInput.data)).toMatchObject({
      'image.width': 8,
      'image.mean_r': 10,
      'image.mean_g': 20,
    });

    // The JPEG was predicted with confidence 0.3 (< 0.6): it goes to review; the PNG (0.9) does not.
    expect(w.reviews).toEqual([
      {
        sourceRef: 's3://raw/images/b.jpg',
        eventId: 'e-images/b.jpg',
        predictedClass: 1,
        confidence: 0.3,
        predictedAt: '2026-11-23T10:15:00.000Z',
      },
    ]);
    expect(w.counts).toMatchObject({ ImagesAccepted: 2, ImagesQuarantined: 4, PredictionsMade: 2 });
  });

  test('reviewed labels coming back on the stream are not measured, classified or reviewed again', async () => {
    const predict = jest.fn(async () => ({ predictedClass: 0, confidence: 0.1 }));
    const w = world(predict);
    const png = makePng(8, 8, () => [1, 1, 1]);
    w.objects.set('images/a.png', png);
    const r = await consumeImages(
      [
        record(event('images/a.png', png.length, { source: 'ground-truth', label: 'dog', label_source: 'human' })),
        record(event('images/a.png', png.length, { label: 'dog', label_source: 'human' })),
      ],
      { ...SETTINGS, policy: { ...SETTINGS.policy, knownSources: ['camera', 'ground-truth'] } },
      w.ports,
      NOW,
    );
    expect(r).toMatchObject({ labelUpdates: 2, accepted: 0, reviewed: 0 });
    expect(predict).not.toHaveBeenCalled();
    expect(w.written.size).toBe(0);
  });

  test('a decoder problem (oversized image) quarantines with the reason', async () => {
    const w = world(async () => ({ predictedClass: 0, confidence: 1 }));
    const big = makePng(64, 64, (x, y) => [(x * 37 + y * 11) % 256, (x * y) % 256, (x + y * 7) % 256]);
    w.objects.set('images/big.png', big);
    const r = await consumeImages(
      [record(event('images/big.png', big.length))],
      { ...SETTINGS, policy: { ...SETTINGS.policy, maxPixels: 1000 } },
      w.ports,
      NOW,
    );
    expect(r.quarantined).toEqual({ 'too-many-pixels': 1 });
  });

  test('while the endpoint scales from zero, predictions are deferred and ingestion goes on', async () => {
    const w = world(async () => {
      throw new EndpointUnavailableError('Inference Component has no capacity');
    });
    const png = makePng(8, 8, () => [1, 1, 1]);
    w.objects.set('images/a.png', png);
    const r = await consumeImages([record(event('images/a.png', png.length))], SETTINGS, w.ports, NOW);
    expect(r).toMatchObject({ accepted: 1, deferred: 1, reviewed: 0, failures: [] });
    expect(w.counts.PredictionsDeferred).toBe(1);
  });

  test("with a prediction log, each record names the model version the endpoint's answer gave", async () => {
    const answers = [
      { label: 'cat', probabilities: [0.8, 0.2], model_version: 'mlbp-vision-train-7' },
      { label: 'cat', probabilities: [0.8, 0.2] }, // a model trained before versions were recorded
    ];
    let n = 0;
    const w = world(async () => parseModelAnswer(JSON.stringify(answers[n++])));
    const png = makePng(8, 8, () => [1, 1, 1]);
    w.objects.set('images/a.png', png);
    w.objects.set('images/b.png', png);
    const log = { bucket: 'artifacts', predictionsPrefix: 'vision/predictions/', deferredPrefix: 'vision/deferred/' };
    const r = await consumeImages(
      [record(event('images/a.png', png.length)), record(event('images/b.png', png.length))],
      { ...SETTINGS, predictionLog: log },
      w.ports,
      NOW,
    );
    expect(r).toMatchObject({ accepted: 2, logged: 2, failures: [] });
    const key = [...w.written.keys()].find((k) => k.startsWith('artifacts/vision/predictions/'))!;
    const lines = w.written.get(key)!.trim().split('\n').map(parsePredictionLogLine);
    expect(lines.map((l) => l.model_version)).toEqual(['mlbp-vision-train-7', undefined]);
    expect(lines[1]).not.toHaveProperty('model_version');
  });

  test('an infrastructure error fails only its record (retried), not the batch', async () => {
    const w = world(async () => ({ predictedClass: 0, confidence: 1 }));
    const png = makePng(8, 8, () => [1, 1, 1]);
    w.objects.set('images/a.png', png);
    w.objects.set('images/b.png', png);
    const head = w.ports.head;
    w.ports.head = async (b, key) => {
      if (key === 'images/b.png') throw new Error('SlowDown');
      return head(b, key);
    };
    const recs = [record(event('images/a.png', png.length)), record(event('images/b.png', png.length))];
    const r = await consumeImages(recs, SETTINGS, w.ports, NOW);
    expect(r.failures).toEqual([recs[1].id]);
    expect(r.accepted).toBe(1);
  });

  test('settings come from the environment and fail naming the variable', () => {
    const env = {
      ENDPOINT_NAME: 'e',
      IMAGES_BUCKET: 'raw',
      QUARANTINE_PREFIX: 'quarantine/images/',
      STATS_BUCKET: 'capture',
      STATS_PREFIX: 'image-stats/',
      INGEST_POLICY: JSON.stringify(SETTINGS.policy),
      CONFIDENCE_THRESHOLD: '0.6',
    };
    expect(consumerSettingsFromEnv(env)).toEqual({ ...SETTINGS, endpointName: 'e' });
    expect(() => consumerSettingsFromEnv({ ...env, CONFIDENCE_THRESHOLD: '2' })).toThrow(/CONFIDENCE_THRESHOLD/);
    expect(() => consumerSettingsFromEnv({ ...env, INGEST_POLICY: '{' })).toThrow(/INGEST_POLICY is not valid JSON/);
  });

  test('a read past the byte limit fails with an ImageError "too-large" (what the consumer quarantines by)', async () => {
    const chunks = async function* () {
      yield new Uint8Array(6);
      yield new Uint8Array(6);
    };
    await expect(readBounded(chunks(), 11)).rejects.toBeInstanceOf(ImageError);
    await expect(readBounded(chunks(), 11)).rejects.toMatchObject({ name: 'ImageError', reason: 'too-large' });
    await expect(readBounded(chunks(), 12)).resolves.toHaveLength(12);
  });
});
