/** What both case-study simulations share: the run context, the result shape, the drift check and the loop. */
import { ctrBaselineKey, ctrSettingsFromEnv, ctrSignals, parseCtrBaseline } from '../../core/recommender/ctr';
import { readText } from '../../core/storage/object-store';
import { runDriftCheck, type DriftCheckResult, type ModelDriftDetectedDetail } from '../../core/drift/checker';
import { settingsFromEnv } from '../../core/drift/checker-settings';
import type { DriftReport } from '../../core/drift/engine';
import type { FeatureStore } from '../../core/recommender/feature-store';
import type { CaseStudyBlueprint } from './blueprint';
import type { Emulators } from '../local-world/emulators';
import { fabricatedModels, type FabricatedScript } from '../local-world/fabricated-models';
import { loopFunctions } from '../local-world/services/lambda';
import type { LakeEvent } from '../local-world/types';
import { LocalWorld } from '../local-world/world';
import type { LocalObjectStore } from './store';
import type { SimClock, Timeline } from './timeline';
import type { ImageLimits } from '../../core/vision/image-stats';

/**
 * How the run goes for a seed: the fabricated models' script (how good the candidate and the champion are, how long
 * training takes) and whether the rollout trips an alarm and rolls back.
 */
export interface ServiceScenario extends FabricatedScript {
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

/**
 * Records read back from the shards in a canonical order (event time, then payload): with several PutRecords calls
 * in flight, arrival order within a shard differs between runs, and the simulation must not.
 */
export function canonicalOrder<T extends { readonly data: Uint8Array }>(records: readonly T[]): T[] {
  const keyed = records.map((r) => {
    const text = Buffer.from(r.data).toString('utf8');
    let time = '';
    try {
      const parsed = JSON.parse(text) as { event_time?: unknown };
      if (typeof parsed.event_time === 'string') time = parsed.event_time;
    } catch {
      // not JSON: sorts first, by its text
    }
    return { r, key: `${time}\u0000${text}` };
  });
  return keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((k) => k.r);
}

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

/** Starts the retraining loop from the drift event (as the drift rule does) and maps its outcome. */
export async function retrain(
  ctx: CaseContext,
  lake: () => readonly LakeEvent[],
  champion: { modelName: string; metricName: string; metricValue: number; datasetEnd: string },
  detail: ModelDriftDetectedDetail,
  imageLimits?: ImageLimits,
): Promise<{ decision: Decision; states: string[] }> {
  const bp = ctx.blueprint;
  const world = new LocalWorld({
    dynamo: ctx.emulators.dynamo,
    store: ctx.store,
    clock: ctx.clock,
    log: (phase, message) => ctx.timeline.log(phase, message),
    lake,
    athenaResultsUri: `s3://${bp.buckets.curated}/athena-results/`,
  });
  world.deployFunctions(loopFunctions(world, { caseStudy: bp.caseStudy, imageLimits }));
  // The model that served the baseline period: approved, deployed (in its inference component where one is used).
  const served = world.registry.add(bp.endpointName, 'Approved', {
    datasetId: 'initial',
    datasetEnd: champion.datasetEnd,
    metricName: champion.metricName,
    metricValue: String(champion.metricValue),
    modelName: champion.modelName,
  });
  // The loop tags the model it deploys with its registry package: the champion is found through that tag.
  world.hosting.addEndpoint(bp.endpointName, champion.modelName, { packageArn: served.arn });
  world.hosting.addInferenceComponent(`${bp.endpointName}-ic`, bp.endpointName, champion.modelName);
  const { definition } = await world.deploy(bp.mlTemplate, bp.mlStack);
  const stamp = ctx.clock.now().toISOString().replace(/[-:]/g, '').slice(0, 13);
  const executionName = `drift-${stamp}-s${ctx.seed}`;
  ctx.timeline.log(
    'retrain',
    `ModelDriftDetected → starting execution ${executionName} of the synthesized state machine`,
  );
  const { rollback, ...script } = ctx.scenario;
  const record = await world.run(definition, {
    execution: executionName,
    stateMachineName: `${bp.mlStack}-Retraining`,
    input: { trigger: { kind: 'drift', reason: detail.reason.slice(0, 1000), detail: { ...detail } } },
    models: fabricatedModels(script),
    rollout: {
      endpointPolls: { create: 3, update: 4 },
      componentPolls: { create: 2, update: 3 },
      endpointRollback: rollback,
      componentRollback: rollback,
    },
  });
  const run = {
    status: record.status,
    visited: record.visited,
    outcome: world.notifications.at(-1),
    error: record.error?.message,
  };
  const status = String(run.outcome?.status ?? '');
  ctx.timeline.log('retrain', `path: ${run.visited.join(' → ')}`);
  ctx.timeline.log('retrain', `execution ${run.status}${run.error ? ` (${run.error})` : ''}; outcome ${status}`);
  const decisions: Record<string, Decision> = {
    deployed: 'deployed',
    rejected: 'rejected',
    'rolled-back': 'rolled-back',
    skipped: 'skipped',
  };
  const decision = decisions[status];
  if (!decision) {
    throw new Error(
      `the retraining loop ended with status "${status || run.status}"${run.error ? `: ${run.error}` : ''}; path: ${run.visited.join(' → ')}`,
    );
  }
  return { decision, states: run.visited };
}

/** What {@link finishCaseStudy} needs from a case study's simulation. */
export interface CaseStudyTail {
  readonly caseStudy: 'recommender' | 'vision';
  readonly ingested: number;
  readonly invalid: number;
  /** The lake as the loop's Athena queries see it. */
  readonly lake: () => readonly LakeEvent[];
  /** The champion's registered metric name (`validation:auc`, `validation:accuracy`). */
  readonly metricName: string;
  /** Recommender: CTR counters for the CTR key signal. */
  readonly featureStore?: FeatureStore;
  /** Vision: image limits of the baseline builder. */
  readonly imageLimits?: ImageLimits;
}

/**
 * The common end of both case studies: the drift checker runs five minutes after the drifted period, and its decision
 * either starts the synthesized retraining loop or skips it.
 */
export async function finishCaseStudy(ctx: CaseContext, tail: CaseStudyTail): Promise<CaseStudyResult> {
  const bp = ctx.blueprint;
  const checkAt = ctx.clock.setAtLeast(new Date(ctx.baselineStart.getTime() + PERIOD_GAP_MS + PERIOD_MS + 5 * 60_000));
  ctx.timeline.log(
    'drift',
    `drift checker (scheduled every ${bp.driftEnv.WINDOW_MINUTES} min) runs at ${checkAt.toISOString().slice(11, 16)}`,
  );
  const check = await checkDrift(ctx, checkAt, tail.featureStore);
  logDrift(ctx, check);
  const base: Omit<CaseStudyResult, 'retrainingStarted' | 'decision' | 'states'> = {
    caseStudy: tail.caseStudy,
    eventsIngested: tail.ingested,
    invalidEvents: tail.invalid,
    driftDetected: check.report?.drifted ?? false,
    driftedFeatures: driftedNames(check.report),
  };
  if (!check.published) {
    ctx.timeline.log('retrain', 'no ModelDriftDetected event: the retraining loop does not start (decision: skipped)');
    return { ...base, retrainingStarted: false, decision: 'skipped', states: [] };
  }
  const outcome = await retrain(
    ctx,
    tail.lake,
    {
      modelName: `${bp.endpointName}-initial`,
      metricName: tail.metricName,
      metricValue: ctx.scenario.championQuality,
      datasetEnd: new Date(ctx.baselineStart.getTime() + PERIOD_MS).toISOString(),
    },
    check.published,
    tail.imageLimits,
  );
  return { ...base, retrainingStarted: true, ...outcome };
}
