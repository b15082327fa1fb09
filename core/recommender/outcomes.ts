/**
 * The recommender's **slate outcomes**: for one settled serving hour, every distinct served slate with the clicks
 * it led to, written as the drift checker's outcome records (`core/drift/quality.ts`) under
 * `drift/outcomes/<endpoint>/yyyy/mm/dd/hh/slates/` of the artifacts bucket — one JSON line per slate:
 *
 *     {"kind":"slate","time":"2026-11-23T10:00:00.000Z","modelVersion":"v3","items":["i1","i2"],"clicked":["i2"]}
 *
 * - one line per **inference id** (the stream is at-least-once: the first copy of a slate is kept);
 * - `time` is the serving time in ISO 8601 UTC with `Z` (the checker files and filters outcomes by it);
 * - `items` in served position order; `clicked` the distinct items **of the slate** clicked (`event_type = 'click'`,
 *   the CTR's definition, as in `ctrByModelVersionQuery`) from one minute before to `attributionMinutes` after the
 *   slate was served, in position order; a click on an item the slate did not show is not the slate's;
 * - popularity-fallback slates are kept, their version written as `fallback` (whatever `model_version` says):
 *   the checker's `OutcomeAccumulator` leaves the `fallback` version out of the model's quality without counting
 *   it as invalid, and the records stay available for comparing the fallback's CTR; slates without items are left
 *   out (an outcome needs at least one item).
 *
 * The statement is an Athena `UNLOAD` to `TEXTFILE` with the JSON line as its only column: Athena lowercases column
 * names, so `UNLOAD … WITH (format = 'JSON')` would write `modelversion`; the line is assembled from
 * `json_format(CAST(… AS JSON))` of each value (strings and arrays escaped by the engine). Athena compresses
 * TEXTFILE with gzip by default (`*.gz` objects); the checker's `readOutcomes` reads gzip objects. The local world
 * runs the same statement on DuckDB (`src/local-world/athena/`).
 *
 * No AWS or CDK imports.
 */
import { hourFolders } from '../drift/checker-io';
import { DEFAULT_OUTCOMES_PREFIX } from '../drift/quality';

/** What the statement reads and how clicks are attributed. */
export interface SlateOutcomeSqlOptions {
  /** The interaction events table, quoted: `"database"."interaction_events"`. */
  readonly events: string;
  /** The served slates table, quoted: `"database"."served_slate_events"`. */
  readonly slates: string;
  /** A click counts for a served item when it follows within this many minutes. */
  readonly attributionMinutes: number;
  /**
   * How late a record may reach the lake after it happened (Firehose buffering and retries): the arrival-date
   * partitions (`dt`) read extend this far past the hour and its attribution window.
   */
  readonly deliveryAllowanceMinutes: number;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** A quoted table name `"database"."table"` of plain lowercase names (nothing else is ever put in SQL). */
export function quotedTable(database: string, table: string): string {
  for (const [what, name] of [
    ['database', database],
    ['table', table],
  ] as const) {
    if (!/^[a-z0-9_]{1,255}$/.test(name)) {
      throw new Error(`${what} name must be lowercase letters, digits and underscores; received "${name}"`);
    }
  }
  return `"${database}"."${table}"`;
}

function checkOptions(o: SlateOutcomeSqlOptions): void {
  for (const [key, value] of [
    ['attributionMinutes', o.attributionMinutes],
    ['deliveryAllowanceMinutes', o.deliveryAllowanceMinutes],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || (key === 'attributionMinutes' && value < 1)) {
      throw new Error(
        `${key} must be a ${key === 'attributionMinutes' ? 'positive' : 'non-negative'} integer; received ${value}`,
      );
    }
  }
  for (const table of [o.events, o.slates]) {
    if (!/^"[a-z0-9_]+"\."[a-z0-9_]+"$/.test(table)) {
      throw new Error(`tables must be quoted "database"."table" names; received ${table}`);
    }
  }
}

/** The start of a whole UTC hour; throws for any other time. */
export function wholeHour(hour: Date): Date {
  const ms = hour.getTime();
  if (!Number.isFinite(ms) || ms % HOUR_MS !== 0) {
    throw new Error(`a serving hour must start on a whole UTC hour; received ${String(hour)}`);
  }
  return hour;
}

/**
 * The arrival partitions (`dt`, `hour`) holding records that arrived in `[from, to]`, as a predicate Athena prunes
 * by: `((dt = '2026-11-23' AND hour IN ('10', '11')) OR (dt = '2026-11-24' AND hour IN ('00')))`.
 */
export function arrivalPredicate(fromMs: number, toMs: number): string {
  const byDay = new Map<string, string[]>();
  for (let t = Math.floor(fromMs / HOUR_MS) * HOUR_MS; t <= toMs; t += HOUR_MS) {
    const iso = new Date(t).toISOString();
    const day = iso.slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), `'${iso.slice(11, 13)}'`]);
  }
  const parts = [...byDay].map(([day, hours]) => `(dt = '${day}' AND hour IN (${hours.join(', ')}))`);
  return `(${parts.join(' OR ')})`;
}

/** The hour's folder (`yyyy/mm/dd/hh/`) under an endpoint's outcomes, as the checker lists it. */
export function hourFolder(hour: Date): string {
  return hourFolders(wholeHour(hour), new Date(hour.getTime() + HOUR_MS))[0];
}

/** Where the outcome records of an endpoint live (the checker's `OUTCOMES_PREFIX` plus the endpoint). */
export function endpointOutcomesPrefix(endpointName: string, outcomesPrefix = DEFAULT_OUTCOMES_PREFIX): string {
  return `${outcomesPrefix}${endpointName}/`;
}

/** The UNLOAD destination of an hour's slates: `…/<endpoint>/yyyy/mm/dd/hh/slates/`. */
export function slatesFolder(endpointName: string, hour: Date, outcomesPrefix = DEFAULT_OUTCOMES_PREFIX): string {
  return `${endpointOutcomesPrefix(endpointName, outcomesPrefix)}${hourFolder(hour)}slates/`;
}

/**
 * The marker of a written hour, beside its `slates/` folder. Its name starts with `_`: like Hive and Athena, the
 * checker's `readOutcomes` skips such objects.
 */
export function slatesMarkerKey(endpointName: string, hour: Date, outcomesPrefix = DEFAULT_OUTCOMES_PREFIX): string {
  return `${endpointOutcomesPrefix(endpointName, outcomesPrefix)}${hourFolder(hour)}_slates.json`;
}

/**
 * The `UNLOAD` of one serving hour `[hour, hour + 1 h)` into `destination` (an `s3://` folder, empty, as Athena
 * requires). Valid Athena (Trino) SQL; the local world runs it on DuckDB.
 */
export function slateOutcomesStatement(options: SlateOutcomeSqlOptions, hour: Date, destination: string): string {
  checkOptions(options);
  if (!/^s3:\/\/[A-Za-z0-9._-]+\/[^'\\]*\/$/.test(destination)) {
    throw new Error(`destination must be an s3:// folder ending with "/"; received "${destination}"`);
  }
  const start = wholeHour(hour).getTime();
  const end = start + HOUR_MS;
  const a = options.attributionMinutes;
  const allowance = options.deliveryAllowanceMinutes * MINUTE_MS;
  const iso = (ms: number) => `from_iso8601_timestamp('${new Date(ms).toISOString()}')`;
  // Partitions are arrival hours: a slate arrives after it was served, within the allowance; a click from a minute
  // before the slate to the end of its attribution window, within the allowance too.
  const slateDays = arrivalPredicate(start, end + allowance);
  const clickDays = arrivalPredicate(start - MINUTE_MS, end + a * MINUTE_MS + allowance);
  return `UNLOAD (
WITH slates AS (
  SELECT inference_id, event_time, model_version, fallback, items FROM (
    SELECT inference_id, event_time, model_version, fallback, items,
      row_number() OVER (PARTITION BY inference_id ORDER BY event_time) AS copy
    FROM ${options.slates}
    WHERE ${slateDays} AND event_time >= ${iso(start)} AND event_time < ${iso(end)}
      AND cardinality(items) > 0
  ) WHERE copy = 1
),
served AS (
  SELECT s.inference_id, s.event_time, i.item_id, i.position
  FROM slates s CROSS JOIN UNNEST(s.items) AS i (item_id, position, score, source, features)
),
clicks AS (
  SELECT DISTINCT inference_id, item_id, event_time FROM ${options.events}
  WHERE ${clickDays} AND event_time >= ${iso(start - MINUTE_MS)}
    AND event_time <= ${iso(end + a * MINUTE_MS)}
    AND event_type = 'click' AND inference_id IS NOT NULL
),
clicked AS (
  SELECT inference_id, array_agg(item_id ORDER BY position) AS items FROM (
    SELECT v.inference_id, v.item_id, min(v.position) AS position
    FROM served v
    JOIN clicks c ON c.inference_id = v.inference_id AND c.item_id = v.item_id
      AND c.event_time >= v.event_time - INTERVAL '1' MINUTE
      AND c.event_time <= v.event_time + INTERVAL '${a}' MINUTE
    GROUP BY v.inference_id, v.item_id
  ) GROUP BY inference_id
),
listed AS (
  SELECT inference_id, array_agg(item_id ORDER BY position) AS items FROM served GROUP BY inference_id
)
SELECT concat(
  '{"kind":"slate","time":', json_format(CAST(concat(to_iso8601(s.event_time), 'Z') AS JSON)),
  ',"modelVersion":', json_format(CAST(CASE WHEN s.fallback THEN 'fallback' ELSE s.model_version END AS JSON)),
  ',"items":', json_format(CAST(l.items AS JSON)),
  ',"clicked":', coalesce(json_format(CAST(c.items AS JSON)), '[]'),
  '}') AS outcome
FROM slates s
JOIN listed l ON l.inference_id = s.inference_id
LEFT JOIN clicked c ON c.inference_id = s.inference_id
ORDER BY s.event_time, s.inference_id
) TO '${destination}' WITH (format = 'TEXTFILE')`;
}
