/**
 * One run of the drift checker, independent of Lambda and of the AWS SDK: the handler wires real clients, tests
 * and the local simulation wire fakes. Idempotent per window: a window whose report exists is skipped.
 */
import { accumulateWindow, windowAccumulator, reportWindow } from './check';
import type { DriftPolicy, DriftReport, ProportionSignal } from './engine';
import { parseBaselineProfile, type BaselineProfile } from './profile';
import { decideRetraining, EMPTY_STATE, type RetrainingPolicy, type RetrainingState } from './retraining';
import { PreconditionFailedError, readText, type ObjectStore } from '../storage/object-store';

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
  /** Reports: `{reportPrefix}{endpoint}/{windowEnd}.json`. */
  readonly reportPrefix: string;
  /** State: `{statePrefix}{endpoint}.json`. */
  readonly statePrefix: string;
  readonly windowMinutes: number;
  readonly policy: DriftPolicy;
  readonly retraining: RetrainingPolicy;
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
}

/** Where metrics go (Powertools EMF in Lambda). */
export interface DriftMetricsSink {
  /** A compared window. */
  window(report: DriftReport, retrainingRequested: boolean): void;
  /** A run that did nothing, and why. */
  noOp(reason: 'no-baseline' | 'empty-window' | 'duplicate'): void;
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
}

/** The window that ended last at or before `now`: aligned to multiples of the window length. */
export function windowFor(now: Date, minutes: number): { start: Date; end: Date } {
  const ms = minutes * 60_000;
  const end = new Date(Math.floor(now.getTime() / ms) * ms);
  return { start: new Date(end.getTime() - ms), end };
}

/** The hour folders (`yyyy/mm/dd/hh/`) that can hold records of `[start, end)`. */
export function hourFolders(start: Date, end: Date): string[] {
  const out: string[] = [];
  const pad = (n: number) => String(n).padStart(2, '0');
  for (let t = Math.floor(start.getTime() / 3_600_000) * 3_600_000; t < end.getTime(); t += 3_600_000) {
    const d = new Date(t);
    out.push(`${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}/`);
  }
  return out;
}

async function loadState(ports: DriftCheckerPorts, s: DriftCheckerSettings, key: string) {
  const object = await ports.store.get(s.artifactsBucket, key);
  if (!object) return { state: EMPTY_STATE, etag: undefined };
  return { state: JSON.parse(await readText(object)) as RetrainingState, etag: object.etag };
}

/** Runs the check for the window ending at or before `now`. */
export async function runDriftCheck(
  settings: DriftCheckerSettings,
  ports: DriftCheckerPorts,
  now: Date,
): Promise<DriftCheckResult> {
  const { start, end } = windowFor(now, settings.windowMinutes);
  const base = { windowStart: start.toISOString(), windowEnd: end.toISOString() };
  const reportKey = `${settings.reportPrefix}${settings.endpointName}/${base.windowEnd}.json`;

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
  const baseline: BaselineProfile = parseBaselineProfile(JSON.parse(await readText(baselineObject)));

  const acc = windowAccumulator(baseline);
  const endpointPrefix = `${settings.capturePrefix}${settings.endpointName}/`;
  const variants = await ports.store.children(settings.captureBucket, endpointPrefix);
  const store = ports.store;
  const bucket = settings.captureBucket;
  async function* sources() {
    for (const variant of variants) {
      for (const hour of hourFolders(start, end)) {
        for await (const key of store.list(bucket, `${variant}${hour}`)) {
          const object = await store.get(bucket, key);
          if (object) yield object.body;
        }
      }
    }
    if (settings.extraPrefix) {
      for (const hour of hourFolders(start, end)) {
        for await (const key of store.list(bucket, `${settings.extraPrefix}${settings.endpointName}/${hour}`)) {
          const object = await store.get(bucket, key);
          if (object) yield object.body;
        }
      }
    }
  }
  const counters = await accumulateWindow(acc, sources(), { window: { from: start, to: end } });
  if (acc.records === 0) {
    ports.log('warn', 'no captured records in the window; skipping', { ...base, variants, counters });
    ports.metrics.noOp('empty-window');
    return { status: 'empty-window', ...base, records: 0 };
  }

  const proportions = ports.proportions ? await ports.proportions({ start, end }) : [];
  const report = reportWindow(baseline, acc, counters, settings.policy, proportions);
  const stateKey = `${settings.statePrefix}${settings.endpointName}.json`;
  const { state, etag } = await loadState(ports, settings, stateKey);
  const decision = decideRetraining(
    state,
    { windowEnd: base.windowEnd, drifted: report.drifted },
    settings.retraining,
    now,
  );

  const document = {
    ...base,
    caseStudy: settings.caseStudy,
    stage: settings.stage,
    endpointName: settings.endpointName,
    decision: { requestRetraining: decision.requestRetraining, reason: decision.reason },
    report,
  };
  try {
    await ports.store.put(settings.artifactsBucket, reportKey, JSON.stringify(document), { ifNoneMatch: true });
  } catch (error) {
    if (error instanceof PreconditionFailedError) {
      ports.log('info', 'another run reported this window first; nothing to do', { reportKey });
      ports.metrics.noOp('duplicate');
      return { status: 'duplicate', ...base, reportKey };
    }
    throw error;
  }
  await ports.store.put(
    settings.artifactsBucket,
    stateKey,
    JSON.stringify(decision.state),
    etag ? { ifMatch: etag } : { ifNoneMatch: true },
  );

  if (decision.requestRetraining) {
    await ports.publishDriftDetected({
      caseStudy: settings.caseStudy,
      stage: settings.stage,
      endpointName: settings.endpointName,
      ...base,
      reportUri: `s3://${settings.artifactsBucket}/${reportKey}`,
      driftedFeatures: report.features.filter((f) => f.drifted).map((f) => f.name),
      keySignalsDrifted: report.keySignalsDrifted,
      driftedShare: report.driftedShare,
      reason: `${report.reason}; ${decision.reason}`,
    });
  }
  ports.metrics.window(report, decision.requestRetraining);
  ports.log('info', 'window reported', {
    ...base,
    drifted: report.drifted,
    reason: report.reason,
    retraining: decision.reason,
    records: acc.records,
    invalid: counters.invalid,
  });
  return {
    status: 'reported',
    ...base,
    drifted: report.drifted,
    retrainingRequested: decision.requestRetraining,
    reason: decision.reason,
    reportKey,
    records: acc.records,
  };
}
