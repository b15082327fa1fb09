/**
 * Refreshes the drift baseline of an endpoint from the dataset its new model was validated on: streams JSON-lines
 * objects (gzipped or not) under a prefix through a {@link ProfileAccumulator} and writes the profile where the
 * drift checker reads it (`drift/baselines/<endpoint>/profile.json`), keeping a copy per dataset ID.
 */
import type { ObjectStore } from '../storage/object-store';
import type { FeatureRecord } from '../drift/features';
import { ProfileAccumulator, toBaselineProfile } from '../drift/profile';
import { parseTimeValue } from '../drift/time';
import { readBytes } from '../storage/object-store';
import { parseS3Uri } from '../storage/s3-uri';

/** What the baseline step receives. */
export interface BaselineInput {
  /** `s3://bucket/prefix` of the JSON-lines records (a folder or one file). */
  readonly sourceUri: string;
  /** Bucket of the drift baselines (the artifacts bucket). */
  readonly artifactsBucket: string;
  readonly endpointName: string;
  readonly datasetId: string;
  /** Fields that are not model inputs (labels, ids, image locations). */
  readonly exclude: readonly string[];
  /** Stop after this many records. @default 200000 */
  readonly maxRecords?: number;
  /**
   * The records' time field (ISO 8601 or epoch): the baseline keeps per-phase data for seasonal comparisons and
   * never profiles the field. A record whose time is missing or unparsable is invalid. @default no seasonal data
   */
  readonly timeField?: string;
}

/** Where the baseline went (`$.baseline`). */
export interface BaselineResult {
  readonly profileUri: string;
  readonly historyUri: string;
  readonly records: number;
  readonly invalid: number;
  /** Invalid lines by reason (`json`, `not-an-object`, `time-missing`, `time-unparsable`). */
  readonly invalidReasons: Record<string, number>;
  readonly features: string[];
  /** Whether the profile has per-phase data (built with a time field). */
  readonly seasonal: boolean;
}

function toFeatureRecord(value: unknown, exclude: ReadonlySet<string>): FeatureRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: FeatureRecord = {};
  for (const [k, v] of Object.entries(value)) {
    if (exclude.has(k)) continue;
    out[k] =
      typeof v === 'number' || typeof v === 'string'
        ? v
        : typeof v === 'boolean'
          ? String(v)
          : Array.isArray(v)
            ? (v as number[])
            : null;
  }
  return out;
}

/** Builds and writes the baseline profile. */
export async function refreshBaseline(store: ObjectStore, input: BaselineInput, now: Date): Promise<BaselineResult> {
  const source = parseS3Uri(input.sourceUri);
  const exclude = new Set(input.exclude);
  const max = input.maxRecords ?? 200_000;
  const acc = new ProfileAccumulator(input.timeField ? { seasonal: { timeField: input.timeField } } : {});
  const reasons: Record<string, number> = {};
  const reject = (reason: string) => (reasons[reason] = (reasons[reason] ?? 0) + 1);
  const keys: string[] = [];
  for await (const key of store.list(source.bucket, source.key)) if (!key.endsWith('/')) keys.push(key);
  if (keys.length === 0) throw new Error(`no dataset objects under ${input.sourceUri}`);
  outer: for (const key of keys.sort()) {
    const text = (await readBytes(store, source.bucket, key)).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      if (acc.records >= max) break outer;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        reject('json');
        continue;
      }
      const record = toFeatureRecord(parsed, exclude);
      if (!record) {
        reject('not-an-object');
        continue;
      }
      if (input.timeField === undefined) {
        acc.add(record);
        continue;
      }
      const time = parseTimeValue(record[input.timeField]);
      if (typeof time === 'number') acc.add(record, time);
      else reject(`time-${time}`);
    }
  }
  const invalid = Object.values(reasons).reduce((a, b) => a + b, 0);
  if (acc.records === 0) {
    const why = Object.entries(reasons)
      .map(([reason, n]) => `${n} ${reason}`)
      .join(', ');
    throw new Error(
      `no usable records under ${input.sourceUri}${why ? ` (invalid lines: ${why})` : ''}${input.timeField && reasons['time-missing'] === invalid ? `; the time field "${input.timeField}" is in no record` : ''}`,
    );
  }
  const profile = toBaselineProfile(acc, { invalid, source: input.sourceUri, createdAt: now });
  const base = `drift/baselines/${input.endpointName}/`;
  const body = JSON.stringify(profile);
  await store.put(input.artifactsBucket, `${base}history/${input.datasetId}.json`, body, {
    contentType: 'application/json',
  });
  await store.put(input.artifactsBucket, `${base}profile.json`, body, { contentType: 'application/json' });
  return {
    profileUri: `s3://${input.artifactsBucket}/${base}profile.json`,
    historyUri: `s3://${input.artifactsBucket}/${base}history/${input.datasetId}.json`,
    records: acc.records,
    invalid,
    invalidReasons: reasons,
    features: Object.keys(profile.features),
    seasonal: profile.seasonal !== undefined,
  };
}
