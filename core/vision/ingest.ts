/**
 * Validation of image-arrival events: the event schema (`IMAGE_EVENT_SCHEMA`), then the ingestion policy (known
 * source, accepted content type, size bounds, key under the images prefix), then the object itself (it exists, its
 * size and magic bytes match the event). Every rejection carries a reason and a detail, and is quarantined.
 * No AWS imports.
 */
import { eventValidator, IMAGE_EVENT_SCHEMA } from '../contracts/events';
import { contentTypeOf, sniffFormat } from './image-stats';
import { issuesText } from '../contracts/issues';

/** What the consumer accepts. */
export interface IngestPolicy {
  /** Accepted MIME types (a subset of `image/jpeg`, `image/png`). */
  readonly contentTypes: readonly string[];
  /** Smallest and largest accepted objects, in bytes. */
  readonly minBytes: number;
  readonly maxBytes: number;
  /** Largest accepted image, in pixels. */
  readonly maxPixels: number;
  /** Producers allowed to send images; anything else is quarantined. */
  readonly knownSources: readonly string[];
  /** Image keys must start with this prefix. */
  readonly imagesPrefix: string;
}

/** A valid image-arrival event. */
export interface ImageEvent {
  readonly event_id: string;
  readonly image_key: string;
  readonly content_type: string;
  readonly size_bytes: number;
  readonly source: string;
  readonly event_time: string;
  readonly label?: string | null;
  readonly label_source?: string | null;
  readonly width?: number | null;
  readonly height?: number | null;
}

/** Why an event or image was quarantined. */
export type QuarantineReason =
  | 'not-json'
  | 'schema'
  | 'unknown-source'
  | 'content-type'
  | 'too-small'
  | 'too-large'
  | 'outside-prefix'
  | 'missing-object'
  | 'size-mismatch'
  | 'content-mismatch'
  | 'too-many-pixels'
  | 'unknown-format'
  | 'undecodable';

/** The outcome of a check. */
export type Verdict<T> = { ok: true; value: T } | { ok: false; reason: QuarantineReason; detail: string };

const validate = eventValidator(IMAGE_EVENT_SCHEMA);

const reject = (reason: QuarantineReason, detail: string): Verdict<never> => ({ ok: false, reason, detail });

/** Parses and validates one event (stream record payload) against the schema and the policy. */
export function validateImageEvent(payload: string, policy: IngestPolicy): Verdict<ImageEvent> {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch (e) {
    return reject('not-json', `payload is not JSON: ${(e as Error).message}`);
  }
  const parsed = validate.safeParse(json);
  if (!parsed.success) {
    return reject('schema', issuesText(parsed.error, '(event)'));
  }
  const event = parsed.data as unknown as ImageEvent;
  if (!policy.knownSources.includes(event.source)) {
    return reject('unknown-source', `source "${event.source}" is not one of: ${policy.knownSources.join(', ')}`);
  }
  if (!policy.contentTypes.includes(event.content_type)) {
    return reject(
      'content-type',
      `content_type "${event.content_type}" is not one of: ${policy.contentTypes.join(', ')}`,
    );
  }
  if (event.size_bytes < policy.minBytes) {
    return reject('too-small', `size_bytes ${event.size_bytes} is below the minimum of ${policy.minBytes}`);
  }
  if (event.size_bytes > policy.maxBytes) {
    return reject('too-large', `size_bytes ${event.size_bytes} is above the limit of ${policy.maxBytes}`);
  }
  if (!event.image_key.startsWith(policy.imagesPrefix) || event.image_key.includes('..')) {
    return reject('outside-prefix', `image_key "${event.image_key}" is not under ${policy.imagesPrefix}`);
  }
  return { ok: true, value: event };
}

/** The `source` the label merger publishes reviewed labels under. */
export const LABEL_UPDATE_SOURCE = 'ground-truth';

/**
 * Whether an event only carries a (reviewed) label for an image that arrived before: it goes to the lake like any
 * event, but the consumer must not measure, classify or send it to review again (that would loop reviews forever
 * and count the image twice in the drift window).
 */
export function isLabelUpdate(event: ImageEvent): boolean {
  return event.source === LABEL_UPDATE_SOURCE || event.label_source === 'human';
}

/** What HeadObject said about the image. */
export interface ObjectFacts {
  readonly size: number;
}

/** Checks the object against its event before it is downloaded. */
export function checkObject(event: ImageEvent, facts: ObjectFacts | undefined, policy: IngestPolicy): Verdict<true> {
  if (!facts) return reject('missing-object', `no object at ${event.image_key}`);
  if (facts.size !== event.size_bytes) {
    return reject('size-mismatch', `object is ${facts.size} bytes; the event says ${event.size_bytes}`);
  }
  if (facts.size > policy.maxBytes) {
    return reject('too-large', `object is ${facts.size} bytes; the limit is ${policy.maxBytes}`);
  }
  return { ok: true, value: true };
}

/** Checks that the downloaded bytes are the format the event declares. */
export function checkContent(event: ImageEvent, bytes: Uint8Array): Verdict<true> {
  const format = sniffFormat(bytes);
  if (!format) return reject('unknown-format', 'the object is neither PNG nor JPEG (magic bytes)');
  if (contentTypeOf(format) !== event.content_type) {
    return reject('content-mismatch', `the object is ${contentTypeOf(format)}; the event says ${event.content_type}`);
  }
  return { ok: true, value: true };
}

/** A quarantined event as written to S3. */
export interface QuarantineRecord {
  readonly reason: QuarantineReason;
  readonly detail: string;
  readonly quarantinedAt: string;
  /** Where the event came from (shard and sequence number). */
  readonly origin: Record<string, string>;
  /** The event payload as received (truncated to 64 KiB). */
  readonly payload: string;
}

/** Key of a quarantine record: `{prefix}reason={reason}/dt=yyyy-mm-dd/{id}.json` (browsable by reason and day). */
export function quarantineKey(prefix: string, reason: QuarantineReason, at: Date, id: string): string {
  return `${prefix}reason=${reason}/dt=${at.toISOString().slice(0, 10)}/${id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
}

/** The quarantine document. */
export function quarantineRecord(
  verdict: { reason: QuarantineReason; detail: string },
  payload: string,
  origin: Record<string, string>,
  at: Date,
): QuarantineRecord {
  return {
    reason: verdict.reason,
    detail: verdict.detail,
    quarantinedAt: at.toISOString(),
    origin,
    payload: payload.length > 65_536 ? payload.slice(0, 65_536) : payload,
  };
}
