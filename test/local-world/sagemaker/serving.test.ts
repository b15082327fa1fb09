import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  LocalSageMakerRuntime,
  ModelContainer,
  runTrainingJob,
  runTransformJob,
  startLocalEndpoint,
  TransformJobError,
  type CaptureRecord,
  type LocalEndpoint,
  localRuntimeClient,
} from '../../../src/local-world/sagemaker';
import { RECOMMENDER_SOURCE, servingSlate, SLATE, TINY_JOB_HYPERPARAMETERS, writeChannels } from './ranking-fixture';

let root: string;
let modelArtifact: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'local-serving-test-'));
  const result = await runTrainingJob({
    sourceDir: RECOMMENDER_SOURCE,
    entryPoint: 'train.py',
    hyperparameters: TINY_JOB_HYPERPARAMETERS,
    channels: writeChannels(path.join(root, 'data')),
    workDir: path.join(root, 'job'),
    jobName: 'recommender-job-2',
  });
  modelArtifact = result.modelArtifact;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const lines = (text: string) => text.trim().split('\n');

describe('runTransformJob', () => {
  test('scores every line of every input file into <name>.out, one score per line', async () => {
    const input = path.join(root, 'transform-in');
    mkdirSync(path.join(input, 'day=2'), { recursive: true });
    writeFileSync(path.join(input, 'slates-1.csv'), servingSlate(1).csv + servingSlate(2).csv);
    writeFileSync(path.join(input, 'day=2', 'slates-2.csv'), servingSlate(3).csv);
    const output = path.join(root, 'transform-out');
    const result = await runTransformJob({
      modelArtifact,
      inputDir: input,
      contentType: 'text/csv',
      accept: 'text/csv',
      splitType: 'Line',
      outputDir: output,
    });
    expect(result.outputFiles).toEqual([
      path.join(output, 'day=2', 'slates-2.csv.out'),
      path.join(output, 'slates-1.csv.out'),
    ]);
    expect(result.records).toBe(3 * SLATE);
    const scores = lines(readFileSync(path.join(output, 'slates-1.csv.out'), 'utf8')).map(Number);
    expect(scores).toHaveLength(2 * SLATE);
    expect(scores.every(Number.isFinite)).toBe(true);
    expect(new Set(scores.slice(0, SLATE)).size).toBe(SLATE);
  });

  test('a whole file as one request and line by line give the same scores', async () => {
    const file = path.join(root, 'slate-7.csv');
    writeFileSync(file, servingSlate(7).csv);
    const run = (splitType: 'Line' | 'None', outputDir: string) =>
      runTransformJob({
        modelArtifact,
        inputFiles: [file],
        contentType: 'text/csv',
        accept: 'text/csv',
        splitType,
        outputDir,
      });
    await run('Line', path.join(root, 'by-line'));
    await run('None', path.join(root, 'whole'));
    const read = (dir: string) => readFileSync(path.join(dir, 'slate-7.csv.out'), 'utf8');
    expect(read(path.join(root, 'by-line'))).toBe(read(path.join(root, 'whole')));
  });

  test('a record the handler refuses fails the job with its file, line and reason', async () => {
    const file = path.join(root, 'bad.csv');
    writeFileSync(file, servingSlate(1).csv + '0.1,0.2,0.3\n');
    const error = (await runTransformJob({
      modelArtifact,
      inputFiles: [file],
      contentType: 'text/csv',
      splitType: 'Line',
      outputDir: path.join(root, 'bad-out'),
    }).catch((e: unknown) => e)) as TransformJobError;
    expect(error).toBeInstanceOf(TransformJobError);
    expect([error.file, error.line, error.originalStatusCode]).toEqual(['bad.csv', SLATE + 1, 400]);
    expect(error.message).toBe(
      `transform job failed: bad.csv line ${SLATE + 1}: the handler answered 400: ` +
        `line 1 has 3 values; expected 6 (the model's features, feature_version fixture-v1)`,
    );
  });
});

describe('a local endpoint behind the SageMaker runtime API', () => {
  let local: LocalEndpoint;
  let client: SageMakerRuntimeClient;
  const captureDir = () => path.join(root, 'capture-bucket');

  beforeAll(async () => {
    local = await startLocalEndpoint({
      name: 'recommender',
      modelArtifact,
      capture: {
        dir: captureDir(),
        prefix: 'datacapture',
        csvContentTypes: ['text/csv'],
        jsonContentTypes: ['application/json'],
      },
    });
    client = localRuntimeClient(local.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await local?.stop();
  });

  const invoke = (body: string, inferenceId?: string, endpointName = 'recommender') =>
    client.send(
      new InvokeEndpointCommand({
        EndpointName: endpointName,
        ContentType: 'text/csv',
        Accept: 'application/json',
        Body: body,
        InferenceId: inferenceId,
      }),
    );

  test('InvokeEndpoint answers distinct scores for the slate, with the variant and the model version', async () => {
    const out = await invoke(servingSlate(11).csv, 'req-0001');
    const document = JSON.parse(new TextDecoder().decode(out.Body));
    expect(out.ContentType).toBe('application/json');
    expect(out.InvokedProductionVariant).toBe('AllTraffic');
    expect(document.scores).toHaveLength(SLATE);
    expect(new Set(document.scores).size).toBe(SLATE);
    expect(document).toMatchObject({ model_version: 'recommender-job-2', feature_version: 'fixture-v1' });
  });

  test('data capture records the request, the response and the inference id in SageMaker layout', async () => {
    const body = servingSlate(12).csv;
    await invoke(body, 'req-0002');
    const variantDir = path.join(captureDir(), 'datacapture', 'recommender', 'AllTraffic');
    const files = readdirSync(variantDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.jsonl'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl$/);
    const records = lines(readFileSync(path.join(variantDir, files[0]), 'utf8')).map(
      (l) => JSON.parse(l) as CaptureRecord,
    );
    const record = records.find((r) => r.eventMetadata.inferenceId === 'req-0002') as CaptureRecord;
    expect(record.captureData.endpointInput).toEqual({
      observedContentType: 'text/csv',
      mode: 'INPUT',
      data: body,
      encoding: 'CSV',
    });
    expect(record.captureData.endpointOutput).toMatchObject({
      observedContentType: 'application/json',
      mode: 'OUTPUT',
      encoding: 'JSON',
    });
    expect(JSON.parse(record.captureData.endpointOutput?.data ?? '').scores).toHaveLength(SLATE);
    expect(record.eventMetadata.inferenceTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(record.eventVersion).toBe('0');
  });

  test('malformed CSV is a ModelError carrying the handler 400 and its reason', async () => {
    const error = (await invoke('0.1,0.2,oops,0.4,0.5,0.6\n').catch((e: unknown) => e)) as Record<string, unknown>;
    expect(error).toMatchObject({
      name: 'ModelError',
      OriginalStatusCode: 400,
      OriginalMessage: "line 1 column 3: 'oops' is not a finite number (no header row)",
      $metadata: expect.objectContaining({ httpStatusCode: 424 }),
    });
    expect(String(error.message)).toContain('Received client error (400) from AllTraffic');
    expect(String(error.LogStreamArn)).toMatch(
      /^arn:aws:logs:us-east-1:\d{12}:log-group:\/aws\/sagemaker\/Endpoints\/recommender/,
    );
  });

  test('an unknown endpoint is a ValidationError', async () => {
    const error = (await invoke(servingSlate(1).csv, undefined, 'nope').catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({
      name: 'ValidationError',
      $metadata: expect.objectContaining({ httpStatusCode: 400 }),
    });
    expect(error.message).toBe('Endpoint nope of account 000000000000 not found.');
  });
});

describe('ModelContainer', () => {
  const get = (port: number) =>
    new Promise<number>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port, path: '/ping' }, (res) => (res.resume(), resolve(res.statusCode ?? 0)))
        .on('error', reject),
    );

  test('answers /ping on 127.0.0.1 and frees its port when stopped', async () => {
    const container = await ModelContainer.start({ modelArtifact });
    expect(await get(container.port)).toBe(200);
    await container.stop();
    await expect(get(container.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('startLocalEndpoint().stop() closes the runtime API and takes its endpoints down', async () => {
    const local = await startLocalEndpoint({ name: 'short-lived', modelArtifact });
    const port = Number(new URL(local.endpoint).port);
    expect(local.runtime.endpointNames()).toEqual(['short-lived']);
    await local.stop();
    expect(local.runtime.endpointNames()).toEqual([]);
    await expect(get(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('a model archive without the handler fails to start with the reason', async () => {
    const dir = path.join(root, 'empty-model');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'weights.bin'), 'x');
    const { packModelDirectory } = await import('../../../src/local-world/sagemaker');
    await packModelDirectory(dir, path.join(root, 'empty-model.tar.gz'));
    await expect(ModelContainer.start({ modelArtifact: path.join(root, 'empty-model.tar.gz') })).rejects.toThrow(
      /has no code\/inference\.py/,
    );
  });
});

describe('LocalSageMakerRuntime with several variants', () => {
  let runtime: LocalSageMakerRuntime;
  let client: SageMakerRuntimeClient;

  beforeAll(async () => {
    runtime = await LocalSageMakerRuntime.start();
    client = localRuntimeClient(runtime.url);
    await runtime.createEndpoint({
      name: 'canary',
      variants: [
        { variantName: 'Champion', modelArtifact, initialWeight: 3 },
        { variantName: 'Candidate', modelArtifact, initialWeight: 1 },
      ],
    });
  });
  afterAll(async () => {
    client?.destroy();
    await runtime?.stop();
  });

  const invoke = (endpointName: string, targetVariant?: string) =>
    client.send(
      new InvokeEndpointCommand({
        EndpointName: endpointName,
        ContentType: 'text/csv',
        Accept: 'text/csv',
        Body: servingSlate(5).csv,
        TargetVariant: targetVariant,
      }),
    );

  test('splits traffic by weight, deterministically', async () => {
    const variants: string[] = [];
    for (let i = 0; i < 8; i++) variants.push((await invoke('canary')).InvokedProductionVariant as string);
    expect(variants.filter((v) => v === 'Champion')).toHaveLength(6);
    expect(variants.filter((v) => v === 'Candidate')).toHaveLength(2);
  });

  test('TargetVariant picks the variant; an unknown one is a ValidationError', async () => {
    expect((await invoke('canary', 'Candidate')).InvokedProductionVariant).toBe('Candidate');
    await expect(invoke('canary', 'Nope')).rejects.toMatchObject({ name: 'ValidationError' });
  });

  test('updateEndpoint replaces the variants; deleteEndpoint takes the endpoint out of service', async () => {
    await runtime.updateEndpoint({ name: 'canary', variants: [{ variantName: 'Candidate', modelArtifact }] });
    expect((await invoke('canary')).InvokedProductionVariant).toBe('Candidate');
    await runtime.deleteEndpoint('canary');
    expect(runtime.endpointNames()).toEqual([]);
    await expect(invoke('canary')).rejects.toMatchObject({ name: 'ValidationError' });
  });
});
