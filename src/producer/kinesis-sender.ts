/**
 * Sends records to a Kinesis stream: batched `PutRecords` (at most 500 records and 5 MiB per call, 1 MiB per
 * record) retrying only the records that failed, with exponential backoff and full jitter; or one `PutRecord` per
 * record (the baseline of `npm run bench:produce`). Works against a deployed stream or a local one (kinesalite).
 */
import { PutRecordCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';

/** PutRecords limits. @see https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html */
export const MAX_RECORDS_PER_CALL = 500;
export const MAX_BYTES_PER_CALL = 5 * 1024 * 1024;
export const MAX_BYTES_PER_RECORD = 1024 * 1024;

/** One record to send. */
export interface OutgoingRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
}

/** Counters of a sender. */
export interface SendStats {
  /** Records the stream accepted. */
  sent: number;
  /** Records given up on after the last attempt. */
  failed: number;
  /** Records re-sent after a partial failure (throttling, internal errors). */
  retried: number;
  /** API calls made. */
  calls: number;
}

/** Options of a {@link KinesisSender}. */
export interface SenderOptions {
  /** Stream name or ARN (ARN preferred with cross-account roles). */
  readonly stream: string;
  /** Attempts per record, the first included. @default 8 */
  readonly maxAttempts?: number;
  /** First backoff; doubles per attempt, full jitter, capped at 5 s. @default 100 */
  readonly baseDelayMs?: number;
  /** Injected for tests. @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected for tests. @default Math.random */
  readonly random?: () => number;
}

/** Size of a record as Kinesis counts it against the limits (data + partition key). */
export const recordSize = (r: OutgoingRecord) => r.data.byteLength + Buffer.byteLength(r.partitionKey);

/** Splits records into PutRecords calls within the count and size limits, in order. */
export function planBatches(
  records: readonly OutgoingRecord[],
  limits = { maxRecords: MAX_RECORDS_PER_CALL, maxBytes: MAX_BYTES_PER_CALL },
): OutgoingRecord[][] {
  const batches: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordSize(record);
    if (size > MAX_BYTES_PER_RECORD) {
      throw new RangeError(`a record is ${size} bytes; Kinesis accepts at most ${MAX_BYTES_PER_RECORD}`);
    }
    if (current.length >= limits.maxRecords || (current.length > 0 && bytes + size > limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const isArn = (s: string) => s.startsWith('arn:');

/** Sends records with PutRecords (batched) or PutRecord (one by one). */
export class KinesisSender {
  readonly stats: SendStats = { sent: 0, failed: 0, retried: 0, calls: 0 };
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: KinesisClient,
    private readonly options: SenderOptions,
  ) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  private get target() {
    return isArn(this.options.stream) ? { StreamARN: this.options.stream } : { StreamName: this.options.stream };
  }

  private backoff(attempt: number): number {
    return this.random() * Math.min(5000, (this.options.baseDelayMs ?? 100) * 2 ** (attempt - 1));
  }

  /** Sends one PutRecords call's worth (≤ 500 records, ≤ 5 MiB), re-sending only failed entries. */
  async putBatch(records: readonly OutgoingRecord[]): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    let pending = records;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) {
        this.stats.retried += pending.length;
        await this.sleep(this.backoff(attempt - 1));
      }
      this.stats.calls++;
      let failedEntries: OutgoingRecord[];
      try {
        const out = await this.client.send(
          new PutRecordsCommand({
            ...this.target,
            Records: pending.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })),
          }),
        );
        const results = out.Records ?? [];
        failedEntries = pending.filter((_, i) => results[i]?.ErrorCode !== undefined || results[i] === undefined);
      } catch (error) {
        // The whole call failed (throttled, network): every record is pending. Client errors are not retried.
        const e = error as { $fault?: string; name?: string };
        const retryable =
          e.$fault === 'server' ||
          e.name === 'ProvisionedThroughputExceededException' ||
          e.name === 'ThrottlingException' ||
          e.$fault === undefined;
        if (!retryable || attempt >= maxAttempts) {
          this.stats.failed += pending.length;
          if (!retryable) throw error;
          return;
        }
        failedEntries = [...pending];
      }
      this.stats.sent += pending.length - failedEntries.length;
      pending = failedEntries;
      if (pending.length > 0 && attempt >= maxAttempts) {
        this.stats.failed += pending.length;
        return;
      }
    }
  }

  /** Sends many records, batched, with at most `concurrency` calls in flight. */
  async putAll(records: readonly OutgoingRecord[], concurrency = 4): Promise<void> {
    const batches = planBatches(records);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, batches.length) }, async () => {
        while (next < batches.length) await this.putBatch(batches[next++]);
      }),
    );
  }

  /** Sends each record with its own PutRecord call (retrying throttled calls), `concurrency` in flight. */
  async putEach(records: readonly OutgoingRecord[], concurrency = 4): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, records.length) }, async () => {
        while (next < records.length) {
          const r = records[next++];
          for (let attempt = 1; ; attempt++) {
            this.stats.calls++;
            try {
              await this.client.send(
                new PutRecordCommand({ ...this.target, Data: r.data, PartitionKey: r.partitionKey }),
              );
              this.stats.sent++;
              break;
            } catch (error) {
              if (
                attempt >= maxAttempts ||
                ((error as { $fault?: string }).$fault === 'client' &&
                  (error as Error).name !== 'ProvisionedThroughputExceededException')
              ) {
                this.stats.failed++;
                break;
              }
              this.stats.retried++;
              await this.sleep(this.backoff(attempt));
            }
          }
        }
      }),
    );
  }
}

/** JSON events as records, partitioned by user (keeps a user's events in order on one shard). */
export function toRecords(events: readonly Record<string, unknown>[]): OutgoingRecord[] {
  return events.map((e) => ({
    data: Buffer.from(JSON.stringify(e)),
    partitionKey: String(e.user_id ?? e.event_id ?? 'none'),
  }));
}
