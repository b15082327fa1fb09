/**
 * The slate-outcome writer Lambda: its settings errors, and its real wiring (Athena and S3 clients, Powertools)
 * against aws-sdk-client-mock fakes — the UNLOAD started in the workgroup, polled to success, the marker put; a
 * failed query fails the invocation with Athena's reason.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { slateOutcomeSettingsFromEnv } from '../../../core/recommender/outcomes-settings';

const ENV: Record<string, string> = {
  CASE_STUDY: 'recommender',
  STAGE: 'sandbox',
  ENDPOINT_NAME: 'mlbp-sandbox-recommender',
  ARTIFACTS_BUCKET: 'artifacts-bucket',
  OUTCOMES_PREFIX: 'drift/outcomes/',
  DATABASE: 'ml_blueprint_sandbox_recommender',
  EVENTS_TABLE: 'interaction_events',
  SLATES_TABLE: 'served_slate_events',
  RAW_BUCKET: 'raw-bucket',
  SLATES_PREFIX: 'slates/',
  WORK_GROUP: 'ml-blueprint-sandbox-recommender',
  ATTRIBUTION_MINUTES: '10',
  DELIVERY_ALLOWANCE_MINUTES: '5',
  CATCH_UP_HOURS: '24',
  MAX_QUERY_WAIT_SECONDS: '600',
};

describe('settings', () => {
  test('parsed from the environment', () => {
    expect(slateOutcomeSettingsFromEnv(ENV)).toEqual({
      caseStudy: 'recommender',
      stage: 'sandbox',
      endpointName: 'mlbp-sandbox-recommender',
      artifactsBucket: 'artifacts-bucket',
      outcomesPrefix: 'drift/outcomes/',
      events: '"ml_blueprint_sandbox_recommender"."interaction_events"',
      slates: '"ml_blueprint_sandbox_recommender"."served_slate_events"',
      lake: { bucket: 'raw-bucket', slatesPrefix: 'slates/' },
      workGroup: 'ml-blueprint-sandbox-recommender',
      attributionMinutes: 10,
      deliveryAllowanceMinutes: 5,
      catchUpHours: 24,
      maxQueryWaitSeconds: 600,
    });
    const { OUTCOMES_PREFIX: _omitted, ...withoutPrefix } = ENV;
    expect(slateOutcomeSettingsFromEnv(withoutPrefix).outcomesPrefix).toBe('drift/outcomes/');
  });

  test.each([
    ['a missing variable', { WORK_GROUP: undefined }, 'environment variable WORK_GROUP is required'],
    [
      'a non-integer',
      { ATTRIBUTION_MINUTES: '10.5' },
      'environment variable ATTRIBUTION_MINUTES must be an integer from 1 to 1440; received "10.5"',
    ],
    [
      'a catch-up bound out of range',
      { CATCH_UP_HOURS: '0' },
      'environment variable CATCH_UP_HOURS must be an integer from 1 to 168; received "0"',
    ],
    [
      'a wait the Lambda cannot afford',
      { MAX_QUERY_WAIT_SECONDS: '900' },
      'environment variable MAX_QUERY_WAIT_SECONDS must be an integer from 10 to 840; received "900"',
    ],
    [
      'a table name that is not a plain name',
      { SLATES_TABLE: 'x"; DROP TABLE y; --' },
      'environment variables DATABASE and SLATES_TABLE: table name must be lowercase letters, digits and underscores; received "x"; DROP TABLE y; --"',
    ],
    [
      'a prefix without the slash',
      { SLATES_PREFIX: 'slates' },
      'environment variable SLATES_PREFIX must be a key prefix ending with "/"; received "slates"',
    ],
    [
      'an outcomes prefix without the slash',
      { OUTCOMES_PREFIX: 'drift/outcomes' },
      'environment variable OUTCOMES_PREFIX must be a key prefix ending with "/"; received "drift/outcomes"',
    ],
    [
      'a bucket name',
      { RAW_BUCKET: "raw'bucket" },
      `environment variable RAW_BUCKET must be a bucket name; received "raw'bucket"`,
    ],
  ])('%s fails naming the variable', (_, change, message) => {
    const env: Record<string, string | undefined> = { ...ENV, ...change };
    expect(() => slateOutcomeSettingsFromEnv(env)).toThrow(message);
  });
});

describe('handler', () => {
  const s3 = mockClient(S3Client);
  const athena = mockClient(AthenaClient);
  const puts: Array<{ Key?: string; Body?: unknown }> = [];
  type Handler = typeof import('../../../lambdas/slate-outcomes/index').handler;
  let handler: Handler;
  let stdout: jest.SpyInstance;

  beforeAll(async () => {
    Object.assign(process.env, ENV, {
      POWERTOOLS_SERVICE_NAME: 'slate-outcomes',
      POWERTOOLS_TRACE_ENABLED: 'false',
      AWS_REGION: 'us-east-1',
    });
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    handler = (await import('../../../lambdas/slate-outcomes/index')).handler;
  });
  afterAll(() => stdout.mockRestore());

  beforeEach(() => {
    puts.length = 0;
    s3.reset();
    athena.reset();
    // The lake holds slates in the 10:00 arrival partition only (slates of 09:00 arrived late): only 09:00 is
    // worth a query. Its destination is empty until the UNLOAD ran.
    s3.on(ListObjectsV2Command).callsFake(({ Bucket, Prefix }) => {
      if (Bucket === 'raw-bucket' && Prefix === 'slates/dt=2026-11-23/hour=10/') {
        return { Contents: [{ Key: `${Prefix}slates-1.parquet` }], IsTruncated: false };
      }
      const unloaded = athena.commandCalls(StartQueryExecutionCommand).length > 0;
      if (Bucket === 'artifacts-bucket' && String(Prefix).endsWith('/09/slates/') && unloaded) {
        return { Contents: [{ Key: `${Prefix}q1.gz` }], IsTruncated: false };
      }
      return { Contents: [], IsTruncated: false };
    });
    s3.on(HeadObjectCommand).rejects(new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'Not Found' }));
    s3.on(PutObjectCommand).callsFake((input) => {
      puts.push(input);
      return { ETag: '"1"' };
    });
    s3.on(DeleteObjectsCommand).resolves({});
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
  });

  const event = { time: '2026-11-23T10:20:00Z' };
  const context = { getRemainingTimeInMillis: () => 900_000 };

  test('starts the UNLOAD in the workgroup, waits for it and puts the marker', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    const result = await handler(event, context);
    expect(result.summary).toBe('1 written, 0 already written, 23 without slates, 0 deferred, 0 failed');
    const start = athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input;
    expect(start.WorkGroup).toBe('ml-blueprint-sandbox-recommender');
    expect(start.QueryString).toContain('FROM "ml_blueprint_sandbox_recommender"."served_slate_events"');
    expect(start.QueryString).toContain(
      "TO 's3://artifacts-bucket/drift/outcomes/mlbp-sandbox-recommender/2026/11/23/09/slates/'",
    );
    expect(puts.map((p) => p.Key)).toEqual(['drift/outcomes/mlbp-sandbox-recommender/2026/11/23/09/_slates.json']);
    expect(JSON.parse(String(puts[0].Body))).toMatchObject({
      hour: '2026-11-23T09:00:00.000Z',
      queryExecutionId: 'q1',
    });
  });

  test('a failed query fails the invocation with Athena’s reason and leaves no marker', async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'HIVE_BAD_DATA: bad file' } },
    });
    await expect(handler(event, context)).rejects.toThrow(
      'slate outcomes: 0 written, 0 already written, 23 without slates, 0 deferred, 1 failed: the slate outcomes of 2026-11-23T09:00:00.000Z were not written: Athena query q1 failed: HIVE_BAD_DATA: bad file',
    );
    expect(puts).toEqual([]);
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(0);
  });

  test('with too little time left no query starts', async () => {
    const result = await handler(event, { getRemainingTimeInMillis: () => 60_000 });
    expect(result.summary).toBe('0 written, 0 already written, 23 without slates, 1 deferred, 0 failed');
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });
});
