/**
 * The simulation's local S3: an in-memory {@link ObjectStore} holding bytes (images as well as JSON), with S3's
 * conditional-write semantics, so the drift checker, the baseline builders and the loop's Lambdas run unchanged.
 */
import {
  PreconditionFailedError,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from '../../lambdas/shared/object-store';

/** In-memory buckets of byte objects. */
export class LocalObjectStore implements ObjectStore {
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

  /** Synchronous read (undefined when absent). */
  bytes(bucket: string, key: string): Buffer | undefined {
    return this.objects.get(this.id(bucket, key))?.body;
  }

  /** Object size, as HeadObject reports it. */
  head(bucket: string, key: string): { size: number } | undefined {
    const o = this.objects.get(this.id(bucket, key));
    return o ? { size: o.body.length } : undefined;
  }
}
