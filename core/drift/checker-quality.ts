/**
 * The realised-quality part of a checker run: for the window that ended `quality.settleMinutes` ago (labels take
 * longer than features to arrive), read the outcome records, compare each metric with the deployed model's quality
 * baseline (or the preceding windows), and decide like drift does: the same k-of-n and a cooldown shared with drift.
 */
import { hourFolders, listKeys } from './checker-io';
import type { CheckerState, QualityHistoryEntry } from './checker-state';
import {
  compareQuality,
  DEFAULT_OUTCOMES_PREFIX,
  DEFAULT_QUALITY_POLICY,
  OutcomeAccumulator,
  parseOutcomeLine,
  parseQualityBaseline,
  poolStats,
  qualityBaselineKey,
  type QualityObservation,
  type QualityPolicy,
  type QualityResult,
  type QualityStats,
} from './quality';
import { readLines } from './readers';
import { decideRetraining, type RetrainingPolicy } from './retraining';
import { gunzipped, readText, type ObjectStore } from '../storage/object-store';

/** Settings of the quality check. */
export interface QualitySettings {
  /** Outcome records: `{outcomesPrefix}{endpoint}/yyyy/mm/dd/hh/*.jsonl` in the artifacts bucket. */
  readonly outcomesPrefix: string;
  /** A window is judged this long after it ended (clicks and audit labels arrive late). */
  readonly settleMinutes: number;
  /**
   * Length of a quality window, when it differs from the drift window (e.g. a day for audit labels, which are few
   * and arrive after a daily review). @default the drift window
   */
  readonly windowMinutes?: number;
  readonly policy: QualityPolicy;
  /** Without a quality baseline, the reference is the pooled preceding windows (this many). */
  readonly referenceWindows: number;
}

/** Defaults of {@link QualitySettings}. */
export const DEFAULT_QUALITY_SETTINGS: QualitySettings = {
  outcomesPrefix: DEFAULT_OUTCOMES_PREFIX,
  settleMinutes: 60,
  policy: DEFAULT_QUALITY_POLICY,
  referenceWindows: 24,
};

/** Hidden objects (a name starting with `_` or `.`, as Hive and Athena skip them): markers, never outcome records. */
const isHidden = (key: string) => /(^|\/)[_.][^/]*$/.test(key);

/**
 * Reads the outcome records of `[start, end)` (serving time) into the window's metrics. Objects may be plain or
 * gzip JSON lines; hidden objects (`_…`, `.…`, e.g. the slate writer's `_slates.json` markers) are skipped.
 */
export async function readOutcomes(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  window: { start: Date; end: Date },
): Promise<{ observations: Array<{ name: string; current: QualityStats }>; invalid: Record<string, number> }> {
  const acc = new OutcomeAccumulator();
  const keys = await listKeys(
    store,
    bucket,
    hourFolders(window.start, window.end).map((h) => `${prefix}${h}`),
  );
  const from = window.start.getTime();
  const to = window.end.getTime();
  for (const key of keys) {
    if (isHidden(key)) continue;
    const object = await store.get(bucket, key);
    if (!object) continue;
    for await (const line of readLines(gunzipped(object.body))) {
      const outcome = parseOutcomeLine(line);
      if (typeof outcome === 'string') acc.reject(outcome);
      else if (outcome.timeMs >= from && outcome.timeMs < to) acc.add(outcome);
    }
  }
  return { observations: acc.observations(), invalid: acc.invalid };
}

/** What the quality part decided. */
export interface QualityOutcome {
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly results: QualityResult[];
  readonly dropped: string[];
  readonly requestRetraining: boolean;
  readonly reason: string;
  readonly state: CheckerState;
}

/** The references: the quality baseline of the deployed model, else the pooled preceding windows. */
async function withReferences(
  store: ObjectStore,
  bucket: string,
  endpointName: string,
  state: CheckerState,
  current: ReadonlyArray<{ name: string; current: QualityStats }>,
  referenceWindows: number,
): Promise<QualityObservation[]> {
  const object = await store.get(bucket, qualityBaselineKey(endpointName));
  if (object) {
    const baseline = parseQualityBaseline(JSON.parse(await readText(object)));
    const source = `quality baseline${baseline.modelVersion ? ` of ${baseline.modelVersion}` : ''}`;
    return current.map((o) => ({ ...o, reference: baseline.metrics[o.name], referenceSource: source }));
  }
  const previous = (state.qualityHistory ?? []).slice(-referenceWindows);
  return current.map((o) => {
    const reference = poolStats(previous.map((h) => h.metrics[o.name]).filter((s): s is QualityStats => !!s));
    return { ...o, reference, referenceSource: `preceding ${previous.length} windows` };
  });
}

/**
 * Judges one quality window, unless it was judged already or has no outcomes. Pure apart from reading the store;
 * the caller writes the report and the state.
 */
export async function checkQualityWindow(
  store: ObjectStore,
  settings: {
    readonly artifactsBucket: string;
    readonly endpointName: string;
    readonly windowMinutes: number;
    readonly retraining: RetrainingPolicy;
    readonly quality: QualitySettings;
  },
  state: CheckerState,
  window: { start: Date; end: Date },
  now: Date,
  source?: (window: { start: Date; end: Date }) => Promise<Array<{ name: string; current: QualityStats }>>,
): Promise<QualityOutcome | undefined> {
  const windowEnd = window.end.toISOString();
  if ((state.quality?.windows ?? []).some((w) => w.windowEnd === windowEnd)) return undefined;
  const q = settings.quality;
  const current = source
    ? await source(window)
    : (await readOutcomes(store, settings.artifactsBucket, `${q.outcomesPrefix}${settings.endpointName}/`, window))
        .observations;
  if (current.length === 0) return undefined;
  const observations = await withReferences(
    store,
    settings.artifactsBucket,
    settings.endpointName,
    state,
    current,
    q.referenceWindows,
  );
  const results = compareQuality(observations, q.policy);
  const dropped = results.filter((r) => r.dropped).map((r) => r.name);
  const decision = decideRetraining(
    { windows: state.quality?.windows ?? [], ...(state.lastRequestAt ? { lastRequestAt: state.lastRequestAt } : {}) },
    { windowEnd, drifted: dropped.length > 0 },
    settings.retraining,
    now,
  );
  const entry: QualityHistoryEntry = {
    windowEnd,
    metrics: Object.fromEntries(current.map((o) => [o.name, o.current])),
  };
  return {
    windowStart: window.start.toISOString(),
    windowEnd,
    results,
    dropped,
    requestRetraining: decision.requestRetraining,
    reason:
      dropped.length === 0 ? 'no quality drop in this window' : decision.reason.replace(/^drift in/, 'quality drop in'),
    state: {
      ...state,
      ...(decision.state.lastRequestAt ? { lastRequestAt: decision.state.lastRequestAt } : {}),
      quality: { windows: decision.state.windows },
      qualityHistory: [...(state.qualityHistory ?? []), entry].slice(-Math.max(q.referenceWindows, 1)),
    },
  };
}
