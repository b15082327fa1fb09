/**
 * Click-through rate per model version as a key drift signal. The stream consumer counts impressions and clicks
 * joined to predictions (by inference id) per model version and window in the feature store; the drift checker
 * reads the window it checks and compares each model version's CTR with the baseline CTR (two-proportion z-test
 * in `compareWindow`).
 *
 * Baseline: `s3://<artifacts>/drift/baselines/<endpoint>/ctr.json` (`{"clicks": n, "impressions": m}`, written
 * next to the baseline profile) when it exists; otherwise the same model version's CTR over the preceding
 * `referenceWindows` windows (a rolling reference, so a sudden drop still shows).
 */
import type { ProportionSignal } from '../drift/engine';
import type { CtrCounts, FeatureStore } from './feature-store';

/** The stored baseline CTR. */
export interface CtrBaseline {
  readonly clicks: number;
  readonly impressions: number;
}

/** Where the baseline CTR of an endpoint lives in the artifacts bucket (written at deploy, `drift/ctr-baseline.ts`). */
export { ctrBaselineKey } from '../drift/ctr-baseline';

/** Versions whose CTR is not a model's: fallback rankings and unknown versions. */
const NOT_A_MODEL = new Set(['fallback', 'unknown']);

/** Parses a stored baseline; throws naming the problem. */
export function parseCtrBaseline(json: unknown): CtrBaseline {
  const o = (json ?? {}) as Record<string, unknown>;
  const clicks = Number(o.clicks);
  const impressions = Number(o.impressions);
  if (!Number.isInteger(clicks) || !Number.isInteger(impressions) || clicks < 0 || impressions < clicks) {
    throw new Error(
      `CTR baseline must be {"clicks": n, "impressions": m} with 0 <= n <= m; received ${JSON.stringify(json)}`,
    );
  }
  return { clicks, impressions };
}

/** Bucket starts (ms) of `[start, end)` with `bucketMinutes` buckets. */
export function bucketsOf(start: Date, end: Date, bucketMinutes: number): number[] {
  const ms = bucketMinutes * 60_000;
  const out: number[] = [];
  for (let t = Math.floor(start.getTime() / ms) * ms; t < end.getTime(); t += ms) out.push(t);
  return out;
}

async function sumByVersion(store: Pick<FeatureStore, 'ctrCounts'>, buckets: readonly number[]) {
  const totals = new Map<string, { impressions: number; clicks: number }>();
  const pages: CtrCounts[][] = await Promise.all(buckets.map((b) => store.ctrCounts(b)));
  for (const c of pages.flat()) {
    const t = totals.get(c.modelVersion) ?? { impressions: 0, clicks: 0 };
    t.impressions += c.impressions;
    t.clicks += c.clicks;
    totals.set(c.modelVersion, t);
  }
  return totals;
}

/** CTR signals `ctr.<model version>` of a window, against the baseline or the rolling reference. */
export async function ctrSignals(
  store: Pick<FeatureStore, 'ctrCounts'>,
  window: { start: Date; end: Date },
  options: { bucketMinutes: number; referenceWindows: number; baseline?: CtrBaseline },
): Promise<ProportionSignal[]> {
  const current = await sumByVersion(store, bucketsOf(window.start, window.end, options.bucketMinutes));
  const length = window.end.getTime() - window.start.getTime();
  const reference = options.baseline
    ? undefined
    : await sumByVersion(
        store,
        bucketsOf(
          new Date(window.start.getTime() - options.referenceWindows * length),
          window.start,
          options.bucketMinutes,
        ),
      );
  const signals: ProportionSignal[] = [];
  for (const [version, cur] of [...current].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (NOT_A_MODEL.has(version) || cur.impressions === 0) continue;
    const ref = options.baseline
      ? { clicks: options.baseline.clicks, impressions: options.baseline.impressions }
      : reference?.get(version);
    if (!ref || ref.impressions === 0) continue;
    // A click without its impression (lost or late) must not push the proportion above 1.
    signals.push({
      name: `ctr.${version}`,
      reference: { successes: Math.min(ref.clicks, ref.impressions), trials: ref.impressions },
      current: { successes: Math.min(cur.clicks, cur.impressions), trials: cur.impressions },
    });
  }
  return signals;
}

/** The CTR wiring of the drift checker, from its environment; undefined when CTR is not configured. */
export function ctrSettingsFromEnv(
  env: NodeJS.ProcessEnv,
): { tableName: string; bucketMinutes: number; referenceWindows: number } | undefined {
  const tableName = env.CTR_TABLE_NAME;
  if (!tableName) return undefined;
  const bucketMinutes = Number(env.CTR_WINDOW_MINUTES);
  const referenceWindows = Number(env.CTR_REFERENCE_WINDOWS ?? '24');
  if (!Number.isInteger(bucketMinutes) || bucketMinutes < 1) {
    throw new Error(
      `environment variable CTR_WINDOW_MINUTES must be a positive integer; received "${env.CTR_WINDOW_MINUTES}"`,
    );
  }
  if (!Number.isInteger(referenceWindows) || referenceWindows < 1) {
    throw new Error(
      `environment variable CTR_REFERENCE_WINDOWS must be a positive integer; received "${env.CTR_REFERENCE_WINDOWS}"`,
    );
  }
  return { tableName, bucketMinutes, referenceWindows };
}
