/**
 * The recommender's promotion rule, on the time-based holdout of the dataset (the scoring set: the validation split
 * with item ids, `sql.ts`):
 *
 * - three rankers order the same requests: **popularity** (the served `item_popularity` feature, what the fallback
 *   ranks by), the **champion** and the **candidate** (their batch-transform scores);
 * - grouped offline metrics of each, per request: nDCG@10, recall@10/@50, MRR, catalogue coverage@10
 *   (`core/evaluation/ranking.ts`, exponential gains as XGBoost's `rank:ndcg`);
 * - the **paired bootstrap** interval (over requests, seeded) of the candidate's nDCG@10 minus the champion's (the
 *   popularity ranking's when there is no champion): promote only when its lower bound lies above
 *   `minImprovement`. A mean gain whose interval reaches below the margin is noise and does not ship.
 *
 * The decision, every figure behind it, the dataset id and the feature version form one report
 * (`ml-blueprint/recommender-evaluation`), written next to the dataset and registered as the model package's
 * `ModelMetrics`. I/O through the object store port; no AWS imports.
 */
import { pairedBootstrap, type BootstrapInterval } from '../evaluation/bootstrap';
import { perRequestNdcg, rankingMetrics, type RankedRequest, type RankingMetrics } from '../evaluation/ranking';
import { readBytes, type ObjectStore } from '../storage/object-store';
import { parseS3Uri } from '../storage/s3-uri';
import { FEATURE_VERSION, featureIndex, NUM_FEATURES } from './contract';

/** The `kind` of the evaluation report. */
export const RECOMMENDER_EVALUATION_KIND = 'ml-blueprint/recommender-evaluation' as const;

/** How a candidate is judged (from the stage config). */
export interface RecommenderPromotionPolicy {
  /** nDCG@10 gain over the champion (or popularity) the whole interval must exceed. */
  readonly minImprovement: number;
  /** Two-sided level of the percentile interval. @default 0.95 */
  readonly confidence?: number;
  /** @default 2000 */
  readonly resamples?: number;
  /** Seed of the resampling. @default 1 */
  readonly seed?: number;
}

/** One row of the scoring set. */
export interface HoldoutRow {
  readonly label: number;
  readonly groupId: string;
  readonly itemId: string;
  readonly features: readonly number[];
}

/** The figures of the three rankers. */
export interface RankerMetrics {
  readonly popularity: RankingMetrics;
  readonly champion: RankingMetrics | null;
  readonly candidate: RankingMetrics;
}

/** The report (also the model package's metrics). */
export interface RecommenderEvaluationReport {
  readonly kind: typeof RECOMMENDER_EVALUATION_KIND;
  readonly datasetId: string;
  readonly featureVersion: number;
  readonly promote: boolean;
  readonly reason: string;
  /** What the candidate was compared with. */
  readonly baseline: 'champion' | 'popularity';
  readonly metrics: RankerMetrics;
  /** Paired bootstrap interval of nDCG@10 (candidate − baseline). */
  readonly interval: BootstrapInterval;
  readonly policy: Required<RecommenderPromotionPolicy>;
  /** Distinct items in the holdout (coverage's denominator). */
  readonly catalogueSize: number;
}

const decodeItemId = (s: string) => s.replace(/%2C/g, ',').replace(/%25/g, '%');

function finite(value: string, where: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`${where}: "${value}" is not a finite number`);
  return n;
}

/** Parses the scoring set (`label,group_id,item_id,<features>` lines); throws naming the line that is wrong. */
export function parseHoldout(text: string, source = 'scoring set'): HoldoutRow[] {
  const rows: HoldoutRow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.split(',');
    const where = `${source} line ${i + 1}`;
    if (cells.length !== 3 + NUM_FEATURES) {
      throw new Error(
        `${where} has ${cells.length} columns; expected ${3 + NUM_FEATURES} (label, group_id, item_id and ${NUM_FEATURES} features)`,
      );
    }
    rows.push({
      label: finite(cells[0], where),
      groupId: cells[1],
      itemId: decodeItemId(cells[2]),
      features: cells.slice(3).map((c, k) => finite(c, `${where} column ${k + 4}`)),
    });
  });
  return rows;
}

/** Parses batch-transform output joined to its input (`label,group_id,item_id,score` lines). */
export function parseScored(text: string, source = 'transform output'): Map<string, number> {
  const scores = new Map<string, number>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.split(',');
    const where = `${source} line ${i + 1}`;
    if (cells.length !== 4)
      throw new Error(`${where} has ${cells.length} columns; expected 4 (label, group_id, item_id, score)`);
    scores.set(`${cells[1]}|${decodeItemId(cells[2])}`, finite(cells[3], where));
  });
  return scores;
}

/** The holdout's requests ranked by a scorer (a missing score is an error: every row must be scored). */
export function rankedRequests(rows: readonly HoldoutRow[], score: (row: HoldoutRow) => number): RankedRequest[] {
  const groups = new Map<string, { itemId: string; score: number; relevance: number }[]>();
  for (const row of rows) {
    const items = groups.get(row.groupId) ?? [];
    items.push({ itemId: row.itemId, score: score(row), relevance: row.label });
    groups.set(row.groupId, items);
  }
  return [...groups].map(([requestId, items]) => ({ requestId, items }));
}

/** Scores by key (`group|item`), failing on a row without a score. */
export function scoresOf(scores: ReadonlyMap<string, number>, model: string): (row: HoldoutRow) => number {
  return (row) => {
    const s = scores.get(`${row.groupId}|${row.itemId}`);
    if (s === undefined)
      throw new Error(`the ${model}'s transform output has no score for group ${row.groupId} item ${row.itemId}`);
    return s;
  };
}

/** Decides on already-parsed holdout and scores (pure). */
export function evaluateRankers(
  rows: readonly HoldoutRow[],
  candidate: ReadonlyMap<string, number>,
  champion: ReadonlyMap<string, number> | null,
  policy: RecommenderPromotionPolicy,
  datasetId: string,
): RecommenderEvaluationReport {
  if (rows.length === 0) throw new Error('the holdout is empty: no request with a positive in the validation split');
  const p: Required<RecommenderPromotionPolicy> = { confidence: 0.95, resamples: 2000, seed: 1, ...policy };
  const popularityColumn = featureIndex('item_popularity');
  const catalogueSize = new Set(rows.map((r) => r.itemId)).size;
  const popularityRequests = rankedRequests(rows, (r) => r.features[popularityColumn]);
  const candidateRequests = rankedRequests(rows, scoresOf(candidate, 'candidate'));
  const championRequests = champion ? rankedRequests(rows, scoresOf(champion, 'champion')) : null;
  const metrics: RankerMetrics = {
    popularity: rankingMetrics(popularityRequests, catalogueSize),
    champion: championRequests ? rankingMetrics(championRequests, catalogueSize) : null,
    candidate: rankingMetrics(candidateRequests, catalogueSize),
  };
  const baseline = championRequests ? 'champion' : 'popularity';
  const interval = pairedBootstrap(
    perRequestNdcg(championRequests ?? popularityRequests, 10),
    perRequestNdcg(candidateRequests, 10),
    { resamples: p.resamples, confidence: p.confidence, seed: p.seed },
  );
  const promote = interval.lower > p.minImprovement;
  const f = (x: number) => x.toFixed(4);
  const level = `${Math.round(p.confidence * 100)} %`;
  const reason = promote
    ? `candidate nDCG@10 ${f(metrics.candidate['ndcg@10'])} vs ${baseline} ${f((metrics[baseline] as RankingMetrics)['ndcg@10'])} on ${interval.n} requests: the ${level} interval of the gain [${f(interval.lower)}, ${f(interval.upper)}] lies above ${p.minImprovement}`
    : `candidate nDCG@10 ${f(metrics.candidate['ndcg@10'])} vs ${baseline} ${f((metrics[baseline] as RankingMetrics)['ndcg@10'])} on ${interval.n} requests: the ${level} interval of the gain [${f(interval.lower)}, ${f(interval.upper)}] does not lie above ${p.minImprovement}`;
  return {
    kind: RECOMMENDER_EVALUATION_KIND,
    datasetId,
    featureVersion: FEATURE_VERSION,
    promote,
    reason,
    baseline,
    metrics,
    interval,
    policy: p,
    catalogueSize,
  };
}

async function textsUnder(store: ObjectStore, uri: string): Promise<string> {
  const { bucket, key } = parseS3Uri(uri.endsWith('/') ? uri : `${uri}/`);
  const parts: string[] = [];
  for await (const k of store.list(bucket, key)) {
    if (/\/[._][^/]*$/.test(k) || k.endsWith('/')) continue;
    parts.push((await readBytes(store, bucket, k)).toString('utf8'));
  }
  return parts.join('\n');
}

/** Where the evaluation reads and writes. */
export interface RecommenderEvaluationInput {
  readonly datasetId: string;
  /** The scoring set (`s3://…/datasets/<id>/scoring/`; gzip objects are gunzipped). */
  readonly scoringUri: string;
  /** The candidate's batch-transform output folder. */
  readonly candidateUri: string;
  /** The champion's, when there is a champion. */
  readonly championUri?: string;
  /** Where the report goes (`s3://…/evaluation.json`). */
  readonly reportUri: string;
  readonly policy: RecommenderPromotionPolicy;
}

/** Reads the holdout and both models' scores, decides, writes the report; returns it. */
export async function evaluateRecommender(
  store: ObjectStore,
  input: RecommenderEvaluationInput,
): Promise<RecommenderEvaluationReport> {
  const rows = parseHoldout(await textsUnder(store, input.scoringUri), input.scoringUri);
  const candidate = parseScored(await textsUnder(store, input.candidateUri), input.candidateUri);
  const champion = input.championUri
    ? parseScored(await textsUnder(store, input.championUri), input.championUri)
    : null;
  const report = evaluateRankers(rows, candidate, champion, input.policy, input.datasetId);
  const { bucket, key } = parseS3Uri(input.reportUri);
  await store.put(bucket, key, JSON.stringify(report, null, 2), { contentType: 'application/json' });
  return report;
}

/** One model's scores as the loop's evaluate state describes them (`ScoringSpec.source`). */
export interface LoopScoringSource {
  readonly kind: string;
  /** Folder of the model's batch-transform output. */
  readonly outputUri: string;
  /** The scoring set (the holdout). */
  readonly scoringUri: string;
  /** Where the report goes. */
  readonly reportUri: string;
}

/** The evaluate state's payload (`lib/retraining/phases/evaluate.ts`). */
export interface LoopEvaluationRequest {
  readonly policy: { readonly metricName: string; readonly minImprovement: number };
  readonly champion: { readonly found: boolean };
  readonly stamp?: Readonly<Record<string, string>>;
  readonly scoring: { readonly candidate: LoopScoringSource; readonly champion: LoopScoringSource };
}

/** What the loop continues with (`$.evaluation`): the decision, its figures and the report. */
export interface RecommenderEvaluation {
  readonly promote: boolean;
  readonly reason: string;
  readonly metricName: string;
  readonly candidateValue: number;
  readonly championValue: number | null;
  readonly reportUri: string;
  /** Registry metadata of the candidate (strings only). */
  readonly metadata: Record<string, string>;
  /** nDCG@10 of the three rankers and the interval, for notifications and the simulation. */
  readonly metrics: RankerMetrics;
  readonly interval: BootstrapInterval;
}

/** The kind of the recommender's scoring sources. */
export const RANKING_SOURCE_KIND = 'recommender-ranking';

/** Runs the promotion rule on the loop's payload: reads the holdout and the scores, writes the report. */
export async function runRecommenderEvaluation(
  store: ObjectStore,
  request: LoopEvaluationRequest,
  options: Omit<RecommenderPromotionPolicy, 'minImprovement'> = {},
): Promise<RecommenderEvaluation> {
  const { candidate, champion } = request.scoring;
  if (candidate?.kind !== RANKING_SOURCE_KIND) {
    throw new Error(
      `the recommender evaluation reads ${RANKING_SOURCE_KIND} scores; received ${JSON.stringify(candidate?.kind)}`,
    );
  }
  const datasetId = request.stamp?.datasetId ?? 'unknown';
  const report = await evaluateRecommender(store, {
    datasetId,
    scoringUri: candidate.scoringUri,
    candidateUri: candidate.outputUri,
    ...(request.champion.found ? { championUri: champion.outputUri } : {}),
    reportUri: candidate.reportUri,
    policy: { ...options, minImprovement: request.policy.minImprovement },
  });
  const ndcg = (m: RankingMetrics | null) => (m ? m['ndcg@10'] : null);
  const s = (x: number | null) => (x === null ? 'none' : String(Math.round(x * 1e6) / 1e6));
  return {
    promote: report.promote,
    reason: report.reason,
    metricName: 'ndcg@10',
    candidateValue: report.metrics.candidate['ndcg@10'],
    championValue: ndcg(report.metrics.champion),
    reportUri: candidate.reportUri,
    metrics: report.metrics,
    interval: report.interval,
    metadata: {
      ...(request.stamp ?? {}),
      metricName: 'ndcg@10',
      metricValue: s(report.metrics.candidate['ndcg@10']),
      championMetricValue: s(ndcg(report.metrics.champion)),
      popularityMetricValue: s(report.metrics.popularity['ndcg@10']),
      comparedWith: report.baseline,
      gainInterval: `[${s(report.interval.lower)}, ${s(report.interval.upper)}]`,
      holdoutRequests: String(report.interval.n),
      featureVersion: String(report.featureVersion),
      evaluation: report.promote ? 'promoted' : 'rejected',
      reportUri: candidate.reportUri,
    },
  };
}
