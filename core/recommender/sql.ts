/**
 * The recommender's dataset SQL (Athena), written once: the retraining loop exports its training, validation,
 * baseline and scoring sets with these statements, and local tools can read the same column definitions.
 * No AWS or CDK imports.
 */
import type { EventSchema } from '../contracts/events';

/** The label of an interaction: a click, watch or purchase is a positive. */
export const LABEL_COLUMN_SQL = "CASE WHEN event_type IN ('click', 'watch', 'purchase') THEN 1 ELSE 0 END AS label";

/** A stable bucket of the event in [0, 1024): an event never moves between the training and validation splits. */
export const SPLIT_BUCKET_SQL = 'bitwise_and(from_big_endian_64(xxhash64(to_utf8(event_id))), 1023)';

/** Events whose split bucket is below this are the validation split (about 10 %); the others train. */
export const VALIDATION_BUCKETS = 102;

/** Feature columns of the model, computed in SQL from the interaction events (model input order). */
export function featureColumnsSql(schema: EventSchema): string[] {
  const code = (field: string) => {
    const values = schema.fields.find((f) => f.name === field)?.values ?? [];
    if (values.length === 0) throw new Error(`event schema ${schema.name} has no closed value set for ${field}`);
    return `CASE ${field} ${values.map((v, i) => `WHEN '${v}' THEN ${i}`).join(' ')} ELSE -1 END AS ${field}_code`;
  };
  return [
    'coalesce(position, -1) AS position',
    code('surface'),
    code('device'),
    'hour(event_time) AS hour_of_day',
    'day_of_week(event_time) AS day_of_week',
  ];
}

/** Where and what the dataset statements read and write. */
export interface DatasetQueryOptions {
  /** The interaction events (their closed value sets become feature codes). */
  readonly schema: EventSchema;
  /** The events table, quoted: `"database"."table"`. */
  readonly table: string;
  /** Predicate selecting the dataset window (it may hold placeholders the caller fills in). */
  readonly inWindow: string;
  /** Folder of the dataset, ending with `/` (`s3://…/datasets/<id>/`; it may hold placeholders). */
  readonly destination: string;
}

/** The four exports of a recommender dataset, as Athena `UNLOAD` statements. */
export interface DatasetQueries {
  /** Label and features of the training split (Parquet). */
  readonly train: string;
  /** Label and features of the validation split (Parquet). */
  readonly validation: string;
  /** The validation features named as the capture reader names CSV columns (`f0`, `f1`, …), as JSON lines. */
  readonly baseline: string;
  /** The validation split as label-first CSV, for re-scoring candidate and champion with batch transform. */
  readonly scoring: string;
}

/** The `UNLOAD` statements that export a recommender dataset. */
export function datasetQueries(o: DatasetQueryOptions): DatasetQueries {
  const features = featureColumnsSql(o.schema);
  const labelled = `${LABEL_COLUMN_SQL}, ${features.join(', ')}`;
  const baselineColumns = features.map((f, i) => `${f.replace(/ AS \w+$/, '')} AS f${i}`).join(', ');
  const train = `${SPLIT_BUCKET_SQL} >= ${VALIDATION_BUCKETS}`;
  const validation = `${SPLIT_BUCKET_SQL} < ${VALIDATION_BUCKETS}`;
  const unload = (columns: string, split: string, folder: string, format: string) =>
    `UNLOAD (SELECT ${columns} FROM ${o.table} WHERE ${o.inWindow} AND ${split}) TO '${o.destination}${folder}/' WITH (${format})`;
  return {
    train: unload(labelled, train, 'train', "format = 'PARQUET'"),
    validation: unload(labelled, validation, 'validation', "format = 'PARQUET'"),
    baseline: unload(baselineColumns, validation, 'baseline', "format = 'JSON'"),
    scoring: unload(labelled, validation, 'scoring', "format = 'TEXTFILE', field_delimiter = ','"),
  };
}
