/**
 * Parsing of plain JSONL feature records: one flat JSON object per line, e.g.
 * `{"age": 31, "country": "DE", "is_new": true, "embedding": [0.1, 0.2], "tenure": null}`.
 */
import { type FeatureRecord } from '../features';
import { toFeatureRecord } from './capture';
import { isCaptureLike } from './detect';

/**
 * Why a plain line was rejected: `invalid-json`, `not-an-object` (a JSON array/scalar), `empty-record` (`{}`), or
 * `format-mismatch` (the object is, or looks like, a SageMaker capture record: it has `captureData` or
 * `eventMetadata`; it must not be mistaken for flat features).
 */
export type PlainInvalidReason = 'invalid-json' | 'not-an-object' | 'empty-record' | 'format-mismatch';

/** Result of parsing one plain line. */
export type PlainParseResult = { ok: true; record: FeatureRecord } | { ok: false; reason: PlainInvalidReason };

const FAIL_JSON: PlainParseResult = Object.freeze({ ok: false, reason: 'invalid-json' });
const FAIL_OBJECT: PlainParseResult = Object.freeze({ ok: false, reason: 'not-an-object' });
const FAIL_MISMATCH: PlainParseResult = Object.freeze({ ok: false, reason: 'format-mismatch' });
const FAIL_EMPTY: PlainParseResult = Object.freeze({ ok: false, reason: 'empty-record' });

/** Parses one plain JSONL line (see {@link parsePlainRecord}). Never throws. */
export function parsePlainLine(line: string): PlainParseResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return FAIL_JSON;
  }
  return parsePlainRecord(value);
}

/**
 * Converts an already `JSON.parse`d plain record to a feature record. Values map as follows:
 * finite number → number; string → string; boolean → `"true"`/`"false"`; non-empty array of finite numbers →
 * the array (embedding); null, other arrays → `null` (missing); nested objects → dotted names (`a.b`).
 * Absent features are simply absent; the key `__proto__` is dropped. The parsed object itself is returned when no
 * value needs converting.
 * Never throws.
 */
export function parsePlainRecord(value: unknown): PlainParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return FAIL_OBJECT;
  const obj = value as Record<string, unknown>;
  if (isCaptureLike(obj)) return FAIL_MISMATCH;
  for (const _key in obj) return { ok: true, record: toFeatureRecord(obj) };
  return FAIL_EMPTY;
}
