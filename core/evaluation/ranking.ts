/**
 * Offline ranking metrics, per request and grouped: what the recommender's promotion decision and its walkthrough
 * report. Gains are exponential (`2^rel - 1`), as XGBoost's `rank:ndcg` objective and `ndcg@k` metric use them, so the
 * metric the model is trained on and the one it is judged by agree.
 */

/** One scored candidate of a request, with the relevance observed after it was served. */
export interface ScoredItem {
  readonly itemId: string;
  readonly score: number;
  /** Graded relevance: 0 not engaged; higher is better (e.g. 1 click, 2 watch, 3 purchase). */
  readonly relevance: number;
}

/** One served request: the candidates the ranker ordered. */
export interface RankedRequest {
  readonly requestId: string;
  readonly items: readonly ScoredItem[];
}

/** Grouped metrics over requests. */
export interface RankingMetrics {
  /** Mean nDCG@10 over requests with at least one relevant item. */
  readonly 'ndcg@10': number;
  readonly 'recall@10': number;
  readonly 'recall@50': number;
  /** Mean reciprocal rank of the first relevant item. */
  readonly mrr: number;
  /** Distinct items shown in the top 10 of any request / catalogue size. */
  readonly 'coverage@10': number;
  /** Requests evaluated (with at least one relevant item) and requests in all. */
  readonly requests: number;
  readonly requestsTotal: number;
}

/** Candidates in ranking order: score descending, ties broken by item id so the order is deterministic. */
export function rankOrder(items: readonly ScoredItem[]): ScoredItem[] {
  return [...items].sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
}

const gain = (relevance: number) => 2 ** relevance - 1;

/** Discounted cumulative gain of relevances given in rank order, cut at k. */
export function dcgAt(relevances: readonly number[], k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, relevances.length); i++) dcg += gain(relevances[i]) / Math.log2(i + 2);
  return dcg;
}

/** nDCG@k of one request; `undefined` when no item is relevant (the request carries no ranking signal). */
export function ndcgAt(items: readonly ScoredItem[], k: number): number | undefined {
  const ideal = dcgAt(
    items.map((i) => i.relevance).sort((a, b) => b - a),
    k,
  );
  if (ideal === 0) return undefined;
  return (
    dcgAt(
      rankOrder(items).map((i) => i.relevance),
      k,
    ) / ideal
  );
}

/** Share of the request's relevant items that are in its top k; `undefined` when none is relevant. */
export function recallAt(items: readonly ScoredItem[], k: number): number | undefined {
  const relevant = items.filter((i) => i.relevance > 0).length;
  if (relevant === 0) return undefined;
  return (
    rankOrder(items)
      .slice(0, k)
      .filter((i) => i.relevance > 0).length / relevant
  );
}

/** 1 / rank of the first relevant item; `undefined` when none is relevant. */
export function reciprocalRank(items: readonly ScoredItem[]): number | undefined {
  const index = rankOrder(items).findIndex((i) => i.relevance > 0);
  return index < 0 ? undefined : 1 / (index + 1);
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length);

function defined(values: readonly (number | undefined)[]): number[] {
  return values.filter((v): v is number => v !== undefined);
}

/**
 * Per-request nDCG@k in request order, `undefined` for requests without a relevant item: the paired samples of the
 * bootstrap comparison (both models are scored on the same requests).
 */
export function perRequestNdcg(requests: readonly RankedRequest[], k = 10): (number | undefined)[] {
  return requests.map((r) => ndcgAt(r.items, k));
}

/**
 * Grouped metrics of one ranker over the same requests. `catalogueSize` is the number of items that could have been
 * recommended (coverage's denominator); it must be positive.
 */
export function rankingMetrics(requests: readonly RankedRequest[], catalogueSize: number): RankingMetrics {
  if (!(catalogueSize > 0)) throw new Error(`catalogueSize must be a positive number; received ${catalogueSize}`);
  const shown = new Set<string>();
  for (const r of requests) for (const item of rankOrder(r.items).slice(0, 10)) shown.add(item.itemId);
  const ndcg = defined(perRequestNdcg(requests, 10));
  return {
    'ndcg@10': mean(ndcg),
    'recall@10': mean(defined(requests.map((r) => recallAt(r.items, 10)))),
    'recall@50': mean(defined(requests.map((r) => recallAt(r.items, 50)))),
    mrr: mean(defined(requests.map((r) => reciprocalRank(r.items)))),
    'coverage@10': Math.min(1, shown.size / catalogueSize),
    requests: ndcg.length,
    requestsTotal: requests.length,
  };
}
