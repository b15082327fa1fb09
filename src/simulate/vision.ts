/**
 * The vision case study, simulated: generated PNG images put in the local raw bucket and announced on the stream
 * (kinesalite) through the real producer; the real image consumer logic (`consumeImages`: validation, quarantine,
 * image statistics for drift, a local model's predictions, low-confidence images to review); the champion's baseline
 * built by the real vision baseline builder from its validation manifest; the real drift checker over the image
 * statistics; the retraining loop when drift is found. The drifted period is a night camera: darker, flatter images.
 */
import { PNG } from 'pngjs';
import { consumeImages, type ImageConsumerPorts } from '../../core/vision/image-consumer';
import { consumerSettingsFromEnv } from '../../core/vision/image-consumer-settings';
import { createRng, type Rng } from '../../core/drift/stats/random';
import { parseS3Uri } from '../../core/storage/s3-uri';
import { refreshVisionBaseline } from '../../core/vision/baseline';
import { imageStats, type ImageLimits } from '../../core/vision/image-stats';
import { KinesisSender, type OutgoingRecord } from '../producer/kinesis-sender';
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

/** Classes of the simulated camera, by dominant hue. */
export const CLASSES = ['cat', 'dog'] as const;
const SIZE = 16;

/** A small PNG: the class's hue at a brightness, with per-pixel noise (contrast). */
export function paintImage(rng: Rng, cls: number, night: boolean): Buffer {
  const brightness = night ? 0.15 + rng.nextFloat() * 0.2 : 0.65 + rng.nextFloat() * 0.3;
  const noise = night ? 10 : 45;
  const hue = cls === 0 ? [230, 150, 90] : [90, 150, 230];
  const png = new PNG({ width: SIZE, height: SIZE });
  for (let p = 0; p < SIZE * SIZE; p++) {
    for (let c = 0; c < 3; c++) {
      const v = hue[c] * brightness + (rng.nextFloat() - 0.5) * 2 * noise;
      png.data[p * 4 + c] = Math.max(0, Math.min(255, Math.round(v)));
    }
    png.data[p * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}

/** The local model: the warmer channel wins; confidence falls with brightness (it never saw night images). */
function predict(bytes: Uint8Array, limits: ImageLimits) {
  const s = imageStats(bytes, limits);
  const [r, , b] = s.mean;
  const brightness = (r + s.mean[1] + b) / (3 * 255);
  const confidence = Math.min(0.98, 0.45 + 0.6 * brightness);
  return { predictedClass: r >= b ? 0 : 1, confidence };
}

/** Runs the vision simulation. */
export async function simulateVision(ctx: CaseContext): Promise<CaseStudyResult> {
  const { blueprint: bp, emulators, store, clock, timeline: t } = ctx;
  const settings = consumerSettingsFromEnv(bp.consumerEnv);
  const limits: ImageLimits = { maxBytes: settings.policy.maxBytes, maxPixels: settings.policy.maxPixels };
  await emulators.createStream(bp.streamName, bp.shards);
  t.log(
    'setup',
    `stream ${bp.streamName} (${bp.streamMode} in the template; ${bp.shards} local shards), images bucket ${settings.imagesBucket}`,
  );

  const champion = `${bp.endpointName}-initial`;
  const lake: LakeEvent[] = [];
  let ingested = 0;
  let invalid = 0;

  for (const period of [0, 1] as const) {
    const start = new Date(ctx.baselineStart.getTime() + period * PERIOD_GAP_MS);
    const end = new Date(start.getTime() + PERIOD_MS);
    const night = period === 1 && ctx.drift;
    clock.setAtLeast(start);
    const rng = createRng(ctx.seed * 2 + period + 1000);
    const at = sessionClock(start, ctx.eventsPerPeriod);
    const camera = night ? 'cam-night' : 'cam-day';
    const events: Record<string, unknown>[] = [];
    for (let n = 0; n < ctx.eventsPerPeriod; n++) {
      const cls = rng.nextInt(CLASSES.length);
      const bytes = paintImage(rng, cls, night);
      const key = `${settings.policy.imagesPrefix}${camera}/${CLASSES[cls]}/p${period}-${String(n).padStart(5, '0')}.png`;
      await store.put(settings.imagesBucket, key, bytes);
      const event: Record<string, unknown> = {
        event_id: `img-${ctx.seed}-${period}-${n}`,
        image_key: key,
        content_type: 'image/png',
        size_bytes: bytes.length,
        source: 'camera',
        event_time: at().toISOString(),
        label: CLASSES[cls],
        label_source: 'prefix',
        width: SIZE,
        height: SIZE,
      };
      // Bad arrivals: an unknown producer, and an event whose size does not match its object.
      if (n % 97 === 50) event.source = 'scanner';
      if (n % 131 === 70) event.size_bytes = bytes.length + 1;
      events.push(event);
    }
    t.log(
      'produce',
      `${period === 0 ? 'baseline period' : night ? 'drifted period (a night camera: darker, flatter images)' : 'second period (no drift)'}: ${events.length} PNG images in s3://${settings.imagesBucket}/${settings.policy.imagesPrefix}${camera}/`,
    );
    const records: OutgoingRecord[] = events.map((e) => ({
      data: Buffer.from(JSON.stringify(e)),
      partitionKey: String(e.image_key),
    }));
    const sender = new KinesisSender(emulators.kinesis, {
      stream: bp.streamName,
      random: createRng(ctx.seed).nextFloat,
    });
    await sender.putAll(records);
    t.log(
      'produce',
      `PutRecords: ${sender.stats.sent} image events sent in ${sender.stats.calls} calls (${sender.stats.failed} failed)`,
    );

    const read = canonicalOrder(await emulators.readNew(bp.streamName));
    let accepted = 0;
    let quarantined = 0;
    let reviewed = 0;
    const byId = new Map(events.map((e) => [String(e.event_id), e]));
    for (let i = 0; i < read.length; i += bp.batchSize) {
      // Ids in read order (Lambda uses sequence numbers, which differ between runs): they name the stats objects.
      const batch = read.slice(i, i + bp.batchSize).map((r, k) => ({
        id: `p${period}-${String(i + k).padStart(6, '0')}`,
        payload: Buffer.from(r.data).toString('utf8'),
        origin: { partitionKey: r.partitionKey, sequenceNumber: r.sequenceNumber },
      }));
      const firstTime = new Date(String((JSON.parse(batch[0].payload) as { event_time: string }).event_time));
      const ports: ImageConsumerPorts = {
        head: async (bucket, key) => store.head(bucket, key),
        read: async (bucket, key) => store.bytes(bucket, key) ?? new Uint8Array(),
        put: (bucket, key, body) => store.put(bucket, key, body),
        predict: async (bytes) => predict(bytes, limits),
        review: async (items) => {
          reviewed += items.length;
        },
        count: () => undefined,
        log: () => undefined,
      };
      const result = await consumeImages(batch, settings, ports, firstTime);
      if (result.failures.length > 0) throw new Error(`the image consumer failed ${result.failures.length} records`);
      accepted += result.accepted;
      quarantined += Object.values(result.quarantined).reduce((a, b) => a + (b ?? 0), 0);
    }
    // The lake holds the accepted image events (with their labels).
    for (const r of read) {
      const e = byId.get(String((JSON.parse(Buffer.from(r.data).toString('utf8')) as { event_id: string }).event_id));
      if (e && e.source === 'camera' && store.head(settings.imagesBucket, String(e.image_key))?.size === e.size_bytes)
        lake.push(e);
    }
    ingested += accepted;
    invalid += quarantined;
    clock.setAtLeast(end);
    t.log(
      'consume',
      `${Math.ceil(read.length / bp.batchSize)} batches of ≤ ${bp.batchSize}: ${accepted} images measured and classified, ${quarantined} quarantined, ${reviewed} below confidence ${settings.confidenceThreshold} sent to review; statistics under s3://${settings.statsBucket}/${settings.statsPrefix}`,
    );

    // Data capture of the endpoint's predictions (input image as BASE64, output class probabilities as JSON).
    const periodEvents = lake.filter((e) => Date.parse(String(e.event_time)) >= start.getTime());
    const captureByHour = new Map<string, string[]>();
    for (const e of periodEvents) {
      const bytes = store.bytes(settings.imagesBucket, String(e.image_key));
      if (!bytes) continue;
      const p = predict(bytes, limits);
      const probabilities = CLASSES.map((_, c) => (c === p.predictedClass ? p.confidence : 1 - p.confidence));
      const time = String(e.event_time);
      const hour = `${time.slice(0, 4)}/${time.slice(5, 7)}/${time.slice(8, 10)}/${time.slice(11, 13)}/`;
      const line = JSON.stringify({
        captureData: {
          endpointInput: {
            observedContentType: 'image/png',
            mode: 'INPUT',
            data: bytes.toString('base64'),
            encoding: 'BASE64',
          },
          endpointOutput: {
            observedContentType: 'application/json',
            mode: 'OUTPUT',
            data: JSON.stringify(probabilities),
            encoding: 'JSON',
          },
        },
        eventMetadata: { eventId: String(e.event_id), inferenceTime: time, inferenceId: String(e.event_id) },
        eventVersion: '0',
      });
      captureByHour.set(hour, [...(captureByHour.get(hour) ?? []), line]);
    }
    for (const [hour, lines] of captureByHour) {
      await store.put(
        bp.buckets.capture,
        `${bp.driftEnv.CAPTURE_PREFIX}${bp.endpointName}/AllTraffic/${hour}capture-${period}.jsonl`,
        lines.join('\n') + '\n',
      );
    }
    t.log(
      'capture',
      `${periodEvents.length} data-capture records (predictions) under s3://${bp.buckets.capture}/${bp.driftEnv.CAPTURE_PREFIX}${bp.endpointName}/AllTraffic/`,
    );

    if (period === 0) {
      // The champion's validation manifest, profiled by the real vision baseline builder.
      const manifest = lake.map((e) =>
        JSON.stringify({
          'source-ref': `s3://${settings.imagesBucket}/${String(e.image_key)}`,
          class: CLASSES.indexOf(e.label as (typeof CLASSES)[number]),
        }),
      );
      const key = 'datasets/initial/validation.manifest';
      await store.put(bp.buckets.curated, key, manifest.join('\n') + '\n');
      const baseline = await refreshVisionBaseline(
        store,
        async (ref) => {
          const { bucket, key } = parseS3Uri(ref);
          return store.bytes(bucket, key);
        },
        {
          sourceUri: `s3://${bp.buckets.curated}/${key}`,
          artifactsBucket: bp.buckets.artifacts,
          endpointName: bp.endpointName,
          datasetId: 'initial',
        },
        limits,
        clock.now(),
      );
      t.log(
        'baseline',
        `champion ${champion}: baseline profile of ${baseline.records} validation images (${baseline.features.length} features)`,
      );
    }
  }

  return finishCaseStudy(ctx, {
    caseStudy: 'vision',
    ingested,
    invalid,
    lake: () => lake,
    imageLimits: limits,
    metricName: 'validation:accuracy',
  });
}
