/**
 * The vision dataset SQL (Athena), written once: the retraining loop selects the labelled images with it, and the
 * precedence it encodes is {@link LABEL_SOURCES}'. No AWS or CDK imports.
 */
import { LABEL_SOURCES } from './labels';

/**
 * Rank of a label's source as SQL: a person beats a labels file beats a folder beats a model
 * (`CASE label_source WHEN 'human' THEN 4 … ELSE 1 END`).
 */
export const LABEL_PRECEDENCE_SQL = `CASE label_source ${LABEL_SOURCES.slice(1)
  .map((source) => `WHEN '${source}' THEN ${LABEL_SOURCES.indexOf(source) + 1}`)
  .reverse()
  .join(' ')} ELSE 1 END`;

/**
 * One label per image in the window: the most trusted source, the latest among equals (section 3 of
 * docs/case-studies/vision.md). 1e13 s is far beyond any event time, so the source always decides first.
 * @param table the events table, quoted: `"database"."table"`
 * @param inWindow predicate selecting the dataset window (it may hold placeholders the caller fills in)
 */
export function labelledImagesQuery(table: string, inWindow: string): string {
  return `SELECT image_key, max_by(label, ${LABEL_PRECEDENCE_SQL} * 1e13 + to_unixtime(event_time)) AS label FROM ${table} WHERE ${inWindow} AND label IS NOT NULL GROUP BY image_key`;
}
