/**
 * Served slates on the stream: validated against the schema and the feature contract; a malformed slate is
 * quarantined with its reason by the consumer, next to malformed interactions, and the batch goes on.
 */
import { processBatch, type QuarantineDocument, type StreamRecord } from '../../../core/recommender/consume';
import { FEATURE_VERSION, NUM_FEATURES } from '../../../core/recommender/contract';
import { validateSlate, type ServedSlate } from '../../../core/recommender/slate';
import { MemoryFeatureStore } from '../../support/memory-feature-store';

const NOW = new Date('2026-11-23T10:07:00.000Z');
const vector = Array.from({ length: NUM_FEATURES }, (_, i) => i / 10);
const slate = (over: Partial<ServedSlate> = {}): ServedSlate => ({
  record_type: 'served_slate',
  inference_id: 'inf-1',
  event_time: '2026-11-23T10:05:00.000Z',
  user_id: 'u1',
  surface: 'home',
  model_version: 'm-1',
  feature_version: FEATURE_VERSION,
  fallback: false,
  candidates: 30,
  items: [
    { item_id: 'a', position: 0, score: 0.9, source: 'covisit', features: vector },
    { item_id: 'b', position: 1, score: 0.4, source: 'trending', features: vector },
  ],
  ...over,
});

test('a well-formed slate is valid', () => {
  expect(validateSlate(slate())).toMatchObject({ ok: true });
  expect(validateSlate(slate({ fallback: true, model_version: 'fallback', fallback_reason: 'timeout' }))).toMatchObject(
    { ok: true },
  );
});

test.each([
  [
    'a vector of the wrong width',
    { items: [{ item_id: 'a', position: 0, score: 1, source: 'covisit' as const, features: [1, 2] }] },
    /items\.0\.features: 2 features; the contract \(version 2\) has 12/,
  ],
  ['another feature version', { feature_version: 1 }, /feature_version 1 is not the contract's \(2\)/],
  [
    'positions out of order',
    { items: [{ item_id: 'a', position: 3, score: 1, source: 'covisit' as const, features: vector }] },
    /items\.0\.position: 3; expected 0/,
  ],
  ['fallback flag and model version disagree', { fallback: true }, /fallback is true but model_version is "m-1"/],
  [
    'an unknown candidate source',
    { items: [{ item_id: 'a', position: 0, score: 1, source: 'magic' as never, features: vector }] },
    /items\.0\.source/,
  ],
  ['a missing inference id', { inference_id: undefined as never }, /inference_id/],
])('rejects %s, naming it', (_name, over, reason) => {
  const result = validateSlate(slate(over));
  expect(result.ok).toBe(false);
  expect(result.ok ? '' : result.detail).toMatch(reason);
});

test('the consumer quarantines a bad slate with its reason and goes on with the batch; good slates are counted', async () => {
  const store = new MemoryFeatureStore();
  const quarantined: QuarantineDocument[] = [];
  let seq = 0;
  const record = (payload: unknown): StreamRecord => ({
    id: `shardId-000000000000:${++seq}`,
    sequenceNumber: String(seq),
    partitionKey: 'u1',
    data: Buffer.from(JSON.stringify(payload)).toString('base64'),
    approximateArrivalTimestamp: NOW.getTime() / 1000,
  });
  const result = await processBatch(
    [
      record(slate()),
      record(
        slate({
          inference_id: 'inf-2',
          items: [{ item_id: 'a', position: 0, score: 1, source: 'covisit', features: [Number.NaN] }],
        }),
      ),
      record({
        event_id: 'e1',
        event_type: 'click',
        user_id: 'u1',
        item_id: 'a',
        event_time: '2026-11-23T10:05:30.000Z',
        surface: 'home',
        inference_id: 'inf-1',
        category: 'books',
      }),
    ],
    { ttlHours: 48, popularityBucketMinutes: 15, popularityListSize: 10, ctrWindowMinutes: 60 },
    { store, quarantine: async (_key, doc) => void quarantined.push(doc), log: () => undefined },
    NOW,
  );
  expect(result.batchItemFailures).toEqual([]);
  expect(result.summary).toMatchObject({ received: 3, valid: 1, slates: 1, newItems: 1 });
  expect(quarantined).toHaveLength(1);
  expect(quarantined[0]).toMatchObject({ reason: 'schema', sequenceNumber: '2' });
  expect(quarantined[0].detail).toMatch(/^served_slate: items\.0\.features/);
  expect(JSON.parse(quarantined[0].data)).toMatchObject({ inference_id: 'inf-2' });
  // The interaction's category is kept with the user's engagement and the item's catalogue facts.
  expect(await store.recentEngagements('u1', 5)).toMatchObject([{ itemId: 'a', category: 'books' }]);
  expect((await store.itemMeta(['a'])).get('a')).toMatchObject({ category: 'books' });
});
