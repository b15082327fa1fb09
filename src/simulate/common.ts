/** What both case-study simulations share: the run context, the result shape, the drift check and the loop. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ctrBaselineKey, ctrSettingsFromEnv, ctrSignals, parseCtrBaseline } from '../../core/recommender/ctr';
import { readText } from '../../core/storage/object-store';
import { runDriftCheck, type DriftCheckResult, type ModelDriftDetectedDetail } from '../../core/drift/checker';
import { settingsFromEnv } from '../../core/drift/checker-settings';
import type { DriftReport } from '../../core/drift/engine';
import type { FeatureStore } from '../../core/recommender/feature-store';
import type { CaseStudyBlueprint } from './blueprint';
import type { Emulators } from '../local-world/emulators';
import type { LocalObjectStore } from './store';
import type { SimClock, Timeline } from './timeline';

/**
 * How the infrastructure behaves for a seed: simulated training time and whether a rollout trips an alarm and rolls
 * back. No model quality is scripted: both case studies train and score real models.
 */
export interface ServiceScenario {
  /** The qualities `scenarioFor` draws; no model reads them (kept for the seed's documented character). */
  readonly championQuality: number;
  readonly candidateQuality: number;
  readonly candidateMetric: number;
  /** Simulated training time, minutes. */
  readonly trainingMinutes: number;
  readonly seed: number;
  /** The deployment trips an auto-rollback alarm. */
  readonly rollback: boolean;
}

/** The outcome of the retraining decision. */
export type Decision = 'deployed' | 'rejected' | 'rolled-back' | 'skipped';

/** One case study's result (the `--json` document's entries). */
export interface CaseStudyResult {
  readonly caseStudy: string;
  readonly eventsIngested: number;
  readonly invalidEvents: number;
  readonly driftDetected: boolean;
  readonly driftedFeatures: string[];
  readonly retrainingStarted: boolean;
  readonly decision: Decision;
  readonly states: string[];
  /**
   * Figures measured on the models the run trained: the recommender's offline metrics; vision: both models on the
   * fixed test set and McNemar's counts and p-value.
   */
  readonly metrics?: object | null;
}

/** Everything one case study's simulation works with. */
export interface CaseContext {
  readonly blueprint: CaseStudyBlueprint;
  readonly emulators: Emulators;
  readonly store: LocalObjectStore;
  readonly clock: SimClock;
  readonly timeline: Timeline;
  readonly seed: number;
  /** Whether the second period drifts. */
  readonly drift: boolean;
  /** Start of the baseline period; the drifted period starts a week later (same weekday and hour). */
  readonly baselineStart: Date;
  /** Events (recommender) or images (vision) per period. */
  readonly eventsPerPeriod: number;
  readonly scenario: ServiceScenario;
  /** Where the run's files are kept (`--out DIR`): model archives, jobs, lake mirror, reports. @default a temporary folder */
  readonly outDir?: string;
}

/** A week: the two periods share weekday and hour, so calendar features compare like with like. */
export const PERIOD_GAP_MS = 7 * 86_400_000;
/** Each period is one drift-checker window (the sandbox checks hourly). */
export const PERIOD_MS = 3_600_000;

/** Spreads `sessions` starts over a period, leaving the last minute free (sessions last a few seconds). */
export function sessionClock(start: Date, expectedSessions: number): () => Date {
  let k = 0;
  const spacing = (PERIOD_MS - 60_000) / Math.max(1, expectedSessions);
  return () => new Date(start.getTime() + Math.min(PERIOD_MS - 60_000, k++ * spacing));
}

/** Runs the real drift checker over the drifted period's window (ending at `now`). */
export async function checkDrift(
  ctx: CaseContext,
  now: Date,
  featureStore?: FeatureStore,
): Promise<{ result: DriftCheckResult; report?: DriftReport; published?: ModelDriftDetectedDetail }> {
  const settings = settingsFromEnv(ctx.blueprint.driftEnv);
  const ctr = ctrSettingsFromEnv(ctx.blueprint.driftEnv);
  let published: ModelDriftDetectedDetail | undefined;
  let report: DriftReport | undefined;
  const result = await runDriftCheck(
    settings,
    {
      store: ctx.store,
      publishDriftDetected: async (detail) => {
        published = detail;
      },
      metrics: { window: (r) => (report = r), noOp: () => undefined },
      log: () => undefined,
      proportions:
        ctr && featureStore
          ? async (window) => {
              const object = await ctx.store.get(settings.artifactsBucket, ctrBaselineKey(settings.endpointName));
              const baseline = object ? parseCtrBaseline(JSON.parse(await readText(object))) : undefined;
              return ctrSignals(featureStore, window, { ...ctr, baseline });
            }
          : undefined,
    },
    now,
  );
  return { result, report, published };
}

/** Writes every object of the run's buckets to `<dir>/<bucket>/<key>` (the S3 layout); returns how many. */
export async function keepStore(ctx: CaseContext, dir: string): Promise<number> {
  let n = 0;
  for (const bucket of new Set(Object.values(ctx.blueprint.buckets))) {
    for await (const key of ctx.store.list(bucket, '')) {
      const bytes = ctx.store.bytes(bucket, key);
      if (!bytes) continue;
      const path = join(dir, bucket, key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
      n++;
    }
  }
  return n;
}

/**
 * The end of a case study's run: with `--out`, keep the local S3 under `<root>/s3` (and say so); stop the local
 * services; without `--out`, remove the run's folder.
 */
export async function endRun(ctx: CaseContext, root: string, stop: () => Promise<void>): Promise<void> {
  if (ctx.outDir) {
    const files = await keepStore(ctx, join(root, 's3'));
    ctx.timeline.log(
      'out',
      `${files} objects of the local S3 kept under ${join(root, 's3')} (jobs under ${join(root, 'jobs')})`,
    );
  }
  await stop();
  if (!ctx.outDir) rmSync(root, { recursive: true, force: true });
}

/** The decision an execution's outcome status stands for; anything else is an error naming the path taken. */
export function decisionOf(
  status: string,
  run: { readonly status: string; readonly visited: readonly string[]; readonly error?: { readonly message: string } },
): Decision {
  const decisions: Record<string, Decision> = {
    deployed: 'deployed',
    rejected: 'rejected',
    'rolled-back': 'rolled-back',
    skipped: 'skipped',
  };
  const decision = decisions[status];
  if (!decision) {
    throw new Error(
      `the retraining loop ended with status "${status || run.status}"${run.error ? `: ${run.error.message}` : ''}; path: ${run.visited.join(' → ')}`,
    );
  }
  return decision;
}

/** Names of what drifted: features, then proportion signals (CTR per model version). */
export function driftedNames(report: DriftReport | undefined): string[] {
  if (!report) return [];
  return [
    ...report.features.filter((f) => f.drifted).map((f) => f.name),
    ...report.proportions.filter((p) => p.drifted).map((p) => p.name),
  ];
}

/** Reports the drift check on the timeline. */
export function logDrift(ctx: CaseContext, check: Awaited<ReturnType<typeof checkDrift>>): void {
  const { result, report } = check;
  if (result.status !== 'reported' || !report) {
    ctx.timeline.log('drift', `no comparison: ${result.status}`);
    return;
  }
  for (const f of report.features) {
    const effect = f.effect ? `${f.effect.metric} ${f.effect.value.toFixed(3)}` : 'no effect';
    const p = f.test ? `p=${f.test.adjustedPValue.toExponential(1)}` : '';
    ctx.timeline.log('drift', `  ${f.drifted ? 'DRIFT' : 'ok   '} ${f.name.padEnd(22)} ${effect} ${p}`.trimEnd());
  }
  for (const s of report.proportions) {
    ctx.timeline.log(
      'drift',
      `  ${s.drifted ? 'DRIFT' : 'ok   '} ${s.name.padEnd(22)} ${(s.reference * 100).toFixed(2)}% → ${(s.current * 100).toFixed(2)}% p=${s.adjustedPValue.toExponential(1)}`,
    );
  }
  ctx.timeline.log(
    'drift',
    `window ${result.windowStart.slice(11, 16)}–${result.windowEnd.slice(11, 16)}: ${report.records.current} records, ${report.drifted ? 'DRIFTED' : 'no drift'} (${report.reason}); retraining ${result.retrainingRequested ? 'requested' : 'not requested'}: ${result.reason ?? ''}`,
  );
}
