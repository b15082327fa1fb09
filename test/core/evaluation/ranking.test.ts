import {
  dcgAt,
  ndcgAt,
  perRequestNdcg,
  rankingMetrics,
  rankOrder,
  recallAt,
  reciprocalRank,
  type RankedRequest,
  type ScoredItem,
} from '../../../core/evaluation/ranking';

const items = (scores: number[], relevances: number[]): ScoredItem[] =>
  scores.map((score, i) => ({ itemId: `i${i}`, score, relevance: relevances[i] }));

describe('ranking metrics', () => {
  test('DCG uses exponential gains and log2 discounts, cut at k', () => {
    expect(dcgAt([3, 2, 0, 1], 10)).toBeCloseTo(7 + 3 / Math.log2(3) + 0 + 1 / Math.log2(5), 12);
    expect(dcgAt([3, 2, 0, 1], 1)).toBe(7);
  });

  test('nDCG of a reversed ranking equals the hand-computed value; a perfect ranking is 1', () => {
    // ranked relevances [0, 1, 2] vs ideal [2, 1, 0]
    const expected = (1 / Math.log2(3) + 3 / Math.log2(4)) / (3 + 1 / Math.log2(3));
    expect(ndcgAt(items([3, 2, 1], [0, 1, 2]), 10)).toBeCloseTo(expected, 12);
    expect(ndcgAt(items([1, 2, 3], [0, 1, 2]), 10)).toBe(1);
  });

  test('a request without a relevant item has no nDCG, recall or reciprocal rank', () => {
    const none = items([1, 2], [0, 0]);
    expect(ndcgAt(none, 10)).toBeUndefined();
    expect(recallAt(none, 10)).toBeUndefined();
    expect(reciprocalRank(none)).toBeUndefined();
  });

  test('ties are broken by item id, so equal scores give a deterministic order', () => {
    const tied: ScoredItem[] = [
      { itemId: 'b', score: 1, relevance: 1 },
      { itemId: 'a', score: 1, relevance: 0 },
    ];
    expect(rankOrder(tied).map((i) => i.itemId)).toEqual(['a', 'b']);
    expect(reciprocalRank(tied)).toBe(0.5);
  });

  test('recall@k counts relevant items in the top k over all relevant items', () => {
    const request = items([5, 4, 3, 2, 1], [1, 0, 0, 2, 1]);
    expect(recallAt(request, 2)).toBeCloseTo(1 / 3, 12);
    expect(recallAt(request, 4)).toBeCloseTo(2 / 3, 12);
    expect(recallAt(request, 5)).toBe(1);
  });

  test('grouped metrics average over requests with a relevant item and report coverage of the catalogue', () => {
    const requests: RankedRequest[] = [
      { requestId: 'r1', items: items([3, 2, 1], [0, 1, 2]) },
      { requestId: 'r2', items: items([1, 2, 3], [0, 1, 2]) },
      { requestId: 'r3', items: items([1, 2], [0, 0]) },
    ];
    const m = rankingMetrics(requests, 10);
    expect(m.requests).toBe(2);
    expect(m.requestsTotal).toBe(3);
    expect(m['ndcg@10']).toBeCloseTo((ndcgAt(requests[0].items, 10)! + 1) / 2, 12);
    expect(m.mrr).toBeCloseTo((1 / 2 + 1) / 2, 12);
    expect(m['coverage@10']).toBeCloseTo(3 / 10, 12); // items i0, i1, i2 shown
    expect(perRequestNdcg(requests)).toEqual([ndcgAt(requests[0].items, 10), 1, undefined]);
  });

  test('a non-positive catalogue size is refused with the value received', () => {
    expect(() => rankingMetrics([], 0)).toThrow(/catalogueSize must be a positive number; received 0/);
  });
});
