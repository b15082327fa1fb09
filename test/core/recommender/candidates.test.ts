/** Candidate generation: sources under quotas, de-duplicated, seen items excluded unless nothing else is left. */
import { covisitationScores, generateCandidates, validateQuotas } from '../../../core/recommender/candidates';

const popularity = new Map(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((id, i) => [id, 60 - i * 10]));
const neighbours = new Map([
  [
    'seen1',
    [
      { itemId: 'n1', strength: 5 },
      { itemId: 'p2', strength: 4 },
      { itemId: 'n2', strength: 1 },
    ],
  ],
  [
    'seen2',
    [
      { itemId: 'n2', strength: 3 },
      { itemId: 'seen1', strength: 9 },
    ],
  ],
]);
const fresh = new Map([
  ['f1', 100],
  ['f2', 200],
  ['p1', 300],
]);

test('co-visitation sums strength over distinct recent items, strongest first', () => {
  expect([...covisitationScores(['seen1', 'seen2', 'seen1'], neighbours)]).toEqual([
    ['seen1', 9],
    ['n1', 5],
    ['n2', 4],
    ['p2', 4],
  ]);
});

test('quotas: co-visitation and fresh first, trending fills the rest; each item once; seen items excluded', () => {
  const candidates = generateCandidates({ recentItems: ['seen1', 'seen2'], neighbours, popularity, fresh }, 10, {
    covisit: 0.3,
    fresh: 0.2,
  });
  expect(candidates.map((c) => `${c.source}:${c.itemId}`)).toEqual([
    'covisit:n1',
    'covisit:n2',
    'covisit:p2',
    'fresh:p1',
    'fresh:f2',
    'trending:p3',
    'trending:p4',
    'trending:p5',
    'trending:p6',
    'fresh:f1',
  ]);
  expect(candidates.find((c) => c.itemId === 'p2')?.covisitation).toBe(4);
  expect(candidates.find((c) => c.itemId === 'p3')?.covisitation).toBe(0);
  expect(new Set(candidates.map((c) => c.itemId)).size).toBe(candidates.length);
});

test('a source that cannot fill its quota leaves the budget to the others', () => {
  const candidates = generateCandidates({ recentItems: [], neighbours: new Map(), popularity, fresh: new Map() }, 4);
  expect(candidates.map((c) => c.itemId)).toEqual(['p1', 'p2', 'p3', 'p4']);
  expect(candidates.every((c) => c.source === 'trending')).toBe(true);
});

test('a user who has seen everything still gets the minimum, most popular first, marked as popular', () => {
  const recentItems = [...popularity.keys()];
  const candidates = generateCandidates(
    { recentItems, neighbours: new Map(), popularity, fresh: new Map() },
    10,
    undefined,
    3,
  );
  expect(candidates.map((c) => `${c.source}:${c.itemId}`)).toEqual(['popular:p1', 'popular:p2', 'popular:p3']);
});

test('quotas are validated', () => {
  expect(() => validateQuotas({ covisit: 0.8, fresh: 0.3 })).toThrow(/sum to at most 1; received 1.100/);
  expect(() => validateQuotas({ covisit: -0.1, fresh: 0 })).toThrow(/covisit must be between 0 and 1; received -0.1/);
});
