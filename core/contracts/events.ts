/**
 * Event schemas of the two case studies, defined once: the Glue table columns, the Firehose Parquet
 * conversion, the stream consumers' validation and the docs all derive from these definitions.
 * No AWS or CDK imports: Lambda handlers and CLIs use this file too.
 */
import { z } from 'zod';

/**
 * Column types, as Glue/Athena names them; `array<double>` and `array<struct>` (with {@link EventField.fields})
 * are nested columns (Glue type from {@link glueType}).
 */
export type EventFieldType =
  'string' | 'bigint' | 'double' | 'boolean' | 'timestamp' | 'array<double>' | 'array<struct>';

/** One field of an event. */
export interface EventField {
  /** Name in the JSON event and column name in the lake (snake_case). */
  readonly name: string;
  /** Column type. `timestamp` is sent as an ISO-8601 UTC string (`2026-11-23T10:00:00.000Z`). */
  readonly type: EventFieldType;
  /** Whether every event must carry the field. */
  readonly required: boolean;
  /** What the field means, for the docs and the Glue column comment. */
  readonly description: string;
  /** Allowed values of a string field, when closed. */
  readonly values?: readonly string[];
  /** Fields of each element of an `array<struct>` field. */
  readonly fields?: readonly EventField[];
  /** Most elements of an array field. @default 1000 */
  readonly maxItems?: number;
}

/** A versioned event schema. */
export interface EventSchema {
  /** Schema name, e.g. `interaction`. */
  readonly name: string;
  /** Bumped on incompatible changes. */
  readonly version: number;
  /** What one event represents. */
  readonly description: string;
  /** Fields in column order. */
  readonly fields: readonly EventField[];
}

/** The recommender's request context, the same in interactions and served slates. */
const USER_ID_FIELD: EventField = {
  name: 'user_id',
  type: 'string',
  required: true,
  description: 'Pseudonymous user id.',
};
const DEVICE_FIELD: EventField = {
  name: 'device',
  type: 'string',
  required: false,
  description: 'Client device class.',
  values: ['mobile', 'desktop', 'tablet', 'tv'],
};
const surfaceField = (what: string): EventField => ({
  name: 'surface',
  type: 'string',
  required: true,
  description: `Where ${what} was shown.`,
  values: ['home', 'search', 'detail', 'email', 'notification'],
});

/** Event types of the recommender. */
export const INTERACTION_TYPES = ['impression', 'view', 'click', 'watch', 'purchase'] as const;

/** User–item interactions, the recommender's raw events. */
export const INTERACTION_EVENT_SCHEMA: EventSchema = {
  name: 'interaction',
  version: 1,
  description: 'A user interacted with (or was shown) an item on a surface of the product.',
  fields: [
    {
      name: 'event_id',
      type: 'string',
      required: true,
      description: 'Unique id of the event (UUID), for deduplication.',
    },
    {
      name: 'event_type',
      type: 'string',
      required: true,
      description: 'What happened.',
      values: INTERACTION_TYPES,
    },
    USER_ID_FIELD,
    { name: 'item_id', type: 'string', required: true, description: 'Catalogue item id.' },
    { name: 'event_time', type: 'timestamp', required: true, description: 'When it happened on the client, UTC.' },
    surfaceField('the item'),
    DEVICE_FIELD,
    { name: 'position', type: 'bigint', required: false, description: 'Rank at which the item was shown (0-based).' },
    {
      name: 'value',
      type: 'double',
      required: false,
      description: 'Strength of the interaction: seconds watched, price paid.',
    },
    { name: 'session_id', type: 'string', required: false, description: 'Client session id.' },
    {
      name: 'inference_id',
      type: 'string',
      required: false,
      description: 'Id of the recommendation response that showed the item, to join feedback to predictions.',
    },
    {
      name: 'model_version',
      type: 'string',
      required: false,
      description: 'Model package version that produced the recommendation, or "fallback".',
    },
    {
      name: 'category',
      type: 'string',
      required: false,
      description: 'Catalogue category of the item, when the client knows it (feeds category affinity).',
    },
  ],
};

/** Where a served item came from (candidate generation). */
export const CANDIDATE_SOURCES = ['covisit', 'trending', 'fresh', 'popular'] as const;

/** Why a slate was ranked by popularity instead of the model. */
export const FALLBACK_REASONS = [
  'timeout',
  'throttled',
  'model-error',
  'no-endpoint',
  'bad-response',
  'error',
  'no-candidates',
] as const;

/**
 * One served recommendation (a slate), logged by the `recommend` API on the event stream for every request and
 * delivered to the lake: the training data of the ranker (joined to the interactions it led to) and the input of
 * online monitoring. `features` are the model's inputs exactly as served, in the feature contract's order
 * (`core/recommender/contract.ts`) of `feature_version`.
 */
export const SERVED_SLATE_SCHEMA: EventSchema = {
  name: 'served_slate',
  version: 1,
  description: 'A slate of items the recommend API served for one request, with the features it scored.',
  fields: [
    {
      name: 'record_type',
      type: 'string',
      required: true,
      description: 'Kind of record on the stream: always `served_slate` (interactions carry no record type).',
      values: ['served_slate'],
    },
    {
      name: 'inference_id',
      type: 'string',
      required: true,
      description: 'Id of the response; the interactions it leads to carry it.',
    },
    { name: 'event_time', type: 'timestamp', required: true, description: 'When the slate was served, UTC.' },
    USER_ID_FIELD,
    surfaceField('the slate'),
    DEVICE_FIELD,
    {
      name: 'model_version',
      type: 'string',
      required: true,
      description: 'Model that ranked the slate, or `fallback` when popularity ranked it.',
    },
    {
      name: 'feature_version',
      type: 'bigint',
      required: true,
      description: 'Version of the feature contract the features follow.',
    },
    { name: 'fallback', type: 'boolean', required: true, description: 'Whether popularity ranked the slate.' },
    {
      name: 'fallback_reason',
      type: 'string',
      required: false,
      description: 'Why the fallback was served.',
      values: FALLBACK_REASONS,
    },
    {
      name: 'candidates',
      type: 'bigint',
      required: true,
      description: 'Candidates scored for the request (the slate holds the top k).',
    },
    {
      name: 'items',
      type: 'array<struct>',
      required: true,
      description: 'The served items in position order.',
      maxItems: 200,
      fields: [
        { name: 'item_id', type: 'string', required: true, description: 'Catalogue item id.' },
        { name: 'position', type: 'bigint', required: true, description: 'Position shown (0-based).' },
        {
          name: 'score',
          type: 'double',
          required: true,
          description: 'Model score (fallback: popularity relative to the top item).',
        },
        {
          name: 'source',
          type: 'string',
          required: true,
          description: 'Candidate source.',
          values: CANDIDATE_SOURCES,
        },
        {
          name: 'features',
          type: 'array<double>',
          required: true,
          description: 'The model inputs as served, in contract order.',
          maxItems: 256,
        },
      ],
    },
  ],
};

/** The Glue/Hive type of a field (nested types spelled out). */
export function glueType(field: EventField): string {
  switch (field.type) {
    case 'array<double>':
      return 'array<double>';
    case 'array<struct>':
      return `array<struct<${(field.fields ?? []).map((f) => `${f.name}:${glueType(f)}`).join(',')}>>`;
    default:
      return field.type;
  }
}

/** Image content types the vision system accepts. */
export const IMAGE_CONTENT_TYPES = ['image/jpeg', 'image/png'] as const;

/** Image arrivals, the vision system's raw events. */
export const IMAGE_EVENT_SCHEMA: EventSchema = {
  name: 'image',
  version: 1,
  description: 'An image arrived in the images bucket and is ready to be classified or labelled.',
  fields: [
    { name: 'event_id', type: 'string', required: true, description: 'Unique id of the event (UUID).' },
    { name: 'image_key', type: 'string', required: true, description: 'S3 object key of the image.' },
    {
      name: 'content_type',
      type: 'string',
      required: true,
      description: 'MIME type of the image.',
      values: IMAGE_CONTENT_TYPES,
    },
    { name: 'size_bytes', type: 'bigint', required: true, description: 'Object size in bytes.' },
    {
      name: 'source',
      type: 'string',
      required: true,
      description: 'Who or what produced the image (camera, uploader).',
    },
    { name: 'event_time', type: 'timestamp', required: true, description: 'When the image was captured, UTC.' },
    { name: 'label', type: 'string', required: false, description: 'Known class label, when the source provides one.' },
    {
      name: 'label_source',
      type: 'string',
      required: false,
      description: 'Where the label came from.',
      values: ['prefix', 'labels-file', 'human', 'model'],
    },
    { name: 'width', type: 'bigint', required: false, description: 'Width in pixels, when known at arrival.' },
    { name: 'height', type: 'bigint', required: false, description: 'Height in pixels, when known at arrival.' },
    {
      name: 'inference_id',
      type: 'string',
      required: false,
      description: 'A reviewed label: the inference id of the prediction the reviewers corrected or confirmed.',
    },
    {
      name: 'reviewer_id',
      type: 'string',
      required: false,
      description: 'A reviewed label: the reviewers (user-pool subjects, comma-separated) who agreed on it.',
    },
  ],
};

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?(Z|[+-]\d{2}:\d{2})$/;

function fieldValidator(field: EventField): z.ZodType {
  let inner: z.ZodType;
  switch (field.type) {
    case 'string':
      inner =
        field.values && field.values.length > 0
          ? z.enum(field.values as [string, ...string[]])
          : z.string().min(1).max(1024);
      break;
    case 'bigint':
      inner = z.number().int().min(0);
      break;
    case 'double':
      inner = z.number().finite();
      break;
    case 'boolean':
      inner = z.boolean();
      break;
    case 'timestamp':
      inner = z
        .string()
        .regex(ISO_TIMESTAMP, 'must be an ISO-8601 timestamp such as 2026-11-23T10:00:00.000Z')
        .refine((s) => !Number.isNaN(Date.parse(s)), 'must be a valid date');
      break;
    case 'array<double>':
      inner = z.array(z.number().finite()).max(field.maxItems ?? 1000);
      break;
    case 'array<struct>':
      inner = z.array(objectValidator(field.fields ?? [])).max(field.maxItems ?? 1000);
      break;
  }
  return field.required ? inner : inner.optional().nullable();
}

function objectValidator(fields: readonly EventField[]): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const field of fields) shape[field.name] = fieldValidator(field);
  return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
}

/** A zod validator for events of a schema; unknown fields are rejected so typos surface. */
export function eventValidator(schema: EventSchema): z.ZodType<Record<string, unknown>> {
  return objectValidator(schema.fields);
}
