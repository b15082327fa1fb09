import {
  decodeRecord,
  processBatch,
  quarantineKey,
  type QuarantineDocument,
  type StreamRecord,
} from '../../../core/recommender/consume';
import { bucketStart } from '../../../core/recommender/features';
import { MemoryFeatureStore } from '../../support/memory-feature-store';

const NOW = new Date('2026-11-23T10:07:00.000Z');
const settings = { ttlHours: 48, popularityBucketMinutes: 15, popularityListSize: 3, ctrWindowMinutes: 60 };

let seq = 0;
function record(payload: unknown): StreamRecord {
  const n = String(++seq).padStart(10, '0');
  return {
    id: `shardId-000000000001:${n}`,
    sequenceNumber: n,
    partitionKey: 'p',
    data: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString('base64'),
    approximateArrivalTimestamp: NOW.getTime() / 1000,
  };
}
const event = (over: Record<string, unknown> = {}) => ({
  event_id: `e${++seq}`,
  event_type: 'view',
  user_id: 'u1',
  item_id: 'i1',
  event_time: '2026-11-23T10:05:00.000Z',
  surface: 'home',
  ...over,
});

function harness() {
  const store = new MemoryFeatureStore();
  const quarantined = new Map<string, QuarantineDocument>();
  const ports = {
    store,
    quarantine: async (key: string, doc: QuarantineDocument) => {
      quarantined.set(key, doc);
    },
    log: () => undefined,
  };
  return { store, quarantined, ports };
}

describe('decodeRecord', () => {
  test('names the reason: not JSON, schema (with the field), key too long', () => {
    expect(decodeRecord(record('{oops'))).toMatchObject({ ok: false, reason: 'not-json' });
    expect(decodeRecord(record(event({ event_type: 'hover' })))).toMatchObject({
      ok: false,
      reason: 'schema',
      detail: expect.stringMatching(/^event_type: /),
    });
    expect(decodeRecord(record(event({ colour: 'red' })))).toMatchObject({ ok: false, reason: 'schema' });
    expect(decodeRecord(record(event({ user_id: '€'.repeat(400) })))).toMatchObject({
      ok: false,
      reason: 'key-too-long',
    });
    expect(decodeRecord(record(event()))).toMatchObject({ ok: true });
  });

  test('quarantine keys are under the arrival date, per shard and sequence number', () => {
    const r = record('x');
    expect(quarantineKey(r)).toBe(`quarantine/dt=2026-11-23/shardId-000000000001/${r.sequenceNumber}.json`);
  });
});

describe('processBatch', () => {
  test('good events become features; bad ones are quarantined with the reason; nothing fails the batch', async () => {
    const { store, quarantined, ports } = harness();
    const records = [
      record(event({ item_id: 'a' })),
      record('not json'),
      record(event({ item_id: 'b', event_type: 'hover' })),
      record(event({ item_id: 'a', user_id: 'u2' })),
      record(event({ item_id: 'c', event_type: 'impression' })),
    ];
    const result = await processBatch(records, settings, ports, NOW);
    expect(result.batchItemFailures).toEqual([]);
    expect(result.summary).toMatchObject({ received: 5, valid: 3, failed: 0 });
    expect(result.summary.quarantined).toMatchObject({ 'not-json': 1, schema: 1 });
    expect([...quarantined.values()].map((d) => d.reason).sort()).toEqual(['not-json', 'schema']);
    const schemaDoc = [...quarantined.values()].find((d) => d.reason === 'schema')!;
    expect(schemaDoc.detail).toMatch(/event_type/);
    expect(JSON.parse(schemaDoc.data)).toMatchObject({ item_id: 'b' });
    const bucket = bucketStart(Date.parse('2026-11-23T10:05:00.000Z'), 15);
    // Impressions are not interactions: they do not count towards popularity.
    expect([...(await store.popular(bucket))]).toEqual([['a', 2]]);
    expect((await store.itemCounts(['c'], [bucket])).get('c')).toEqual({ interactions: 0, impressions: 1, clicks: 0 });
    expect((await store.recentInteractions('u2', 10)).map((r) => r.itemId)).toEqual(['a']);
  });

  test('a record the store rejects as invalid is quarantined; a transient failure is reported for retry', async () => {
    const { store, quarantined, ports } = harness();
    const poison = record(event({ user_id: 'poison' }));
    const flaky = record(event({ user_id: 'flaky' }));
    const good = record(event({ user_id: 'good' }));
    store.failures.putRecent = ([batch]) => {
      const users = (batch as { userId: string }[]).map((r) => r.userId);
      if (users.includes('poison')) return Object.assign(new Error('key too large'), { name: 'ValidationException' });
      if (users.includes('flaky'))
        return Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
      return undefined;
    };
    const result = await processBatch([poison, flaky, good], settings, ports, NOW);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: flaky.sequenceNumber }]);
    expect([...quarantined.values()].map((d) => [d.sequenceNumber, d.reason])).toEqual([
      [poison.sequenceNumber, 'rejected-by-store'],
    ]);
    expect(await store.recentInteractions('good', 10)).toHaveLength(1);
    expect(result.summary).toMatchObject({ valid: 1, failed: 1 });
  });

  test('a record that cannot even be quarantined is reported as failed (never dropped)', async () => {
    const { ports } = harness();
    const bad = record('nope');
    const result = await processBatch(
      [bad],
      settings,
      {
        ...ports,
        quarantine: async () => {
          throw new Error('S3 down');
        },
      },
      NOW,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: bad.sequenceNumber }]);
  });

  test('feedback joins predictions by inference id and counts CTR per model version and window', async () => {
    const { store, ports } = harness();
    await store.putPrediction({
      inferenceId: 'inf-1',
      modelVersion: 'v7',
      userId: 'u1',
      items: ['a', 'b'],
      fallback: false,
      createdAt: '',
    });
    await store.putPrediction({
      inferenceId: 'inf-2',
      modelVersion: 'fallback',
      userId: 'u1',
      items: ['a'],
      fallback: true,
      createdAt: '',
    });
    const result = await processBatch(
      [
        record(event({ event_type: 'impression', item_id: 'a', inference_id: 'inf-1' })),
        record(event({ event_type: 'impression', item_id: 'b', inference_id: 'inf-1' })),
        record(event({ event_type: 'click', item_id: 'a', inference_id: 'inf-1' })),
        record(event({ event_type: 'impression', item_id: 'a', inference_id: 'inf-2' })),
        record(event({ event_type: 'click', item_id: 'a', inference_id: 'unknown' })),
      ],
      settings,
      ports,
      NOW,
    );
    expect(result.summary).toMatchObject({ feedbackJoined: 4, feedbackUnjoined: 1 });
    const hour = bucketStart(Date.parse('2026-11-23T10:05:00.000Z'), 60);
    const counts = await store.ctrCounts(hour);
    expect(counts.find((c) => c.modelVersion === 'v7')).toMatchObject({ impressions: 2, clicks: 1 });
    expect(counts.find((c) => c.modelVersion === 'fallback')).toMatchObject({ impressions: 1, clicks: 0 });
  });

  test('duplicate events (same event id) in a batch count once', async () => {
    const { store, ports } = harness();
    const e = event({ item_id: 'dup' });
    await processBatch([record(e), record(e)], settings, ports, NOW);
    const bucket = bucketStart(Date.parse(e.event_time), 15);
    expect((await store.popular(bucket)).get('dup')).toBe(1);
  });

  test('the popularity list keeps the configured number of items', async () => {
    const { store, ports } = harness();
    const items = ['a', 'a', 'a', 'b', 'b', 'c', 'd'];
    await processBatch(
      items.map((i) => record(event({ item_id: i }))),
      settings,
      ports,
      NOW,
    );
    const bucket = bucketStart(Date.parse('2026-11-23T10:05:00.000Z'), 15);
    expect([...(await store.popular(bucket)).keys()]).toEqual(['a', 'b', 'c']);
  });
});
