/**
 * How the drift checker finds and reads its records: the hour folders of a window (plus the settle margin) under
 * every capture variant and the extra prefix, and the objects in batches for `parallel.ts`, where each record is
 * routed by its `inferenceTime` — to the window being checked, or, as a late record, to a watched earlier window.
 */
import type { ReadCounters } from './readers';
import type { ObjectStore } from '../storage/object-store';
import type { ObjectsTask } from './parallel';
import { captureHourFolder } from '../storage/layout';

/** The hour folders (`yyyy/mm/dd/hh/`) that can hold records of `[start, end)`. */
export function hourFolders(start: Date, end: Date): string[] {
  const out: string[] = [];
  for (let t = Math.floor(start.getTime() / 3_600_000) * 3_600_000; t < end.getTime(); t += 3_600_000) {
    out.push(captureHourFolder(new Date(t)));
  }
  return out;
}

/** Where a checker's inputs live. */
export interface CaptureLayout {
  readonly captureBucket: string;
  readonly capturePrefix: string;
  readonly extraPrefix?: string;
  readonly endpointName: string;
}

/** The folder prefixes holding records of `[start, end)` (end already extended by the settle margin). */
export function folderPrefixes(layout: CaptureLayout, variants: readonly string[], start: Date, end: Date): string[] {
  const hours = hourFolders(start, end);
  const out: string[] = [];
  for (const variant of variants) for (const hour of hours) out.push(`${variant}${hour}`);
  if (layout.extraPrefix) for (const hour of hours) out.push(`${layout.extraPrefix}${layout.endpointName}/${hour}`);
  return out;
}

/** Every key under the prefixes, sorted. */
export async function listKeys(store: ObjectStore, bucket: string, prefixes: readonly string[]): Promise<string[]> {
  const keys = new Set<string>();
  for (const prefix of prefixes) for await (const key of store.list(bucket, prefix)) keys.add(key);
  return [...keys].sort();
}

/** Adds one read's counters to a total. */
export function addCounters(total: ReadCounters, c: ReadCounters): void {
  total.lines += c.lines;
  total.records += c.records;
  total.invalid += c.invalid;
  total.outOfWindow += c.outOfWindow;
  total.noEventTime += c.noEventTime;
  for (const [reason, n] of Object.entries(c.invalidReasons)) {
    total.invalidReasons[reason] = (total.invalidReasons[reason] ?? 0) + n;
  }
  for (const example of c.invalidExamples) if (total.invalidExamples.length < 10) total.invalidExamples.push(example);
}

/**
 * The objects of `keys` (read one after another, each into a buffer of its own), grouped in key order into batches
 * of about `batchBytes`: the grouping depends only on the objects, never on the number of workers.
 */
export async function* objectBatches(
  store: ObjectStore,
  bucket: string,
  keys: readonly string[],
  describe: (key: string) => { readonly own: boolean; readonly lateFor: readonly boolean[] },
  batchBytes: number,
): AsyncGenerator<ObjectsTask> {
  let index = 0;
  let objects: Array<ObjectsTask['objects'][number]> = [];
  let size = 0;
  for (const key of keys) {
    const object = await store.get(bucket, key);
    if (!object) continue;
    const parts: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of object.body) {
      const part = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      parts.push(part);
      length += part.length;
    }
    const bytes = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.length;
    }
    objects.push({ key, bytes, ...describe(key) });
    size += length;
    if (size >= batchBytes) {
      yield { index: index++, objects };
      objects = [];
      size = 0;
    }
  }
  if (objects.length > 0) yield { index, objects };
}
