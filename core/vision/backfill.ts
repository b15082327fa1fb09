/**
 * The backfill of predictions deferred while the endpoint was at zero. The image consumer accepts, measures and
 * lands every image even when no copy of the model is running; it then writes a deferred record instead of a
 * prediction. Once a day the backfill turns the day's deferred records into one batch transform (a SageMaker
 * manifest of the images, scored by the deployed model on its own instance: the endpoint does not have to wake
 * up), and reads the transform's outputs back into the prediction log, marked `backfilled` and with the
 * `model_version` each output names (the transform's model answers as the endpoint does), so active learning sees
 * them like live predictions. Pure logic over an object store port, no AWS imports.
 *
 * Layout: deferred records `s3://<bucket>/<deferredPrefix><endpoint>/dt=<day>/<batch>.jsonl`; the backfill's files
 * `s3://<bucket>/<backfillPrefix><endpoint>/dt=<day>/{images.manifest, index.jsonl}`; transform outputs
 * `<outputUri><image key under the images prefix>.out` (SageMaker names each output after its input).
 */
import { IMAGE_CONTENT_TYPES } from '../contracts/events';
import { readBytes, readText, type ObjectStore } from '../storage/object-store';
import { parseS3Uri } from '../storage/s3-uri';
import { parseModelAnswer, type Prediction } from './prediction';
import { dayFolder, predictionLogKey, predictionLogRecord, type PredictionLogRecord } from './prediction-log';

/** One image whose live prediction was deferred. */
export interface DeferredRecord {
  readonly event_id: string;
  readonly image_key: string;
  readonly content_type: (typeof IMAGE_CONTENT_TYPES)[number];
  readonly size_bytes: number;
  readonly deferred_at: string;
}

/** The inference id of a backfilled prediction: derived from the event, so a rerun names it the same. */
export const backfillInferenceId = (eventId: string) => `backfill-${eventId}`;

function parseDeferred(line: string, where: string): DeferredRecord {
  let o: Partial<Record<keyof DeferredRecord, unknown>>;
  try {
    o = JSON.parse(line) as typeof o;
  } catch {
    throw new Error(`${where}: not JSON`);
  }
  if (
    typeof o.event_id !== 'string' ||
    !o.event_id ||
    typeof o.image_key !== 'string' ||
    !o.image_key ||
    typeof o.content_type !== 'string' ||
    !(IMAGE_CONTENT_TYPES as readonly string[]).includes(o.content_type) ||
    typeof o.size_bytes !== 'number' ||
    typeof o.deferred_at !== 'string'
  ) {
    throw new Error(`${where}: a deferred record needs event_id, image_key, content_type, size_bytes, deferred_at`);
  }
  return o as DeferredRecord;
}

/** Where the backfill of one day reads and writes. */
export interface BackfillInput {
  /** Bucket of the deferred records, the backfill files and the prediction log. */
  readonly bucket: string;
  readonly deferredPrefix: string;
  readonly backfillPrefix: string;
  readonly predictionsPrefix: string;
  readonly endpointName: string;
  /** `yyyy-mm-dd`: the day whose deferred predictions are backfilled. */
  readonly day: string;
  /** `s3://<images bucket>/<images prefix>`: the manifest's prefix (ends with `/`). */
  readonly imagesUri: string;
}

/** The planned transform (`$.backfill`). */
export interface BackfillPlan {
  /** Distinct images to score; 0 means there is nothing to backfill (skip the transform). */
  readonly images: number;
  /** The SageMaker ManifestFile for the transform's S3DataSource. */
  readonly manifestUri: string;
  /** The deferred records behind the manifest, one per image. */
  readonly indexUri: string;
  /** Lines that were not deferred records (reported, skipped). */
  readonly invalid: number;
}

/**
 * Collects the day's deferred records (one per image: the first deferral wins) and writes the transform's manifest
 * and index. Images outside the images prefix are skipped as invalid.
 */
export async function planBackfill(store: ObjectStore, input: BackfillInput): Promise<BackfillPlan> {
  const images = parseS3Uri(input.imagesUri);
  if (!input.imagesUri.endsWith('/')) throw new Error(`imagesUri must end with "/"; received ${input.imagesUri}`);
  const folder = dayFolder(input.deferredPrefix, input.endpointName, input.day);
  const keys: string[] = [];
  for await (const key of store.list(input.bucket, folder)) if (key.endsWith('.jsonl')) keys.push(key);
  keys.sort();
  const byImage = new Map<string, DeferredRecord>();
  let invalid = 0;
  for (const key of keys) {
    const lines = (await readBytes(store, input.bucket, key)).toString('utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const record = parseDeferred(line, `s3://${input.bucket}/${key} line ${i + 1}`);
        if (!record.image_key.startsWith(images.key) || record.image_key.includes('..')) invalid++;
        else if (!byImage.has(record.image_key)) byImage.set(record.image_key, record);
      } catch {
        invalid++;
      }
    });
  }
  const records = [...byImage.values()].sort((a, b) => (a.image_key < b.image_key ? -1 : 1));
  const out = dayFolder(input.backfillPrefix, input.endpointName, input.day);
  const manifest = [{ prefix: input.imagesUri }, ...records.map((r) => r.image_key.slice(images.key.length))];
  await store.put(input.bucket, `${out}images.manifest`, JSON.stringify(manifest));
  await store.put(input.bucket, `${out}index.jsonl`, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return {
    images: records.length,
    manifestUri: `s3://${input.bucket}/${out}images.manifest`,
    indexUri: `s3://${input.bucket}/${out}index.jsonl`,
    invalid,
  };
}

/** What recording a finished backfill transform needs. */
export interface BackfillRecordInput extends BackfillInput {
  /** The transform's output folder (ends with `/`). */
  readonly outputUri: string;
  /** When the transform finished: the log records' `predicted_at`. */
  readonly finishedAt: string;
}

/** What was recorded. */
export interface BackfillResult {
  readonly predictions: number;
  /** Images whose output is missing or unreadable (the transform's failures), by image key. */
  readonly missing: string[];
  readonly logUri?: string;
}

function tryParse(body: string): Prediction | undefined {
  try {
    return parseModelAnswer(body);
  } catch {
    return undefined;
  }
}

/** Reads the transform's outputs and appends them to the prediction log of the backfilled day. */
export async function recordBackfill(store: ObjectStore, input: BackfillRecordInput): Promise<BackfillResult> {
  const images = parseS3Uri(input.imagesUri);
  const output = parseS3Uri(input.outputUri);
  const folder = dayFolder(input.backfillPrefix, input.endpointName, input.day);
  const index = (await readBytes(store, input.bucket, `${folder}index.jsonl`)).toString('utf8');
  const finishedAt = new Date(input.finishedAt);
  if (Number.isNaN(finishedAt.getTime())) throw new Error(`finishedAt is not a time: ${input.finishedAt}`);
  const records: PredictionLogRecord[] = [];
  const missing: string[] = [];
  for (const [i, line] of index.split('\n').entries()) {
    if (!line.trim()) continue;
    const deferred = parseDeferred(line, `index line ${i + 1}`);
    const relative = deferred.image_key.slice(images.key.length);
    const object = await store.get(output.bucket, `${output.key}${relative}.out`);
    const answer = object ? tryParse(await readText(object)) : undefined;
    if (!answer) {
      missing.push(deferred.image_key);
      continue;
    }
    records.push(
      predictionLogRecord(answer, {
        inferenceId: backfillInferenceId(deferred.event_id),
        imageKey: deferred.image_key,
        contentType: deferred.content_type,
        sizeBytes: deferred.size_bytes,
        predictedAt: finishedAt,
        backfilled: true,
      }),
    );
  }
  if (records.length === 0) return { predictions: 0, missing };
  // Filed under the deferred day, so that day's active learning (or a rerun) sees them.
  const key = predictionLogKey(
    input.predictionsPrefix,
    input.endpointName,
    new Date(`${input.day}T00:00:00.000Z`),
    'backfill',
  );
  await store.put(input.bucket, key, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { predictions: records.length, missing, logUri: `s3://${input.bucket}/${key}` };
}
