/**
 * Vision drift end to end through the drift checker's run: a baseline built from generated images (image statistics,
 * labelled classes, reference confidences and embeddings), then a live window made of the image consumer's
 * statistics records (the extra capture prefix) and endpoint data capture with class, confidence and embedding.
 */
import { runDriftCheck, type DriftCheckerSettings } from '../../../core/drift/checker';
import { DEFAULT_POLICY } from '../../../core/drift/engine';
import { createRng } from '../../../core/drift/stats';
import { MemoryObjectStore, readText } from '../../../core/storage/object-store';
import { visionBaseline } from '../../../core/vision/baseline';
import { imageFeatures, imageStats, imageStatsKey, imageStatsRecord } from '../../../core/vision/image-stats';
import type { Prediction } from '../../../core/vision/prediction';
import { makePng } from '../../support/images';

const ENDPOINT = 'mlbp-sandbox-vision';
const LIMITS = { maxBytes: 1_000_000, maxPixels: 1_000_000 };
const DIM = 16;
const N = 240;

const settings: DriftCheckerSettings = {
  caseStudy: 'vision',
  stage: 'sandbox',
  endpointName: ENDPOINT,
  captureBucket: 'capture',
  capturePrefix: 'datacapture/',
  extraPrefix: 'image-stats/',
  artifactsBucket: 'artifacts',
  baselineKey: `drift/baselines/${ENDPOINT}/profile.json`,
  reportPrefix: 'drift/reports/',
  statePrefix: 'drift/state/',
  windowMinutes: 60,
  policy: { ...DEFAULT_POLICY, minWindowSize: 100, mmd: { permutations: 400, maxPointsPerSide: 200, seed: 7 } },
  retraining: { windowsRequired: 1, windowsConsidered: 1, cooldownHours: 1 },
};

/** What changes in a window: brightness, the embedding's mean, and (optionally) how far confidence falls. */
interface Shift {
  brightness: number;
  embedding: number;
  confidenceDrop?: number;
}

/** A scene: brightness varies around `brightness`; two classes; embeddings around `embeddingShift`. */
function scene(seed: number, shift: Shift) {
  const rng = createRng(seed);
  const base = Math.max(0, Math.min(230, Math.round(shift.brightness + 20 * rng.nextNormal())));
  const png = makePng(8, 8, (x, y) => {
    const v = Math.min(255, base + ((x + y) % 3) * 8);
    return [v, Math.max(0, v - 20), Math.min(255, v + 10)];
  });
  const cls = rng.nextInt(2);
  const prediction: Prediction = {
    predictedClass: cls,
    confidence: 0.7 + 0.25 * rng.nextFloat() - (shift.confidenceDrop ?? 0),
    embedding: Array.from({ length: DIM }, () => shift.embedding + rng.nextNormal()),
  };
  return { png, cls, prediction };
}

async function setup() {
  const store = new MemoryObjectStore();
  const images = new Map<string, Buffer>();
  const predictions = new Map<string, Prediction>();
  const manifest: string[] = [];
  for (let i = 0; i < N; i++) {
    const s = scene(i, { brightness: 110, embedding: 0 });
    const ref = `s3://images/images/${i}.png`;
    images.set(ref, s.png);
    predictions.set(ref, s.prediction);
    manifest.push(JSON.stringify({ 'source-ref': ref, class: s.cls }));
  }
  const { profile, images: read } = await visionBaseline(manifest, async (ref) => images.get(ref), {
    limits: LIMITS,
    predictions,
  });
  expect(read).toBe(N);
  expect(Object.keys(profile.features).sort()).toEqual([
    'image.file_size',
    'image.height',
    'image.mean_b',
    'image.mean_g',
    'image.mean_r',
    'image.std_b',
    'image.std_g',
    'image.std_r',
    'image.width',
    'output.confidence',
    'output.embedding',
    'output.predicted_class',
  ]);
  await store.put('artifacts', settings.baselineKey, JSON.stringify(profile));
  return store;
}

/** The consumer's statistics records and the endpoint's capture for one hour (10:00–11:00 unless said). */
async function putWindow(store: MemoryObjectStore, shift: Shift, at = 10) {
  const stats: string[] = [];
  const capture: string[] = [];
  for (let i = 0; i < N; i++) {
    const s = scene(500_000 + i, shift);
    const time = new Date(Date.UTC(2026, 10, 23, at, i % 60, 0));
    stats.push(imageStatsRecord(`e-${i}`, time, imageFeatures(imageStats(s.png, LIMITS))));
    const output = {
      predicted_class: String(s.prediction.predictedClass),
      confidence: s.prediction.confidence,
      embedding: s.prediction.embedding,
    };
    capture.push(
      JSON.stringify({
        captureData: {
          endpointInput: {
            observedContentType: 'image/png',
            mode: 'INPUT',
            data: s.png.toString('base64'),
            encoding: 'BASE64',
          },
          endpointOutput: {
            observedContentType: 'application/json',
            mode: 'OUTPUT',
            data: JSON.stringify(output),
            encoding: 'JSON',
          },
        },
        eventMetadata: { eventId: `c-${i}`, inferenceTime: time.toISOString(), inferenceId: `i-${i}` },
        eventVersion: '0',
      }),
    );
  }
  const hour = new Date(Date.UTC(2026, 10, 23, at));
  const hh = String(at).padStart(2, '0');
  await store.put('capture', imageStatsKey('image-stats/', ENDPOINT, hour, 'batch-1'), stats.join('\n'));
  await store.put('capture', `datacapture/${ENDPOINT}/AllTraffic/2026/11/23/${hh}/c.jsonl`, capture.join('\n'));
}

const ports = (store: MemoryObjectStore) => ({
  store,
  publishDriftDetected: async () => undefined,
  metrics: { window: () => undefined, noOp: () => undefined },
  log: () => undefined,
});

async function check(shift: Shift) {
  const store = await setup();
  await putWindow(store, shift);
  const result = await runDriftCheck(settings, ports(store), new Date('2026-11-23T11:00:30Z'));
  const doc = JSON.parse(await readText((await store.get('artifacts', result.reportKey!))!));
  const byName = Object.fromEntries(
    (doc.report.features as Array<{ name: string; drifted: boolean; counts: { current: number } }>).map((f) => [
      f.name,
      f,
    ]),
  );
  return { result, report: doc.report, byName };
}

describe('vision drift over a daily cycle (seasonal baseline from the dataset sample’s capture times)', () => {
  /** Night (00–05 UTC) images are dark, day images bright: two weeks, 12 images an hour. */
  const brightnessAt = (hour: number) => (hour < 6 ? 40 : 140);

  async function seasonalStore(): Promise<MemoryObjectStore> {
    const store = new MemoryObjectStore();
    const images = new Map<string, Buffer>();
    const predictions = new Map<string, Prediction>();
    const manifest: string[] = [];
    const start = Date.UTC(2026, 10, 9);
    for (let h = 0; h < 14 * 24; h++) {
      for (let j = 0; j < 12; j++) {
        const i = h * 12 + j;
        const s = scene(i, { brightness: brightnessAt(h % 24), embedding: 0 });
        const ref = `s3://images/images/${i}.png`;
        images.set(ref, s.png);
        predictions.set(ref, s.prediction);
        // As the dataset step writes its baseline sample: the image and when it was captured.
        const time = new Date(start + h * 3_600_000 + j * 300_000).toISOString();
        manifest.push(JSON.stringify({ 'source-ref': ref, class: s.cls, time }));
      }
    }
    manifest.push(JSON.stringify({ 'source-ref': 's3://images/images/0.png', class: 0 })); // no time: not phased
    const { profile, untimed } = await visionBaseline(manifest, async (ref) => images.get(ref), {
      limits: LIMITS,
      predictions,
      timeField: 'time',
    });
    expect(untimed).toBe(1);
    expect(profile.seasonal?.timeField).toBe('time');
    expect(Object.keys(profile.features)).not.toContain('time');
    await store.put('artifacts', settings.baselineKey, JSON.stringify(profile));
    return store;
  }

  async function nightCheck(brightness: number, seasonality: 'daily' | 'none') {
    const store = await seasonalStore();
    await putWindow(store, { brightness, embedding: 0 }, 3);
    const result = await runDriftCheck(
      { ...settings, policy: { ...settings.policy, seasonality } },
      ports(store),
      new Date('2026-11-23T04:00:30Z'),
    );
    const doc = JSON.parse(await readText((await store.get('artifacts', result.reportKey!))!));
    const features = doc.report.features as Array<{ name: string; drifted: boolean }>;
    return { report: doc.report, drifted: (name: string) => features.find((f) => f.name === name)?.drifted };
  }

  test('a night hour of the same cycle does not drift when compared with night images', async () => {
    const { report, drifted } = await nightCheck(40, 'daily');
    expect(report.seasonal[0]).toMatchObject({ seasonality: 'daily', phases: [{ phase: '03:00', bandHours: 1 }] });
    expect(drifted('image.mean_r')).toBe(false);
    expect(report.drifted).toBe(false);
  });

  test('compared with the whole day instead, the same night hour "drifts" on brightness (why seasonality)', async () => {
    const { drifted } = await nightCheck(40, 'none');
    expect(drifted('image.mean_r')).toBe(true);
  });

  test('the same night hour with a real brightness shift drifts on brightness', async () => {
    const { drifted } = await nightCheck(90, 'daily');
    expect(drifted('image.mean_r')).toBe(true);
  });
});

describe('vision drift', () => {
  test('same distribution: every vision signal is compared and nothing drifts', async () => {
    const { result, report, byName } = await check({ brightness: 110, embedding: 0 });
    expect(result.status).toBe('reported');
    expect(result.records).toBe(2 * N); // statistics records + capture records
    expect(report.drifted).toBe(false);
    for (const name of [
      'image.mean_r',
      'image.std_g',
      'output.predicted_class',
      'output.confidence',
      'output.embedding',
    ]) {
      expect(byName[name].counts.current).toBe(N);
      expect(byName[name].drifted).toBe(false);
    }
  });

  test('darker images and shifted embeddings: image statistics and the embedding (MMD) drift', async () => {
    const { result, report, byName } = await check({ brightness: 60, embedding: 0.8 });
    expect(result.drifted).toBe(true);
    expect(byName['image.mean_r'].drifted).toBe(true);
    expect(byName['output.embedding'].drifted).toBe(true);
    expect(byName['output.predicted_class'].drifted).toBe(false);
    expect(report.keySignalsDrifted).toContain('output.embedding');
  });

  test('embeddings alone: a shift only in the embedding space is caught by MMD', async () => {
    const { byName, report } = await check({ brightness: 110, embedding: 0.8 });
    expect(byName['image.mean_r'].drifted).toBe(false);
    expect(byName['output.embedding'].drifted).toBe(true);
    expect(report.drifted).toBe(true);
  });

  test('confidence falls: the model is less sure of the same-looking images, and output.confidence drifts', async () => {
    const { byName, report } = await check({ brightness: 110, embedding: 0, confidenceDrop: 0.1 });
    expect(byName['image.mean_r'].drifted).toBe(false);
    expect(byName['output.confidence'].drifted).toBe(true);
    expect(report.keySignalsDrifted).toContain('output.confidence');
  });

  test('without the extra prefix the statistics records are not read', async () => {
    const store = await setup();
    await putWindow(store, { brightness: 110, embedding: 0 });
    const r = await runDriftCheck(
      { ...settings, extraPrefix: undefined },
      ports(store),
      new Date('2026-11-23T11:00:30Z'),
    );
    expect(r.records).toBe(N);
  });
});

describe('vision baseline step', () => {
  test('writes the profile where the checker reads it, with a copy per dataset; skips unreadable images', async () => {
    const { refreshVisionBaseline } = await import('../../../core/vision/baseline');
    const { ImageError } = await import('../../../core/vision/image-stats');
    const store = new MemoryObjectStore();
    const images = new Map<string, Buffer>();
    const lines: string[] = [];
    // The candidate's batch-transform outputs (the inference handler's JSON) on every listed image.
    const output = (i: number) =>
      JSON.stringify({
        label: i % 2 ? 'square' : 'circle',
        probabilities: i % 2 ? [0.2, 0.8] : [0.9, 0.1],
        top_k: [{ label: i % 2 ? 'square' : 'circle', probability: i % 2 ? 0.8 : 0.9 }],
        embedding: [i / 20, 1 - i / 20, 0.5],
      });
    for (let i = 0; i < 20; i++) {
      const ref = `s3://raw/images/${i}.png`;
      images.set(
        ref,
        makePng(8, 8, () => [i * 10, 0, 0]),
      );
      lines.push(JSON.stringify({ image: `${i}.png`, label: i % 2 ? 'square' : 'circle', source: 'prefix' }));
      await store.put('curated', `datasets/d1/scores/candidate/${i}.png.out`, output(i));
    }
    lines.push(JSON.stringify({ image: 'gone.png', label: 'circle', source: 'prefix' }));
    lines.push(JSON.stringify({ image: 'huge.png', label: 'circle', source: 'prefix' }));
    await store.put('curated', 'datasets/d1/scores/candidate/gone.png.out', output(0));
    await store.put('curated', 'datasets/d1/scores/candidate/huge.png.out', output(0));
    await store.put('curated', 'datasets/d1/validation.manifest', lines.join('\n') + '\n');
    const out = await refreshVisionBaseline(
      store,
      async (ref) => {
        if (ref.endsWith('huge.png')) throw new ImageError('too-large', 'too large');
        return images.get(ref);
      },
      {
        sourceUri: 's3://curated/datasets/d1/validation.manifest',
        artifactsBucket: 'artifacts',
        endpointName: ENDPOINT,
        datasetId: 'd1',
        imagesUri: 's3://raw/images/',
        outputsUri: 's3://curated/datasets/d1/scores/candidate/',
      },
      LIMITS,
      new Date('2026-11-23T00:00:00Z'),
    );
    expect(out).toMatchObject({
      profileUri: `s3://artifacts/drift/baselines/${ENDPOINT}/profile.json`,
      historyUri: `s3://artifacts/drift/baselines/${ENDPOINT}/history/d1.json`,
      records: 20,
      invalid: 2,
    });
    expect(out.features).toContain('image.mean_r');
    expect(out.features).toContain('output.predicted_class');
    const profile = JSON.parse(store.text('artifacts', `drift/baselines/${ENDPOINT}/profile.json`)!);
    expect(profile.features['image.mean_r'].count).toBe(20);
    expect(store.text('artifacts', `drift/baselines/${ENDPOINT}/history/d1.json`)).toBe(
      store.text('artifacts', `drift/baselines/${ENDPOINT}/profile.json`),
    );
    // The output features are the model's answers read like data capture: class, its name, confidence, embedding.
    expect(out.features.filter((f) => f.startsWith('output.')).sort()).toEqual([
      'output.confidence',
      'output.embedding',
      'output.label',
      'output.predicted_class',
    ]);
    expect(profile.features['output.predicted_class'].counts).toEqual({ '0': 10, '1': 10 });
    expect(profile.features['output.label'].counts).toEqual({ circle: 10, square: 10 });
    expect(profile.features['output.confidence'].mean).toBeCloseTo(0.85, 12);
    expect(profile.features['output.embedding'].dimension).toBe(3);
  });

  test('labels never stand in for predictions: without model outputs there is no output feature', async () => {
    const { refreshVisionBaseline } = await import('../../../core/vision/baseline');
    const store = new MemoryObjectStore();
    const png = makePng(8, 8, () => [100, 0, 0]);
    const lines = Array.from({ length: 5 }, (_, i) =>
      JSON.stringify({ 'source-ref': `s3://raw/images/${i}.png`, class: i % 2 }),
    );
    await store.put('curated', 'datasets/d1/validation.manifest', lines.join('\n'));
    const out = await refreshVisionBaseline(
      store,
      async () => png,
      {
        sourceUri: 's3://curated/datasets/d1/validation.manifest',
        artifactsBucket: 'a',
        endpointName: 'e',
        datasetId: 'd1',
      },
      LIMITS,
      new Date('2026-11-23T00:00:00Z'),
    );
    expect(out.records).toBe(5);
    expect(out.features.filter((f) => f.startsWith('output.'))).toEqual([]);
  });

  test("an image without the model's output is skipped, so every profiled image has both", async () => {
    const { visionBaseline } = await import('../../../core/vision/baseline');
    const png = makePng(8, 8, () => [100, 0, 0]);
    const lines = ['a', 'b', 'c'].map((k) => JSON.stringify({ image: `${k}.png`, label: 'x' }));
    const r = await visionBaseline(lines, async () => png, {
      limits: LIMITS,
      imagesUri: 's3://raw/images/',
      outputs: async (ref) =>
        ref.endsWith('a.png') ? '{"probabilities":[0.6,0.4]}' : ref.endsWith('b.png') ? 'oops' : undefined,
    });
    expect(r.images).toBe(1);
    expect(r.skipped).toEqual({ 'unreadable-output': 1, 'no-model-output': 1 });
  });
});

describe('the vision model’s answer in data capture', () => {
  test('is read as class, confidence, label and embedding', async () => {
    const { parseCaptureRecord } = await import('../../../core/drift/readers/capture');
    const { outputFeatures } = await import('../../../core/vision/baseline');
    const body = JSON.stringify({
      label: 'square',
      probabilities: [0.1, 0.7, 0.2],
      top_k: [{ label: 'square', probability: 0.7 }],
      embedding: [0.5, -0.5],
      model_version: 'mlbp-sandbox-vision-run-2-0',
    });
    const parsed = parseCaptureRecord({
      captureData: {
        endpointInput: { observedContentType: 'image/png', mode: 'INPUT', data: 'iVBORw0KGgo=', encoding: 'BASE64' },
        endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data: body, encoding: 'JSON' },
      },
      eventMetadata: { eventId: 'e', inferenceTime: '2026-11-23T10:00:00Z', inferenceId: 'i' },
      eventVersion: '0',
    });
    expect(parsed.ok).toBe(true);
    const record = parsed.ok ? parsed.record : {};
    expect(record).toMatchObject({
      'output.predicted_class': '1',
      'output.confidence': 0.7,
      'output.label': 'square',
      'output.embedding': [0.5, -0.5],
    });
    expect(record['output.probabilities']).toEqual([0.1, 0.7, 0.2]); // kept; the baseline leaves it out
    // The baseline reads the transform's answer the same way: same names, same values.
    const baseline = outputFeatures(body);
    for (const name of ['output.predicted_class', 'output.confidence', 'output.label', 'output.embedding']) {
      expect(baseline[name]).toEqual(record[name]);
    }
    // The model's version names the model, not the data: never a baseline feature (a deployment would "drift").
    expect(baseline).not.toHaveProperty('output.model_version');
  });
});
