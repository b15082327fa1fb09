/**
 * Re-scoring on the same validation data: reads the batch-transform outputs of the candidate and of the champion
 * and computes the metric both are compared on (ROC AUC for the recommender, top-1 accuracy for vision).
 */
import type { ObjectStore } from '../storage/object-store';
import { readBytes } from '../storage/object-store';
import { parseS3Uri } from '../storage/s3-uri';

/** Where the transform outputs are and how to read them. */
export type ScoringSource =
  | {
      readonly kind: 'recommender';
      /** Folder of `label,prediction` CSV lines (transform output with the label joined back). */
      readonly outputUri: string;
    }
  | {
      readonly kind: 'vision';
      /** Folder of `<image key>.out` JSON probability vectors. */
      readonly outputUri: string;
      /** The validation augmented manifest (`source-ref`, `class`). */
      readonly manifestUri: string;
      /** `s3://bucket/` prefix the scoring manifest lists keys under. */
      readonly imagePrefixUri: string;
    };

/** Transform outputs read in parallel (vision: one object per image). */
const READ_CONCURRENCY = 32;

/** A model's metric on the validation data. */
export interface Score {
  readonly metric: 'auc' | 'accuracy';
  readonly value: number;
  readonly records: number;
}

/** ROC AUC by the rank-sum (Mann–Whitney) formula, ties counted half. */
export function rocAuc(labels: readonly number[], scores: readonly number[]): number {
  if (labels.length !== scores.length)
    throw new Error(`labels (${labels.length}) and scores (${scores.length}) differ in length`);
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = rank;
    i = j + 1;
  }
  let positives = 0;
  let rankSum = 0;
  labels.forEach((l, i) => {
    if (l === 1) {
      positives++;
      rankSum += ranks[i];
    }
  });
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0)
    throw new Error('AUC needs both positive and negative labels in the validation data');
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

async function keysUnder(store: ObjectStore, uri: string): Promise<{ bucket: string; keys: string[] }> {
  const { bucket, key } = parseS3Uri(uri);
  const keys: string[] = [];
  for await (const k of store.list(bucket, key)) if (!k.endsWith('/')) keys.push(k);
  return { bucket, keys: keys.sort() };
}

/** Reads transform outputs and computes the model's metric. */
export async function scoreModel(store: ObjectStore, source: ScoringSource): Promise<Score> {
  if (source.kind === 'recommender') {
    const { bucket, keys } = await keysUnder(store, source.outputUri);
    const labels: number[] = [];
    const scores: number[] = [];
    for (const key of keys) {
      for (const line of (await readBytes(store, bucket, key)).toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        const [label, score] = line.split(',').map(Number);
        if (!Number.isFinite(label) || !Number.isFinite(score))
          throw new Error(`unreadable score line in s3://${bucket}/${key}: ${line}`);
        labels.push(label);
        scores.push(score);
      }
    }
    if (labels.length === 0) throw new Error(`no scores under ${source.outputUri}`);
    return { metric: 'auc', value: rocAuc(labels, scores), records: labels.length };
  }
  const manifest = parseS3Uri(source.manifestUri);
  const out = parseS3Uri(source.outputUri);
  const lines = (await readBytes(store, manifest.bucket, manifest.key))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim());
  const records = lines.map((line) => JSON.parse(line) as { 'source-ref': string; class: number });
  let correct = 0;
  // One output object per image: read them a batch at a time.
  for (let i = 0; i < records.length; i += READ_CONCURRENCY) {
    const batch = records.slice(i, i + READ_CONCURRENCY);
    const hits = await Promise.all(
      batch.map(async (record) => {
        if (!record['source-ref'].startsWith(source.imagePrefixUri)) {
          throw new Error(`${record['source-ref']} is not under ${source.imagePrefixUri}`);
        }
        const relative = record['source-ref'].slice(source.imagePrefixUri.length);
        const text = (await readBytes(store, out.bucket, `${out.key}${relative}.out`)).toString('utf8');
        const probabilities = JSON.parse(text) as number[];
        return probabilities.indexOf(Math.max(...probabilities)) === record.class;
      }),
    );
    correct += hits.filter(Boolean).length;
  }
  if (lines.length === 0) throw new Error(`empty validation manifest ${source.manifestUri}`);
  return { metric: 'accuracy', value: correct / lines.length, records: lines.length };
}
