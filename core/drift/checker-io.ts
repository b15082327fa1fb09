/**
 * How the drift checker finds and reads its records: the hour folders of a window (plus the settle margin) under
 * every capture variant and the extra prefix, and a pass over objects that routes each record by its
 * `inferenceTime` — to the window being checked, or, as a late record, to a watched earlier window.
 */
import { createCounters, consumeRecords, type ReadCounters } from './readers';
import type { FeatureRecord } from './features';
import { CAPTURE_TIME_FIELD } from './time';
import type { ObjectStore } from '../storage/object-store';

/** The hour folders (`yyyy/mm/dd/hh/`) that can hold records of `[start, end)`. */
export function hourFolders(start: Date, end: Date): string[] {
  const out: string[] = [];
  const pad = (n: number) => String(n).padStart(2, '0');
  for (let t = Math.floor(start.getTime() / 3_600_000) * 3_600_000; t < end.getTime(); t += 3_600_000) {
    const d = new Date(t);
    out.push(`${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}/`);
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
 * Reads objects one after another and hands every record to `route` with its capture time (a record without a
 * parseable `inferenceTime` is invalid: it belongs to no window). Returns the counters of each object.
 */
export async function readObjects(
  store: ObjectStore,
  bucket: string,
  keys: readonly string[],
  route: (record: FeatureRecord, time: number, key: string) => void,
): Promise<Map<string, ReadCounters>> {
  const out = new Map<string, ReadCounters>();
  for (const key of keys) {
    const object = await store.get(bucket, key);
    if (!object) continue;
    const summary = await consumeRecords(object.body, { format: 'auto', timeField: CAPTURE_TIME_FIELD }, (r) =>
      route(r.record, r.time, key),
    );
    out.set(key, summary.counters);
  }
  return out;
}

/** The sum of the counters of some objects. */
export function countersOf(perObject: ReadonlyMap<string, ReadCounters>, keys: Iterable<string>): ReadCounters {
  const total = createCounters();
  for (const key of keys) {
    const c = perObject.get(key);
    if (c) addCounters(total, c);
  }
  return total;
}
