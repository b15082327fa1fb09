/**
 * The load producer: PutRecords batching within the API limits, retrying only the failed records with backoff,
 * realistic skew (Zipf) and the drift switch, and the `npm run produce` contract against a local stream.
 */
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { eventValidator, INTERACTION_EVENT_SCHEMA } from '../../core/contracts/events';
import { parseProduceArgs } from '../../src/cli/produce';
import {
  KinesisSender,
  planBatches,
  recordSize,
  toRecords,
  type OutgoingRecord,
} from '../../src/producer/kinesis-sender';
import { kinesisClient } from '../../src/producer/produce';
import { SyntheticTraffic, ZipfSampler } from '../../src/producer/synthetic';

const rec = (bytes: number, key = 'k'): OutgoingRecord => ({ data: Buffer.alloc(bytes), partitionKey: key });

describe('batching', () => {
  test('at most 500 records per call, order kept', () => {
    const records = Array.from({ length: 1200 }, (_, i) => rec(10, `k${i}`));
    const batches = planBatches(records);
    expect(batches.map((b) => b.length)).toEqual([500, 500, 200]);
    expect(batches.flat()).toEqual(records);
  });

  test('at most 5 MiB per call (data and partition keys counted)', () => {
    const batches = planBatches(Array.from({ length: 10 }, () => rec(600 * 1024)));
    expect(batches.map((b) => b.length)).toEqual([8, 2]);
    for (const b of batches) expect(b.reduce((a, r) => a + recordSize(r), 0)).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  test('a record above 1 MiB is refused before any call', () => {
    expect(() => planBatches([rec(1024 * 1024)])).toThrow(/at most 1048576/);
  });
});

describe('retries', () => {
  const kinesis = mockClient(KinesisClient);
  afterAll(() => kinesis.restore());
  beforeEach(() => kinesis.reset());

  test('only the failed records are re-sent, with growing backoff', async () => {
    const failing = new Set(['k1', 'k3']);
    let call = 0;
    kinesis.on(PutRecordsCommand).callsFake(({ Records }) => {
      call++;
      return {
        FailedRecordCount: call === 1 ? 2 : 0,
        Records: Records.map((r: { PartitionKey: string }) =>
          call === 1 && failing.has(r.PartitionKey)
            ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }
            : { SequenceNumber: '1', ShardId: 'shardId-0' },
        ),
      };
    });
    const sleeps: number[] = [];
    const sender = new KinesisSender(new KinesisClient({ region: 'us-east-1' }), {
      stream: 's',
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 1,
    });
    await sender.putBatch(['k0', 'k1', 'k2', 'k3', 'k4'].map((k) => rec(5, k)));
    const calls = kinesis.commandCalls(PutRecordsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1].args[0].input.Records!.map((r) => r.PartitionKey)).toEqual(['k1', 'k3']);
    expect(sender.stats).toEqual({ sent: 5, failed: 0, retried: 2, calls: 2 });
    expect(sleeps).toEqual([100]);
  });

  test('gives up after maxAttempts and counts the records as failed (never silently)', async () => {
    kinesis.on(PutRecordsCommand).callsFake(({ Records }) => ({
      FailedRecordCount: 1,
      Records: Records.map((r: { PartitionKey: string }) =>
        r.PartitionKey === 'bad' ? { ErrorCode: 'InternalFailure' } : { SequenceNumber: '1' },
      ),
    }));
    const sleeps: number[] = [];
    const sender = new KinesisSender(new KinesisClient({ region: 'us-east-1' }), {
      stream: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
      maxAttempts: 4,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 1,
    });
    await sender.putBatch([rec(5, 'ok'), rec(5, 'bad')]);
    expect(sender.stats).toMatchObject({ sent: 1, failed: 1, calls: 4 });
    expect(sleeps).toEqual([100, 200, 400]);
    expect(kinesis.commandCalls(PutRecordsCommand)[0].args[0].input.StreamARN).toBe(
      'arn:aws:kinesis:us-east-1:123456789012:stream/s',
    );
  });
});

describe('synthetic traffic', () => {
  test('Zipf sampler frequencies match the distribution', () => {
    const z = new ZipfSampler(1000, 1.1);
    const counts = new Array(1000).fill(0);
    for (let i = 0; i < 100_000; i++) counts[z.rank((i + 0.5) / 100_000)]++;
    expect(counts[0] / 100_000).toBeCloseTo(z.probability(0), 3);
    expect(counts[9] / 100_000).toBeCloseTo(z.probability(9), 3);
  });

  test('events validate against the schema; popularity is skewed; feedback carries inference ids', () => {
    const events = new SyntheticTraffic({ seed: 1 }).take(20_000);
    const validate = eventValidator(INTERACTION_EVENT_SCHEMA);
    for (const e of events.slice(0, 2000)) expect(validate.safeParse(e).success).toBe(true);
    const impressions = events.filter((e) => e.event_type === 'impression');
    const byItem = new Map<string, number>();
    for (const e of impressions) byItem.set(String(e.item_id), (byItem.get(String(e.item_id)) ?? 0) + 1);
    const sorted = [...byItem.values()].sort((a, b) => b - a);
    const top100 = sorted.slice(0, 100).reduce((a, b) => a + b, 0);
    expect(top100 / impressions.length).toBeGreaterThan(0.4); // 1% of the catalogue, > 40% of impressions
    expect(impressions.every((e) => typeof e.inference_id === 'string')).toBe(true);
    const ctr = events.filter((e) => e.event_type === 'click').length / impressions.length;
    expect(ctr).toBeGreaterThan(0.03);
    expect(ctr).toBeLessThan(0.2);
  });

  test('--drift changes which items are popular and lowers the click-through rate', () => {
    const stats = (drift: boolean) => {
      const events = new SyntheticTraffic({ seed: 1, drift }).take(20_000);
      const imp = events.filter((e) => e.event_type === 'impression');
      const top = new Map<string, number>();
      for (const e of imp) top.set(String(e.item_id), (top.get(String(e.item_id)) ?? 0) + 1);
      return {
        top: [...top].sort((a, b) => b[1] - a[1])[0][0],
        ctr: events.filter((e) => e.event_type === 'click').length / imp.length,
        mobile: events.filter((e) => e.device === 'mobile').length / events.length,
      };
    };
    const base = stats(false);
    const drifted = stats(true);
    expect(base.top).toBe('item-000000');
    expect(drifted.top).not.toBe(base.top);
    expect(drifted.ctr).toBeLessThan(base.ctr * 0.7);
    expect(drifted.mobile).toBeGreaterThan(base.mobile + 0.2);
  });
});

describe('npm run produce', () => {
  test('arguments are checked with a message naming the flag', () => {
    expect(() => parseProduceArgs(['--case', 'vision', '--rate', '1', '--seconds', '1'])).toThrow(
      /--case must be recommender/,
    );
    expect(() => parseProduceArgs(['--case', 'recommender', '--rate', '0', '--seconds', '1'])).toThrow(
      /--rate must be a positive/,
    );
    expect(() => parseProduceArgs(['--case', 'recommender', '--rate', '5', '--seconds', 'x'])).toThrow(/--seconds/);
    expect(parseProduceArgs(['--case', 'recommender', '--rate', '5', '--seconds', '2', '--drift'])).toMatchObject({
      rate: 5,
      seconds: 2,
      drift: true,
      stage: 'sandbox',
    });
  });

  test('sends the requested rate × seconds to a local stream (kinesalite), creating it', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const server = (require('kinesalite') as (o: { createStreamMs: number }) => Server)({ createStreamMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const root = join(__dirname, '..', '..');
      const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
            'src/cli/produce.ts',
            '--case',
            'recommender',
            '--rate',
            '300',
            '--seconds',
            '1',
            '--endpoint',
            endpoint,
          ],
          { cwd: root },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(out.stderr).not.toMatch(/produce: /);
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/done: 300 events accepted/);
      const client = kinesisClient({ endpoint });
      const shards = (await client.send(new ListShardsCommand({ StreamName: 'mlbp-local-recommender' }))).Shards ?? [];
      let total = 0;
      for (const shard of shards) {
        const it = await client.send(
          new GetShardIteratorCommand({
            StreamName: 'mlbp-local-recommender',
            ShardId: shard.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        total += (await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))).Records?.length ?? 0;
      }
      client.destroy();
      expect(total).toBe(300);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('toRecords partitions by user', () => {
    expect(toRecords([{ user_id: 'u1', event_id: 'e' }])[0].partitionKey).toBe('u1');
  });
});
