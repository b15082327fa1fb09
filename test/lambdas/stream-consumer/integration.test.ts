/**
 * Producer → kinesalite → stream consumer handler → dynalite, with real AWS SDK v3 clients on loopback. The
 * producer sends synthetic traffic (plus bad and poison records) with batched PutRecords; the test reads the
 * shards back with GetRecords, hands them to the real Lambda handler in Lambda's event shape, and checks the
 * features in DynamoDB and the quarantined objects (S3 is served by aws-sdk-client-mock: there is no emulator).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { mockClient } from 'aws-sdk-client-mock';
import type { KinesisStreamEvent, KinesisStreamBatchResponse } from 'aws-lambda';
import { DynamoFeatureStore } from '../../../lambdas/shared/aws/dynamo-feature-store';
import { bucketStart } from '../../../core/recommender/features';
import { KinesisSender, toRecords } from '../../../src/producer/kinesis-sender';
import { ensureStream, kinesisClient } from '../../../src/producer/produce';
import { SyntheticTraffic } from '../../../src/producer/synthetic';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kinesalite = require('kinesalite') as (o: { createStreamMs: number }) => Server;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (o: { createTableMs: number }) => Server;

const STREAM = 'interactions';
const TABLE = 'features';
const s3 = mockClient(S3Client);
const quarantined = new Map<string, Record<string, unknown>>();
let kinesisServer: Server;
let dynamoServer: Server;
let kinesisEndpoint: string;
let store: DynamoFeatureStore;
let dynamo: DynamoDBClient;
let handler: (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
const close = (server: Server) => new Promise((resolve) => server.close(resolve));

beforeAll(async () => {
  kinesisServer = kinesalite({ createStreamMs: 0 });
  dynamoServer = dynalite({ createTableMs: 0 });
  kinesisEndpoint = await listen(kinesisServer);
  const dynamoEndpoint = await listen(dynamoServer);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    CASE_STUDY: 'recommender',
    STAGE: 'sandbox',
    TABLE_NAME: TABLE,
    RAW_BUCKET: 'raw-bucket',
    FEATURE_TTL_HOURS: '48',
    POPULARITY_BUCKET_MINUTES: '15',
    POPULARITY_LIST_SIZE: '500',
    CTR_WINDOW_MINUTES: '60',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  dynamo = new DynamoDBClient({ endpoint: dynamoEndpoint, requestHandler: new NodeHttpHandler() });
  await dynamo.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  store = new DynamoFeatureStore(DynamoDBDocumentClient.from(dynamo), TABLE);
  s3.on(PutObjectCommand).callsFake(({ Key, Body }) => {
    quarantined.set(String(Key), JSON.parse(String(Body)));
    return {};
  });
  // The real handler module, wired from the environment above (clients created once, at import).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = require('../../../lambdas/stream-consumer/index').handler;
});

afterAll(async () => {
  dynamo?.destroy();
  s3.restore();
  await Promise.all([kinesisServer && close(kinesisServer), dynamoServer && close(dynamoServer)]);
});

/** Reads every record of every shard back and groups it in Lambda-style batches. */
async function readBatches(batchSize: number): Promise<KinesisStreamEvent[]> {
  const client = kinesisClient({ endpoint: kinesisEndpoint });
  const shards = (await client.send(new ListShardsCommand({ StreamName: STREAM }))).Shards ?? [];
  const events: KinesisStreamEvent[] = [];
  for (const shard of shards) {
    const it = await client.send(
      new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const out = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 10_000 }));
    const records = (out.Records ?? []).map((r) => ({
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shard.ShardId}:${r.SequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/consumer',
      awsRegion: 'us-east-1',
      eventSourceARN: `arn:aws:kinesis:us-east-1:123456789012:stream/${STREAM}`,
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.PartitionKey as string,
        sequenceNumber: r.SequenceNumber as string,
        data: Buffer.from(r.Data as Uint8Array).toString('base64'),
        approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp as Date).getTime() / 1000,
      },
    }));
    for (let i = 0; i < records.length; i += batchSize) events.push({ Records: records.slice(i, i + batchSize) });
  }
  client.destroy();
  return events;
}

test('good events land as features, bad events are quarantined, a poison record does not block its batch', async () => {
  const now = new Date();
  const traffic = new SyntheticTraffic({ seed: 3, items: 200, users: 40, clock: () => now });
  const events = traffic.take(300);
  // Half of the sessions were "served": their predictions exist, so their feedback joins.
  const inferenceIds = [...new Set(events.map((e) => String(e.inference_id)))];
  const served = new Set(inferenceIds.filter((_, i) => i % 2 === 0));
  for (const id of served) {
    await store.putPrediction(
      {
        inferenceId: id,
        modelVersion: 'mlbp-sandbox-recommender-run-1',
        userId: 'x',
        items: [],
        fallback: false,
        createdAt: now.toISOString(),
      },
      Math.floor(now.getTime() / 1000) + 3600,
    );
  }
  const bad = [
    { data: Buffer.from('{"event_id": "truncated'), partitionKey: 'user-0000001' },
    {
      data: Buffer.from(JSON.stringify({ ...events[0], event_id: 'bad-type', event_type: 'hover' })),
      partitionKey: 'user-0000001',
    },
    // Passes the schema (≤ 1024 characters) but is 1,200 bytes: a DynamoDB key that large would poison the batch.
    {
      data: Buffer.from(JSON.stringify({ ...events[1], event_id: 'poison', user_id: '€'.repeat(400) })),
      partitionKey: 'user-0000001',
    },
  ];
  const records = toRecords(events);
  records.splice(100, 0, bad[0]);
  records.splice(150, 0, bad[1]);
  records.splice(200, 0, bad[2]);

  const client = kinesisClient({ endpoint: kinesisEndpoint });
  await ensureStream(client, STREAM, 2);
  const sender = new KinesisSender(client, { stream: STREAM });
  await sender.putAll(records);
  client.destroy();
  expect(sender.stats).toMatchObject({ sent: 303, failed: 0 });

  const batches = await readBatches(100);
  expect(batches.flatMap((b) => b.Records)).toHaveLength(303);
  for (const batch of batches) {
    expect(await handler(batch)).toEqual({ batchItemFailures: [] });
  }

  // Quarantine: one object per bad record, under quarantine/dt=<arrival date>/, with the reason.
  const docs = [...quarantined.entries()];
  expect(docs).toHaveLength(3);
  for (const [key] of docs) expect(key).toMatch(/^quarantine\/dt=\d{4}-\d{2}-\d{2}\/shardId-\d+\/\d+\.json$/);
  expect(docs.map(([, d]) => d.reason).sort()).toEqual(['key-too-long', 'not-json', 'schema']);

  // Recent interactions per user, newest first.
  const user = String(events[0].user_id);
  const mine = events.filter((e) => e.user_id === user);
  const recent = await store.recentInteractions(user, 1000);
  expect(recent).toHaveLength(mine.length);
  expect(recent.map((r) => r.eventTime)).toEqual([...recent.map((r) => r.eventTime)].sort().reverse());

  // Popularity per bucket: exactly the interactions (not impressions) produced.
  const expected = new Map<number, Map<string, number>>();
  for (const e of events) {
    if (e.event_type === 'impression') continue;
    const b = bucketStart(Date.parse(String(e.event_time)), 15);
    const m = expected.get(b) ?? new Map<string, number>();
    m.set(String(e.item_id), (m.get(String(e.item_id)) ?? 0) + 1);
    expected.set(b, m);
  }
  for (const [b, m] of expected) expect(Object.fromEntries(await store.popular(b))).toEqual(Object.fromEntries(m));

  // Item counters of the most shown item.
  const top = String(events.filter((e) => e.event_type === 'impression')[0].item_id);
  const buckets = [...new Set(events.map((e) => bucketStart(Date.parse(String(e.event_time)), 15)))];
  const counts = (await store.itemCounts([top], buckets)).get(top)!;
  expect(counts.impressions).toBe(events.filter((e) => e.item_id === top && e.event_type === 'impression').length);
  expect(counts.clicks).toBe(events.filter((e) => e.item_id === top && e.event_type === 'click').length);

  // CTR per model version: the feedback of served sessions only.
  const joined = events.filter((e) => served.has(String(e.inference_id)));
  const hours = [...new Set(events.map((e) => bucketStart(Date.parse(String(e.event_time)), 60)))];
  const ctr = (await Promise.all(hours.map((h) => store.ctrCounts(h)))).flat();
  expect(ctr.every((c) => c.modelVersion === 'mlbp-sandbox-recommender-run-1')).toBe(true);
  expect(ctr.reduce((a, c) => a + c.impressions, 0)).toBe(joined.filter((e) => e.event_type === 'impression').length);
  expect(ctr.reduce((a, c) => a + c.clicks, 0)).toBe(joined.filter((e) => e.event_type === 'click').length);
  expect(ctr.reduce((a, c) => a + c.clicks, 0)).toBeGreaterThan(0);
});
