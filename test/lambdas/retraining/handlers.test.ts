/**
 * The retraining Lambdas with their real wiring (S3 client, Powertools) against S3 served from memory by
 * aws-sdk-client-mock.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as baselineHandler } from '../../../lambdas/retraining-baseline/index';
import { handler as evaluateHandler } from '../../../lambdas/retraining-evaluate/index';
import { handler as manifestsHandler } from '../../../lambdas/retraining-manifests/index';
import { handler as planHandler } from '../../../lambdas/retraining-plan/index';

const s3 = mockClient(S3Client);
const objects = new Map<string, Buffer>();

beforeEach(() => {
  objects.clear();
  s3.reset();
  s3.on(GetObjectCommand).callsFake(({ Bucket, Key }) => {
    const body = objects.get(`${Bucket}/${Key}`);
    if (!body)
      throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
    return { Body: sdkStreamMixin(Readable.from([body])) };
  });
  s3.on(PutObjectCommand).callsFake(({ Bucket, Key, Body }) => {
    objects.set(`${Bucket}/${Key}`, Buffer.from(String(Body)));
    return {};
  });
  s3.on(ListObjectsV2Command).callsFake(({ Bucket, Prefix }) => ({
    Contents: [...objects.keys()]
      .filter((id) => id.startsWith(`${Bucket}/${Prefix}`))
      .map((id) => ({ Key: id.slice(String(Bucket).length + 1) })),
    IsTruncated: false,
  }));
});

test('manifests handler: reads the Athena result from S3 and writes both manifests and the class map', async () => {
  const rows = Array.from({ length: 200 }, (_, i) => `"img/${i}.png","${i % 2 ? 'defect' : 'ok'}"`);
  objects.set('curated/athena-results/q1.csv', Buffer.from(['"image_key","label"', ...rows].join('\n')));
  const result = await manifestsHandler({
    queryResultUri: 's3://curated/athena-results/q1.csv',
    outputUri: 's3://curated/datasets/run-9/',
    imageBucket: 'raw',
    validationFraction: 0.2,
    hyperparameters: { epochs: '3' },
  });
  expect(result).toMatchObject({
    records: 200,
    classes: ['defect', 'ok'],
    trainUri: 's3://curated/datasets/run-9/train.manifest',
  });
  const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
  expect(puts.sort()).toEqual([
    'datasets/run-9/classes.json',
    'datasets/run-9/train.manifest',
    'datasets/run-9/validation.images.manifest',
    'datasets/run-9/validation.manifest',
  ]);
});

test('baseline handler: profiles the gzipped UNLOAD output and writes profile.json for the drift checker', async () => {
  const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ f0: i, f1: i % 3 }));
  objects.set('curated/datasets/run-9/baseline/20261123_000000_00001_abcd_0.gz', gzipSync(lines.join('\n')));
  const result = await baselineHandler({
    sourceUri: 's3://curated/datasets/run-9/baseline/',
    artifactsBucket: 'artifacts',
    endpointName: 'mlbp-sandbox-recommender',
    datasetId: 'run-9',
    exclude: ['label'],
  });
  expect(result).toMatchObject({ records: 100, features: ['f0', 'f1'] });
  const profile = JSON.parse(
    objects.get('artifacts/drift/baselines/mlbp-sandbox-recommender/profile.json')!.toString(),
  );
  expect(profile).toMatchObject({
    kind: 'ml-blueprint/baseline-profile',
    records: 100,
    source: 's3://curated/datasets/run-9/baseline/',
  });
});

test('plan and evaluate handlers validate their input', async () => {
  await expect(planHandler({ executionName: 'x' })).rejects.toThrow();
  await expect(
    evaluateHandler({
      policy: { metricName: 'validation:auc', metricDirection: 'maximize', minImprovement: 0, absoluteFloor: 0.5 },
      candidateMetrics: [{ MetricName: 'validation:auc', Value: 0.7 }],
      champion: { found: false },
    }),
  ).resolves.toMatchObject({ promote: true });
});
