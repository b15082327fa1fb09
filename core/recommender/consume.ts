/**
 * The stream consumer's logic, independent of Lambda and of the AWS SDK: decode and validate each Kinesis record
 * (an interaction, or a served slate logged by the `recommend` API), quarantine what cannot be used (with the
 * reason), keep real-time features and join feedback to predictions. Valid slates need nothing here (Firehose
 * delivers them to the lake); they are validated so a malformed one is quarantined and counted, not lost.
 *
 * Failure model: a record that can never succeed (not JSON, fails the schema, rejected by the feature store as
 * invalid) is quarantined and acknowledged, so it never blocks its shard. A record that failed for a transient
 * reason is reported in `batchItemFailures` and retried by Lambda (bounded, bisected, then sent to the on-failure
 * queue). Aggregated counters are written once per batch; a failure there fails the whole batch.
 */
import { eventValidator, INTERACTION_EVENT_SCHEMA } from '../contracts/events';
import type { CtrCounts, FeatureStore, ItemCounts, ItemSighting, RecentInteraction } from './feature-store';
import { bucketStart } from './features';
import { isSlateRecord, validateSlate, type ServedSlate } from './slate';
import { FEATURE_NAMES } from './contract';
import { issuesText } from '../contracts/issues';
import { captureHourFolder } from '../storage/layout';

/** The served-feature objects of a batch: one per slate hour, named by the batch's shard and first record. */
export function servedFeatureObjects(
  slates: readonly ServedSlate[],
  prefix: string,
  batchId: string,
): Array<{ key: string; body: string }> {
  const byHour = new Map<string, string[]>();
  for (const slate of slates) {
    if (slate.fallback) continue;
    const hour = captureHourFolder(new Date(slate.event_time));
    const lines = byHour.get(hour) ?? [];
    for (const item of slate.items) {
      // `inferenceTime` routes the record to its drift window (as data capture's `eventMetadata.inferenceTime`).
      lines.push(
        JSON.stringify({
          inferenceTime: slate.event_time,
          ...Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, item.features[i]])),
        }),
      );
    }
    byHour.set(hour, lines);
  }
  return [...byHour]
    .filter(([, lines]) => lines.length > 0)
    .map(([hour, lines]) => ({ key: `${prefix}${hour}${batchId}.jsonl`, body: lines.join('\n') + '\n' }));
}

/** A Kinesis record as the consumer needs it (from the Lambda event, or from GetRecords in tests). */
export interface StreamRecord {
  /** Lambda's `eventID` (`shardId-…:sequence`), used for the quarantine key. */
  readonly id: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** Base64 payload, as Lambda delivers it. */
  readonly data: string;
  /** Arrival time at the stream, epoch seconds. */
  readonly approximateArrivalTimestamp: number;
}

/** A valid interaction event. */
export interface InteractionEvent {
  readonly event_id: string;
  readonly event_type: string;
  readonly user_id: string;
  readonly item_id: string;
  readonly event_time: string;
  readonly surface: string;
  readonly device?: string | null;
  readonly position?: number | null;
  readonly value?: number | null;
  readonly session_id?: string | null;
  readonly inference_id?: string | null;
  readonly model_version?: string | null;
  readonly category?: string | null;
}

/** Why a record was quarantined. */
export type QuarantineReason = 'not-json' | 'schema' | 'key-too-long' | 'rejected-by-store';

/** What lands in `s3://<raw>/quarantine/dt=<date>/<shard>/<sequence>.json`. */
export interface QuarantineDocument {
  readonly reason: QuarantineReason;
  readonly detail: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly arrivalTime: string;
  /** The payload as text when it is UTF-8, else base64. */
  readonly data: string;
  readonly dataEncoding: 'utf8' | 'base64';
}

/** Settings of the consumer. */
export interface ConsumerSettings {
  /** Time to live of every feature-store item. */
  readonly ttlHours: number;
  /** Bucket of the popularity counters. */
  readonly popularityBucketMinutes: number;
  /** Length of the popularity list kept per bucket. */
  readonly popularityListSize: number;
  /** Bucket of the CTR counters (the drift checker's window). */
  readonly ctrWindowMinutes: number;
  /** Key prefix of quarantined records in the raw bucket. @default 'quarantine/' */
  readonly quarantinePrefix?: string;
  /**
   * Where the served features go for the drift checker (`<capture prefix><endpoint>/served-slates/`, a "variant"
   * folder beside data capture; serverless endpoints capture nothing): one plain JSON line per served item of every
   * model-ranked slate, `inferenceTime` and the features by contract name, under `yyyy/mm/dd/hh/` of the slate.
   * @default not written
   */
  readonly servedFeaturesPrefix?: string;
}

/** Ports of the consumer. */
export interface ConsumerPorts {
  readonly store: FeatureStore;
  readonly quarantine: (key: string, document: QuarantineDocument) => Promise<void>;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;
  /** Writes an object of served features (see {@link ConsumerSettings.servedFeaturesPrefix}). @default none */
  readonly writeServedFeatures?: (key: string, body: string) => Promise<void>;
}

/** Counters of one batch (published as metrics by the handler). */
export interface BatchSummary {
  readonly received: number;
  readonly valid: number;
  readonly quarantined: Readonly<Record<QuarantineReason, number>>;
  readonly failed: number;
  readonly feedbackJoined: number;
  readonly feedbackUnjoined: number;
  /** Valid served slates in the batch. */
  readonly slates: number;
  /** Items seen for the first time (within the feature TTL), added to the fresh list. */
  readonly newItems: number;
  /** Age of the oldest record at processing time, ms. */
  readonly maxAgeMs: number;
}

/** The Lambda partial batch response plus the summary. */
export interface BatchResult {
  readonly batchItemFailures: { itemIdentifier: string }[];
  readonly summary: BatchSummary;
}

/** Feature-store keys must stay well below DynamoDB's 2,048-byte partition-key limit. */
export const MAX_KEY_BYTES = 1000;

const validate = eventValidator(INTERACTION_EVENT_SCHEMA);
const FEEDBACK_TYPES = new Set(['impression', 'click']);

/** A decoded record: an interaction, a slate, or why it cannot be used. */
export type DecodedRecord =
  | { ok: true; event: InteractionEvent; slate?: undefined }
  | { ok: true; slate: ServedSlate; event?: undefined }
  | { ok: false; reason: QuarantineReason; detail: string };

/** Decodes and validates one record (a slate when it says `record_type: served_slate`); the reason when it cannot be used. */
export function decodeRecord(record: StreamRecord): DecodedRecord {
  const bytes = Buffer.from(record.data, 'base64');
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: 'not-json', detail: (e as Error).message };
  }
  if (isSlateRecord(json)) {
    const slate = validateSlate(json);
    if (!slate.ok) return { ok: false, reason: 'schema', detail: `served_slate: ${slate.detail}` };
    if (Buffer.byteLength(slate.slate.user_id) > MAX_KEY_BYTES) {
      return { ok: false, reason: 'key-too-long', detail: `user_id is longer than ${MAX_KEY_BYTES} bytes` };
    }
    return { ok: true, slate: slate.slate };
  }
  const parsed = validate.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      reason: 'schema',
      detail: issuesText(parsed.error, '(event)'),
    };
  }
  const event = parsed.data as unknown as InteractionEvent;
  for (const field of ['user_id', 'item_id'] as const) {
    if (Buffer.byteLength(event[field]) > MAX_KEY_BYTES) {
      return { ok: false, reason: 'key-too-long', detail: `${field} is longer than ${MAX_KEY_BYTES} bytes` };
    }
  }
  return { ok: true, event };
}

/** A batch's id: its first record's shard and sequence number (the same when Lambda retries the batch). */
export function batchId(first: StreamRecord): string {
  const shard = first.id.includes(':') ? first.id.slice(0, first.id.indexOf(':')) : 'unknown-shard';
  return `${shard}-${first.sequenceNumber}`;
}

/** The quarantine key of a record: under its arrival date, named by shard and sequence number (idempotent). */
export function quarantineKey(record: StreamRecord, prefix = 'quarantine/'): string {
  const dt = new Date(record.approximateArrivalTimestamp * 1000).toISOString().slice(0, 10);
  const shard = record.id.includes(':') ? record.id.slice(0, record.id.indexOf(':')) : 'unknown-shard';
  return `${prefix}dt=${dt}/${shard}/${record.sequenceNumber}.json`;
}

function quarantineDocument(record: StreamRecord, reason: QuarantineReason, detail: string): QuarantineDocument {
  const bytes = Buffer.from(record.data, 'base64');
  const text = bytes.toString('utf8');
  const utf8 = Buffer.from(text, 'utf8').equals(bytes);
  return {
    reason,
    detail: detail.slice(0, 4000),
    sequenceNumber: record.sequenceNumber,
    partitionKey: record.partitionKey,
    arrivalTime: new Date(record.approximateArrivalTimestamp * 1000).toISOString(),
    data: utf8 ? text : record.data,
    dataEncoding: utf8 ? 'utf8' : 'base64',
  };
}

/** Errors the feature store raises for a request that can never succeed. */
export function isPermanentStoreError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException';
}

/** Processes one batch. Never throws for a single bad record; throws when batch-level counters cannot be written. */
export async function processBatch(
  records: readonly StreamRecord[],
  settings: ConsumerSettings,
  ports: ConsumerPorts,
  now: Date,
): Promise<BatchResult> {
  const quarantined: Record<QuarantineReason, number> = {
    'not-json': 0,
    schema: 0,
    'key-too-long': 0,
    'rejected-by-store': 0,
  };
  const failures = new Set<string>();
  const prefix = settings.quarantinePrefix ?? 'quarantine/';
  const expiresAt = Math.floor(now.getTime() / 1000) + settings.ttlHours * 3600;

  async function quarantine(record: StreamRecord, reason: QuarantineReason, detail: string) {
    try {
      await ports.quarantine(quarantineKey(record, prefix), quarantineDocument(record, reason, detail));
      quarantined[reason]++;
      ports.log('warn', 'record quarantined', { sequenceNumber: record.sequenceNumber, reason, detail });
    } catch (error) {
      failures.add(record.sequenceNumber);
      ports.log('error', 'could not quarantine record; reporting it as failed', {
        sequenceNumber: record.sequenceNumber,
        error: (error as Error).message,
      });
    }
  }

  // 1. Decode and validate; deduplicate by event id within the batch (producer retries can repeat events).
  const valid: { record: StreamRecord; event: InteractionEvent }[] = [];
  const seen = new Set<string>();
  const rejected: Promise<void>[] = [];
  const slates: ServedSlate[] = [];
  for (const record of records) {
    const decoded = decodeRecord(record);
    if (!decoded.ok) {
      rejected.push(quarantine(record, decoded.reason, decoded.detail));
      continue;
    }
    if (decoded.slate) {
      slates.push(decoded.slate);
      continue;
    }
    if (seen.has(decoded.event.event_id)) continue;
    seen.add(decoded.event.event_id);
    valid.push({ record, event: decoded.event });
  }
  await Promise.all(rejected);

  // 2. Per-record writes (a user's recent interactions and engagements). On a batch error, isolate the records one
  // by one.
  const recent = (e: InteractionEvent): RecentInteraction => ({
    userId: e.user_id,
    itemId: e.item_id,
    eventType: e.event_type,
    eventTime: e.event_time,
    eventId: e.event_id,
    ...(e.category ? { category: e.category } : {}),
  });
  let written = valid;
  try {
    await ports.store.putRecent(
      valid.map((v) => recent(v.event)),
      expiresAt,
    );
  } catch (batchError) {
    ports.log('warn', 'batch write failed; retrying record by record', { error: (batchError as Error).message });
    written = [];
    for (const v of valid) {
      try {
        await ports.store.putRecent([recent(v.event)], expiresAt);
        written.push(v);
      } catch (error) {
        if (isPermanentStoreError(error)) {
          await quarantine(v.record, 'rejected-by-store', (error as Error).message);
        } else {
          failures.add(v.record.sequenceNumber);
          ports.log('error', 'record failed; Lambda will retry it', {
            sequenceNumber: v.record.sequenceNumber,
            error: (error as Error).message,
          });
        }
      }
    }
  }

  // 3. Aggregates of the records that were written: item counters, popularity list, CTR per model version.
  const itemBuckets = new Map<number, Map<string, ItemCounts>>();
  const popularBuckets = new Map<number, Map<string, number>>();
  for (const { event } of written) {
    const bucket = bucketStart(Date.parse(event.event_time), settings.popularityBucketMinutes);
    const items = itemBuckets.get(bucket) ?? new Map<string, ItemCounts>();
    itemBuckets.set(bucket, items);
    const c = items.get(event.item_id) ?? { interactions: 0, impressions: 0, clicks: 0 };
    items.set(event.item_id, c);
    if (event.event_type === 'impression') c.impressions++;
    else {
      c.interactions++;
      if (event.event_type === 'click') c.clicks++;
      const pop = popularBuckets.get(bucket) ?? new Map<string, number>();
      popularBuckets.set(bucket, pop);
      pop.set(event.item_id, (pop.get(event.item_id) ?? 0) + 1);
    }
  }

  const feedback = written.filter((v) => FEEDBACK_TYPES.has(v.event.event_type) && v.event.inference_id);
  const predictions = feedback.length
    ? await ports.store.predictions(feedback.map((v) => v.event.inference_id as string))
    : new Map();
  const ctr = new Map<string, { bucket: number; modelVersion: string; impressions: number; clicks: number }>();
  let joined = 0;
  for (const { event } of feedback) {
    const prediction = predictions.get(event.inference_id as string);
    if (!prediction) continue;
    joined++;
    const bucket = bucketStart(Date.parse(event.event_time), settings.ctrWindowMinutes);
    const key = `${bucket}|${prediction.modelVersion}`;
    const c = ctr.get(key) ?? { bucket, modelVersion: prediction.modelVersion, impressions: 0, clicks: 0 };
    ctr.set(key, c);
    if (event.event_type === 'impression') c.impressions++;
    else c.clicks++;
  }
  const ctrByBucket = new Map<number, CtrCounts[]>();
  for (const entry of ctr.values()) ctrByBucket.set(entry.bucket, [...(ctrByBucket.get(entry.bucket) ?? []), entry]);

  // Catalogue facts of the items seen (category, first seen); new items join the fresh list of their bucket.
  const sightings = new Map<string, ItemSighting>();
  for (const { event } of written) {
    const at = Date.parse(event.event_time);
    const s = sightings.get(event.item_id);
    sightings.set(event.item_id, {
      itemId: event.item_id,
      category: event.category ?? s?.category,
      seenAt: Math.min(at, s?.seenAt ?? at),
    });
  }
  const newItems = sightings.size > 0 ? await ports.store.touchItems([...sightings.values()], expiresAt) : [];
  const freshBuckets = new Map<number, Map<string, number>>();
  for (const itemId of newItems) {
    const seenAt = (sightings.get(itemId) as ItemSighting).seenAt;
    const bucket = bucketStart(seenAt, settings.popularityBucketMinutes);
    const list = freshBuckets.get(bucket) ?? new Map<string, number>();
    freshBuckets.set(bucket, list.set(itemId, Math.floor(seenAt / 1000)));
  }

  await Promise.all([
    ...[...itemBuckets].map(([bucket, counts]) => ports.store.addItemCounts(bucket, counts, expiresAt)),
    ...[...popularBuckets].map(([bucket, counts]) =>
      ports.store.mergePopular(bucket, counts, settings.popularityListSize, expiresAt),
    ),
    ...[...ctrByBucket].map(([bucket, counts]) => ports.store.addCtr(bucket, counts, expiresAt)),
    ...[...freshBuckets].map(([bucket, items]) =>
      ports.store.mergePopular(bucket, items, settings.popularityListSize, expiresAt, 'fresh'),
    ),
    // Served features for the drift checker; the key is the batch's, so a retried batch rewrites the same objects.
    ...(settings.servedFeaturesPrefix && ports.writeServedFeatures && records.length > 0
      ? servedFeatureObjects(slates, settings.servedFeaturesPrefix, batchId(records[0])).map((o) =>
          (ports.writeServedFeatures as NonNullable<ConsumerPorts['writeServedFeatures']>)(o.key, o.body),
        )
      : []),
  ]);

  const arrival = records.map((r) => r.approximateArrivalTimestamp * 1000);
  return {
    batchItemFailures: records
      .filter((r) => failures.has(r.sequenceNumber))
      .map((r) => ({ itemIdentifier: r.sequenceNumber })),
    summary: {
      received: records.length,
      valid: written.length,
      quarantined,
      failed: failures.size,
      feedbackJoined: joined,
      feedbackUnjoined: feedback.length - joined,
      slates: slates.length,
      newItems: newItems.length,
      maxAgeMs: arrival.length ? Math.max(0, now.getTime() - Math.min(...arrival)) : 0,
    },
  };
}
