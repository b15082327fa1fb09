/**
 * One batch of the vision image consumer, independent of Lambda and the AWS SDK (ports are injected): validate each
 * image-arrival event, quarantine the rejects with their reason, measure each accepted image (one at a time, bounded),
 * classify it on the endpoint (the inference id is the event id), and write the batch's image statistics where the
 * drift checker reads them. With a prediction log configured, every prediction is logged for the daily active
 * learning (`active-learning.ts`: budget + random audit), with the `model_version` the endpoint's answer names (so
 * review requests and audit outcomes say which model answered), and every deferred one (no capacity) for the
 * backfill (`backfill.ts`); without it, predictions below the confidence threshold go to review one by one (the Ground Truth
 * path).
 */
import type { ReviewItem } from './ground-truth';
import { needsReview } from './ground-truth';
import { ImageError, imageFeatures, imageStats, imageStatsKey, imageStatsRecord } from './image-stats';
import {
  checkContent,
  checkObject,
  isLabelUpdate,
  quarantineKey,
  quarantineRecord,
  validateImageEvent,
  type IngestPolicy,
  type QuarantineReason,
} from './ingest';
import type { DeferredRecord } from './backfill';
import type { Prediction } from './prediction';
import { predictionLogKey, predictionLogRecord, type PredictionLogRecord } from './prediction-log';

/** Where things go and how to judge them. */
export interface ImageConsumerSettings {
  readonly endpointName: string;
  readonly imagesBucket: string;
  /** Rejected events: `s3://{imagesBucket}/{quarantinePrefix}reason=…/dt=…/{id}.json`. */
  readonly quarantinePrefix: string;
  /** Image statistics: `s3://{statsBucket}/{statsPrefix}{endpoint}/yyyy/mm/dd/hh/{batch}.jsonl`. */
  readonly statsBucket: string;
  readonly statsPrefix: string;
  readonly policy: IngestPolicy;
  /** Predictions below this go to review (only without {@link predictionLog}). */
  readonly confidenceThreshold: number;
  /** Where predictions and deferred predictions are logged; replaces per-prediction review. */
  readonly predictionLog?: PredictionLogSettings;
}

/** The prediction log's place: `s3://{bucket}/{predictionsPrefix|deferredPrefix}{endpoint}/dt=…/{batch}.jsonl`. */
export interface PredictionLogSettings {
  readonly bucket: string;
  readonly predictionsPrefix: string;
  readonly deferredPrefix: string;
}

/** One stream record. */
export interface ImageRecord {
  /** Sequence number: the id reported back on failure. */
  readonly id: string;
  /** The event payload (UTF-8 JSON). */
  readonly payload: string;
  /** Where it came from (for the quarantine record). */
  readonly origin: Record<string, string>;
}

/** The endpoint could not serve now (no capacity while scaling from zero, or no model deployed yet). */
export class EndpointUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointUnavailableError';
  }
}

/** Ports of a batch. */
export interface ImageConsumerPorts {
  /** Object size, or undefined when there is no object. */
  head(bucket: string, key: string): Promise<{ size: number } | undefined>;
  /** The object's bytes; throws an {@link ImageError} `too-large` past `maxBytes`. */
  read(bucket: string, key: string, maxBytes: number): Promise<Uint8Array>;
  put(bucket: string, key: string, body: string): Promise<void>;
  /**
   * Classifies one image, sending `inferenceId` with the request (data capture records it); throws
   * {@link EndpointUnavailableError} when the endpoint cannot serve now.
   */
  predict(bytes: Uint8Array, contentType: string, inferenceId: string): Promise<Prediction>;
  /** Sends review items to the review queue. */
  review(items: readonly ReviewItem[]): Promise<void>;
  count(metric: ImageMetric, value?: number): void;
  log(level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>): void;
}

/** Metrics of the consumer. */
export type ImageMetric =
  | 'ImagesAccepted'
  | 'ImagesQuarantined'
  | 'PredictionsMade'
  | 'PredictionsDeferred'
  | 'PredictionErrors'
  | 'ReviewRequested';

/** What a batch did. */
export interface ImageBatchResult {
  /** Ids of records to retry (transient failures). */
  readonly failures: string[];
  readonly accepted: number;
  readonly quarantined: Partial<Record<QuarantineReason, number>>;
  readonly reviewed: number;
  readonly deferred: number;
  /** Predictions written to the prediction log. */
  readonly logged: number;
  /** Reviewed labels passing through (already measured and classified when the image arrived). */
  readonly labelUpdates: number;
  readonly statsKey?: string;
}

/** Processes one batch. Validation problems quarantine; infrastructure errors fail the record (retried). */
export async function consumeImages(
  records: readonly ImageRecord[],
  settings: ImageConsumerSettings,
  ports: ImageConsumerPorts,
  now: Date,
): Promise<ImageBatchResult> {
  const failures: string[] = [];
  const quarantined: Partial<Record<QuarantineReason, number>> = {};
  const stats: string[] = [];
  const reviews: ReviewItem[] = [];
  const logged: string[] = [];
  const deferredRecords: string[] = [];
  let accepted = 0;
  let deferred = 0;
  let labelUpdates = 0;

  const quarantine = async (record: ImageRecord, reason: QuarantineReason, detail: string) => {
    const doc = quarantineRecord({ reason, detail }, record.payload, record.origin, now);
    await ports.put(
      settings.imagesBucket,
      quarantineKey(settings.quarantinePrefix, reason, now, record.id),
      JSON.stringify(doc),
    );
    quarantined[reason] = (quarantined[reason] ?? 0) + 1;
    ports.count('ImagesQuarantined');
    ports.log('warn', 'image event quarantined', { reason, detail, id: record.id });
  };

  for (const record of records) {
    try {
      const verdict = validateImageEvent(record.payload, settings.policy);
      if (!verdict.ok) {
        await quarantine(record, verdict.reason, verdict.detail);
        continue;
      }
      const event = verdict.value;
      if (isLabelUpdate(event)) {
        labelUpdates++;
        continue;
      }
      const objectCheck = checkObject(event, await ports.head(settings.imagesBucket, event.image_key), settings.policy);
      if (!objectCheck.ok) {
        await quarantine(record, objectCheck.reason, objectCheck.detail);
        continue;
      }
      let bytes: Uint8Array;
      let features: Record<string, number>;
      try {
        bytes = await ports.read(settings.imagesBucket, event.image_key, settings.policy.maxBytes);
        const content = checkContent(event, bytes);
        if (!content.ok) {
          await quarantine(record, content.reason, content.detail);
          continue;
        }
        features = imageFeatures(imageStats(bytes, settings.policy));
      } catch (e) {
        if (e instanceof ImageError) {
          await quarantine(record, e.reason, e.message);
          continue;
        }
        throw e;
      }
      accepted++;
      ports.count('ImagesAccepted');
      stats.push(imageStatsRecord(event.event_id, now, features));

      let prediction: Prediction | undefined;
      try {
        prediction = await ports.predict(bytes, event.content_type, event.event_id);
        ports.count('PredictionsMade');
      } catch (e) {
        if (!(e instanceof EndpointUnavailableError)) throw e;
        // Scaling from zero (or no model yet): the image is in the lake and will be labelled or predicted later.
        deferred++;
        ports.count('PredictionsDeferred');
      }
      const meta = {
        image_key: event.image_key,
        content_type: event.content_type as PredictionLogRecord['content_type'],
        size_bytes: event.size_bytes,
      };
      if (settings.predictionLog) {
        if (prediction) {
          const context = { inferenceId: event.event_id, imageKey: meta.image_key, contentType: meta.content_type };
          logged.push(
            JSON.stringify(
              predictionLogRecord(prediction, { ...context, sizeBytes: meta.size_bytes, predictedAt: now }),
            ),
          );
        } else {
          const record: DeferredRecord = { event_id: event.event_id, ...meta, deferred_at: now.toISOString() };
          deferredRecords.push(JSON.stringify(record));
        }
      } else if (prediction && needsReview(prediction.confidence, settings.confidenceThreshold)) {
        reviews.push({
          sourceRef: `s3://${settings.imagesBucket}/${event.image_key}`,
          eventId: event.event_id,
          predictedClass: prediction.predictedClass,
          confidence: prediction.confidence,
          predictedAt: now.toISOString(),
        });
      }
    } catch (error) {
      ports.log('error', 'image record failed; it will be retried', {
        id: record.id,
        error: (error as Error).message,
      });
      failures.push(record.id);
    }
  }

  if (reviews.length > 0) {
    await ports.review(reviews);
    ports.count('ReviewRequested', reviews.length);
  }
  const log = settings.predictionLog;
  const batchId = records.length > 0 ? `${records[0].id}-${records.length}` : 'empty';
  if (log && logged.length > 0) {
    const key = predictionLogKey(log.predictionsPrefix, settings.endpointName, now, batchId);
    await ports.put(log.bucket, key, logged.join('\n') + '\n');
  }
  if (log && deferredRecords.length > 0) {
    const key = predictionLogKey(log.deferredPrefix, settings.endpointName, now, batchId);
    await ports.put(log.bucket, key, deferredRecords.join('\n') + '\n');
  }
  let statsKey: string | undefined;
  if (stats.length > 0) {
    statsKey = imageStatsKey(settings.statsPrefix, settings.endpointName, now, `${records[0].id}-${records.length}`);
    await ports.put(settings.statsBucket, statsKey, stats.join('\n') + '\n');
  }
  return {
    failures,
    accepted,
    quarantined,
    reviewed: reviews.length,
    deferred,
    logged: logged.length,
    labelUpdates,
    statsKey,
  };
}
