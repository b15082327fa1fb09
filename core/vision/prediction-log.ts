/**
 * The prediction log: one JSON line per prediction the vision system made, live (the image consumer) or late (the
 * backfill of predictions deferred while the endpoint was at zero). It carries what active learning needs to pick
 * the day's review items (the image, the inference id, the top classes and both uncertainty scores) and nothing
 * else: the probabilities and embeddings stay in data capture. Lines land under
 * `s3://<bucket>/<prefix><endpoint>/dt=yyyy-mm-dd/<batch>.jsonl`, one folder per day. Pure, no AWS imports.
 */
import { z } from 'zod';
import { IMAGE_CONTENT_TYPES } from '../contracts/events';
import { readBytes, type ObjectStore } from '../storage/object-store';
import { MODEL_VERSION_PATTERN, type Prediction } from './prediction';
import { entropyUncertainty, marginUncertainty } from './uncertainty';
import { issueText } from '../contracts/issues';

/** Classes kept per record (the reviewers' page shows three). */
export const LOGGED_TOP_K = 3;

/** One logged prediction. */
export interface PredictionLogRecord {
  /** The endpoint's inference id (the label event of a review names it). */
  readonly inference_id: string;
  /** Key of the image in the images bucket. */
  readonly image_key: string;
  readonly content_type: (typeof IMAGE_CONTENT_TYPES)[number];
  readonly size_bytes: number;
  /** When the prediction was made (ISO-8601 UTC). */
  readonly predicted_at: string;
  /** The most probable classes, most probable first (at most {@link LOGGED_TOP_K}). */
  readonly top_k: ReadonlyArray<{ readonly label: string; readonly confidence: number }>;
  /** 1 − (p₁ − p₂); null when the model returned no probability vector. */
  readonly margin: number | null;
  /** Normalised entropy; null when the model returned no probability vector. */
  readonly entropy: number | null;
  /** Made by the backfill's batch transform rather than the live endpoint. */
  readonly backfilled?: boolean;
  /**
   * The version of the model that made the prediction (its training job's name), when the model's answer names it;
   * active learning passes it on to review requests, whose audit outcomes the drift checker attributes by it.
   */
  readonly model_version?: string;
}

const schema = z.strictObject({
  inference_id: z.string().min(1).max(256),
  image_key: z.string().min(1).max(1024),
  content_type: z.enum(IMAGE_CONTENT_TYPES),
  size_bytes: z.number().int().positive(),
  predicted_at: z.string().min(20),
  top_k: z
    .array(z.strictObject({ label: z.string().min(1), confidence: z.number().min(0).max(1) }))
    .min(1)
    .max(LOGGED_TOP_K),
  margin: z.number().min(0).max(1).nullable(),
  entropy: z.number().min(0).max(1).nullable(),
  backfilled: z.boolean().optional(),
  model_version: z.string().regex(MODEL_VERSION_PATTERN).optional(),
});

/** What the log needs besides the model's answer. */
export interface PredictionContext {
  readonly inferenceId: string;
  readonly imageKey: string;
  readonly contentType: PredictionLogRecord['content_type'];
  readonly sizeBytes: number;
  readonly predictedAt: Date;
  /** The model's class map, to name classes when the answer has no `top_k` (else indices name them). */
  readonly classes?: readonly string[];
  readonly backfilled?: boolean;
}

/** The log record of one answer. */
export function predictionLogRecord(answer: Prediction, context: PredictionContext): PredictionLogRecord {
  const p = answer.probabilities;
  const name = (i: number) => context.classes?.[i] ?? String(i);
  let topK: Array<{ label: string; confidence: number }>;
  if (answer.topK && answer.topK.length > 0) {
    topK = answer.topK.slice(0, LOGGED_TOP_K).map((c) => ({ label: c.label, confidence: c.probability }));
  } else if (p) {
    topK = p
      .map((confidence, i) => ({ label: name(i), confidence, i }))
      .sort((a, b) => b.confidence - a.confidence || a.i - b.i)
      .slice(0, LOGGED_TOP_K)
      .map(({ label, confidence }) => ({ label, confidence }));
  } else {
    topK = [{ label: answer.label ?? name(answer.predictedClass), confidence: answer.confidence }];
  }
  return {
    inference_id: context.inferenceId,
    image_key: context.imageKey,
    content_type: context.contentType,
    size_bytes: context.sizeBytes,
    predicted_at: context.predictedAt.toISOString(),
    top_k: topK,
    margin: p ? marginUncertainty(p) : null,
    entropy: p ? entropyUncertainty(p) : null,
    ...(context.backfilled ? { backfilled: true } : {}),
    ...(answer.modelVersion ? { model_version: answer.modelVersion } : {}),
  };
}

/** Parses one log line; throws one line naming the first problem. */
export function parsePredictionLogLine(line: string): PredictionLogRecord {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new Error(`prediction log line is not JSON: ${line.slice(0, 120)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`prediction log line: ${issueText(parsed.error.issues[0], 'the record')}`);
  }
  return parsed.data;
}

/** `yyyy-mm-dd` of a time (UTC). */
export function utcDay(time: Date): string {
  return time.toISOString().slice(0, 10);
}

/** The folder of one day's records: `<prefix><endpoint>/dt=<day>/`. */
export function dayFolder(prefix: string, endpointName: string, day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`day must be yyyy-mm-dd; received "${day}"`);
  return `${prefix}${endpointName}/dt=${day}/`;
}

/** Where one batch's records go. */
export function predictionLogKey(prefix: string, endpointName: string, time: Date, batchId: string): string {
  return `${dayFolder(prefix, endpointName, utcDay(time))}${batchId.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`;
}

/** One day's records and the lines that could not be read (each with its object and reason). */
export interface DayLog {
  readonly records: PredictionLogRecord[];
  readonly invalid: ReadonlyArray<{ readonly key: string; readonly line: number; readonly reason: string }>;
}

/** Reads every record of one day, objects in key order; a bad line is reported and skipped, never fatal. */
export async function readDayLog(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  endpointName: string,
  day: string,
): Promise<DayLog> {
  const folder = dayFolder(prefix, endpointName, day);
  const keys: string[] = [];
  for await (const key of store.list(bucket, folder)) if (key.endsWith('.jsonl')) keys.push(key);
  keys.sort();
  const records: PredictionLogRecord[] = [];
  const invalid: Array<{ key: string; line: number; reason: string }> = [];
  for (const key of keys) {
    const lines = (await readBytes(store, bucket, key)).toString('utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      try {
        records.push(parsePredictionLogLine(line));
      } catch (e) {
        invalid.push({ key, line: i + 1, reason: (e as Error).message });
      }
    });
  }
  return { records, invalid };
}
