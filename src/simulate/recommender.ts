/**
 * The recommender case study, simulated on real engines (nothing scripted about a model):
 *
 * 1. the week before, for three hours (or 3,000 requests), no model exists: users (latent tastes over item categories, position bias,
 *    `src/producer/shoppers.ts`) browse and ask the `recommend` logic for slates, served by the popularity fallback
 *    and logged with their features; interactions and slates go through kinesalite, the real consumer and the local
 *    Firehose into the lake;
 * 2. the first run of the synthesized retraining loop: DuckDB runs its co-visitation job and bootstrap dataset,
 *    the local SageMaker trains `models/recommender/train.py`, batch transform scores the holdout, the promotion
 *    rule compares the model with popularity, and the model is deployed to the local endpoint;
 * 3. the baseline period (Monday 09:00–10:00): the champion serves; the drift baseline is built from its served
 *    features by the real baseline builder, its CTR is the CTR baseline;
 * 4. a week later, the same hour (drifting for odd seeds: tastes move, clicks halve, mobile-heavy): the champion
 *    serves; the real drift checker decides at 10:05;
 * 5. on drift, the second run: served slates joined to their interactions, candidate trained, champion and
 *    candidate scored on the same time-based holdout, popularity from the served feature, paired bootstrap of the
 *    nDCG@10 gain; a promoted candidate is deployed and serves.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCtrBaseline } from '../../core/drift/ctr-baseline';
import { captureHourFolder } from '../../core/storage/layout';
import type { RecommenderEvaluation } from '../../core/recommender/promotion';
import { bucketStart } from '../../core/recommender/features';
import type { RecommendRequest } from '../../core/recommender/recommend';
import { consumerSettingsFromEnv, servingSettingsFromEnv } from '../../core/recommender/settings';
import { refreshBaseline } from '../../core/retraining/baseline';
import { PROJECT_ROOT } from '../../lib/constructs/blueprint-function';
import type { OutgoingRecord } from '../producer/kinesis-sender';
import { Shoppers } from '../producer/shoppers';
import { LocalRecommender } from '../local-world/recommender/serving';
import {
  checkDrift,
  driftedNames,
  endRun,
  logDrift,
  PERIOD_GAP_MS,
  PERIOD_MS,
  type CaseContext,
  type CaseStudyResult,
} from './common';
import { RecommenderLoop, type LoopRun } from './recommender-loop';

/** Slates asked for per request. */
const K = 10;

/** Malformed records mixed into a period: not JSON, an unknown event type, a slate with a short feature vector. */
function malformed(at: Date, n: number): OutgoingRecord[] {
  const time = at.toISOString();
  return [
    { data: Buffer.from(`{"event_id": "truncated-${n}`), partitionKey: 'bad' },
    {
      data: Buffer.from(
        JSON.stringify({
          event_id: `bad-${n}`,
          event_type: 'hover',
          user_id: 'user-x',
          item_id: 'i',
          event_time: time,
          surface: 'home',
        }),
      ),
      partitionKey: 'user-x',
    },
    {
      data: Buffer.from(
        JSON.stringify({
          record_type: 'served_slate',
          inference_id: `bad-slate-${n}`,
          event_time: time,
          user_id: 'user-x',
          surface: 'home',
          model_version: 'm',
          feature_version: 2,
          fallback: false,
          candidates: 1,
          items: [{ item_id: 'i', position: 0, score: 1, source: 'trending', features: [1, 2, 3] }],
        }),
      ),
      partitionKey: 'user-x',
    },
  ];
}

/** The decision's evidence: the paired bootstrap interval of the nDCG@10 gain and what it was compared with. */
function gainOf(ev: RecommenderEvaluation): Record<string, unknown> {
  return {
    metric: 'ndcg@10',
    comparedWith: ev.metadata.comparedWith,
    meanDifference: ev.interval.meanDifference,
    lower: ev.interval.lower,
    upper: ev.interval.upper,
    confidence: ev.interval.confidence,
    requests: ev.interval.n,
    promote: ev.promote,
  };
}

/** Runs the recommender simulation. */
export async function simulateRecommender(ctx: CaseContext): Promise<CaseStudyResult> {
  const { blueprint: bp, clock, timeline: t } = ctx;
  const consumer = consumerSettingsFromEnv(bp.consumerEnv);
  if (!bp.servingEnv || !bp.featureTable)
    throw new Error('the recommender template has no recommend API or feature table');
  const serving = servingSettingsFromEnv(bp.servingEnv);
  const root = ctx.outDir ? join(ctx.outDir, 'recommender') : mkdtempSync(join(tmpdir(), 'mlbp-recommender-'));
  mkdirSync(root, { recursive: true });
  const recommender = await LocalRecommender.start({
    emulators: ctx.emulators,
    store: ctx.store,
    root,
    streamName: bp.streamName,
    shards: bp.shards,
    tableName: bp.featureTable.name,
    tableKeys: bp.featureTable.keys,
    rawBucket: bp.buckets.raw,
    captureBucket: bp.buckets.capture,
    database: bp.databaseName,
    endpointName: bp.endpointName,
    consumer,
    // The local model answers in milliseconds, but a loaded machine must not turn a slow answer into a fallback:
    // the run would no longer be a function of the seed.
    serving: { ...serving, invokeTimeoutMs: 120_000 },
    batchSize: bp.batchSize,
    seed: ctx.seed,
  });
  t.log(
    'setup',
    `stream ${bp.streamName} (${bp.shards} local shards), feature table ${bp.featureTable.name}, lake ${bp.databaseName} on DuckDB, local SageMaker runtime ${recommender.runtime.url}`,
  );
  const loop = new RecommenderLoop(ctx, recommender, join(root, 'jobs'), join(PROJECT_ROOT, 'models', 'recommender'));
  const requestsPerPeriod = Math.max(60, Math.round(ctx.eventsPerPeriod / 3));
  let ingested = 0;
  let invalid = 0;
  let malformedBatch = 0;

  /** One hour of traffic: each minute, users browse, ask for K items, and respond to what they were shown. */
  const period = async (label: string, start: Date, drift: boolean, hours = 1) => {
    clock.setAtLeast(start);
    const shoppers = new Shoppers({ seed: ctx.seed, drift });
    const perMinute = requestsPerPeriod / 60;
    let served = 0;
    let fallback = 0;
    const reasons = new Map<string, number>();
    let clicks = 0;
    let slates = 0;
    const versions = new Set<string>();
    for (let m = 0; m < 60 * hours; m++) {
      const now = new Date(start.getTime() + m * 60_000);
      const n = Math.floor((m + 1) * perMinute) - Math.floor(m * perMinute);
      const users = Array.from({ length: n }, () => ({ user: shoppers.nextUser(), context: shoppers.nextContext() }));
      const browse = await recommender.ingest(
        users.flatMap((u) => shoppers.browse(u.user, new Date(now.getTime() - 50_000), u.context)),
        now,
        m === 30 ? malformed(now, ++malformedBatch) : [],
      );
      const at = new Date(now.getTime() + 1000);
      const requests: RecommendRequest[] = users.map((u) => ({ userId: u.user.userId, k: K, ...u.context }));
      const outcomes = await recommender.serve(requests, at);
      const responses = outcomes.flatMap((o, i) => {
        served++;
        if (o.response.fallback) {
          fallback++;
          const reason = o.response.fallbackReason ?? 'unknown';
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
        versions.add(o.response.modelVersion);
        return shoppers.respond(
          users[i].user,
          {
            inferenceId: o.response.inferenceId,
            modelVersion: o.response.modelVersion,
            items: o.response.items.map((x) => x.itemId),
          },
          at,
          users[i].context,
        );
      });
      clicks += responses.filter((e) => e.event_type === 'click').length;
      const feedback = await recommender.ingest(responses, new Date(now.getTime() + 59_000));
      for (const s of [browse, feedback]) {
        ingested += s.valid;
        invalid += s.quarantined;
        slates += s.slates;
      }
    }
    clock.setAtLeast(new Date(start.getTime() + hours * PERIOD_MS));
    const impressions = served * K;
    t.log(
      'serve',
      `${label}: ${served} requests served by ${[...versions].join(', ')} (${fallback} fallback${fallback ? `: ${[...reasons].map(([r, n]) => `${n} ${r}`).join(', ')}` : ''}), ${slates} slates logged, CTR ${((100 * clicks) / Math.max(1, impressions)).toFixed(2)}% over ${impressions} impressions; lake ${bp.databaseName} (events/, slates/)`,
    );
  };

  const runs: LoopRun[] = [];
  try {
    // 1. The week before: no model yet, at least three hours of traffic (the first dataset); users have browsed the
    // catalogue before (their history).
    // At least 3,000 requests: the first model's holdout must be large enough for its bootstrap interval to decide.
    const historyHours = Math.max(3, Math.ceil(3000 / requestsPerPeriod));
    const history = new Date(ctx.baselineStart.getTime() - PERIOD_GAP_MS - (historyHours - 1) * PERIOD_MS);
    const before = new Shoppers({ seed: ctx.seed });
    const warmUp = Array.from({ length: before.userCount }, (_, k) =>
      before.browse(before.userAt(k), new Date(history.getTime() - 3_600_000 + k * 5_000), before.nextContext()),
    ).flat();
    const warm = await recommender.ingest(warmUp, new Date(history.getTime() - 1_000));
    ingested += warm.valid;
    t.log('produce', `users' earlier browsing: ${warm.valid} views and watches in the hour before`);
    await period('the week before (no model yet)', history, false, historyHours);
    const firstAt = clock.setAtLeast(new Date(history.getTime() + historyHours * PERIOD_MS + 5 * 60_000));
    const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').slice(0, 13);
    t.log(
      'retrain',
      `no model serves yet: starting the first run of the synthesized state machine (bootstrap dataset)`,
    );
    const first = await loop.run(`initial-${stamp(firstAt)}-s${ctx.seed}`, {
      kind: 'manual',
      reason: 'first model: bootstrap dataset',
      requestedBy: 'simulation',
    });
    runs.push(first);
    if (!first.deployedModel) {
      t.log('retrain', `the first model was not deployed (${first.decision}): popularity keeps serving`);
    }

    // 2. The baseline period: the champion serves; its served features and CTR become the drift references.
    await period('baseline period', ctx.baselineStart, false);
    const baselineEnd = new Date(ctx.baselineStart.getTime() + PERIOD_MS);
    const prefix = `${consumer.servedFeaturesPrefix ?? `datacapture/${bp.endpointName}/served-slates/`}${captureHourFolder(ctx.baselineStart)}`;
    if (first.deployedModel) {
      const baseline = await refreshBaseline(
        ctx.store,
        {
          sourceUri: `s3://${bp.buckets.capture}/${prefix}`,
          artifactsBucket: bp.buckets.artifacts,
          endpointName: bp.endpointName,
          datasetId: `served-${ctx.baselineStart.toISOString().slice(0, 10)}`,
          exclude: ['inferenceTime'],
        },
        clock.now(),
      );
      // The champion's CTR over its first hour, written as the loop's references step writes it.
      const served = await recommender.featureStore.ctrCounts(
        bucketStart(ctx.baselineStart, consumer.ctrWindowMinutes),
      );
      const version = served.find((c) => c.modelVersion !== 'fallback' && c.modelVersion !== 'unknown')?.modelVersion;
      const ctr = version
        ? await writeCtrBaseline(recommender.featureStore, ctx.store, {
            artifactsBucket: bp.buckets.artifacts,
            endpointName: bp.endpointName,
            modelVersion: version,
            source: 'champion',
            end: baselineEnd,
            windows: PERIOD_MS / (consumer.ctrWindowMinutes * 60_000),
            bucketMinutes: consumer.ctrWindowMinutes,
          })
        : undefined;
      const clicks = ctr?.clicks ?? 0;
      const impressions = ctr?.impressions ?? 0;
      t.log(
        'baseline',
        `champion ${first.deployedModel}: drift baseline from ${baseline.records} served feature vectors of its first hour (${baseline.features.length} features), CTR baseline ${((100 * clicks) / Math.max(1, impressions)).toFixed(2)}% over ${impressions} impressions`,
      );
    }

    // 3. A week later: the drift check decides whether the loop runs again.
    const secondStart = new Date(ctx.baselineStart.getTime() + PERIOD_GAP_MS);
    await period(ctx.drift ? 'drifted period' : 'second period (no drift)', secondStart, ctx.drift);
    const checkAt = clock.setAtLeast(new Date(secondStart.getTime() + PERIOD_MS + 5 * 60_000));
    t.log(
      'drift',
      `drift checker (scheduled every ${bp.driftEnv.WINDOW_MINUTES} min) runs at ${checkAt.toISOString().slice(11, 16)}`,
    );
    const check = await checkDrift(ctx, checkAt, recommender.featureStore);
    logDrift(ctx, check);
    const base = {
      caseStudy: 'recommender' as const,
      eventsIngested: ingested,
      invalidEvents: invalid,
      driftDetected: check.report?.drifted ?? false,
      driftedFeatures: driftedNames(check.report),
    };
    if (!check.published) {
      t.log('retrain', 'no ModelDriftDetected event: the retraining loop does not start (decision: skipped)');
      return {
        ...base,
        retrainingStarted: false,
        decision: 'skipped',
        states: [],
        ...(first.evaluation ? { metrics: { ...first.evaluation.metrics, gain: gainOf(first.evaluation) } } : {}),
      };
    }
    const detail = check.published;
    t.log(
      'retrain',
      `ModelDriftDetected → starting execution drift-${stamp(checkAt)}-s${ctx.seed} of the synthesized state machine`,
    );
    const second = await loop.run(`drift-${stamp(checkAt)}-s${ctx.seed}`, {
      kind: 'drift',
      reason: detail.reason.slice(0, 1000),
      detail: { ...detail },
    });
    runs.push(second);
    if (second.deployedModel) {
      const outcomes = await recommender.serve(
        [{ userId: 'user-000001', k: K, surface: 'home', device: 'mobile' }],
        clock.now(),
      );
      t.log(
        'serve',
        `after the deployment: a request is ranked by ${outcomes[0].response.modelVersion} (fallback: ${outcomes[0].response.fallback})`,
      );
    }
    const ev = second.evaluation;
    if (ev) {
      const f = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(4));
      t.log(
        'evaluate',
        `nDCG@10 on the holdout: popularity ${f(ev.metrics.popularity['ndcg@10'])}, champion ${f(ev.metrics.champion?.['ndcg@10'])}, candidate ${f(ev.metrics.candidate['ndcg@10'])}; gain interval [${f(ev.interval.lower)}, ${f(ev.interval.upper)}] → ${ev.promote ? 'promote' : 'reject'}`,
      );
    }
    return {
      ...base,
      retrainingStarted: true,
      decision: second.decision,
      states: second.states,
      ...(ev ? { metrics: { ...ev.metrics, gain: gainOf(ev) } } : {}),
    };
  } finally {
    await endRun(ctx, root, () => recommender.stop());
  }
}
