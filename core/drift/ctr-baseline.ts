/**
 * The references a newly deployed model is judged against, written by the retraining loop when it deploys, so that a
 * new model is compared with what it replaced rather than with its own past:
 *
 * - `drift/baselines/<endpoint>/ctr.json` — `{clicks, impressions, modelVersion, from, to, source}`: the CTR of the
 *   replaced champion over its last `windows` CTR buckets (`source: 'champion'`), or of the new model during its
 *   canary (`source: 'canary'`). The drift checker's CTR signals (`core/recommender/ctr.ts`) read it.
 * - `drift/baselines/<endpoint>/quality.json` — the realised quality (CTR, nDCG@10, accuracy) of the replaced model
 *   over the checker's last `windows` judged windows (from the checker's state), the reference of the quality check.
 *
 * Nothing is written when the model had no traffic (or no judged window): the previous reference then stays, and
 * without any the checker falls back to the preceding windows.
 */
import type { CheckerState } from './checker-state';
import { parseCheckerState } from './checker-state';
import { poolStats, qualityBaselineKey, type QualityBaseline, type QualityStats } from './quality';
import { readText, type ObjectStore } from '../storage/object-store';

/** Where the CTR baseline of an endpoint lives (the key `core/recommender/ctr.ts` reads). */
export const ctrBaselineKey = (endpointName: string) => `drift/baselines/${endpointName}/ctr.json`;

/** Impressions and clicks of one model version in one CTR bucket (the feature store's counters). */
export interface CtrBucketCounts {
  readonly modelVersion: string;
  readonly impressions: number;
  readonly clicks: number;
}

/** What the CTR baseline step needs. */
export interface CtrBaselineInput {
  readonly artifactsBucket: string;
  readonly endpointName: string;
  /** The model whose CTR becomes the reference (the replaced champion, or the canary). */
  readonly modelVersion: string;
  readonly source: 'champion' | 'canary';
  /** End of the period (the deploy time, or the end of the canary). */
  readonly end: Date;
  /** CTR buckets summed before `end`. */
  readonly windows: number;
  /** Length of a CTR bucket (the consumer's `ctrWindowMinutes`). */
  readonly bucketMinutes: number;
}

/** The written CTR baseline document. */
export interface CtrBaselineDocument {
  readonly clicks: number;
  readonly impressions: number;
  readonly modelVersion: string;
  readonly source: 'champion' | 'canary';
  readonly from: string;
  readonly to: string;
}

/**
 * Sums the model version's CTR counters over the `windows` buckets before `end` and writes `ctr.json`; returns the
 * document, or undefined (nothing written) when the model had no impressions.
 */
export async function writeCtrBaseline(
  counters: { ctrCounts(bucket: number): Promise<readonly CtrBucketCounts[]> },
  store: ObjectStore,
  input: CtrBaselineInput,
): Promise<CtrBaselineDocument | undefined> {
  const ms = input.bucketMinutes * 60_000;
  const last = Math.floor(input.end.getTime() / ms) * ms;
  const buckets = Array.from({ length: input.windows }, (_, i) => last - (input.windows - i) * ms);
  let impressions = 0;
  let clicks = 0;
  for (const bucket of buckets) {
    for (const c of await counters.ctrCounts(bucket)) {
      if (c.modelVersion !== input.modelVersion) continue;
      impressions += c.impressions;
      clicks += c.clicks;
    }
  }
  if (impressions === 0) return undefined;
  const document: CtrBaselineDocument = {
    // A click without its impression (lost or late) must not push the proportion above 1.
    clicks: Math.min(clicks, impressions),
    impressions,
    modelVersion: input.modelVersion,
    source: input.source,
    from: new Date(buckets[0]).toISOString(),
    to: new Date(last).toISOString(),
  };
  await store.put(input.artifactsBucket, ctrBaselineKey(input.endpointName), JSON.stringify(document), {
    contentType: 'application/json',
  });
  return document;
}

/** What the quality baseline step needs. */
export interface QualityBaselineInput {
  readonly artifactsBucket: string;
  readonly endpointName: string;
  /** The checker's state prefix (`drift/state/`). */
  readonly statePrefix: string;
  /** The model whose realised quality becomes the reference. */
  readonly modelVersion: string;
  /** Judged windows pooled (the newest). */
  readonly windows: number;
  readonly now: Date;
}

/** Pools the last judged windows of the checker's state into `quality.json`; undefined when there are none. */
export async function writeQualityBaseline(
  store: ObjectStore,
  input: QualityBaselineInput,
): Promise<QualityBaseline | undefined> {
  const object = await store.get(input.artifactsBucket, `${input.statePrefix}${input.endpointName}.json`);
  if (!object) return undefined;
  const state: CheckerState = parseCheckerState(JSON.parse(await readText(object)));
  const recent = (state.qualityHistory ?? []).slice(-input.windows);
  if (recent.length === 0) return undefined;
  const names = [...new Set(recent.flatMap((h) => Object.keys(h.metrics)))].sort();
  const metrics: Record<string, QualityStats> = {};
  for (const name of names) {
    const pooled = poolStats(recent.map((h) => h.metrics[name]).filter((s): s is QualityStats => !!s));
    if (pooled) metrics[name] = pooled;
  }
  const baseline: QualityBaseline = {
    kind: 'ml-blueprint/quality-baseline',
    version: 1,
    createdAt: input.now.toISOString(),
    modelVersion: input.modelVersion,
    source: `realised quality over ${recent.length} windows ending ${recent[recent.length - 1].windowEnd}`,
    metrics,
  };
  await store.put(input.artifactsBucket, qualityBaselineKey(input.endpointName), JSON.stringify(baseline), {
    contentType: 'application/json',
  });
  return baseline;
}
