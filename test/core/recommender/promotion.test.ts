/**
 * The promotion rule on the holdout: popularity, champion and candidate ranked on the same requests; the decision
 * follows the paired bootstrap interval of nDCG@10 against the margin; the report is written and complete.
 */
import { FEATURE_VERSION, featureIndex, NUM_FEATURES } from '../../../core/recommender/contract';
import {
  evaluateRankers,
  evaluateRecommender,
  parseHoldout,
  parseScored,
  RECOMMENDER_EVALUATION_KIND,
  type HoldoutRow,
} from '../../../core/recommender/promotion';
import { MemoryObjectStore } from '../../../core/storage/object-store';

const POP = featureIndex('item_popularity');

/** 60 requests of 5 items: the relevant item is item 0; popularity prefers item 4, the "good" model item 0. */
function holdout(): HoldoutRow[] {
  const rows: HoldoutRow[] = [];
  for (let g = 0; g < 60; g++) {
    for (let i = 0; i < 5; i++) {
      const features = new Array<number>(NUM_FEATURES).fill(0);
      features[POP] = i;
      rows.push({ label: i === 0 ? (g % 3) + 1 : 0, groupId: String(g), itemId: `it,${(g + i) % 7}`, features });
    }
  }
  return rows;
}
const scores = (rows: HoldoutRow[], f: (r: HoldoutRow) => number) =>
  new Map(rows.map((r) => [`${r.groupId}|${r.itemId}`, f(r)]));
const itemIndex = (r: HoldoutRow) => rows0.filter((x) => x.groupId === r.groupId).indexOf(r);
const rows0 = holdout();

test('a clearly better candidate is promoted over the champion; figures of all three rankers are reported', () => {
  const good = scores(rows0, (r) => -itemIndex(r));
  const champion = scores(rows0, (r) => (itemIndex(r) === 2 ? 10 : -itemIndex(r)));
  const report = evaluateRankers(rows0, good, champion, { minImprovement: 0.01 }, 'ds-1');
  expect(report).toMatchObject({
    kind: RECOMMENDER_EVALUATION_KIND,
    datasetId: 'ds-1',
    featureVersion: FEATURE_VERSION,
    baseline: 'champion',
    promote: true,
  });
  expect(report.metrics.candidate['ndcg@10']).toBeCloseTo(1, 10);
  expect(report.metrics.popularity['ndcg@10']).toBeLessThan(report.metrics.candidate['ndcg@10']);
  expect(report.metrics.champion?.mrr).toBeCloseTo(1 / 2, 10);
  expect(report.interval.lower).toBeGreaterThan(0.01);
  expect(report.catalogueSize).toBe(7);
});

test('the same model as the champion is not promoted: the interval does not lie above the margin', () => {
  const same = scores(rows0, (r) => -itemIndex(r));
  const report = evaluateRankers(rows0, same, same, { minImprovement: 0 }, 'ds-1');
  expect(report.interval).toMatchObject({ lower: 0, upper: 0, meanDifference: 0 });
  expect(report.promote).toBe(false);
  expect(report.reason).toMatch(/does not lie above 0/);
});

test('without a champion the candidate is compared with popularity', () => {
  const report = evaluateRankers(
    rows0,
    scores(rows0, (r) => -itemIndex(r)),
    null,
    { minImprovement: 0.05 },
    'ds-2',
  );
  expect(report.baseline).toBe('popularity');
  expect(report.metrics.champion).toBeNull();
  expect(report.promote).toBe(true);
});

test('a row the transform did not score is an error naming it', () => {
  const partial = scores(rows0.slice(1), () => 1);
  expect(() => evaluateRankers(rows0, partial, null, { minImprovement: 0 }, 'x')).toThrow(
    /candidate's transform output has no score for group 0 item it,0/,
  );
});

test('files: scoring set and transform output parsed (percent-encoded item ids), report written', async () => {
  const store = new MemoryObjectStore();
  const vector = (p: number) => Array.from({ length: NUM_FEATURES }, (_, k) => (k === POP ? p : 0)).join(',');
  await store.put('c', 'd/scoring/part-0.csv', `1,7,a%2Cb,${vector(0)}\n0,7,c,${vector(5)}\n`);
  await store.put('c', 'd/scores/cand/part-0.csv.out', '1,7,a%2Cb,0.9\n0,7,c,0.1\n');
  const report = await evaluateRecommender(store, {
    datasetId: 'd',
    scoringUri: 's3://c/d/scoring/',
    candidateUri: 's3://c/d/scores/cand/',
    reportUri: 's3://c/d/evaluation.json',
    policy: { minImprovement: 0, resamples: 100 },
  });
  expect(report.metrics.candidate.requests).toBe(1);
  expect(JSON.parse(store.text('c', 'd/evaluation.json') ?? '{}')).toMatchObject({
    kind: RECOMMENDER_EVALUATION_KIND,
    datasetId: 'd',
  });
  expect(parseHoldout(`1,7,a%2Cb,${vector(0)}`)[0].itemId).toBe('a,b');
  expect(() => parseHoldout('1,7,a,0.5')).toThrow(/line 1 has 4 columns; expected 15/);
  expect(() => parseScored('1,7,a,nope')).toThrow(/line 1: "nope" is not a finite number/);
});
