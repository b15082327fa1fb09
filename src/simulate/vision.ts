/**
 * The vision case study, simulated with real engines and real models, nothing scripted about how good a model is:
 *
 * 1. **Bootstrap** (a week before the baseline period): a day camera's images, labelled by folder, arrive through the
 *    real producer, stream (kinesalite), image consumer and local Firehose; no model serves yet, so every
 *    prediction is deferred. The synthesized retraining loop runs (manual trigger): DuckDB runs the dataset SQL
 *    over the lake, the dataset step builds the label memory and manifests, the local SageMaker trains
 *    `models/vision/train.py` on CPU, batch transform scores the held-out images, and the first model is
 *    deployed; the local endpoint serves it with data capture. The deferred predictions are backfilled by batch
 *    transform and the day's review (active learning: the most uncertain predictions up to the budget plus a
 *    random audit) goes to simulated reviewers, whose labels come back as label events on the stream.
 * 2. **Baseline period**: day images (folder labels) served by the endpoint; the day's review.
 * 3. **Second period**: the same day camera, or (drifting seeds) a night camera, darker and flatter, which also sees
 *    a shape nobody has labelled yet (a star), without folder labels; served; the day's review.
 * 4. The real drift checker compares the second period's image statistics and data capture with the baseline the
 *    loop built from the model's own outputs; on `ModelDriftDetected` the loop runs again: the memory keeps every
 *    label, the audit labels form the fixed test set, the candidate is fine-tuned from the champion (its class
 *    map carried forward, the new class appended), both models answer the test set, and McNemar's exact test and
 *    the minimum gain decide.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBytes, readText } from '../../core/storage/object-store';
import { parseS3Uri } from '../../core/storage/s3-uri';
import { createRng } from '../../core/drift/stats/random';
import { consumerSettingsFromEnv } from '../../core/vision/image-consumer-settings';
import type { ImageLimits } from '../../core/vision/image-stats';
import { utcDay } from '../../core/vision/prediction-log';
import type { VisionEvaluationReport } from '../../core/vision/promotion';
import { loopFunctions } from '../local-world/services/lambda';
import { scriptModeModels, type ScriptModeModels } from '../local-world/script-mode-models';
import type { Json } from '../local-world/types';
import { LocalVision } from '../local-world/vision/serving';
import { LocalWorld, type RunRecord } from '../local-world/world';
import {
  checkDrift,
  decisionOf,
  driftedNames,
  endRun,
  logDrift,
  PERIOD_GAP_MS,
  PERIOD_MS,
  sessionClock,
  type CaseContext,
  type CaseStudyResult,
} from './common';
import { dailyReviewMachine, runDailyReview } from './vision-daily-review';
import { reviewRequests } from './vision-reviewers';
import { DAY, DAY_CLASSES, IMAGE_SIZE, NEW_CLASS, NIGHT, paintShape, type Lighting, type Shape } from './vision-images';

/** The model code the local SageMaker runs (the CDK asset's source). */
const VISION_SOURCE = join(__dirname, '..', '..', 'models', 'vision');
/** Simulated minutes of a batch transform. */
const TRANSFORM_MINUTES = 4;

/**
 * What the simulation changes in the sandbox it synthesizes (`synthesizeSandbox`): the model trained on a CPU in
 * seconds (MobileNetV3-small, 32 px, random initialisation: no download), a loop that trains on the simulation's
 * few hundred labels, and an audit large enough to give a test set within the simulated days.
 */
export const VISION_SIMULATION_OVERRIDES = {
  training: {
    hyperparameters: {
      backbone: 'mobilenet_v3_small',
      pretrained: 'none',
      image_size: String(IMAGE_SIZE),
      epochs: '5',
      batch_size: '32',
      lr: '0.003',
      num_workers: '0',
      embedding_dim: '32',
      top_k: '3',
      seed: '7',
      patience: '0',
    },
  },
  retraining: { minNewRecords: 100 },
  vision: { activeLearning: { dailyBudget: 200, auditShare: 0.2, uncertainty: 'margin' } },
} as const;

/** The Glue database of the loop's queries (`FROM "database"."table"` in the state machine's definition). */
function databaseOf(template: Json): string {
  const m = /FROM \\*"([a-z0-9_]+)\\*"\.\\*"[a-z0-9_]+\\*"/.exec(JSON.stringify(template));
  if (!m) throw new Error('no Athena table in the retraining definition');
  return m[1];
}

/** McNemar's level of the vision evaluate function (its environment). */
function alphaOf(template: Json): number {
  const text = JSON.stringify(template);
  const m = /"PROMOTION_ALPHA":"([0-9.]+)"/.exec(text);
  return m ? Number(m[1]) : 0.05;
}

interface Scene {
  readonly shape: Shape;
  readonly light: Lighting;
  readonly camera: string;
  /** The folder says the class (the bootstrap labels). */
  readonly labelled: boolean;
}

/** Runs the vision simulation. */
export async function simulateVision(ctx: CaseContext): Promise<CaseStudyResult> {
  const { blueprint: bp, store, clock, timeline: t } = ctx;
  const settings = consumerSettingsFromEnv(bp.consumerEnv);
  if (!settings.predictionLog) throw new Error('the image consumer has no prediction log (PREDICTION_LOG_BUCKET)');
  const limits: ImageLimits = { maxBytes: settings.policy.maxBytes, maxPixels: settings.policy.maxPixels };
  const imagesPrefix = settings.policy.imagesPrefix;
  const root = ctx.outDir ? join(ctx.outDir, 'vision') : mkdtempSync(join(tmpdir(), 'mlbp-vision-'));
  const review = dailyReviewMachine(bp.mlTemplate);
  const policy = review.settings.policy;
  if (review.settings.bucket !== settings.predictionLog.bucket) {
    throw new Error(
      `the daily review reads ${review.settings.bucket}, the consumer logs to ${settings.predictionLog.bucket}`,
    );
  }
  const truth = new Map<string, Shape>();
  const known = new Set<string>();
  const jobs: Array<{ state: string; name: string }> = [];

  const vision = await LocalVision.start({
    emulators: ctx.emulators,
    store,
    clock,
    root,
    streamName: bp.streamName,
    shards: bp.shards,
    consumer: settings,
    batchSize: bp.batchSize,
    rawBucket: bp.buckets.raw,
    database: databaseOf(bp.mlTemplate as Json),
    endpointName: bp.endpointName,
    captureBucket: bp.buckets.capture,
    capturePrefix: bp.driftEnv.CAPTURE_PREFIX,
    seed: ctx.seed,
  });
  const loop = new LocalWorld({
    dynamo: ctx.emulators.dynamo,
    store,
    clock,
    log: (phase, message) => t.log(phase, message),
    queryEngine: vision.athena,
    athenaResultsUri: `s3://${bp.buckets.curated}/athena-results/`,
  });
  loop.deployFunctions(
    loopFunctions(loop, { caseStudy: 'vision', imageLimits: limits, alpha: alphaOf(bp.mlTemplate as Json) }),
  );
  const deployed = await loop.deploy(bp.mlTemplate, bp.mlStack);
  const models: ScriptModeModels = scriptModeModels({
    sourceDir: VISION_SOURCE,
    model: (name) => modelOf(loop, name),
    workRoot: join(root, 'jobs'),
    // One thread: the same seed trains the same model on any machine, and the other processes keep their cores.
    env: { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    trainingMinutes: ctx.scenario.trainingMinutes,
    transformMinutes: TRANSFORM_MINUTES,
  });

  let ingested = 0;
  let invalid = 0;
  let image = 0;

  /** One hour of one camera: PNGs in the raw bucket, events on the stream (a few malformed), the consumer, the lake. */
  const period = async (name: string, start: Date, scenes: readonly Scene[]) => {
    clock.setAtLeast(start);
    const rng = createRng(ctx.seed * 7919 + start.getTime() / 3_600_000);
    const at = sessionClock(start, scenes.length);
    const events: Array<Record<string, unknown>> = [];
    for (const scene of scenes) {
      const n = image++;
      const bytes = paintShape(rng, scene.shape, scene.light);
      const folder = scene.labelled ? `${scene.camera}/${scene.shape}/` : `${scene.camera}/`;
      const key = `${imagesPrefix}${folder}${String(n).padStart(6, '0')}.png`;
      await store.put(settings.imagesBucket, key, bytes);
      truth.set(key, scene.shape);
      const event: Record<string, unknown> = {
        event_id: `img-${ctx.seed}-${String(n).padStart(6, '0')}`,
        image_key: key,
        content_type: 'image/png',
        size_bytes: bytes.length,
        source: 'camera',
        event_time: at().toISOString(),
        width: IMAGE_SIZE,
        height: IMAGE_SIZE,
        ...(scene.labelled ? { label: scene.shape, label_source: 'prefix' } : {}),
      };
      // Bad arrivals: an unknown producer, and an event whose size does not match its object.
      if (n % 97 === 50) event.source = 'scanner';
      if (n % 131 === 70) event.size_bytes = bytes.length + 1;
      events.push(event);
    }
    const summary = await vision.ingest(events);
    ingested += summary.accepted;
    invalid += summary.quarantined;
    clock.setAtLeast(new Date(start.getTime() + PERIOD_MS));
    t.log(
      'consume',
      `${name}: ${summary.records} image events; ${summary.accepted} images measured, ${summary.quarantined} quarantined; ${summary.predicted} predictions by the endpoint (data capture on), ${summary.deferred} deferred (no model serving); ${summary.lakeEvents} events in the lake`,
    );
  };

  /** The deployed model's archive, served by the local endpoint. */
  const serveDeployed = async () => {
    const modelName = loop.hosting.inferenceComponent?.modelName ?? loop.hosting.endpoint?.configName;
    const request = modelName ? loop.hosting.model(modelName) : undefined;
    const url = (request?.PrimaryContainer as Json | undefined)?.ModelDataUrl;
    if (typeof url !== 'string') throw new Error(`no model archive for the deployed model ${String(modelName)}`);
    const { bucket, key } = parseS3Uri(url);
    await vision.deploy(await readBytes(store, bucket, key));
    t.log('serve', `the local endpoint ${bp.endpointName} serves ${String(modelName)} (${url}), data capture on`);
    return String(modelName);
  };

  /**
   * The day's review: the synthesized daily review workflow (backfill of the deferred predictions by batch
   * transform with the served model, then active learning), its requests answered by the simulated reviewers.
   */
  const dailyReview = async (day: string, at: Date) => {
    clock.setAtLeast(at);
    const run = await runDailyReview(loop, review, {
      day,
      execution: `review${day.replace(/-/g, '')}-s${ctx.seed}`,
      models,
    });
    const { backfill, recorded, selection, backfillError } = run.output;
    if (run.transformJob) {
      jobs.push({ state: 'Backfill', name: run.transformJob });
      t.log(
        'backfill',
        `${backfill?.images ?? 0} predictions deferred on ${day} scored by batch transform ${run.transformJob} with the served model: ${recorded?.predictions ?? 0} logged${(recorded?.missing ?? []).length > 0 ? `, ${recorded?.missing?.length} missing` : ''}`,
      );
    }
    if (backfillError) throw new Error(`the backfill of ${day} failed: ${backfillError.Cause ?? backfillError.Error}`);
    const outcome = reviewRequests(run.requests, (k) => truth.get(k), known, imagesPrefix, clock.now());
    clock.advance(30 * 60_000);
    const labels = outcome.events.map((e) => ({ ...e, event_time: clock.now().toISOString() }));
    if (labels.length > 0) await vision.ingest(labels);
    t.log(
      'review',
      `${day} (daily review workflow: ${run.record.visited.join(' → ')}): ${selection?.considered ?? 0} predictions; ${selection?.audit ?? 0} random audit + ${selection?.uncertain ?? 0} most uncertain (${policy.method}, budget ${policy.dailyBudget}) to the reviewers' queue; ${outcome.accepted} labels accepted${outcome.newClasses.length > 0 ? `, new class ${outcome.newClasses.join(', ')}` : ''}; audit: the model was right on ${outcome.auditModelCorrect} of ${outcome.audit}`,
    );
  };

  /** One execution of the synthesized loop with the real models; a deployment rolls back when the seed says so. */
  const runLoop = async (execution: string, input: Json, rollback: boolean): Promise<RunRecord> => {
    t.log('retrain', `starting execution ${execution} of the synthesized state machine`);
    const record = await loop.run(deployed.definition, {
      execution,
      stateMachineName: `${bp.mlStack}-Retraining`,
      input,
      models,
      rollout: {
        endpointPolls: { create: 2, update: 2 },
        componentPolls: { create: 2, update: 2 },
        endpointRollback: rollback,
        componentRollback: rollback,
      },
    });
    t.log('retrain', `path: ${record.visited.join(' → ')}`);
    return record;
  };
  const statusOf = () => String(loop.notifications.at(-1)?.status ?? '');

  const dayScenes = (n: number): Scene[] =>
    Array.from({ length: n }, (_, i) => ({
      shape: DAY_CLASSES[(i * 7 + ctx.seed) % DAY_CLASSES.length],
      light: DAY,
      camera: 'cam-day',
      labelled: true,
    }));
  const nightScenes = (n: number): Scene[] => {
    const rng = createRng(ctx.seed * 31 + 5);
    return Array.from({ length: n }, () => {
      // A quarter of what the night camera sees is the new shape.
      const star = rng.nextFloat() < 0.25;
      return {
        shape: star ? NEW_CLASS : DAY_CLASSES[rng.nextInt(DAY_CLASSES.length)],
        light: NIGHT,
        camera: 'cam-night',
        labelled: false,
      };
    });
  };

  try {
    // 1. Bootstrap.
    const bootstrapStart = new Date(ctx.baselineStart.getTime() - PERIOD_GAP_MS);
    await period('bootstrap (day camera, folder labels)', bootstrapStart, dayScenes(ctx.eventsPerPeriod));
    clock.advance(5 * 60_000);
    const first = await runLoop(
      `bootstrap-${stampOf(clock.now())}-s${ctx.seed}`,
      { trigger: { kind: 'manual', reason: 'first model from the folder labels', requestedBy: 'simulation' } },
      false,
    );
    if (statusOf() !== 'deployed') {
      throw new Error(
        `the first model was not deployed (${statusOf() || first.status}): ${JSON.stringify(loop.notifications.at(-1))}`,
      );
    }
    let served = await serveDeployed();
    await dailyReview(utcDay(bootstrapStart), new Date(bootstrapStart.getTime() + PERIOD_MS + 20 * 60_000));

    // 2. Baseline period, 3. second period.
    await period('baseline period (day camera)', ctx.baselineStart, dayScenes(ctx.eventsPerPeriod));
    await dailyReview(utcDay(ctx.baselineStart), new Date(ctx.baselineStart.getTime() + PERIOD_MS));
    const second = new Date(ctx.baselineStart.getTime() + PERIOD_GAP_MS);
    await period(
      ctx.drift ? 'second period (a night camera: darker, flatter, and a new shape)' : 'second period (day camera)',
      second,
      ctx.drift ? nightScenes(ctx.eventsPerPeriod) : dayScenes(ctx.eventsPerPeriod),
    );
    await dailyReview(utcDay(second), new Date(second.getTime() + PERIOD_MS));

    // 4. Drift, and the loop.
    const checkAt = clock.setAtLeast(new Date(second.getTime() + PERIOD_MS + 5 * 60_000));
    t.log(
      'drift',
      `drift checker (scheduled every ${bp.driftEnv.WINDOW_MINUTES} min) runs at ${checkAt.toISOString().slice(11, 16)}`,
    );
    const check = await checkDrift(ctx, checkAt);
    logDrift(ctx, check);
    const base = {
      caseStudy: 'vision',
      eventsIngested: ingested,
      invalidEvents: invalid,
      driftDetected: check.report?.drifted ?? false,
      driftedFeatures: driftedNames(check.report),
    };
    if (!check.published) {
      t.log('retrain', 'no ModelDriftDetected event: the retraining loop does not start (decision: skipped)');
      return { ...base, retrainingStarted: false, decision: 'skipped', states: [] };
    }
    const execution = `drift-${stampOf(clock.now())}-s${ctx.seed}`;
    t.log('retrain', `ModelDriftDetected → starting execution ${execution} of the synthesized state machine`);
    const run = await runLoop(
      execution,
      { trigger: { kind: 'drift', reason: check.published.reason.slice(0, 1000), detail: { ...check.published } } },
      ctx.scenario.rollback,
    );
    const status = statusOf();
    const decision = decisionOf(status, run);
    if (decision === 'deployed') served = await serveDeployed();
    const report = await evaluationReport(store, bp.buckets.curated, execution);
    if (report) logEvaluation(ctx, report);
    t.log(
      'result',
      `served model: ${served}; jobs on this machine: ${models.jobs.map((j) => `${j.kind} ${j.name}`).join(', ')}`,
    );
    return {
      ...base,
      retrainingStarted: true,
      decision,
      states: run.visited,
      ...(report ? { metrics: visionMetrics(report) } : {}),
    };
  } finally {
    await endRun(ctx, root, () => vision.stop());
  }
}

/**
 * A model's `CreateModel` request with its container: a model created from a registry package (the champion,
 * rebuilt for scoring) runs the package's container.
 */
function modelOf(world: LocalWorld, name: string): Json | undefined {
  const request = world.hosting.model(name);
  const packageArn = (request?.PrimaryContainer as Json | undefined)?.ModelPackageName;
  if (typeof packageArn !== 'string') return request;
  const spec = world.registry.package(packageArn)?.inferenceSpecification;
  const container = (spec?.Containers as Json[] | undefined)?.[0];
  return container ? { ...request, PrimaryContainer: container } : request;
}

/** `20261123T1005` of a time. */
function stampOf(time: Date): string {
  return time.toISOString().replace(/[-:]/g, '').slice(0, 13);
}

/** The drift run's evaluation report (its dataset id is the execution name). */
async function evaluationReport(
  store: CaseContext['store'],
  curated: string,
  execution: string,
): Promise<VisionEvaluationReport | undefined> {
  for await (const key of store.list(curated, 'datasets/')) {
    if (key.endsWith('/evaluation.json') && key.includes(execution)) {
      const object = await store.get(curated, key);
      return object ? (JSON.parse(await readText(object)) as VisionEvaluationReport) : undefined;
    }
  }
  return undefined;
}

/** The `--json` metrics: both models on the fixed test set and McNemar's counts and p-value. */
function visionMetrics(r: VisionEvaluationReport): Record<string, unknown> {
  const model = (m: VisionEvaluationReport['candidate'] | null) =>
    m && {
      accuracy: m.metrics.accuracy,
      macroF1: m.metrics.macroF1,
      classes: m.classes,
      perClass: Object.fromEntries(
        Object.entries(m.metrics.perClass).map(([c, v]) => [c, { recall: v.recall, f1: v.f1, support: v.support }]),
      ),
    };
  return {
    testImages: r.testSet.images,
    champion: model(r.champion),
    candidate: model(r.candidate),
    mcnemar: r.mcnemar && {
      championOnlyRight: r.mcnemar.b,
      candidateOnlyRight: r.mcnemar.c,
      pCandidateBetter: r.mcnemar.pCandidateBetter,
      pTwoSided: r.mcnemar.pTwoSided,
    },
    gain: r.gain,
    promote: r.promote,
  };
}

function logEvaluation(ctx: CaseContext, r: VisionEvaluationReport): void {
  const f = (x: number) => x.toFixed(3);
  const t = ctx.timeline;
  t.log('evaluate', `fixed test set: ${r.testSet.images} human-verified audit images`);
  if (r.champion) {
    t.log(
      'evaluate',
      `champion: accuracy ${f(r.champion.metrics.accuracy)}, macro-F1 ${f(r.champion.metrics.macroF1)} (${r.champion.classes} classes)`,
    );
  }
  t.log(
    'evaluate',
    `candidate: accuracy ${f(r.candidate.metrics.accuracy)}, macro-F1 ${f(r.candidate.metrics.macroF1)} (${r.candidate.classes} classes)`,
  );
  if (r.mcnemar) {
    t.log(
      'evaluate',
      `McNemar: candidate right where the champion is wrong ${r.mcnemar.c}, the reverse ${r.mcnemar.b}; one-sided p = ${r.mcnemar.pCandidateBetter.toExponential(2)}`,
    );
  }
}
