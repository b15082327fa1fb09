/**
 * The Lambda handler with its real wiring (S3 client, EventBridge client, Powertools) against a fake S3 and
 * EventBridge built on aws-sdk-client-mock: the SDK commands the handler sends are served from memory.
 */
import { Readable } from 'node:stream';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { ProfileAccumulator, toBaselineProfile } from '../../../core/drift/profile';
import { createRng } from '../../../core/drift/stats';
import { captureLine } from '../../support/capture';

const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
const objects = new Map<string, { body: string; etag: string }>();
let version = 0;

function fakeS3() {
  s3.reset();
  s3.on(GetObjectCommand).callsFake(({ Bucket, Key }) => {
    const o = objects.get(`${Bucket}/${Key}`);
    if (!o) throw new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
    return { Body: sdkStreamMixin(Readable.from([Buffer.from(o.body)])), ETag: o.etag };
  });
  s3.on(HeadObjectCommand).callsFake(({ Bucket, Key }) => {
    if (!objects.has(`${Bucket}/${Key}`))
      throw new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'Not Found' });
    return {};
  });
  s3.on(PutObjectCommand).callsFake(({ Bucket, Key, Body, IfNoneMatch, IfMatch }) => {
    const id = `${Bucket}/${Key}`;
    const existing = objects.get(id);
    if ((IfNoneMatch === '*' && existing) || (IfMatch && existing?.etag !== IfMatch)) {
      throw new S3ServiceException({
        name: 'PreconditionFailed',
        $fault: 'client',
        $metadata: { httpStatusCode: 412 },
      });
    }
    objects.set(id, { body: String(Body), etag: `"${++version}"` });
    return { ETag: `"${version}"` };
  });
  s3.on(ListObjectsV2Command).callsFake(({ Bucket, Prefix = '', Delimiter }) => {
    const keys = [...objects.keys()]
      .filter((k) => k.startsWith(`${Bucket}/${Prefix}`))
      .map((k) => k.slice(Bucket.length + 1));
    if (Delimiter) {
      const prefixes = [
        ...new Set(
          keys
            .map((k) => k.slice(Prefix.length))
            .filter((r) => r.includes('/'))
            .map((r) => Prefix + r.slice(0, r.indexOf('/') + 1)),
        ),
      ];
      return { CommonPrefixes: prefixes.map((p) => ({ Prefix: p })), IsTruncated: false };
    }
    return { Contents: keys.map((Key) => ({ Key })), IsTruncated: false };
  });
}

const ENV = {
  CASE_STUDY: 'vision',
  STAGE: 'sandbox',
  ENDPOINT_NAME: 'mlbp-sandbox-vision',
  CAPTURE_BUCKET: 'capture-bucket',
  CAPTURE_PREFIX: 'datacapture/',
  ARTIFACTS_BUCKET: 'artifacts-bucket',
  WINDOW_MINUTES: '60',
  EVENT_BUS_NAME: 'default',
  POWERTOOLS_METRICS_NAMESPACE: 'MlBlueprint/Drift',
  POWERTOOLS_SERVICE_NAME: 'drift-checker',
  POWERTOOLS_TRACE_ENABLED: 'false',
  AWS_REGION: 'us-east-1',
  DRIFT_POLICY: JSON.stringify({
    alpha: 0.05,
    correction: 'bonferroni',
    driftedShareThreshold: 0.5,
    minWindowSize: 100,
    thresholds: { psi: 0.2, jensenShannon: 0.1, wassersteinNormalized: 0.1, cramersV: 0.1 },
    retraining: { windowsRequired: 1, windowsConsidered: 1, cooldownHours: 1 },
  }),
};

type Handler = typeof import('../../../lambdas/drift-checker/index').handler;
let handler: Handler;
let stdout: jest.SpyInstance;

beforeAll(async () => {
  Object.assign(process.env, ENV);
  stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  handler = (await import('../../../lambdas/drift-checker/index')).handler;
});
afterAll(() => stdout.mockRestore());

beforeEach(() => {
  objects.clear();
  fakeS3();
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  stdout.mockClear();
});

function seed(shift: number) {
  const rng = createRng(9);
  const acc = new ProfileAccumulator();
  for (let i = 0; i < 2000; i++)
    acc.add({ brightness: 100 + 20 * rng.nextNormal(), 'output.predicted_class': String(rng.nextInt(3)) });
  objects.set('artifacts-bucket/drift/baselines/mlbp-sandbox-vision/profile.json', {
    body: JSON.stringify(toBaselineProfile(acc)),
    etag: '"b"',
  });
  const lines = Array.from({ length: 500 }, (_, i) =>
    captureLine({
      features: { brightness: 100 + shift * 40 + 20 * rng.nextNormal() },
      output: { predicted_class: String(shift > 0 ? 0 : rng.nextInt(3)) },
      time: new Date(Date.UTC(2026, 10, 23, 10, i % 60)),
      encoding: 'BASE64',
    }),
  );
  objects.set('capture-bucket/datacapture/mlbp-sandbox-vision/AllTraffic/2026/11/23/10/x.jsonl', {
    body: lines.join('\n'),
    etag: '"c"',
  });
}

const scheduled = { time: '2026-11-23T11:00:30Z', 'detail-type': 'Scheduled Event' as const, source: 'aws.events' };

function emf(): Array<Record<string, unknown>> {
  return stdout.mock.calls
    .map((c) => String(c[0]))
    .flatMap((s) => s.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l));
}

test('drift: report in S3, ModelDriftDetected on the bus, EMF metrics with case study, endpoint and feature', async () => {
  seed(1);
  const result = await handler(scheduled);
  expect(result).toMatchObject({ status: 'reported', drifted: true, retrainingRequested: true, records: 500 });
  const put = events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0];
  expect(put).toMatchObject({
    Source: 'ml-blueprint.drift',
    DetailType: 'ModelDriftDetected',
    EventBusName: 'default',
  });
  expect(JSON.parse(put.Detail!)).toMatchObject({ caseStudy: 'vision', endpointName: 'mlbp-sandbox-vision' });
  expect(objects.has('artifacts-bucket/drift/reports/mlbp-sandbox-vision/2026-11-23T11:00:00.000Z.json')).toBe(true);
  expect(objects.has('artifacts-bucket/drift/state/mlbp-sandbox-vision.json')).toBe(true);
  const metrics = emf();
  const dataset = metrics.find((m) => 'DatasetDrifted' in m)!;
  expect(dataset).toMatchObject({ CaseStudy: 'vision', Endpoint: 'mlbp-sandbox-vision', DatasetDrifted: 1 });
  const feature = metrics.find((m) => m.Feature === 'brightness')!;
  expect(feature).toMatchObject({ FeatureDrifted: 1, Endpoint: 'mlbp-sandbox-vision' });
  expect(JSON.stringify(feature._aws)).toContain('MlBlueprint/Drift');
  // The alarms in DriftMonitor match on exactly these dimension sets (Powertools adds `service`).
  const dims = (m: Record<string, unknown>) =>
    (m._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }).CloudWatchMetrics[0].Dimensions[0]
      .slice()
      .sort();
  expect(dims(dataset)).toEqual(['CaseStudy', 'Endpoint', 'service']);
  expect(dims(feature)).toEqual(['CaseStudy', 'Endpoint', 'Feature', 'service']);
  // Every feature-level metric keeps the feature's dimensions (a single metric flushes on its first value).
  for (const name of ['DriftEffect', 'DriftAdjustedPValue']) {
    const line = metrics.find((m) => name in m && m.Feature === 'brightness')!;
    expect(dims(line)).toEqual(['CaseStudy', 'Endpoint', 'Feature', 'service']);
  }
  expect(dataset.service).toBe('drift-checker');
});

test('realised quality: EMF metrics per metric with its interval, and a drop requests retraining', async () => {
  seed(0);
  const label = (i: number) =>
    JSON.stringify({
      kind: 'label',
      time: new Date(Date.UTC(2026, 10, 23, 9, i % 60)).toISOString(),
      modelVersion: 'v2',
      predicted: 'car',
      label: i % 10 < 6 ? 'car' : 'bike',
    });
  objects.set('artifacts-bucket/drift/outcomes/mlbp-sandbox-vision/2026/11/23/09/audit.jsonl', {
    body: Array.from({ length: 300 }, (_, i) => label(i)).join('\n'),
    etag: '"o"',
  });
  objects.set('artifacts-bucket/drift/baselines/mlbp-sandbox-vision/quality.json', {
    body: JSON.stringify({
      kind: 'ml-blueprint/quality-baseline',
      version: 1,
      createdAt: '2026-11-20T00:00:00Z',
      source: 'validation',
      metrics: { accuracy: { kind: 'proportion', successes: 900, trials: 1000 } },
    }),
    etag: '"q"',
  });
  const result = await handler(scheduled);
  expect(result.quality).toMatchObject({ windowEnd: '2026-11-23T10:00:00.000Z', dropped: ['accuracy'] });
  // A single metric is flushed as its own EMF line: merge the lines of the accuracy metric.
  const accuracy = Object.assign({}, ...emf().filter((m) => m.Metric === 'accuracy')) as Record<string, unknown>;
  expect(accuracy).toMatchObject({
    RealisedQuality: 0.6,
    QualityDropped: 1,
    QualitySamples: 300,
    Endpoint: 'mlbp-sandbox-vision',
  });
  expect(accuracy.RealisedQualityLower as number).toBeLessThan(0.6);
  expect(accuracy.RealisedQualityUpper as number).toBeGreaterThan(0.6);
  // The dataset-level count the QualityDropAlarm watches (no Metric dimension).
  expect(emf().find((m) => 'QualityRetrainingRequested' in m)).toMatchObject({
    QualityDropped: 1,
    QualityRetrainingRequested: 1,
    Endpoint: 'mlbp-sandbox-vision',
  });
  const detail = JSON.parse(events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].Detail!);
  expect(detail).toMatchObject({ qualityDropped: ['accuracy'], windowEnd: '2026-11-23T10:00:00.000Z' });
});

test('no baseline: no crash, a BaselineMissing metric, nothing written', async () => {
  const result = await handler(scheduled);
  expect(result.status).toBe('no-baseline');
  expect(emf().find((m) => 'BaselineMissing' in m)).toMatchObject({ BaselineMissing: 1 });
  expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
});

test('a failed PutEvents entry fails the invocation so it is retried and dead-lettered', async () => {
  seed(1);
  events
    .on(PutEventsCommand)
    .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] });
  await expect(handler(scheduled)).rejects.toThrow(/PutEvents failed: \["boom"\]/);
});

test('a bad event time is rejected with the value', async () => {
  await expect(handler({ time: 'yesterday' })).rejects.toThrow('event.time is not a valid time: yesterday');
});
