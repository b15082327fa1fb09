/**
 * Real vision models in the local world, end to end through the dataset step: the dataset that remembers writes
 * the channels, the local SageMaker trains `models/vision/train.py` (MobileNetV3-small, 32 px, CPU), batch transform
 * scores the test set and the endpoint answers under the PyTorch inference contract. A class that appears between
 * two runs is appended and every old class keeps its index.
 */
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRng } from '../../core/drift/stats/random';
import { MemoryObjectStore } from '../../core/storage/object-store';
import { buildVisionDataset, type VisionDataset } from '../../core/vision/dataset';
import { parseModelAnswer } from '../../core/vision/prediction';
import { readTransformAnswers } from '../../core/vision/promotion';
import { SimClock } from '../../src/local-world/clock';
import { TaskError } from '../../src/local-world/errors';
import { extractModelArchive, localRuntimeClient, startLocalEndpoint } from '../../src/local-world/sagemaker';
import { scriptModeModels, type ScriptModeModels } from '../../src/local-world/script-mode-models';
import type { JobContext, Json } from '../../src/local-world/types';
import { DAY, DAY_CLASSES, NEW_CLASS, NIGHT, paintShape, type Shape } from '../../src/simulate/vision-images';

const VISION_SOURCE = path.join(__dirname, '..', '..', 'models', 'vision');
const HYPERPARAMETERS = {
  backbone: 'mobilenet_v3_small',
  image_size: '32',
  epochs: '2',
  batch_size: '8',
  lr: '0.003',
  num_workers: '0',
  embedding_dim: '16',
  top_k: '3',
  seed: '7',
};
const METRICS = [{ Name: 'validation:accuracy', Regex: 'val_accuracy=([0-9.]+)' }];

let root: string;
const store = new MemoryObjectStore();
const models = new Map<string, Json>();
let runtime: ScriptModeModels;
const logs: string[] = [];
const job = (state: string): JobContext => ({
  store,
  clock: new SimClock(new Date('2026-11-23T10:00:00Z')),
  log: (_kind, line) => logs.push(line),
  lake: () => [],
  state,
  executionName: 'test',
});

/** Images of `shapes` under `images/<camera>/<shape>/`, and the dataset query's rows (folder labels). */
async function photograph(camera: string, shapes: readonly Shape[], n: number, seed: number): Promise<string[]> {
  const rng = createRng(seed);
  const rows: string[] = [];
  for (const shape of shapes) {
    for (let i = 0; i < n; i++) {
      const key = `images/${camera}/${shape}/${i}.png`;
      await store.put('raw', key, paintShape(rng, shape, camera === 'night' ? NIGHT : DAY));
      rows.push(`"${key}","${shape}","prefix","2026-11-2${seed % 10} 10:00:00.000",""`);
    }
  }
  return rows;
}

async function dataset(id: string, rows: string[], championClassesUri?: string): Promise<VisionDataset> {
  await store.put(
    'curated',
    `athena/${id}.csv`,
    ['"image_key","label","label_source","event_time","inference_id"', ...rows].join('\n'),
  );
  return buildVisionDataset(store, {
    queryResultUri: `s3://curated/athena/${id}.csv`,
    outputUri: `s3://curated/datasets/${id}/`,
    memoryUri: 's3://curated/vision/memory/labels.jsonl',
    imagesUri: 's3://raw/images/',
    validationFraction: 0.25,
    audit: { share: 0.02, salt: 'audit' },
    ...(championClassesUri ? { championClassesUri } : {}),
  });
}

/** The training request the loop sends (script mode, the dataset's channels, the champion when there is one). */
function trainingRequest(name: string, ds: VisionDataset, champion?: string): Json {
  const channel = (ChannelName: string, S3Uri: string) => ({
    ChannelName,
    DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri } },
  });
  return {
    TrainingJobName: name,
    AlgorithmSpecification: {
      TrainingImage: 'pytorch-training',
      TrainingInputMode: 'File',
      MetricDefinitions: METRICS,
    },
    HyperParameters: {
      ...HYPERPARAMETERS,
      sagemaker_program: 'train.py',
      sagemaker_submit_directory: 's3://assets/vision.tar.gz',
    },
    InputDataConfig: [
      channel('images', ds.imagesUri),
      channel('manifests', ds.manifestsUri),
      ...(champion ? [channel('champion', champion)] : []),
    ],
    OutputDataConfig: { S3OutputPath: 's3://artifacts/models/' },
    StoppingCondition: { MaxRuntimeInSeconds: 900 },
  };
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'script-mode-models-'));
  runtime = scriptModeModels({ sourceDir: VISION_SOURCE, model: (name) => models.get(name), workRoot: root });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('script-mode models: vision', () => {
  let first: VisionDataset;
  let second: VisionDataset;

  test('trains the PyTorch script from the dataset step’s channels; the metric is the script’s own', async () => {
    first = await dataset('d1', await photograph('day', DAY_CLASSES, 16, 1));
    expect(first.classes).toEqual(['circle', 'square', 'triangle']);
    const outcome = await runtime.train(trainingRequest('vision-1', first), job('TrainCandidate'));
    const accuracy = outcome.metrics.find((m) => m.name === 'validation:accuracy')!.value;
    // The last val_accuracy the script printed (its best epoch), better than chance over three classes.
    const best = logs.find((l) => l.startsWith('vision-1: best_epoch='))!;
    expect(accuracy).toBe(Number(/val_accuracy=([0-9.]+)/.exec(best)![1]));
    expect(accuracy).toBeGreaterThan(1 / 3);
    expect(store.bytes('artifacts', 'models/vision-1/output/model.tar.gz')!.length).toBeGreaterThan(10_000);
    expect(logs.some((l) => /^vision-1: epoch=2 train_loss=/.test(l))).toBe(true);
  }, 300_000);

  test('a new class between two runs is appended; every old class keeps its index, in the dataset and the model', async () => {
    await store.put('curated', 'models/vision-1/classes.json', JSON.stringify(first.classes));
    const rows = [...(await photograph('night', [...DAY_CLASSES, NEW_CLASS], 10, 2))];
    second = await dataset('d2', rows, 's3://curated/models/vision-1/classes.json');
    expect(second.classes).toEqual(['circle', 'square', 'triangle', 'star']);
    expect(second.labels).toBe(48 + 40);
    await runtime.train(
      trainingRequest('vision-2', second, 's3://artifacts/models/vision-1/output/model.tar.gz'),
      job('TrainCandidate'),
    );
    // The model's own class map, inside its archive: the champion's three classes in their order, then the new one.
    const extracted = path.join(root, 'vision-2-extracted');
    await extractModelArchive(path.join(root, 'training', 'vision-2', 'output', 'model.tar.gz'), extracted);
    expect(JSON.parse(readFileSync(path.join(extracted, 'classes.json'), 'utf8'))).toEqual([
      'circle',
      'square',
      'triangle',
      'star',
    ]);
    expect(JSON.parse(readFileSync(path.join(extracted, 'model_config.json'), 'utf8'))).toMatchObject({
      initialized_from: 'champion (3 classes)',
      champion_classes: 3,
    });
    // It serves under the PyTorch inference contract: probabilities over the four classes and an embedding.
    const endpoint = await startLocalEndpoint({
      name: 'vision-2',
      modelArtifact: path.join(root, 'training', 'vision-2', 'output', 'model.tar.gz'),
    });
    try {
      const client = localRuntimeClient(endpoint.endpoint);
      const image = paintShape(createRng(99), 'square', DAY);
      const out = await client.send(
        new InvokeEndpointCommand({
          EndpointName: 'vision-2',
          ContentType: 'application/x-image',
          Body: image,
          InferenceId: 'i-1',
        }),
      );
      const body = JSON.parse(new TextDecoder().decode(out.Body)) as {
        label: string;
        probabilities: number[];
        top_k: Array<{ label: string }>;
        embedding: number[];
        model_version: string;
      };
      // The model names itself: its training job (what audit outcomes and the loop's references call it).
      expect(body.model_version).toBe('vision-2');
      expect(body.probabilities).toHaveLength(4);
      expect(body.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(body.embedding).toHaveLength(16);
      expect(body.label).toBe(second.classes[body.probabilities.indexOf(Math.max(...body.probabilities))]);
      expect(body.top_k[0].label).toBe(body.label);
    } finally {
      await endpoint.stop();
    }
  }, 300_000);

  test('batch transform scores a dataset’s manifest file into <key>.out, answers under the inference contract', async () => {
    models.set('vision-2-model', {
      ModelName: 'vision-2-model',
      PrimaryContainer: {
        Image: 'pytorch-inference',
        ModelDataUrl: 's3://artifacts/models/vision-2/output/model.tar.gz',
        Environment: { SAGEMAKER_PROGRAM: 'inference.py' },
      },
    });
    const result = await runtime.transform(
      {
        TransformJobName: 'score-2',
        ModelName: 'vision-2-model',
        TransformInput: {
          DataSource: { S3DataSource: { S3DataType: 'ManifestFile', S3Uri: second.candidateScoringManifestUri } },
          ContentType: 'application/x-image',
          SplitType: 'None',
        },
        TransformOutput: { S3OutputPath: 's3://curated/datasets/d2/scores/candidate', Accept: 'application/json' },
      },
      job('ScoreCandidate'),
    );
    expect(result.records).toBe(second.test + second.baselineImages);
    const images = (JSON.parse(store.text('curated', 'datasets/d2/scoring/candidate.manifest')!) as unknown[]).slice(
      1,
    ) as string[];
    const answers = await readTransformAnswers(store, 's3://curated/datasets/d2/scores/candidate/', images);
    expect(answers.size).toBe(images.length);
    for (const answer of answers.values()) {
      expect(answer.probabilities).toHaveLength(4);
      expect(answer.embedding).toHaveLength(16);
      expect(second.classes[answer.predictedClass]).toBe(answer.label);
    }
    expect(runtime.jobs.map((j) => [j.kind, j.name])).toEqual([
      ['training', 'vision-1'],
      ['training', 'vision-2'],
      ['transform', 'score-2'],
    ]);
    expect(
      parseModelAnswer(store.text('curated', `datasets/d2/scores/candidate/${images[0]}.out`)!).label,
    ).toBeDefined();
  }, 300_000);

  test('a failing script fails the job with the script’s one-line error', async () => {
    const request = trainingRequest('vision-bad', first);
    (request.HyperParameters as Record<string, string>).batch_size = '1';
    const error = await Promise.resolve()
      .then(() => runtime.train(request, job('TrainCandidate')))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).name).toBe('States.TaskFailed');
    expect((error as Error).message).toBe(
      'AlgorithmError: error: bad hyperparameter: batch_size must be an integer from 2 to 4096 (batch norm needs two images per batch); received 1',
    );
  }, 300_000);
});
