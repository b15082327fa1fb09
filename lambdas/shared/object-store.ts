/**
 * A minimal object-store port: what the drift checker (and the local simulation) need from S3. The Lambda uses
 * {@link S3ObjectStore}; tests and `npm run simulate` use in-memory or filesystem stores with the same contract.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';

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

function isNotFound(error: unknown): boolean {
  return (
    error instanceof NoSuchKey ||
    error instanceof NotFound ||
    (error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NoSuchKey'))
  );
}

function isPreconditionFailed(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.$metadata.httpStatusCode === 412 ||
      error.name === 'PreconditionFailed' ||
      error.name === 'ConditionalRequestConflict')
  );
}

/** {@link ObjectStore} on Amazon S3 (AWS SDK v3). */
export class S3ObjectStore implements ObjectStore {
  constructor(private readonly s3: S3Client) {}

  async get(bucket: string, key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!out.Body) return undefined;
      return { body: out.Body as Readable, etag: out.ETag };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async put(bucket: string, key: string, body: string, options: PutOptions = {}): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: options.contentType ?? 'application/json',
          ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
          ...(options.ifMatch ? { IfMatch: options.ifMatch } : {}),
        }),
      );
    } catch (error) {
      if (isPreconditionFailed(error)) throw new PreconditionFailedError(key);
      throw error;
    }
  }

  async *list(bucket: string, prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async children(bucket: string, prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
      );
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }
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
