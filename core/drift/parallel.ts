/**
 * Accumulating a large file on several cores: the file is cut into fixed byte ranges aligned on lines (a line
 * belongs to the range holding its first byte), each range is read into its own accumulator — by a pool of worker
 * threads, or in this thread — and the parts are absorbed in range order. The ranges and their seeds depend only on
 * the file, so the result is the same with any number of workers (and without any).
 *
 * The worker entry point is this module itself: a worker started on it runs {@link readRange} for each task it is
 * sent. Under tsx the workers inherit its loader; in a bundle (the Lambda) the bundle is the entry point.
 */
import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  accumulatorSink,
  ProfileAccumulator,
  transferables,
  type AccumulatorSnapshot,
  type FeatureExpectation,
  type ProfileAccumulatorOptions,
  type SamplingOptions,
} from './profile';
import { classifyDocument, createCounters, RecordPipeline, type DataFormat, type ReadCounters } from './readers';
import { addCounters } from './checker-io';
import { csvColumnsOf, type FeatureSchema } from './features';
import type { SeasonalOptions } from './seasonal-profile';

/** Smallest range: below this, merging parts costs more than reading them in parallel saves. */
export const MIN_RANGE_BYTES = 32 * 1024 * 1024;

/** Ranges of a large file: up to this many, so up to this many cores are used, and few parts are merged. */
export const MAX_RANGES = 8;

/** The range size of a file: a function of its size alone, so the result never depends on the worker count. */
export function rangeBytesFor(size: number): number {
  return Math.max(MIN_RANGE_BYTES, Math.ceil(size / MAX_RANGES));
}

/** What every range needs to know (plain data: it is sent to the workers). */
export interface RangeJob {
  readonly path: string;
  /** The line format, decided once from the file's first record. */
  readonly format: 'capture' | 'plain';
  readonly schema?: FeatureSchema;
  readonly timeField?: string;
  readonly sampling: SamplingOptions;
  readonly expectations: Array<[string, FeatureExpectation]> | null;
  readonly skip: string[];
  readonly seasonal?: SeasonalOptions;
  readonly trackPhases?: boolean;
}

/** One byte range of the file: the lines whose first byte is in `[start, end)`. */
export interface RangeTask {
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/** What a range produced. */
export interface RangeResult {
  readonly index: number;
  readonly snapshot: AccumulatorSnapshot;
  readonly counters: ReadCounters;
  readonly timeRejectedFields?: string[];
}

/** The accumulator options of a job (the main thread's, or a range's with its own seed). */
export function accumulatorOptions(job: RangeJob, seed?: number): ProfileAccumulatorOptions {
  return {
    sampling: seed === undefined ? job.sampling : { ...job.sampling, seed },
    expectations: job.expectations ? new Map(job.expectations) : undefined,
    skip: job.skip,
    seasonal: job.seasonal,
    trackPhases: job.trackPhases,
  };
}

/** The seed of a range's samplers: every range samples independently. */
function rangeSeed(seed: number, index: number): number {
  return (seed ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}

/** Byte ranges of a file of `size` bytes. */
export function byteRanges(size: number, rangeBytes = rangeBytesFor(size)): RangeTask[] {
  const out: RangeTask[] = [];
  for (let start = 0, index = 0; start < size; start += rangeBytes, index++) {
    out.push({ index, start, end: Math.min(size, start + rangeBytes) });
  }
  return out;
}

/** The bytes of the lines whose first byte is in `[start, end)`. */
async function* rangeBytes(path: string, start: number, end: number): AsyncGenerator<Uint8Array> {
  const from = start === 0 ? 0 : start - 1;
  const stream = createReadStream(path, { start: from, highWaterMark: 1 << 20 });
  let position = from; // absolute offset of the next byte of the stream
  let skipping = start > 0; // before the first line start at or after `start`
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let bytes = chunk;
      let offset = position;
      position += chunk.length;
      if (skipping) {
        const nl = bytes.indexOf(10);
        if (nl < 0) continue;
        bytes = bytes.subarray(nl + 1);
        offset += nl + 1;
        skipping = false;
        // The first line starting in the range starts at or after its end: the range holds no line.
        if (offset >= end) return;
      }
      // The range's last line ends at the first newline at or after byte end − 1 (possibly in a later chunk).
      const last = end - 1 - offset;
      if (last < bytes.length) {
        const nl = bytes.indexOf(10, Math.max(0, last));
        if (nl >= 0) {
          yield bytes.subarray(0, nl + 1);
          return;
        }
      }
      yield bytes;
    }
  } finally {
    stream.destroy();
  }
}

/** Reads one range into its own accumulator. */
export async function readRange(job: RangeJob, task: RangeTask): Promise<RangeResult> {
  const acc = new ProfileAccumulator(accumulatorOptions(job, rangeSeed(job.sampling.seed ?? 42, task.index)));
  const pipeline = new RecordPipeline(
    { schema: job.schema, format: job.format, timeField: job.timeField },
    accumulatorSink(acc, job.schema ? csvColumnsOf(job.schema) : undefined),
  );
  for await (const bytes of rangeBytes(job.path, task.start, task.end)) pipeline.push(bytes);
  pipeline.end();
  const summary = pipeline.summary();
  // Line numbers are relative to the range: examples would point at the wrong lines.
  const counters = { ...summary.counters, invalidExamples: [] };
  return {
    index: task.index,
    snapshot: acc.snapshot(),
    counters,
    ...(summary.timeRejectedFields ? { timeRejectedFields: summary.timeRejectedFields } : {}),
  };
}

/**
 * The format of a file from its first non-blank line: `capture` or `plain` when that line is a JSON record, undefined
 * otherwise (a baseline profile, a pretty-printed document, or not JSON): such files are read in one pass.
 */
export function lineFormat(path: string): 'capture' | 'plain' | undefined {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, n).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return undefined;
      }
      const format: DataFormat | null = classifyDocument(value);
      return format === 'capture' || format === 'plain' ? format : undefined;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** How many workers to use: `auto` = the cores available, none when worker threads cannot load this module. */
export function workerCount(requested: number | 'auto'): number {
  if (!canStartWorkers()) return 0;
  return requested === 'auto' ? availableParallelism() : Math.max(0, Math.floor(requested));
}

/** Workers load this file: plain JavaScript (a build or a bundle), or TypeScript through tsx's require hook. */
function canStartWorkers(): boolean {
  if (__filename.endsWith('.js')) return true;
  try {
    require.resolve('tsx/cjs');
    return true;
  } catch {
    return false;
  }
}

/** A worker running this module (TypeScript sources register tsx first: workers do not inherit every loader flag). */
function startWorker(): Worker {
  const data = { workerData: { [WORKER_FLAG]: true } };
  if (__filename.endsWith('.js')) return new Worker(__filename, data);
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(__filename)});`, { ...data, eval: true });
}

const WORKER_FLAG = 'ml-blueprint/drift-range-worker';

/**
 * Reads every range of a file into `acc` (absorbed in range order), with `workers` threads (0: in this thread).
 * Returns the summed counters.
 */
export async function accumulateRanges(
  acc: ProfileAccumulator,
  job: RangeJob,
  options: { readonly workers: number; readonly rangeBytes?: number },
): Promise<ReadCounters & { timeRejectedFields?: string[] }> {
  const tasks = byteRanges(statSync(job.path).size, options.rangeBytes);
  const total: ReadCounters & { timeRejectedFields?: string[] } = createCounters();
  await orderedPool<RangeTask, RangeResult>(
    tasks,
    Math.min(options.workers, tasks.length),
    (task) => ({ kind: 'range', job, task }),
    (task) => readRange(job, task),
    (r) => {
      acc.absorb(r.snapshot, r.index);
      addCounters(total, r.counters);
      if (r.timeRejectedFields && !total.timeRejectedFields) total.timeRejectedFields = r.timeRejectedFields;
    },
  );
  return total;
}

// ---------------------------------------------------------------------------------------------------------------
// Objects in memory (the checker's S3 objects): batches of whole objects, records routed by their capture time.

/** What every batch of objects needs to know. */
export interface ObjectsJob {
  readonly sampling: SamplingOptions;
  readonly expectations: Array<[string, FeatureExpectation]> | null;
  readonly skip: string[];
  readonly trackPhases?: boolean;
  /** The window checked: `[from, to)` in epoch milliseconds. */
  readonly from: number;
  readonly to: number;
  /** Earlier windows watched for late records. */
  readonly watched: ReadonlyArray<{ readonly from: number; readonly to: number }>;
}

/** One batch: whole objects, in key order. */
export interface ObjectsTask {
  readonly index: number;
  readonly objects: ReadonlyArray<{
    readonly key: string;
    readonly bytes: Uint8Array;
    /** Whether the object is in the checked window's own folders (its counters count). */
    readonly own: boolean;
    /** For each watched window, whether records of it in this object are late (not read at its check). */
    readonly lateFor: readonly boolean[];
  }>;
}

/** What a batch produced. */
export interface ObjectsResult {
  readonly index: number;
  readonly snapshot: AccumulatorSnapshot;
  /** Counters of the batch's own objects. */
  readonly counters: ReadCounters;
  /** Late records per watched window. */
  readonly late: number[];
  readonly outOfWindow: number;
}

/** Reads one batch of objects: records of the window are accumulated, records of watched windows counted. */
export function readObjectsBatch(job: ObjectsJob, task: ObjectsTask): ObjectsResult {
  const acc = new ProfileAccumulator({
    sampling: { ...job.sampling, seed: rangeSeed(job.sampling.seed ?? 42, task.index) },
    expectations: job.expectations ? new Map(job.expectations) : undefined,
    skip: job.skip,
    trackPhases: job.trackPhases,
  });
  const counters = createCounters();
  const late = job.watched.map(() => 0);
  let outOfWindow = 0;
  for (const object of task.objects) {
    const pipeline = new RecordPipeline({ format: 'auto', timeField: 'inferenceTime' }, (record, time) => {
      if (time >= job.from && time < job.to) {
        acc.add(record, time);
        return;
      }
      const w = job.watched.findIndex((x) => time >= x.from && time < x.to);
      if (w >= 0 && object.lateFor[w]) late[w]++;
      else outOfWindow++;
    });
    pipeline.push(object.bytes);
    pipeline.end();
    if (object.own) addCounters(counters, pipeline.summary().counters);
  }
  return { index: task.index, snapshot: acc.snapshot(), counters, late, outOfWindow };
}

/** Bytes per batch of objects: batches are formed in key order by size alone (the result never depends on workers). */
export const BATCH_BYTES = 32 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// The pool

type WorkerMessage =
  { kind: 'range'; job: RangeJob; task: RangeTask } | { kind: 'objects'; job: ObjectsJob; task: ObjectsTask };

/**
 * Runs tasks on `workers` threads — this one and `workers − 1` worker threads (only this one when fewer than 2
 * tasks or workers) — handing results to `onResult` in task order as soon as each next one is in. Tasks may arrive over time (an async iterable): a free worker takes the
 * next one.
 */
export async function orderedPool<T extends { readonly index: number }, R extends { readonly index: number }>(
  tasks: Iterable<T> | AsyncIterable<T>,
  workers: number,
  message: (task: T) => WorkerMessage,
  local: (task: T) => Promise<R> | R,
  onResult: (result: R) => void,
): Promise<void> {
  const source = (Symbol.asyncIterator in tasks ? tasks[Symbol.asyncIterator]() : tasks[Symbol.iterator]()) as
    AsyncIterator<T> | Iterator<T>;
  // Threads only pay off from the second task on: look ahead before starting any.
  const ahead: T[] = [];
  for (let i = 0; i < 2 && workers > 1; i++) {
    const next = await source.next();
    if (next.done) break;
    ahead.push(next.value);
  }
  const iterator = {
    next: async (): Promise<IteratorResult<T>> =>
      ahead.length > 0 ? { done: false, value: ahead.shift()! } : source.next(),
  };
  if (workers <= 1 || ahead.length < 2) {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) onResult(await local(next.value));
    return;
  }
  const pending = new Map<number, R>();
  let nextToDeliver = 0;
  const deliver = () => {
    while (pending.has(nextToDeliver)) {
      onResult(pending.get(nextToDeliver)!);
      pending.delete(nextToDeliver++);
    }
  };
  // This thread takes tasks too: `workers` threads in all, one isolate fewer to start and warm up.
  const pool = Array.from({ length: workers - 1 }, startWorker);
  const here = async () => {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const result = await local(next.value);
      pending.set(result.index, result);
      deliver();
      // Let the workers' replies in before the next task (the tasks are CPU-bound).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  const run = (worker: Worker) =>
    new Promise<void>((resolve, reject) => {
      const send = async () => {
        const next = await iterator.next();
        if (next.done) {
          resolve();
          return;
        }
        const m = message(next.value);
        // Only a buffer an object owns whole is transferred (never a slice of a pooled buffer).
        const transfer =
          m.kind === 'objects'
            ? m.task.objects
                .map((o) => o.bytes)
                .filter((b) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength)
                .map((b) => b.buffer as ArrayBuffer)
            : [];
        worker.postMessage(m, transfer);
      };
      worker.on('message', (reply: { result?: R; error?: string }) => {
        if (reply.error !== undefined || !reply.result) {
          reject(new Error(reply.error ?? 'drift worker returned nothing'));
          return;
        }
        pending.set(reply.result.index, reply.result);
        // The worker gets its next task first; results are then delivered in order as they come in.
        send().catch(reject);
        deliver();
      });
      worker.on('error', reject);
      send().catch(reject);
    });
  try {
    await Promise.all([here(), ...pool.map(run)]);
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

// Worker side: a thread started on this module with the flag runs the tasks it is sent.
if (!isMainThread && parentPort && (workerData as Record<string, unknown> | null)?.[WORKER_FLAG]) {
  const port = parentPort;
  port.on('message', (message: WorkerMessage) => {
    const work =
      message.kind === 'range'
        ? readRange(message.job, message.task)
        : Promise.resolve().then(() => readObjectsBatch(message.job, message.task));
    work.then(
      (result) => port.postMessage({ result }, transferables(result.snapshot)),
      (error: unknown) => port.postMessage({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}
