/**
 * The serving logic's two stages with an in-memory feature store: candidates from co-visitation, trending and fresh
 * items; each candidate's vector from the contract; the request's inference id sent with the scoring call; the
 * model's JSON answer (its version, its feature version checked); the slate logged with the vectors as scored.
 */
import { FEATURE_NAMES, NUM_FEATURES } from '../../../core/recommender/contract';
import { bucketStart } from '../../../core/recommender/features';
import {
  parseModelResponse,
  recommend,
  reserveFreshSlots,
  type Scorer,
  type ServingSettings,
} from '../../../core/recommender/recommend';
import type { ServedSlate } from '../../../core/recommender/slate';
import { MemoryFeatureStore } from '../../support/memory-feature-store';

const NOW = new Date('2026-11-23T10:07:30.000Z');
const settings: ServingSettings = {
  endpointName: 'e',
  invokeTimeoutMs: 1000,
  candidates: 6,
  maxK: 5,
  recentItemsPerUser: 20,
  popularityBucketMinutes: 15,
  predictionTtlHours: 48,
  quotas: { covisit: 0.34, fresh: 0.17 },
  freshSlots: 1,
};

function world() {
  const store = new MemoryFeatureStore();
  const bucket = bucketStart(NOW, 15);
  store.popularLists.set(
    bucket,
    new Map([
      ['p1', 50],
      ['p2', 40],
      ['p3', 30],
      ['p4', 20],
      ['p5', 10],
    ]),
  );
  store.freshLists.set(bucket, new Map([['f1', 1_795_000_000]]));
  store.recent.set('u1', [
    {
      userId: 'u1',
      itemId: 'r1',
      eventType: 'click',
      eventTime: '2026-11-23T10:01:00.000Z',
      eventId: 'e2',
      category: 'books',
    },
    { userId: 'u1', itemId: 'x', eventType: 'impression', eventTime: '2026-11-23T10:00:30.000Z', eventId: 'e1' },
  ]);
  store.neighbourLists.set('r1', [
    { itemId: 'c1', strength: 6 },
    { itemId: 'c2', strength: 2 },
  ]);
  store.meta.set('c1', { category: 'books', firstSeen: 0 });
  return store;
}

test('candidates from every source are scored with contract vectors; the slate is logged as served', async () => {
  const store = world();
  const calls: { csv: string; inferenceId?: string }[] = [];
  // The model likes co-visited items and dislikes fresh ones, so the reserved slot is visible.
  const score: Scorer = async (csv, rows, _timeout, inferenceId) => {
    calls.push({ csv, inferenceId });
    const covisit = FEATURE_NAMES.indexOf('covisit_strength');
    const lines = csv.split('\n').map((l) => l.split(',').map(Number));
    return { scores: lines.map((v, i) => v[covisit] * 10 + (rows - i) * 0.01), modelVersion: 'm-7' };
  };
  const slates: ServedSlate[] = [];
  const { response, slate, slateLogged } = await recommend(
    { userId: 'u1', k: 3, surface: 'search', device: 'tv' },
    settings,
    {
      store,
      score,
      newInferenceId: () => 'inf-9',
      now: () => NOW,
      log: () => undefined,
      logSlate: async (s) => void slates.push(s),
    },
  );
  expect(calls).toHaveLength(1);
  expect(calls[0].inferenceId).toBe('inf-9');
  const rows = calls[0].csv.split('\n');
  expect(rows).toHaveLength(6);
  expect(rows.every((r) => r.split(',').length === NUM_FEATURES)).toBe(true);
  expect(response.items.map((i) => i.itemId)).toEqual(['c1', 'c2', 'f1']);
  expect(slateLogged).toBe(true);
  expect(slates).toEqual([slate]);
  expect(slate).toMatchObject({
    record_type: 'served_slate',
    inference_id: 'inf-9',
    user_id: 'u1',
    surface: 'search',
    device: 'tv',
    model_version: 'm-7',
    fallback: false,
    candidates: 6,
  });
  expect(slate?.items.map((i) => [i.item_id, i.source, i.position])).toEqual([
    ['c1', 'covisit', 0],
    ['c2', 'covisit', 1],
    ['f1', 'fresh', 2],
  ]);
  // The logged vector is exactly the row that was scored for that item.
  const c1Row = rows.find(
    (r) => Number(r.split(',')[FEATURE_NAMES.indexOf('covisit_strength')]) === Math.round(Math.log1p(6) * 1e6) / 1e6,
  );
  expect(slate?.items[0].features.join(',')).toBe(c1Row);
  // Category affinity: the one recent engagement (the impression is not one) is in c1's category.
  expect(slate?.items[0].features[FEATURE_NAMES.indexOf('category_affinity')]).toBe(1);
  expect(slate?.items[0].features[FEATURE_NAMES.indexOf('user_activity')]).toBe(Math.round(Math.log1p(1) * 1e6) / 1e6);
});

test('a model trained on another feature version is refused: the fallback is served and logged with its reason', async () => {
  const store = world();
  const score: Scorer = async (_csv, rows) =>
    parseModelResponse(
      JSON.stringify({ scores: new Array(rows).fill(0.5), feature_version: '1', model_version: 'old' }),
      rows,
    ) as never;
  const { response, slate } = await recommend({ userId: 'u1', k: 3 }, settings, {
    store,
    score: async (csv, rows, t, id) => ({ ...(await score(csv, rows, t, id)), modelVersion: 'x' }),
    newInferenceId: () => 'inf-1',
    now: () => NOW,
    log: () => undefined,
  });
  expect(response).toMatchObject({ fallback: true, fallbackReason: 'bad-response', modelVersion: 'fallback' });
  expect(slate).toMatchObject({ fallback: true, fallback_reason: 'bad-response', model_version: 'fallback' });
  expect(slate?.items.every((i) => i.features.length === NUM_FEATURES)).toBe(true);
});

test('the model answer: JSON with versions, or bare CSV scores', () => {
  expect(parseModelResponse('{"scores":[0.2,0.1],"model_version":"m-3","feature_version":"2"}', 2)).toEqual({
    scores: [0.2, 0.1],
    modelVersion: 'm-3',
  });
  expect(parseModelResponse('0.2\n0.1\n', 2)).toEqual({ scores: [0.2, 0.1] });
  expect(() => parseModelResponse('{"scores":[0.2]}', 2)).toThrow(/expected 2 numeric scores/);
  expect(() => parseModelResponse('{"scores":', 2)).toThrow(/does not parse/);
});

test('fresh slots: the best fresh candidate missing from the top k takes the last position', () => {
  const ranked = ['a', 'b', 'c', 'f1', 'd', 'f2'].map((id) => ({
    id,
    source: id.startsWith('f') ? 'fresh' : 'trending',
  }));
  expect(reserveFreshSlots(ranked, 3, 1).map((x) => x.id)).toEqual(['a', 'b', 'f1']);
  expect(reserveFreshSlots(ranked, 4, 1).map((x) => x.id)).toEqual(['a', 'b', 'c', 'f1']);
  expect(reserveFreshSlots(ranked, 3, 0).map((x) => x.id)).toEqual(['a', 'b', 'c']);
});
