/**
 * The local Kinesis Data Firehose: records read from a stream are delivered to the lake in the layout the Glue
 * tables project — `s3://<bucket>/<prefix>dt=<yyyy-MM-dd>/hour=<HH>/<stream>-<n>.json` by arrival time, one JSON
 * object per line — and what cannot be delivered lands under `errors/format-conversion-failed/dt=…/` with the
 * reason, as Firehose does. A delivery keeps only the records its route accepts (the stream carries interactions
 * and served slates; each has its own delivery stream and table).
 *
 * Differences from AWS: JSON lines rather than Parquet (the local Athena reads either; the columns are the Glue
 * table's), one object per call and hour rather than per buffer.
 */
import type { MemoryObjectStore } from '../../core/storage/object-store';
import { lakeHourPartition, utcDate } from '../../core/storage/layout';

/** A record as a delivery stream receives it from Kinesis. */
export interface FirehoseRecord {
  readonly data: Uint8Array | string;
  /** Arrival at the stream (Firehose partitions by it). */
  readonly arrival: Date;
}

/** One delivery stream: where it writes and what it keeps. */
export interface DeliveryStream {
  /** Name, used in object names. */
  readonly name: string;
  readonly bucket: string;
  /** The table's prefix, ending with `/` (e.g. `events/`). */
  readonly prefix: string;
  /** Whether this delivery keeps a (parsed) record. */
  readonly accepts: (record: Record<string, unknown>) => boolean;
  /** @default 'errors/' */
  readonly errorPrefix?: string;
}

/** What one delivery wrote. */
export interface DeliveryResult {
  readonly delivered: number;
  readonly failed: number;
  readonly objects: string[];
}

/** Delivers a batch of stream records to the lake. */
export class LocalFirehose {
  private sequence = 0;

  constructor(private readonly store: Pick<MemoryObjectStore, 'put'>) {}

  async deliver(stream: DeliveryStream, records: readonly FirehoseRecord[]): Promise<DeliveryResult> {
    const byHour = new Map<string, string[]>();
    const errors = new Map<string, string[]>();
    for (const r of records) {
      const text = typeof r.data === 'string' ? r.data : Buffer.from(r.data).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        const key = `${stream.errorPrefix ?? 'errors/'}format-conversion-failed/dt=${utcDate(r.arrival)}/`;
        const line = JSON.stringify({
          errorCode: 'DataFormatConversion.MalformedData',
          errorMessage: (e as Error).message,
          rawData: Buffer.from(text).toString('base64'),
        });
        errors.set(key, [...(errors.get(key) ?? []), line]);
        continue;
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) continue;
      if (!stream.accepts(json as Record<string, unknown>)) continue;
      const folder = `${stream.prefix}${lakeHourPartition(r.arrival)}`;
      byHour.set(folder, [...(byHour.get(folder) ?? []), text]);
    }
    const objects: string[] = [];
    let delivered = 0;
    for (const [folder, lines] of [...byHour].sort()) {
      const key = `${folder}${stream.name}-${String(++this.sequence).padStart(6, '0')}.json`;
      await this.store.put(stream.bucket, key, lines.join('\n') + '\n');
      objects.push(key);
      delivered += lines.length;
    }
    let failed = 0;
    for (const [folder, lines] of [...errors].sort()) {
      await this.store.put(
        stream.bucket,
        `${folder}${stream.name}-${String(++this.sequence).padStart(6, '0')}`,
        lines.join('\n') + '\n',
      );
      failed += lines.length;
    }
    return { delivered, failed, objects };
  }
}
