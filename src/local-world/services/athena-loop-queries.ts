/**
 * The retraining loop's own Athena statements, evaluated in TypeScript over the in-memory lake: the new-record
 * count, the labelled-image selection (label precedence), and the dataset `UNLOAD`s (windows and validation split,
 * recommender columns computed like the SQL does; Parquet is not encoded). A statement of another shape fails with
 * `Athena.InvalidRequestException`. DuckDB running the statements themselves over the lake files replaces this.
 */
import { unitHash } from '../../../core/retraining/manifests';
import { parseS3Uri } from '../../../core/storage/s3-uri';
import { TaskError } from '../errors';
import type { LakeEvent, WorldContext } from '../types';
import type { QueryEngine, QueryOutcome } from './athena';

const SURFACE_CODES: Record<string, number> = { home: 0, search: 1, detail: 2, email: 3, notification: 4 };
const DEVICE_CODES: Record<string, number> = { mobile: 0, desktop: 1, tablet: 2, tv: 3 };
const POSITIVE = new Set(['click', 'watch', 'purchase']);
const LABEL_RANK: Record<string, number> = { human: 4, 'labels-file': 3, prefix: 2 };

/** Columns of the recommender's dataset queries, computed like the SQL does. */
function column(alias: string, e: LakeEvent): number {
  const time = new Date(String(e.event_time));
  switch (alias) {
    case 'label':
      return POSITIVE.has(String(e.event_type)) ? 1 : 0;
    case 'position':
    case 'f0':
      return typeof e.position === 'number' ? e.position : -1;
    case 'surface_code':
    case 'f1':
      return SURFACE_CODES[String(e.surface)] ?? -1;
    case 'device_code':
    case 'f2':
      return DEVICE_CODES[String(e.device)] ?? -1;
    case 'hour_of_day':
    case 'f3':
      return time.getUTCHours();
    case 'day_of_week':
    case 'f4':
      return ((time.getUTCDay() + 6) % 7) + 1;
    default:
      throw new TaskError('Athena.InvalidRequestException', `the local Athena does not know the column "${alias}"`);
  }
}

/** `(start, end]` of a query's `event_time > … AND event_time <= …`. */
function windowOf(query: string): { start: number; end: number } {
  const times = [...query.matchAll(/from_iso8601_timestamp\('([^']+)'\)/g)].map((m) => Date.parse(m[1]));
  if (times.length < 2) throw new TaskError('Athena.InvalidRequestException', 'query without a time window');
  return { start: times[0], end: times[1] };
}

/** The validation split of the dataset queries (`xxhash64(event_id) & 1023 < 102`), with FNV-1a locally. */
const inValidation = (e: LakeEvent) => Math.floor(unitHash(String(e.event_id ?? e.image_key)) * 1024) < 102;

const inWindow = (world: WorldContext, query: string): LakeEvent[] => {
  const { start, end } = windowOf(query);
  return world.lake().filter((e) => {
    const t = Date.parse(String(e.event_time));
    return t > start && t <= end;
  });
};

const UNLOAD = /^UNLOAD \(SELECT (.+) FROM .+ WHERE (.+)\) TO '(s3:\/\/[^']+)' WITH \(format = '(\w+)'/s;

/** The loop's statements over the lake. */
export const loopQueryEngine: QueryEngine = {
  async execute(query: string, world: WorldContext): Promise<QueryOutcome> {
    if (/^SELECT count\(\*\)/.test(query)) {
      const labelled = /label IS NOT NULL/.test(query);
      const n = inWindow(world, query).filter((e) => !labelled || (e.label !== undefined && e.label !== null)).length;
      return {
        rows: [['n'], [String(n)]],
        summary: `${n} ${labelled ? 'labelled images' : 'events'} since the champion's dataset`,
      };
    }
    if (/^SELECT image_key/.test(query)) {
      const best = new Map<string, { label: string; rank: number }>();
      for (const e of inWindow(world, query)) {
        if (e.label === undefined || e.label === null) continue;
        const rank = (LABEL_RANK[String(e.label_source)] ?? 1) * 1e13 + Date.parse(String(e.event_time)) / 1000;
        const key = String(e.image_key);
        if ((best.get(key)?.rank ?? -1) < rank) best.set(key, { label: String(e.label), rank });
      }
      return {
        rows: [
          ['image_key', 'label'],
          ...[...best].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => [k, v.label]),
        ],
        summary: `${best.size} labelled images selected`,
      };
    }
    const unload = UNLOAD.exec(query);
    if (unload) {
      const [, select, where, target, format] = unload;
      const aliases = [...select.matchAll(/ AS (\w+)/g)].map((m) => m[1]);
      const validation = /1023\) < 102/.test(where);
      const events = inWindow(world, query).filter((e) => inValidation(e) === validation);
      const values = events.map((e) => aliases.map((a) => column(a, e)));
      const { bucket, key } = parseS3Uri(target);
      const body =
        format === 'JSON'
          ? values.map((v) => JSON.stringify(Object.fromEntries(aliases.map((a, k) => [a, v[k]])))).join('\n')
          : values.map((v) => v.join(',')).join('\n');
      // Parquet is not encoded locally: the local training job does not read it.
      await world.store.put(bucket, `${key}part-00000.${format.toLowerCase()}`, body + '\n');
      return { summary: `UNLOAD ${events.length} rows (${format}) to ${target}` };
    }
    throw new TaskError('Athena.InvalidRequestException', `the local Athena cannot run: ${query.slice(0, 120)}`);
  },
};
