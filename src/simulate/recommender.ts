/**
 * The recommender case study, simulated: synthetic traffic through the real producer (KinesisSender) into
 * kinesalite, read back per shard in the consumer's batch size and processed by the real consumer logic
 * (`processBatch`) into the DynamoDB feature table on dynalite; data capture of the same events; the champion's
 * baseline built by the real baseline builder; the real drift checker (with CTR per model version from the feature
 * store); the retraining loop when drift is found.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeRecord, processBatch, type StreamRecord } from '../../core/recommender/consume';
import { ctrBaselineKey } from '../../core/recommender/ctr';
import { DynamoFeatureStore } from '../../lambdas/shared/aws/dynamo-feature-store';
import { bucketStart } from '../../core/recommender/features';
import { consumerSettingsFromEnv } from '../../core/recommender/settings';
import { refreshBaseline } from '../../core/retraining/baseline';
import { hourFolders } from '../../core/drift/checker';
import { createRng } from '../../core/drift/stats/random';
import { KinesisSender, toRecords, type OutgoingRecord } from '../producer/kinesis-sender';
import { SyntheticTraffic, type SyntheticEvent } from '../producer/synthetic';
import {
  canonicalOrder,
  finishCaseStudy,
  PERIOD_GAP_MS,
  PERIOD_MS,
  sessionClock,
  type CaseContext,
  type CaseStudyResult,
} from './common';
import type { LakeEvent } from '../local-world/types';

const SURFACE_CODES: Record<string, number> = { home: 0, search: 1, detail: 2, email: 3, notification: 4 };
const DEVICE_CODES: Record<string, number> = { mobile: 0, desktop: 1, tablet: 2, tv: 3 };

/** The model's input row of an event, as the dataset queries and the endpoint name it (`f0…f4`). */
export function featureRow(e: LakeEvent): number[] {
  const t = new Date(String(e.event_time));
  return [
    typeof e.position === 'number' ? e.position : -1,
    SURFACE_CODES[String(e.surface)] ?? -1,
    DEVICE_CODES[String(e.device)] ?? -1,
    t.getUTCHours(),
    ((t.getUTCDay() + 6) % 7) + 1,
  ];
}

/** A SageMaker data-capture line: CSV features in, the model's score out. */
function captureLine(e: LakeEvent, score: number): string {
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: featureRow(e).join(','), encoding: 'CSV' },
      endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: score.toFixed(6), encoding: 'CSV' },
    },
    eventMetadata: {
      eventId: String(e.event_id),
      inferenceTime: String(e.event_time),
      inferenceId: String(e.inference_id),
    },
    eventVersion: '0',
  });
}

/** Malformed records mixed into the traffic: not JSON, and an unknown event type. */
function withInvalid(events: readonly SyntheticEvent[]): OutgoingRecord[] {
  const records = toRecords(events);
  const out: OutgoingRecord[] = [];
  records.forEach((r, i) => {
    out.push(r);
    if (i % 211 === 100) out.push({ data: Buffer.from('{"event_id": "truncated'), partitionKey: 'bad' });
    if (i % 307 === 200) {
      out.push({
        data: Buffer.from(JSON.stringify({ ...events[i], event_id: `bad-${i}`, event_type: 'hover' })),
        partitionKey: String(events[i].user_id),
      });
    }
  });
  return out;
}

/** Runs the recommender simulation. */
export async function simulateRecommender(ctx: CaseContext): Promise<CaseStudyResult> {
  const { blueprint: bp, emulators, store, clock, timeline: t } = ctx;
  const settings = consumerSettingsFromEnv(bp.consumerEnv);
  const table = bp.featureTable;
  if (!table) throw new Error('the recommender template has no feature table');
  await emulators.createStream(bp.streamName, bp.shards);
  await emulators.createTable(table.name, table.keys);
  const featureStore = new DynamoFeatureStore(DynamoDBDocumentClient.from(emulators.dynamo), table.name);
  t.log(
    'setup',
    `stream ${bp.streamName} (${bp.streamMode} in the template; ${bp.shards} local shards), feature table ${table.name} (${table.keys.map((k) => k.name).join(', ')})`,
  );

  const champion = `${bp.endpointName}-initial`;
  const lake: LakeEvent[] = [];
  let ingested = 0;
  let invalid = 0;
  const scoreRng = createRng(ctx.seed * 17 + 3);

  for (const period of [0, 1] as const) {
    const start = new Date(ctx.baselineStart.getTime() + period * PERIOD_GAP_MS);
    const end = new Date(start.getTime() + PERIOD_MS);
    const drift = period === 1 && ctx.drift;
    clock.setAtLeast(start);
    const traffic = new SyntheticTraffic({
      seed: ctx.seed * 2 + period,
      items: 2000,
      users: 5000,
      drift,
      clock: sessionClock(start, ctx.eventsPerPeriod / 6.3),
    });
    const events = traffic.take(ctx.eventsPerPeriod);
    const label = period === 0 ? 'baseline period' : drift ? 'drifted period' : 'second period (no drift)';
    t.log(
      'produce',
      `${label}: ${events.length} synthetic events (${drift ? 'drift: popular items rotate, clicks halve, mobile-heavy' : 'reference distribution'})`,
    );

    // Every session was served by the champion: its predictions are in the feature store, so feedback joins.
    const expiresAt = Math.floor(end.getTime() / 1000) + settings.ttlHours * 3600;
    const sessions = [...new Set(events.map((e) => String(e.inference_id)))];
    for (let i = 0; i < sessions.length; i += 25) {
      await Promise.all(
        sessions.slice(i, i + 25).map((id) =>
          featureStore.putPrediction(
            {
              inferenceId: id,
              modelVersion: champion,
              userId: 'sim',
              items: [],
              fallback: false,
              createdAt: start.toISOString(),
            },
            expiresAt,
          ),
        ),
      );
    }

    const records = withInvalid(events);
    const sender = new KinesisSender(emulators.kinesis, {
      stream: bp.streamName,
      random: createRng(ctx.seed).nextFloat,
    });
    await sender.putAll(records);
    t.log(
      'produce',
      `PutRecords: ${sender.stats.sent} records sent in ${sender.stats.calls} calls (${sender.stats.failed} failed)`,
    );

    const read = canonicalOrder(await emulators.readNew(bp.streamName));
    let valid = 0;
    let quarantined = 0;
    let joined = 0;
    for (let i = 0; i < read.length; i += bp.batchSize) {
      const batch: StreamRecord[] = read.slice(i, i + bp.batchSize).map((r) => ({
        id: `${r.shardId}:${r.sequenceNumber}`,
        sequenceNumber: r.sequenceNumber,
        partitionKey: r.partitionKey,
        data: Buffer.from(r.data).toString('base64'),
        approximateArrivalTimestamp: end.getTime() / 1000,
      }));
      const { summary, batchItemFailures } = await processBatch(
        batch,
        settings,
        {
          store: featureStore,
          quarantine: (key, document) => store.put(settings.rawBucket, key, JSON.stringify(document)),
          log: () => undefined,
        },
        end,
      );
      if (batchItemFailures.length > 0) throw new Error(`the consumer failed ${batchItemFailures.length} records`);
      valid += summary.valid;
      quarantined += Object.values(summary.quarantined).reduce((a, b) => a + b, 0);
      joined += summary.feedbackJoined;
      for (const r of batch) {
        const decoded = decodeRecord(r);
        if (decoded.ok) lake.push(decoded.event as unknown as LakeEvent);
      }
    }
    ingested += valid;
    invalid += quarantined;
    clock.setAtLeast(end);
    t.log(
      'consume',
      `${Math.ceil(read.length / bp.batchSize)} batches of ≤ ${bp.batchSize}: ${valid} events into the feature table, ${quarantined} quarantined under s3://${settings.rawBucket}/${settings.quarantinePrefix}, ${joined} feedback events joined to predictions`,
    );

    // Data capture: the endpoint scored each event's feature row.
    const periodEvents = lake.filter((e) => Date.parse(String(e.event_time)) >= start.getTime());
    for (const hour of hourFolders(start, new Date(end.getTime() + 60_000))) {
      const lines = periodEvents
        .filter(
          (e) =>
            hourFolders(new Date(String(e.event_time)), new Date(Date.parse(String(e.event_time)) + 1))[0] === hour,
        )
        .map((e) => captureLine(e, scoreRng.nextFloat()));
      if (lines.length === 0) continue;
      await store.put(
        bp.buckets.capture,
        `${bp.driftEnv.CAPTURE_PREFIX}${bp.endpointName}/AllTraffic/${hour}capture-${period}.jsonl`,
        lines.join('\n') + '\n',
      );
    }
    t.log(
      'capture',
      `${periodEvents.length} data-capture records under s3://${bp.buckets.capture}/${bp.driftEnv.CAPTURE_PREFIX}${bp.endpointName}/AllTraffic/`,
    );

    if (period === 0) {
      // The champion's baseline: its validation features, profiled by the real baseline builder.
      const prefix = 'datasets/initial/baseline/';
      const rows = periodEvents.map((e) =>
        JSON.stringify(Object.fromEntries(featureRow(e).map((v, k) => [`f${k}`, v]))),
      );
      await store.put(bp.buckets.curated, `${prefix}part-00000.json`, rows.join('\n') + '\n');
      const baseline = await refreshBaseline(
        store,
        {
          sourceUri: `s3://${bp.buckets.curated}/${prefix}`,
          artifactsBucket: bp.buckets.artifacts,
          endpointName: bp.endpointName,
          datasetId: 'initial',
          exclude: ['label'],
        },
        clock.now(),
      );
      // The champion's CTR over the same period, the reference of the CTR signal.
      let clicks = 0;
      let impressions = 0;
      for (
        let b = bucketStart(start.getTime(), settings.ctrWindowMinutes);
        b < end.getTime();
        b += settings.ctrWindowMinutes * 60_000
      ) {
        for (const c of await featureStore.ctrCounts(b)) {
          if (c.modelVersion !== champion) continue;
          clicks += c.clicks;
          impressions += c.impressions;
        }
      }
      await store.put(bp.buckets.artifacts, ctrBaselineKey(bp.endpointName), JSON.stringify({ clicks, impressions }));
      t.log(
        'baseline',
        `champion ${champion}: baseline profile of ${baseline.records} records (${baseline.features.join(', ')}), CTR ${((100 * clicks) / Math.max(1, impressions)).toFixed(2)}% over ${impressions} impressions`,
      );
    }
  }

  return finishCaseStudy(ctx, {
    caseStudy: 'recommender',
    ingested,
    invalid,
    lake: () => lake,
    featureStore,
    metricName: 'validation:auc',
  });
}
