/**
 * One run of the drift checker, independent of Lambda and of the AWS SDK: the handler wires real clients, tests
 * and the local simulation wire fakes.
 *
 * A run checks the last window that has **settled** (ended at least `settleMinutes` ago), once: a window whose report
 * exists is skipped. Records are routed by their `inferenceTime`; records of an earlier, already checked window that
 * arrive later are counted as late, and a window whose late records exceed `late.share` of what it was checked with
 * is checked again and its report versioned (`<windowEnd>.v2.json`, …). Each report has an HTML page next to it.
 * The realised quality of an older window (labels settle later) is judged in the same run (`checker-quality.ts`).
 */
import { reportWindow } from './check';
import { addCounters, folderPrefixes, hourFolders, listKeys, objectBatches } from './checker-io';
import {
  checkQualityWindow,
  DEFAULT_QUALITY_SETTINGS,
  type QualityOutcome,
  type QualitySettings,
} from './checker-quality';
import {
  parseCheckerState,
  withHistory,
  withOutcome,
  EMPTY_CHECKER_STATE,
  type CheckerState,
  type WatchedWindow,
} from './checker-state';
import type { DriftPolicy, DriftReport, ProportionSignal } from './engine';
import {
  BATCH_BYTES,
  orderedPool,
  readObjectsBatch,
  workerCount,
  type ObjectsJob,
  type ObjectsResult,
  type ObjectsTask,
} from './parallel';
import { expectationsFromBaseline, parseBaselineProfile, ProfileAccumulator, type BaselineProfile } from './profile';
import { createCounters } from './readers';
import { CAPTURE_TIME_FIELD } from './time';
import type { QualityResult, QualityStats } from './quality';
import { renderReportHtml } from './report-html';
import { decideRetraining, type RetrainingPolicy } from './retraining';
import { PreconditionFailedError, readText, type ObjectStore } from '../storage/object-store';

export { hourFolders };

/** Late records: when a checked window is checked again. */
export interface LatePolicy {
  /** Re-check when late records exceed this share of the records the window was checked with. */
  readonly share: number;
  /** Windows are watched for late records this long after they end. */
  readonly horizonHours: number;
}

/** Defaults of {@link LatePolicy}. */
export const DEFAULT_LATE_POLICY: LatePolicy = { share: 0.1, horizonHours: 24 };

/** Where things are and how to judge them. */
export interface DriftCheckerSettings {
  readonly caseStudy: string;
  readonly stage: string;
  readonly endpointName: string;
  /** Data capture: `s3://{captureBucket}/{capturePrefix}{endpoint}/{variant}/yyyy/mm/dd/hh/*.jsonl`. */
  readonly captureBucket: string;
  readonly capturePrefix: string;
  /**
   * Extra capture-like records in the capture bucket, e.g. per-image statistics written by the vision image consumer:
   * `s3://{captureBucket}/{extraPrefix}{endpoint}/yyyy/mm/dd/hh/*.jsonl`, read with the same window. @default none
   */
  readonly extraPrefix?: string;
  /** Baselines, reports and state live in the artifacts bucket. */
  readonly artifactsBucket: string;
  /** Key of the baseline profile of the endpoint's current model. */
  readonly baselineKey: string;
  /** Reports: `{reportPrefix}{endpoint}/{windowEnd}.json` and `.html`. */
  readonly reportPrefix: string;
  /** State: `{statePrefix}{endpoint}.json`. */
  readonly statePrefix: string;
  readonly windowMinutes: number;
  readonly policy: DriftPolicy;
  readonly retraining: RetrainingPolicy;
  /** A window is checked once it ended this long ago (late records have arrived). @default 0 */
  readonly settleMinutes?: number;
  /** @default {@link DEFAULT_LATE_POLICY} */
  readonly late?: LatePolicy;
  /** Realised quality from outcome records. @default none (unless the ports provide a quality source) */
  readonly quality?: QualitySettings;
  /**
   * Threads reading capture objects (`auto`: the function's vCPUs — Lambda gives one vCPU per 1,769 MB).
   * @default 'auto'
   */
  readonly workers?: number | 'auto';
}

/** The `ModelDriftDetected` event detail. */
export interface ModelDriftDetectedDetail {
  readonly caseStudy: string;
  readonly stage: string;
  readonly endpointName: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly reportUri: string;
  readonly driftedFeatures: string[];
  readonly keySignalsDrifted: string[];
  readonly driftedShare: number;
  readonly reason: string;
  /** Realised-quality metrics that dropped significantly (when a quality drop requested retraining). */
  readonly qualityDropped?: string[];
}

/** Where metrics go (Powertools EMF in Lambda). */
export interface DriftMetricsSink {
  /** A compared window. */
  window(report: DriftReport, retrainingRequested: boolean): void;
  /** A run that did nothing, and why. */
  noOp(reason: 'no-baseline' | 'empty-window' | 'duplicate'): void;
  /** The realised quality of a window. */
  quality?(results: readonly QualityResult[], retrainingRequested: boolean): void;
  /** A window checked again because of late records. */
  recheck?(windowEnd: string, version: number, lateShare: number): void;
}

/** Ports of a run. */
export interface DriftCheckerPorts {
  readonly store: ObjectStore;
  readonly publishDriftDetected: (detail: ModelDriftDetectedDetail) => Promise<void>;
  readonly metrics: DriftMetricsSink;
  readonly log: (level: 'info' | 'warn', message: string, data?: Record<string, unknown>) => void;
  /**
   * Proportion signals of the window (e.g. CTR per model version, joined from feedback), compared with their
   * reference by a two-proportion z-test as key signals. @default none
   */
  readonly proportions?: (window: { start: Date; end: Date }) => Promise<ProportionSignal[]>;
  /** The realised quality of a window, when it comes from elsewhere than outcome records. @default outcome records */
  readonly quality?: (window: { start: Date; end: Date }) => Promise<Array<{ name: string; current: QualityStats }>>;
}

/** What a run did. */
export interface DriftCheckResult {
  readonly status: 'reported' | 'duplicate' | 'no-baseline' | 'empty-window';
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly drifted?: boolean;
  readonly retrainingRequested?: boolean;
  readonly reason?: string;
  readonly reportKey?: string;
  readonly records?: number;
  /** Earlier windows checked again because of late records: their new report keys. */
  readonly rechecked?: string[];
  /** The realised-quality window judged in this run. */
  readonly quality?: { windowEnd: string; dropped: string[]; retrainingRequested: boolean; reportKey: string };
}

/** The window that ended last at or before `now`: aligned to multiples of the window length. */
export function windowFor(now: Date, minutes: number): { start: Date; end: Date } {
  const ms = minutes * 60_000;
  const end = new Date(Math.floor(now.getTime() / ms) * ms);
  return { start: new Date(end.getTime() - ms), end };
}

/** Report key of a window and version (1 = the first check). */
export function reportKeyOf(settings: DriftCheckerSettings, windowEnd: string, version = 1, ext = 'json'): string {
  return `${settings.reportPrefix}${settings.endpointName}/${windowEnd}${version > 1 ? `.v${version}` : ''}.${ext}`;
}

async function loadState(ports: DriftCheckerPorts, s: DriftCheckerSettings, key: string) {
  const object = await ports.store.get(s.artifactsBucket, key);
  if (!object) return { state: EMPTY_CHECKER_STATE, etag: undefined };
  return { state: parseCheckerState(JSON.parse(await readText(object))), etag: object.etag };
}

interface Context {
  readonly settings: DriftCheckerSettings;
  readonly ports: DriftCheckerPorts;
  readonly baseline: BaselineProfile;
  readonly variants: string[];
  readonly settleMs: number;
}

/**
 * Compares the records of `[start, end)` read from `keys`; also routes late records to watched windows. Objects
 * are read in batches on the function's cores (`parallel.ts`): the same result with any number of them.
 */
async function compare(
  ctx: Context,
  window: { start: Date; end: Date },
  keys: readonly string[],
  ownKeys: ReadonlySet<string>,
  watched: readonly WatchedWindow[],
) {
  const options = {
    sampling: ctx.baseline.sampling,
    expectations: [...expectationsFromBaseline(ctx.baseline)],
    skip: [...(ctx.baseline.timeFields ?? []), CAPTURE_TIME_FIELD],
    trackPhases: true,
  };
  const job: ObjectsJob = {
    ...options,
    from: window.start.getTime(),
    to: window.end.getTime(),
    watched: watched.map((w) => ({ from: Date.parse(w.windowStart), to: Date.parse(w.windowEnd) })),
  };
  const acc = new ProfileAccumulator({ ...options, expectations: new Map(options.expectations) });
  const seen = watched.map((w) => new Set(w.keys));
  const counters = createCounters();
  const late = new Map<string, number>();
  const batches = objectBatches(
    ctx.ports.store,
    ctx.settings.captureBucket,
    keys,
    (key) => ({ own: ownKeys.has(key), lateFor: seen.map((s) => !s.has(key)) }),
    BATCH_BYTES,
  );
  await orderedPool<ObjectsTask, ObjectsResult>(
    batches,
    workerCount(ctx.settings.workers ?? 'auto'),
    (task) => ({ kind: 'objects', job, task }),
    (task) => readObjectsBatch(job, task),
    (r) => {
      acc.absorb(r.snapshot, r.index);
      addCounters(counters, r.counters);
      counters.outOfWindow += r.outOfWindow;
      r.late.forEach((n, i) => {
        if (n > 0) late.set(watched[i].windowEnd, (late.get(watched[i].windowEnd) ?? 0) + n);
      });
    },
  );
  return { acc, counters, late };
}

/** Writes a report and its HTML page next to it; false when the JSON existed already (another run won). */
async function writeReport(
  ctx: Context,
  state: CheckerState,
  key: string,
  document: Record<string, unknown> & { report: DriftReport },
  subtitle: string,
): Promise<boolean> {
  const { store } = ctx.ports;
  const bucket = ctx.settings.artifactsBucket;
  try {
    await store.put(bucket, key, JSON.stringify(document), { ifNoneMatch: true, contentType: 'application/json' });
  } catch (error) {
    if (error instanceof PreconditionFailedError) return false;
    throw error;
  }
  const html = renderReportHtml(document.report, {
    title: `Drift report — ${ctx.settings.endpointName}`,
    subtitle,
    history: state.history ?? [],
  });
  await store.put(bucket, key.replace(/\.json$/, '.html'), html, { contentType: 'text/html; charset=utf-8' });
  return true;
}

/** Runs the check for the last settled window (and any re-checks and the quality window that are due). */
export async function runDriftCheck(
  settings: DriftCheckerSettings,
  ports: DriftCheckerPorts,
  now: Date,
): Promise<DriftCheckResult> {
  const settleMs = (settings.settleMinutes ?? 0) * 60_000;
  const { start, end } = windowFor(new Date(now.getTime() - settleMs), settings.windowMinutes);
  const base = { windowStart: start.toISOString(), windowEnd: end.toISOString() };
  const reportKey = reportKeyOf(settings, base.windowEnd);

  if (await ports.store.exists(settings.artifactsBucket, reportKey)) {
    ports.log('info', 'window already reported; nothing to do', { reportKey });
    ports.metrics.noOp('duplicate');
    return { status: 'duplicate', ...base, reportKey };
  }

  const baselineObject = await ports.store.get(settings.artifactsBucket, settings.baselineKey);
  if (!baselineObject) {
    ports.log('warn', 'no baseline profile yet (no model trained?); skipping', { baselineKey: settings.baselineKey });
    ports.metrics.noOp('no-baseline');
    return { status: 'no-baseline', ...base };
  }
  const baseline = parseBaselineProfile(JSON.parse(await readText(baselineObject)));
  const variants = await ports.store.children(
    settings.captureBucket,
    `${settings.capturePrefix}${settings.endpointName}/`,
  );
  const ctx: Context = { settings, ports, baseline, variants, settleMs };
  const stateKey = `${settings.statePrefix}${settings.endpointName}.json`;
  const loaded = await loadState(ports, settings, stateKey);
  let state = loaded.state;

  // 1. This window's folders, plus objects that appeared since in the folders of watched windows.
  const late = settings.late ?? DEFAULT_LATE_POLICY;
  const horizon = end.getTime() - late.horizonHours * 3_600_000;
  const watched = (state.watch ?? []).filter((w) => Date.parse(w.windowEnd) > horizon && w.windowEnd < base.windowEnd);
  const foldersOf = (s: Date, e: Date) => folderPrefixes(settings, variants, s, new Date(e.getTime() + settleMs));
  const ownKeys = await listKeys(ports.store, settings.captureBucket, foldersOf(start, end));
  const watchedKeys = new Map<string, string[]>();
  for (const w of watched) {
    const keys = await listKeys(
      ports.store,
      settings.captureBucket,
      foldersOf(new Date(w.windowStart), new Date(w.windowEnd)),
    );
    watchedKeys.set(w.windowEnd, keys);
  }
  const toRead = [
    ...new Set([
      ...ownKeys,
      ...watched.flatMap((w) => watchedKeys.get(w.windowEnd)!.filter((k) => !w.keys.includes(k))),
    ]),
  ].sort();
  const { acc, counters, late: lateCounts } = await compare(ctx, { start, end }, toRead, new Set(ownKeys), watched);
  state = {
    ...state,
    watch: watched.map((w) => ({
      ...w,
      late: w.late + (lateCounts.get(w.windowEnd) ?? 0),
      keys: watchedKeys.get(w.windowEnd) ?? w.keys,
    })),
  };

  // 2. This window.
  let result: DriftCheckResult;
  let drift: { report: DriftReport; requested: boolean; reason: string } | undefined;
  if (acc.records === 0) {
    ports.log('warn', 'no captured records in the window; skipping', { ...base, variants, counters });
    ports.metrics.noOp('empty-window');
    result = { status: 'empty-window', ...base, records: 0 };
  } else {
    const proportions = ports.proportions ? await ports.proportions({ start, end }) : [];
    const report = reportWindow(baseline, acc, counters, settings.policy, proportions);
    const decision = decideRetraining(
      state,
      { windowEnd: base.windowEnd, drifted: report.drifted },
      settings.retraining,
      now,
    );
    state = { ...state, ...decision.state, history: withHistory(state.history, base.windowEnd, report) };
    const written = await writeReport(
      ctx,
      state,
      reportKey,
      {
        ...base,
        caseStudy: settings.caseStudy,
        stage: settings.stage,
        endpointName: settings.endpointName,
        version: 1,
        decision: { requestRetraining: decision.requestRetraining, reason: decision.reason },
        report,
      },
      `window ${base.windowStart} – ${base.windowEnd}`,
    );
    if (!written) {
      ports.log('info', 'another run reported this window first; nothing to do', { reportKey });
      ports.metrics.noOp('duplicate');
      return { status: 'duplicate', ...base, reportKey };
    }
    drift = { report, requested: decision.requestRetraining, reason: decision.reason };
    result = {
      status: 'reported',
      ...base,
      drifted: report.drifted,
      retrainingRequested: decision.requestRetraining,
      reason: decision.reason,
      reportKey,
      records: acc.records,
    };
  }
  state = {
    ...state,
    watch: [
      ...(state.watch ?? []),
      {
        ...base,
        records: acc.records,
        late: 0,
        version: 1,
        keys: ownKeys,
        reported: acc.records > 0,
      },
    ],
  };

  // 3. Windows with too many late records: checked again, report versioned.
  const rechecked: string[] = [];
  for (const w of [...(state.watch ?? [])]) {
    if (w.windowEnd === base.windowEnd || w.late === 0 || w.late <= late.share * w.records) continue;
    const again = await recheck(ctx, state, w, now);
    state = again.state;
    if (again.key) rechecked.push(again.key);
  }

  // 4. Realised quality of the window whose labels have settled.
  const quality = await checkQuality(ctx, state, now);
  if (quality) state = quality.outcome.state;

  await ports.store.put(
    settings.artifactsBucket,
    stateKey,
    JSON.stringify(state),
    loaded.etag ? { ifMatch: loaded.etag } : { ifNoneMatch: true },
  );

  // 5. Events and metrics.
  if (drift?.requested) {
    const report = drift.report;
    await ports.publishDriftDetected({
      caseStudy: settings.caseStudy,
      stage: settings.stage,
      endpointName: settings.endpointName,
      ...base,
      reportUri: `s3://${settings.artifactsBucket}/${reportKey}`,
      driftedFeatures: report.features.filter((f) => f.drifted).map((f) => f.name),
      keySignalsDrifted: report.keySignalsDrifted,
      driftedShare: report.driftedShare,
      reason: `${report.reason}; ${drift.reason}`,
    });
  } else if (quality?.outcome.requestRetraining) {
    const q = quality.outcome;
    await ports.publishDriftDetected({
      caseStudy: settings.caseStudy,
      stage: settings.stage,
      endpointName: settings.endpointName,
      windowStart: q.windowStart,
      windowEnd: q.windowEnd,
      reportUri: `s3://${settings.artifactsBucket}/${quality.key}`,
      driftedFeatures: [],
      keySignalsDrifted: [],
      driftedShare: 0,
      reason: `realised quality dropped: ${q.dropped.join(', ')}; ${q.reason}`,
      qualityDropped: q.dropped,
    });
  }
  if (drift) {
    ports.metrics.window(drift.report, drift.requested);
    ports.log('info', 'window reported', {
      ...base,
      drifted: drift.report.drifted,
      reason: drift.report.reason,
      retraining: drift.reason,
      records: acc.records,
      invalid: counters.invalid,
    });
  }
  if (quality) ports.metrics.quality?.(quality.outcome.results, quality.outcome.requestRetraining);
  return {
    ...result,
    ...(rechecked.length > 0 ? { rechecked } : {}),
    ...(quality
      ? {
          quality: {
            windowEnd: quality.outcome.windowEnd,
            dropped: quality.outcome.dropped,
            retrainingRequested: quality.outcome.requestRetraining,
            reportKey: quality.key,
          },
        }
      : {}),
  };
}

/** Checks a watched window again with every record that has arrived for it; writes the next report version. */
async function recheck(
  ctx: Context,
  state: CheckerState,
  w: WatchedWindow,
  now: Date,
): Promise<{ state: CheckerState; key?: string }> {
  const { settings, ports } = ctx;
  const start = new Date(w.windowStart);
  const end = new Date(w.windowEnd);
  // Late records can be in any later folder up to now (bounded by the watch horizon).
  const keys = await listKeys(
    ports.store,
    settings.captureBucket,
    folderPrefixes(
      settings,
      ctx.variants,
      start,
      new Date(
        Math.min(now.getTime(), end.getTime() + (settings.late ?? DEFAULT_LATE_POLICY).horizonHours * 3_600_000),
      ),
    ),
  );
  const { acc, counters } = await compare(ctx, { start, end }, keys, new Set(keys), []);
  const own = await listKeys(
    ports.store,
    settings.captureBucket,
    folderPrefixes(settings, ctx.variants, start, new Date(end.getTime() + ctx.settleMs)),
  );
  // A window that was empty at its check gets its first report now.
  const version = w.reported ? w.version + 1 : 1;
  const lateShare = w.records > 0 ? w.late / w.records : 1;
  const updateWatch = (s: CheckerState): CheckerState => ({
    ...s,
    watch: (s.watch ?? []).map((x) =>
      x.windowEnd === w.windowEnd ? { ...x, records: acc.records, late: 0, version, keys: own, reported: true } : x,
    ),
  });
  if (acc.records === 0) return { state: updateWatch(state) };
  const proportions = ports.proportions ? await ports.proportions({ start, end }) : [];
  const report = reportWindow(ctx.baseline, acc, counters, settings.policy, proportions);
  const next: CheckerState = {
    ...updateWatch(state),
    windows: withOutcome(state.windows, { windowEnd: w.windowEnd, drifted: report.drifted }),
    history: withHistory(state.history, w.windowEnd, report),
  };
  const key = reportKeyOf(settings, w.windowEnd, version);
  const previous = w.reported ? reportKeyOf(settings, w.windowEnd, w.version) : undefined;
  const written = await writeReport(
    ctx,
    next,
    key,
    {
      windowStart: w.windowStart,
      windowEnd: w.windowEnd,
      caseStudy: settings.caseStudy,
      stage: settings.stage,
      endpointName: settings.endpointName,
      version,
      ...(previous ? { supersedes: previous } : {}),
      late: { records: w.late, share: lateShare, recordsAtPreviousCheck: w.records },
      report,
    },
    `window ${w.windowStart} – ${w.windowEnd}, version ${version} (checked again: ${w.late} late records)`,
  );
  if (!written) return { state };
  ports.log('info', 'window checked again after late records', {
    windowEnd: w.windowEnd,
    version,
    late: w.late,
    records: acc.records,
    drifted: report.drifted,
  });
  ports.metrics.recheck?.(w.windowEnd, version, lateShare);
  return { state: next, key };
}

/** The quality window due in this run, judged and reported. */
async function checkQuality(
  ctx: Context,
  state: CheckerState,
  now: Date,
): Promise<{ outcome: QualityOutcome; key: string } | undefined> {
  const { settings, ports } = ctx;
  const quality = settings.quality ?? (ports.quality ? DEFAULT_QUALITY_SETTINGS : undefined);
  if (!quality) return undefined;
  const window = windowFor(
    new Date(now.getTime() - quality.settleMinutes * 60_000),
    quality.windowMinutes ?? settings.windowMinutes,
  );
  const outcome = await checkQualityWindow(ports.store, { ...settings, quality }, state, window, now, ports.quality);
  // A drift request in the same run already started the cooldown: the quality decision sees it in the state.
  if (!outcome) return undefined;
  const key = `${settings.reportPrefix}${settings.endpointName}/quality/${outcome.windowEnd}.json`;
  await ports.store.put(
    settings.artifactsBucket,
    key,
    JSON.stringify({
      windowStart: outcome.windowStart,
      windowEnd: outcome.windowEnd,
      caseStudy: settings.caseStudy,
      stage: settings.stage,
      endpointName: settings.endpointName,
      decision: { requestRetraining: outcome.requestRetraining, reason: outcome.reason },
      quality: outcome.results,
    }),
    { contentType: 'application/json' },
  );
  ports.log('info', 'realised quality judged', {
    windowEnd: outcome.windowEnd,
    dropped: outcome.dropped,
    retraining: outcome.reason,
  });
  return { outcome, key };
}
