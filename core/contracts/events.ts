/**
 * Event schemas of the two case studies, defined once: the Glue table columns, the Firehose Parquet
 * conversion, the stream consumers' validation and the docs all derive from these definitions.
 * No AWS or CDK imports: Lambda handlers and CLIs use this file too.
 */
import { z } from 'zod';

/** Column types, as Glue/Athena names them. */
export type EventFieldType = 'string' | 'bigint' | 'double' | 'boolean' | 'timestamp';

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
    { name: 'user_id', type: 'string', required: true, description: 'Pseudonymous user id.' },
    { name: 'item_id', type: 'string', required: true, description: 'Catalogue item id.' },
    { name: 'event_time', type: 'timestamp', required: true, description: 'When it happened on the client, UTC.' },
    {
      name: 'surface',
      type: 'string',
      required: true,
      description: 'Where the item was shown.',
      values: ['home', 'search', 'detail', 'email', 'notification'],
    },
    {
      name: 'device',
      type: 'string',
      required: false,
      description: 'Client device class.',
      values: ['mobile', 'desktop', 'tablet', 'tv'],
    },
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
  ],
};

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
  }
  return field.required ? inner : inner.optional().nullable();
}

/** A zod validator for events of a schema; unknown fields are rejected so typos surface. */
export function eventValidator(schema: EventSchema): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const field of schema.fields) shape[field.name] = fieldValidator(field);
  return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
}
