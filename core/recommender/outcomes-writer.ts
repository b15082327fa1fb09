/**
 * The scheduled slate-outcome writer (`lambdas/slate-outcomes`): each run writes every serving hour that has
 * **settled** and is **not yet written**, newest first, going back at most `catchUpHours`:
 *
 * - settled: the hour ended at least `attributionMinutes + deliveryAllowanceMinutes` ago (its clicks are in and
 *   have reached the lake);
 * - written: the hour's marker (`…/hh/_slates.json`) exists; it is put after the `UNLOAD` succeeded, so an
 *   interrupted attempt leaves objects without a marker, which the next attempt deletes first (`UNLOAD` needs an
 *   empty destination);
 * - an hour with no served slates in the lake (no object in its arrival partitions) is skipped without a query,
 *   and nothing is written for it;
 * - a run stops starting queries when the caller says time is short (`hasTimeFor`); the next run goes on.
 *
 * A failed hour does not stop the others; the caller fails the invocation afterwards (alarm, retry). Ports only:
 * the Lambda wires Athena and S3, the tests a fake query port or the local DuckDB Athena.
 */
import type { ObjectStore } from '../storage/object-store';
import { slateOutcomesStatement, slatesFolder, slatesMarkerKey, type SlateOutcomeSqlOptions } from './outcomes';
import { lakeHourPartition } from '../storage/layout';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Where and how the writer works. */
export interface SlateOutcomeWriterSettings extends SlateOutcomeSqlOptions {
  /** Bucket of the outcome records (the drift checker's artifacts bucket). */
  readonly artifactsBucket: string;
  readonly endpointName: string;
  /** The checker's outcomes prefix. @default 'drift/outcomes/' */
  readonly outcomesPrefix?: string;
  /** The served slates in the lake: bucket and key prefix (arrival partitions `dt=…/hour=…/` below). */
  readonly lake: { readonly bucket: string; readonly slatesPrefix: string };
  /** Settled hours older than this many hours are left alone. */
  readonly catchUpHours: number;
}

/** What the writer needs. */
export interface SlateOutcomeWriterPorts {
  /** Reads markers and lists the lake and the destinations; puts the markers. */
  readonly store: ObjectStore;
  /** Runs one statement to completion; throws (with the engine's reason) when it fails or takes too long. */
  runQuery(sql: string): Promise<{ readonly queryExecutionId?: string }>;
  /** Deletes objects (what an interrupted attempt left in a destination). */
  deleteObjects(bucket: string, keys: readonly string[]): Promise<void>;
  log?(level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>): void;
}

/** What happened to one hour. */
export interface HourOutcome {
  /** Start of the serving hour, ISO 8601. */
  readonly hour: string;
  readonly status: 'written' | 'already-written' | 'no-slates' | 'deferred' | 'failed';
  /** Objects the UNLOAD wrote. */
  readonly objects?: number;
  readonly queryExecutionId?: string;
  /** Objects of an interrupted attempt deleted first. */
  readonly cleared?: number;
  readonly error?: string;
}

/** The marker of a written hour. */
export interface SlateOutcomeMarker {
  readonly kind: 'ml-blueprint/slate-outcomes';
  readonly version: 1;
  readonly hour: string;
  readonly objects: number;
  readonly queryExecutionId?: string;
  readonly writtenAt: string;
}

/**
 * The serving hours a run at `now` considers, newest first: those that ended at least `delayMinutes` ago, at most
 * `catchUpHours` of them.
 */
export function settledHours(now: Date, delayMinutes: number, catchUpHours: number): Date[] {
  if (!Number.isInteger(catchUpHours) || catchUpHours < 1) {
    throw new Error(`catchUpHours must be a positive integer; received ${catchUpHours}`);
  }
  if (!Number.isFinite(delayMinutes) || delayMinutes < 0) {
    throw new Error(`the settle delay must be a non-negative number of minutes; received ${delayMinutes}`);
  }
  // The newest hour whose end is at or before now − delay.
  const lastEnd = Math.floor((now.getTime() - delayMinutes * MINUTE_MS) / HOUR_MS) * HOUR_MS;
  return Array.from({ length: catchUpHours }, (_, i) => new Date(lastEnd - (i + 1) * HOUR_MS));
}

/** How long after its end an hour is written at the earliest: attribution plus delivery allowance. */
export function settleDelayMinutes(s: Pick<SlateOutcomeSqlOptions, 'attributionMinutes' | 'deliveryAllowanceMinutes'>) {
  return s.attributionMinutes + s.deliveryAllowanceMinutes;
}

/** The lake's arrival partitions that can hold the hour's slates: from the hour to its end plus the allowance. */
export function arrivalPartitions(hour: Date, deliveryAllowanceMinutes: number): string[] {
  const out: string[] = [];
  const last = hour.getTime() + HOUR_MS + deliveryAllowanceMinutes * MINUTE_MS;
  for (let t = hour.getTime(); t < last; t += HOUR_MS) {
    out.push(lakeHourPartition(new Date(t)));
  }
  return out;
}

async function firstKey(store: ObjectStore, bucket: string, prefix: string): Promise<string | undefined> {
  for await (const key of store.list(bucket, prefix)) return key;
  return undefined;
}

async function allKeys(store: ObjectStore, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.list(bucket, prefix)) keys.push(key);
  return keys;
}

async function writeHour(
  ports: SlateOutcomeWriterPorts,
  s: SlateOutcomeWriterSettings,
  hour: Date,
  now: Date,
): Promise<HourOutcome> {
  const iso = hour.toISOString();
  const bucket = s.artifactsBucket;
  const folder = slatesFolder(s.endpointName, hour, s.outcomesPrefix);
  const leftovers = await allKeys(ports.store, bucket, folder);
  if (leftovers.length > 0) {
    ports.log?.('warn', 'deleting what an interrupted attempt left before writing the hour again', {
      hour: iso,
      objects: leftovers.length,
    });
    await ports.deleteObjects(bucket, leftovers);
  }
  const sql = slateOutcomesStatement(s, hour, `s3://${bucket}/${folder}`);
  let queryExecutionId: string | undefined;
  try {
    queryExecutionId = (await ports.runQuery(sql)).queryExecutionId;
  } catch (e) {
    const error = `the slate outcomes of ${iso} were not written: ${(e as Error).message}`;
    ports.log?.('error', error, { hour: iso });
    return { hour: iso, status: 'failed', error, ...(leftovers.length ? { cleared: leftovers.length } : {}) };
  }
  const objects = (await allKeys(ports.store, bucket, folder)).length;
  const marker: SlateOutcomeMarker = {
    kind: 'ml-blueprint/slate-outcomes',
    version: 1,
    hour: iso,
    objects,
    ...(queryExecutionId ? { queryExecutionId } : {}),
    writtenAt: now.toISOString(),
  };
  await ports.store.put(bucket, slatesMarkerKey(s.endpointName, hour, s.outcomesPrefix), JSON.stringify(marker), {
    contentType: 'application/json',
  });
  ports.log?.('info', 'slate outcomes written', { hour: iso, objects, queryExecutionId });
  return {
    hour: iso,
    status: 'written',
    objects,
    ...(queryExecutionId ? { queryExecutionId } : {}),
    ...(leftovers.length ? { cleared: leftovers.length } : {}),
  };
}

/** Writes the settled, unwritten hours (see the module comment); returns each considered hour's outcome. */
export async function writeSlateOutcomes(
  ports: SlateOutcomeWriterPorts,
  settings: SlateOutcomeWriterSettings,
  now: Date,
  options: { hasTimeFor?: () => boolean } = {},
): Promise<HourOutcome[]> {
  const hours = settledHours(now, settleDelayMinutes(settings), settings.catchUpHours);
  const out: HourOutcome[] = [];
  let outOfTime = false;
  for (const hour of hours) {
    const iso = hour.toISOString();
    const marker = slatesMarkerKey(settings.endpointName, hour, settings.outcomesPrefix);
    if (await ports.store.exists(settings.artifactsBucket, marker)) {
      out.push({ hour: iso, status: 'already-written' });
      continue;
    }
    let served = false;
    for (const partition of arrivalPartitions(hour, settings.deliveryAllowanceMinutes)) {
      if (await firstKey(ports.store, settings.lake.bucket, `${settings.lake.slatesPrefix}${partition}`)) {
        served = true;
        break;
      }
    }
    if (!served) {
      out.push({ hour: iso, status: 'no-slates' });
      continue;
    }
    outOfTime ||= options.hasTimeFor ? !options.hasTimeFor() : false;
    if (outOfTime) {
      out.push({ hour: iso, status: 'deferred' });
      continue;
    }
    out.push(await writeHour(ports, settings, hour, now));
  }
  return out;
}

/** A one-line summary of a run, e.g. for the log and the error of a failed run. */
export function summarize(hours: readonly HourOutcome[]): string {
  const count = (status: HourOutcome['status']) => hours.filter((h) => h.status === status).length;
  return `${count('written')} written, ${count('already-written')} already written, ${count('no-slates')} without slates, ${count('deferred')} deferred, ${count('failed')} failed`;
}
