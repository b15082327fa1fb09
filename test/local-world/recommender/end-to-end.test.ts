/**
 * The recommender end to end on local engines, nothing scripted: simulated users (latent tastes, categories,
 * position bias) ask the serving logic for slates (the real SageMaker runtime client against the local endpoint;
 * dynalite; kinesalite; the real consumer), the local Firehose delivers slates and interactions to the lake, DuckDB
 * runs the project's own SQL over the lake files, the local SageMaker trains `models/recommender/train.py` on what
 * the SQL built, the model is deployed and serves, and its scores of the served feature vectors are checked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { FEATURE_NAMES, FEATURE_VERSION, NUM_FEATURES } from '../../../core/recommender/contract';
import { evaluateRankers, parseHoldout, parseScored } from '../../../core/recommender/promotion';
import type { ServedSlate } from '../../../core/recommender/slate';
import {
  bootstrapDataset,
  fillStatement,
  selectedColumns,
  slateDataset,
  type DatasetStatements,
  type RecommenderSqlOptions,
} from '../../../core/recommender/sql';
import { MemoryObjectStore, readBytes } from '../../../core/storage/object-store';
import { SimClock } from '../../../src/local-world/clock';
import { Emulators } from '../../../src/local-world/emulators';
import { recommenderModels } from '../../../src/local-world/recommender/models';
import { LocalRecommender } from '../../../src/local-world/recommender/serving';
import { localRuntimeClient } from '../../../src/local-world/sagemaker';
import type { JobContext, Json } from '../../../src/local-world/types';
import { Shoppers } from '../../../src/producer/shoppers';

const ENDPOINT = 'mlbp-sandbox-recommender';
const START = new Date('2026-11-16T09:00:00.000Z');
const SQL: RecommenderSqlOptions = {
  events: '"db"."interaction_events"',
  slates: '"db"."served_slate_events"',
  datasetsUri: 's3://curated/datasets/',
  popularityBucketMinutes: 15,
  recentItemsPerUser: 20,
  featureTtlHours: 48,
  attributionMinutes: 10,
  coVisitationMinUsers: 1,
};
const MODELS = join(__dirname, '..', '..', '..', 'models', 'recommender');

let root: string;
let emulators: Emulators;
let recommender: LocalRecommender;
const store = new MemoryObjectStore();
const clock = new SimClock(START);
const shoppers = new Shoppers({ seed: 3 });
const createdModels = new Map<string, Json>();
const job = (state: string): JobContext => ({
  store,
  clock,
  log: () => undefined,
  lake: () => [],
  state,
  executionName: 'e2e',
});

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'recommender-e2e-'));
  emulators = await Emulators.start();
  recommender = await LocalRecommender.start({
    emulators,
    store,
    root,
    streamName: 'events',
    shards: 2,
    tableName: 'features',
    tableKeys: [
      { name: 'pk', type: 'HASH' },
      { name: 'sk', type: 'RANGE' },
    ],
    rawBucket: 'raw',
    database: 'db',
    endpointName: ENDPOINT,
    consumer: { ttlHours: 48, popularityBucketMinutes: 15, popularityListSize: 200, ctrWindowMinutes: 60 },
    serving: {
      endpointName: ENDPOINT,
      // A loaded machine must not turn a slow local answer into a fallback.
      invokeTimeoutMs: 120_000,
      candidates: 30,
      maxK: 20,
      recentItemsPerUser: 20,
      popularityBucketMinutes: 15,
      predictionTtlHours: 48,
    },
    batchSize: 200,
    seed: 3,
  });
});

afterAll(async () => {
  await recommender?.stop();
  await emulators?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Minutes of traffic: users browse, ask for 10 items, respond to what they were shown. */
async function traffic(from: Date, minutes: number, perMinute: number) {
  const served = [];
  for (let m = 0; m < minutes; m++) {
    const now = new Date(from.getTime() + m * 60_000);
    const users = Array.from({ length: perMinute }, () => ({
      user: shoppers.nextUser(),
      context: shoppers.nextContext(),
    }));
    await recommender.ingest(
      users.flatMap((u) => shoppers.browse(u.user, new Date(now.getTime() - 50_000), u.context)),
      now,
    );
    const at = new Date(now.getTime() + 1000);
    const outcomes = await recommender.serve(
      users.map((u) => ({ userId: u.user.userId, k: 10, ...u.context })),
      at,
    );
    const responses = outcomes.flatMap((o, i) =>
      shoppers.respond(
        users[i].user,
        {
          inferenceId: o.response.inferenceId,
          modelVersion: o.response.modelVersion,
          items: o.response.items.map((x) => x.itemId),
        },
        at,
        users[i].context,
      ),
    );
    await recommender.ingest(responses, new Date(now.getTime() + 59_000));
    served.push(...outcomes);
  }
  clock.setAtLeast(new Date(from.getTime() + minutes * 60_000));
  return served;
}

async function unload(
  statements: DatasetStatements,
  values: Record<'windowStart' | 'windowEnd' | 'datasetId', string>,
) {
  for (const statement of [statements.channels, statements.scoring, statements.baseline])
    await recommender.athena.run(fillStatement(statement, values), store);
}

/** Every object under a prefix, gunzipped, concatenated in key order. */
async function objectsText(bucket: string, prefix: string): Promise<string> {
  let text = '';
  for await (const k of store.list(bucket, prefix)) text += (await readBytes(store, bucket, k)).toString('utf8');
  return text;
}

async function train(name: string, datasetId: string) {
  const models = recommenderModels({ root: join(root, 'jobs'), sourceDir: MODELS, model: (n) => createdModels.get(n) });
  const channel = (split: string) => ({
    ChannelName: split,
    DataSource: {
      S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://curated/datasets/${datasetId}/channels/split=${split}/` },
    },
  });
  const outcome = await models.train(
    {
      TrainingJobName: name,
      HyperParameters: {
        sagemaker_program: 'train.py',
        sagemaker_submit_directory: 's3://assets/recommender.tar.gz',
        num_features: String(NUM_FEATURES),
        feature_version: String(FEATURE_VERSION),
        num_round: '150',
        max_depth: '4',
        early_stopping_rounds: '50',
        seed: '1',
      },
      InputDataConfig: [channel('train'), channel('validation')],
      AlgorithmSpecification: {
        MetricDefinitions: [{ Name: 'validation:ndcg@10', Regex: 'validation-ndcg@10[:=]([0-9.]+)' }],
      },
      OutputDataConfig: { S3OutputPath: 's3://artifacts/models/' },
    },
    job('TrainCandidate'),
  );
  createdModels.set(name, {
    ModelName: name,
    PrimaryContainer: {
      ModelDataUrl: `s3://artifacts/models/${name}/output/model.tar.gz`,
      Environment: { SAGEMAKER_PROGRAM: 'inference.py', SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code' },
    },
  });
  return { outcome, models };
}

async function score(models: ReturnType<typeof recommenderModels>, model: string, datasetId: string) {
  await models.transform(
    {
      TransformJobName: `${model}-score`,
      ModelName: model,
      TransformInput: {
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://curated/datasets/${datasetId}/scoring/` } },
        ContentType: 'text/csv',
        CompressionType: 'Gzip',
        SplitType: 'Line',
      },
      TransformOutput: {
        S3OutputPath: `s3://curated/datasets/${datasetId}/scores/${model}/`,
        Accept: 'text/csv',
        AssembleWith: 'Line',
      },
      DataProcessing: { InputFilter: '$[3:]', JoinSource: 'Input', OutputFilter: '$[0,1,2,-1]' },
    },
    job('ScoreCandidate'),
  );
  return parseScored(await objectsText('curated', `datasets/${datasetId}/scores/${model}/`));
}

test('a model trained from the dataset the project SQL built scores the vectors the API served, and ranks them', async () => {
  // 0. Users have browsed before (their history: recent engagements and categories).
  await recommender.ingest(
    Array.from({ length: shoppers.userCount }, (_, k) =>
      shoppers.browse(shoppers.userAt(k), new Date(START.getTime() - 3_600_000 + k * 5_000), shoppers.nextContext()),
    ).flat(),
    new Date(START.getTime() - 1_000),
  );
  // 1. Before any model: every request is served by popularity, with the reason, and logged with its features.
  const before = await traffic(START, 30, 20);
  expect([...new Set(before.map((o) => o.response.fallbackReason))]).toEqual(['no-endpoint']);
  expect(before.every((o) => o.slate?.items.every((i) => i.features.length === NUM_FEATURES))).toBe(true);

  // 2. The bootstrap dataset, by the project's SQL on DuckDB over the lake files; its columns are the contract's.
  expect(selectedColumns(bootstrapDataset(SQL).channels)).toEqual(['label', 'group_id', ...FEATURE_NAMES, 'split']);
  await unload(bootstrapDataset(SQL), {
    windowStart: '2026-11-16T00:00:00.000Z',
    windowEnd: '2026-11-16T09:30:00.000Z',
    datasetId: 'bootstrap',
  });
  const bootstrapRows = (await objectsText('curated', 'datasets/bootstrap/channels/split=train/')).trim().split('\n');
  expect(bootstrapRows.length).toBeGreaterThan(500);
  expect(bootstrapRows.every((r) => r.split(',').length === 2 + NUM_FEATURES)).toBe(true);

  // 3. Train on it (script mode, xgboost 1.7), deploy, serve.
  const champion = await train('champion-1', 'bootstrap');
  expect(champion.outcome.metrics[0]).toMatchObject({ name: 'validation:ndcg@10' });
  await recommender.deploy(store.bytes('artifacts', 'models/champion-1/output/model.tar.gz') as Buffer);
  const after = await traffic(new Date(START.getTime() + 3_600_000), 20, 15);
  expect(after.filter((o) => o.response.fallback)).toEqual([]);
  expect(new Set(after.map((o) => o.response.modelVersion))).toEqual(new Set(['champion-1']));

  // 4. The served slates reached the lake with their features; the model re-scores those very vectors to the
  // scores it served (no training/serving skew), and they differ within a slate (it ranks).
  const lake = (await objectsText('raw', 'slates/'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ServedSlate)
    // The slate table also holds the stream's interactions (rows without slate columns), as in AWS.
    .filter((s) => s.record_type === 'served_slate' && s.model_version === 'champion-1');
  expect(lake).toHaveLength(after.length);
  const client = localRuntimeClient(recommender.runtime.url);
  let ranked = 0;
  for (const slate of lake.slice(0, 20)) {
    const out = await client.send(
      new InvokeEndpointCommand({
        EndpointName: ENDPOINT,
        ContentType: 'text/csv',
        Accept: 'application/json',
        Body: slate.items.map((i) => i.features.join(',')).join('\n'),
      }),
    );
    const answer = JSON.parse(new TextDecoder().decode(out.Body)) as { scores: number[]; feature_version: string };
    expect(answer.feature_version).toBe(String(FEATURE_VERSION));
    answer.scores.forEach((s, k) => expect(s).toBeCloseTo(slate.items[k].score, 5));
    if (new Set(answer.scores.map((s) => s.toFixed(6))).size > 1) ranked++;
  }
  // A slate whose items the trees cannot tell apart ties; the model ranks nearly every slate.
  expect(ranked).toBeGreaterThanOrEqual(18);
  client.destroy();

  // 5. Once a model has served: the dataset of served slates joined to what they led to; a candidate trained on
  // it and the champion scored by batch transform on the time-based holdout, popularity from the served feature.
  await unload(slateDataset(SQL), {
    windowStart: '2026-11-16T00:00:00.000Z',
    windowEnd: '2026-11-16T10:30:00.000Z',
    datasetId: 'slates',
  });
  const candidate = await train('candidate-1', 'slates');
  const holdout = parseHoldout(await objectsText('curated', 'datasets/slates/scoring/'));
  const report = evaluateRankers(
    holdout,
    await score(candidate.models, 'candidate-1', 'slates'),
    await score(candidate.models, 'champion-1', 'slates'),
    { minImprovement: 0 },
    'slates',
  );
  expect(report.metrics.candidate['ndcg@10']).toBeGreaterThan(report.metrics.popularity['ndcg@10']);
  expect(report.promote).toBe(report.interval.lower > 0);
}, 600_000);
