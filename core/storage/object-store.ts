/**
 * A minimal object-store port: what the drift checker, the loop's functions and the local world need from S3.
 * Lambdas use `S3ObjectStore` (lambdas/shared/aws/s3-object-store.ts); tests and `npm run simulate` use in-memory
 * or filesystem stores with the same contract.
 */
import { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';

/** An object's body and version tag. */
export interface StoredObject {
  readonly body: AsyncIterable<Uint8Array | string>;
  /** Entity tag, for conditional writes. */
  readonly etag?: string;
}

/** Conditions of a write. */
export interface PutOptions {
  /** Only create: fail with {@link PreconditionFailedError} when the key exists. */
  readonly ifNoneMatch?: boolean;
  /** Only replace this version: fail when the object changed since it was read. */
  readonly ifMatch?: string;
  readonly contentType?: string;
}

/** A conditional write lost a race. */
export class PreconditionFailedError extends Error {
  constructor(key: string) {
    super(`conditional write of ${key} failed: the object changed or already exists`);
    this.name = 'PreconditionFailedError';
  }
}

/** The object-store port. */
export interface ObjectStore {
  /** The object, or undefined when there is none. */
  get(bucket: string, key: string): Promise<StoredObject | undefined>;
  /** Whether the key exists. */
  exists(bucket: string, key: string): Promise<boolean>;
  /** Writes an object. */
  put(bucket: string, key: string, body: string, options?: PutOptions): Promise<void>;
  /** Every key under a prefix. */
  list(bucket: string, prefix: string): AsyncIterable<string>;
  /** The "folders" directly under a prefix (keys cut after the next `/`), e.g. variant names. */
  children(bucket: string, prefix: string): Promise<string[]>;
}

/** Reads a whole small object as text. */
export async function readText(object: StoredObject): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of object.body)
    parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(parts).toString('utf8');
}

/**
 * An in-memory {@link ObjectStore} of byte objects (JSON as well as images) with S3's conditional-write semantics,
 * for tests and the local simulation (`npm run simulate`).
 */
export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, { body: Buffer; etag: string }>();
  private version = 0;

  private id(bucket: string, key: string) {
    return `${bucket}/${key}`;
  }

  async get(bucket: string, key: string): Promise<StoredObject | undefined> {
    const o = this.objects.get(this.id(bucket, key));
    if (!o) return undefined;
    const body = o.body;
    return {
      etag: o.etag,
      body: (async function* () {
        yield new Uint8Array(body);
      })(),
    };
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    return this.objects.has(this.id(bucket, key));
  }

  async put(bucket: string, key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<void> {
    const existing = this.objects.get(this.id(bucket, key));
    if (options.ifNoneMatch && existing) throw new PreconditionFailedError(key);
    if (options.ifMatch && existing?.etag !== options.ifMatch) throw new PreconditionFailedError(key);
    this.objects.set(this.id(bucket, key), { body: Buffer.from(body), etag: `"v${++this.version}"` });
  }

  async *list(bucket: string, prefix: string): AsyncIterable<string> {
    const keys = [...this.objects.keys()]
      .filter((id) => id.startsWith(`${bucket}/${prefix}`))
      .map((id) => id.slice(bucket.length + 1))
      .sort();
    for (const key of keys) yield key;
  }

  async children(bucket: string, prefix: string): Promise<string[]> {
    const out = new Set<string>();
    for await (const key of this.list(bucket, prefix)) {
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash >= 0) out.add(prefix + rest.slice(0, slash + 1));
    }
    return [...out].sort();
  }

  /** Synchronous read as UTF-8 text (undefined when absent). */
  text(bucket: string, key: string): string | undefined {
    return this.objects.get(this.id(bucket, key))?.body.toString('utf8');
  }

  /** Synchronous read of the bytes (undefined when absent). */
  bytes(bucket: string, key: string): Buffer | undefined {
    return this.objects.get(this.id(bucket, key))?.body;
  }

  /** Object size, as HeadObject reports it. */
  head(bucket: string, key: string): { size: number } | undefined {
    const o = this.objects.get(this.id(bucket, key));
    return o ? { size: o.body.length } : undefined;
  }
}

/** Reads a whole object as bytes, gunzipping gzip content. */
export async function readBytes(store: ObjectStore, bucket: string, key: string): Promise<Buffer> {
  const object = await store.get(bucket, key);
  if (!object) throw new Error(`s3://${bucket}/${key} does not exist`);
  const parts: Buffer[] = [];
  for await (const chunk of object.body) parts.push(Buffer.from(chunk));
  const bytes = Buffer.concat(parts);
  return bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

/**
 * An object's body as it streams, gunzipped when it is gzip (by its magic bytes, as {@link readBytes} decides):
 * for objects too large to read whole, e.g. an Athena `UNLOAD`'s `*.gz` parts.
 */
export async function* gunzipped(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
  const iterator = body[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let length = 0;
  while (length < 2) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = Buffer.from(next.value);
    head.push(chunk);
    length += chunk.length;
  }
  const start = Buffer.concat(head);
  const all = (async function* () {
    if (start.length > 0) yield start;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })();
  if (start.length >= 2 && start[0] === 0x1f && start[1] === 0x8b) yield* Readable.from(all).pipe(createGunzip());
  else yield* all;
}
