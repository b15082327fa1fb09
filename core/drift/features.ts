/**
 * Feature records, feature kinds and the feature schema used by the drift checker.
 *
 * - {@link FeatureRecord}: what the readers produce for one inference (flat name → value map).
 * - {@link valueKind} / {@link FeatureKindInferrer}: infer the kind of each feature from observed values.
 * - {@link FeatureSchema} / {@link parseFeatureSchema}: the (user supplied) schema, validated with zod.
 */
import { z } from 'zod';

/** The three kinds of feature the drift statistics know how to compare. */
export type FeatureKind = 'numerical' | 'categorical' | 'embedding';

/** All feature kinds, in the order used to break ties during inference. */
export const FEATURE_KINDS: readonly FeatureKind[] = ['numerical', 'categorical', 'embedding'];

/**
 * One feature value as produced by the readers: a finite number (numerical), a string (categorical; booleans
 * arrive as `"true"`/`"false"`), a non-empty array of finite numbers (embedding) or `null` (missing).
 */
export type FeatureValue = number | string | number[] | null;

/** One inference (one instance of a request) as a flat map from feature name to value. */
export type FeatureRecord = Record<string, FeatureValue>;

/** Prefix given to every feature derived from the model's output (e.g. `output.score`). */
export const OUTPUT_PREFIX = 'output.';

/**
 * The kind a single value belongs to, or `null` when the value counts as missing (null, undefined, NaN,
 * ±Infinity, empty arrays, arrays containing anything but finite numbers, objects).
 * Booleans are categorical.
 */
export function valueKind(value: unknown): FeatureKind | null {
  switch (typeof value) {
    case 'number':
      return value - value === 0 ? 'numerical' : null;
    case 'string':
    case 'boolean':
      return 'categorical';
    case 'object':
      return value !== null && Array.isArray(value) && isFiniteNumberArray(value) ? 'embedding' : null;
    default:
      return null;
  }
}

/** True for a non-empty array whose elements are all finite numbers. */
export function isFiniteNumberArray(value: readonly unknown[]): value is number[] {
  const n = value.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const v = value[i];
    if (typeof v !== 'number' || v - v !== 0) return false;
  }
  return true;
}

/**
 * Converts `value` to the representation of `kind`, or returns `null` (missing) when it does not conform:
 * numerical accepts finite numbers only, categorical accepts strings and booleans (as `"true"`/`"false"`),
 * embedding accepts non-empty finite number arrays (of length `dimension` when given).
 */
export function conformValue(kind: FeatureKind, value: unknown, dimension?: number): FeatureValue {
  switch (kind) {
    case 'numerical':
      return typeof value === 'number' && value - value === 0 ? value : null;
    case 'categorical':
      if (typeof value === 'string') return value;
      return typeof value === 'boolean' ? (value ? 'true' : 'false') : null;
    case 'embedding':
      if (!Array.isArray(value) || !isFiniteNumberArray(value)) return null;
      return dimension === undefined || value.length === dimension ? value : null;
  }
}

/** How often each kind (and a missing value) was observed for one feature. */
export interface FeatureKindCounts {
  /** Finite numbers. */
  numerical: number;
  /** Strings and booleans. */
  categorical: number;
  /** Non-empty finite number arrays. */
  embedding: number;
  /** Records where the feature was absent, null or unusable (see {@link valueKind}). */
  missing: number;
}

/** The outcome of kind inference for one feature. */
export interface InferredFeature {
  /** Feature name as it appears in the records. */
  name: string;
  /**
   * The majority kind; ties are broken in the order numerical, categorical, embedding.
   * `null` when the feature never had a usable value.
   */
  kind: FeatureKind | null;
  /** Raw observation counts per kind (not adjusted for the chosen kind). */
  counts: FeatureKindCounts;
  /** Values of another kind than {@link kind} (or embeddings of another length than {@link dimension}). */
  nonConforming: number;
  /** Records in which the feature is missing once non-conforming values are counted as missing. */
  missing: number;
  /** For embeddings: the most frequent vector length (ties → the smaller length). */
  dimension?: number;
}

interface FeatureTally {
  numerical: number;
  categorical: number;
  embedding: number;
  /** Embedding length → count. */
  lengths: Map<number, number> | undefined;
}

/**
 * Incremental feature-kind inference over a stream of records. Memory is O(number of features) (plus the
 * number of distinct embedding lengths).
 *
 * @example
 * const inferrer = new FeatureKindInferrer();
 * for (const r of records) inferrer.observe(r);
 * const features = inferrer.features();
 */
export class FeatureKindInferrer {
  private readonly tallies = new Map<string, FeatureTally>();
  private total = 0;

  /** Number of records observed so far. */
  get recordsObserved(): number {
    return this.total;
  }

  /** Adds one record's values to the tallies. */
  observe(record: Readonly<Record<string, unknown>>): void {
    this.total++;
    for (const name in record) {
      if (!Object.prototype.hasOwnProperty.call(record, name)) continue;
      const value = record[name];
      const kind = valueKind(value);
      let tally = this.tallies.get(name);
      if (tally === undefined) {
        tally = { numerical: 0, categorical: 0, embedding: 0, lengths: undefined };
        this.tallies.set(name, tally);
      }
      if (kind === null) continue;
      tally[kind]++;
      if (kind === 'embedding') {
        const len = (value as number[]).length;
        tally.lengths ??= new Map();
        tally.lengths.set(len, (tally.lengths.get(len) ?? 0) + 1);
      }
    }
  }

  /** The inferred features, in order of first appearance. */
  features(): InferredFeature[] {
    const out: InferredFeature[] = [];
    for (const [name, t] of this.tallies) {
      let kind: FeatureKind | null = null;
      let best = 0;
      for (const k of FEATURE_KINDS) {
        if (t[k] > best) {
          best = t[k];
          kind = k;
        }
      }
      const present = t.numerical + t.categorical + t.embedding;
      let conforming = best;
      let dimension: number | undefined;
      if (kind === 'embedding' && t.lengths !== undefined) {
        let bestCount = 0;
        for (const [len, count] of t.lengths) {
          if (count > bestCount || (count === bestCount && dimension !== undefined && len < dimension)) {
            bestCount = count;
            dimension = len;
          }
        }
        conforming = bestCount;
      }
      const feature: InferredFeature = {
        name,
        kind,
        counts: {
          numerical: t.numerical,
          categorical: t.categorical,
          embedding: t.embedding,
          missing: this.total - present,
        },
        nonConforming: present - conforming,
        missing: this.total - conforming,
      };
      if (dimension !== undefined) feature.dimension = dimension;
      out.push(feature);
    }
    return out;
  }
}

/** Infers the kind of every feature seen in `records` (see {@link FeatureKindInferrer}). */
export function inferFeatureKinds(records: Iterable<Readonly<Record<string, unknown>>>): InferredFeature[] {
  const inferrer = new FeatureKindInferrer();
  for (const record of records) inferrer.observe(record);
  return inferrer.features();
}

// ---------------------------------------------------------------------------------------------------------------
// Feature schema
// ---------------------------------------------------------------------------------------------------------------

/** One feature of a {@link FeatureSchema}. */
export interface FeatureSpec {
  /** Feature name as it appears in records (output features carry the `output.` prefix). */
  name: string;
  /** How the feature is compared. */
  kind: FeatureKind;
  /**
   * Per-feature drift threshold overriding the checker's default for this feature's kind. Its scale is the one of
   * the drift statistic used for the kind (defined by the drift statistics module). Must be a positive finite number.
   */
  threshold?: number;
  /** Embeddings only: the expected vector length; vectors of another length count as missing. */
  dimension?: number;
  /** Numerical features: which change counts (`decrease` = one-sided, drops only). @default see the drift policy */
  direction?: 'both' | 'decrease' | 'increase';
  /** Compare with the baseline at the same hour of day (`daily`) or of week (`weekly`). @default the CLI's --seasonality */
  seasonality?: 'none' | 'daily' | 'weekly';
}

/**
 * Which features the drift checker compares and how. Unknown fields are rejected (to catch typos); new optional
 * fields can be added without breaking existing schema files.
 */
export interface FeatureSchema {
  /** The features to compare (names unique). */
  features: FeatureSpec[];
  /**
   * Column names of header-less CSV endpoint input, in column order. When absent, the names of the non-output
   * features (those not starting with `output.`) are used in schema order (see {@link csvColumnsOf}).
   */
  csvColumns?: string[];
}

const featureNameSchema = z
  .string()
  .min(1, { error: 'must be a non-empty string' })
  .max(512, { error: 'must be at most 512 characters long' })
  .refine((name) => name !== '__proto__', { error: 'the name "__proto__" is reserved' });

/** zod schema of one {@link FeatureSpec}. */
export const featureSpecSchema = z
  .strictObject({
    name: featureNameSchema,
    kind: z.enum(['numerical', 'categorical', 'embedding']),
    threshold: z.number().positive({ error: 'must be a positive number' }).optional(),
    dimension: z.number().int({ error: 'must be an integer' }).positive({ error: 'must be positive' }).optional(),
    direction: z.enum(['both', 'decrease', 'increase']).optional(),
    seasonality: z.enum(['none', 'daily', 'weekly']).optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.dimension !== undefined && spec.kind !== 'embedding') {
      ctx.addIssue({
        code: 'custom',
        path: ['dimension'],
        message: `only allowed for kind "embedding" (this feature has kind "${spec.kind}")`,
      });
    }
  });

/** zod schema of a {@link FeatureSchema}; prefer {@link parseFeatureSchema}, which formats errors readably. */
export const featureSchemaSchema = z
  .strictObject({
    features: z.array(featureSpecSchema).min(1, { error: 'must list at least one feature' }),
    csvColumns: z.array(featureNameSchema).min(1, { error: 'must list at least one column' }).optional(),
  })
  .superRefine((schema, ctx) => {
    const seen = new Map<string, number>();
    schema.features.forEach((f, i) => {
      const first = seen.get(f.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['features', i, 'name'],
          message: `duplicate feature name (already used by features[${first}])`,
        });
      } else seen.set(f.name, i);
    });
    const columns = new Map<string, number>();
    schema.csvColumns?.forEach((c, i) => {
      const first = columns.get(c);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['csvColumns', i],
          message: `duplicate column name (already used by csvColumns[${first}])`,
        });
      } else columns.set(c, i);
    });
  });

// Compile-time check that the zod schema and the documented interface agree.
type SchemaOutput = z.output<typeof featureSchemaSchema>;
const _schemaMatches: [
  SchemaOutput extends FeatureSchema ? true : false,
  FeatureSchema extends SchemaOutput ? true : false,
] = [true, true];
void _schemaMatches;

/** Thrown by {@link parseFeatureSchema}; `issues` holds one human-readable line per problem. */
export class FeatureSchemaError extends Error {
  /** One line per problem, e.g. `features[2].kind: got "numeric"; allowed: "numerical", "categorical", "embedding"`. */
  readonly issues: string[];

  /** @param issues Human-readable problems (see {@link issues}). */
  constructor(issues: string[]) {
    super(`Invalid feature schema:\n  - ${issues.join('\n  - ')}`);
    this.name = 'FeatureSchemaError';
    this.issues = issues;
  }
}

/** Result of {@link safeParseFeatureSchema}. */
export type FeatureSchemaParseResult = { ok: true; schema: FeatureSchema } | { ok: false; issues: string[] };

/** Validates `input` (a parsed JSON document) as a {@link FeatureSchema}; never throws. */
export function safeParseFeatureSchema(input: unknown): FeatureSchemaParseResult {
  const result = featureSchemaSchema.safeParse(input);
  if (result.success) return { ok: true, schema: result.data };
  return { ok: false, issues: result.error.issues.map((issue) => formatIssue(issue, input)) };
}

/**
 * Validates `input` (a parsed JSON document) as a {@link FeatureSchema}.
 * @throws FeatureSchemaError naming every offending field, its value and what is allowed.
 */
export function parseFeatureSchema(input: unknown): FeatureSchema {
  const result = safeParseFeatureSchema(input);
  if (!result.ok) throw new FeatureSchemaError(result.issues);
  return result.schema;
}

/**
 * The CSV column names of a schema: `csvColumns` when given, otherwise the names of the input features (those
 * not starting with `output.`) in schema order.
 */
export function csvColumnsOf(schema: Pick<FeatureSchema, 'features' | 'csvColumns'>): string[] {
  if (schema.csvColumns !== undefined) return [...schema.csvColumns];
  return schema.features.filter((f) => !f.name.startsWith(OUTPUT_PREFIX)).map((f) => f.name);
}

/**
 * Builds a schema from inference results, skipping features that never had a usable value.
 * `thresholds` optionally sets per-feature thresholds by name.
 */
export function schemaFromInference(
  inferred: readonly InferredFeature[],
  thresholds: Readonly<Record<string, number>> = {},
): FeatureSchema {
  const features: FeatureSpec[] = [];
  for (const f of inferred) {
    if (f.kind === null) continue;
    const spec: FeatureSpec = { name: f.name, kind: f.kind };
    const threshold = Object.prototype.hasOwnProperty.call(thresholds, f.name) ? thresholds[f.name] : undefined;
    if (threshold !== undefined) spec.threshold = threshold;
    if (f.kind === 'embedding' && f.dimension !== undefined) spec.dimension = f.dimension;
    features.push(spec);
  }
  return { features };
}

interface IssueLike {
  readonly code?: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly values?: readonly unknown[];
  readonly expected?: string;
  readonly keys?: readonly string[];
}

const EXPECTED_TYPES: Record<string, string> = {
  number: 'a finite number',
  int: 'an integer',
  string: 'a string',
  array: 'an array',
  object: 'an object',
};

const ALLOWED_KEYS: Record<string, readonly string[]> = {
  schema: ['features', 'csvColumns'],
  feature: ['name', 'kind', 'threshold', 'dimension', 'direction', 'seasonality'],
};

function formatIssue(issue: IssueLike, input: unknown): string {
  const path = formatPath(issue.path);
  const where = path === '' ? '(schema)' : path;
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_value': {
      const allowed = (issue.values ?? []).map((v) => JSON.stringify(v)).join(', ');
      return `${where}: got ${describe(value)}; allowed: ${allowed}`;
    }
    case 'invalid_type': {
      const expected = EXPECTED_TYPES[issue.expected ?? ''] ?? issue.expected ?? 'another type';
      if (value === undefined) return `${where}: is required (expected ${expected})`;
      return `${where}: got ${describe(value)}; expected ${expected}`;
    }
    case 'unrecognized_keys': {
      const allowed = issue.path.length === 0 ? ALLOWED_KEYS.schema : ALLOWED_KEYS.feature;
      const keys = (issue.keys ?? []).map((k) => JSON.stringify(k)).join(', ');
      return `${where}: unknown field(s) ${keys}; allowed fields: ${allowed.join(', ')}`;
    }
    default:
      return `${where}: got ${describe(value)}; ${issue.message}`;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof part === 'symbol') return undefined;
    current = (current as Record<string, unknown>)[String(part)];
  }
  return current;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `${text} (${type})`;
}
