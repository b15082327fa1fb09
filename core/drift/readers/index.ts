/**
 * Record readers of the drift checker: turn a stream of SageMaker capture JSONL or plain feature JSONL into
 * feature records, counting (never throwing on) malformed lines. A baseline-profile document is detected and
 * handed back unparsed-by-us.
 *
 * @example Lambda (S3 object body) or CLI (file stream):
 * const summary = await consumeRecords(body, { schema, window: { from, to } }, ({ record }) => stats.add(record));
 * // summary.counters → { lines, records, invalid, invalidReasons, outOfWindow, noEventTime, invalidExamples }
 *
 * @example Async iteration:
 * const stream = readRecords(fs.createReadStream(path));
 * for await (const { record } of stream) …;
 * console.log(stream.counters);
 */
import { type FeatureRecord, type FeatureSchema, type FeatureValue, csvColumnsOf } from '../features';
import { CaptureParser, type CaptureInvalidReason } from './capture';
import {
  FormatDetector,
  type DataFormat,
  type DetectInvalidReason,
  type DetectorSink,
  type FormatOption,
} from './detect';
import { type Chunk, type ChunkSource, LineSplitter, iterateChunks, type LineSink } from './jsonl';
import { parsePlainRecord, type PlainInvalidReason } from './plain';
import { CAPTURE_TIME_FIELD, parseTimeValue } from '../time';

export * from './capture';
export * from './detect';
export * from './jsonl';
export * from './plain';

/** Why a record's time field was rejected (only when a time field is configured). */
export type TimeInvalidReason = 'time-missing' | 'time-unparsable';

/** Every reason a line can be counted as invalid (keys of {@link ReadCounters.invalidReasons}). */
export type InvalidReason = CaptureInvalidReason | PlainInvalidReason | DetectInvalidReason | TimeInvalidReason;

/** A point in time: a `Date`, epoch milliseconds, or an ISO 8601 string. */
export type TimeLike = Date | number | string;

/** Half-open time window `[from, to)` on `eventMetadata.inferenceTime`; either bound may be omitted. */
export interface TimeWindow {
  /** Inclusive lower bound. */
  from?: TimeLike;
  /** Exclusive upper bound. */
  to?: TimeLike;
}

/** Options of {@link consumeRecords} / {@link readRecords}. */
export interface ReadOptions {
  /** `auto` (default) detects capture / plain / profile; `capture` or `plain` forces a line format. */
  format?: FormatOption;
  /** Feature schema; its CSV columns (see `csvColumnsOf`) name positional input columns. */
  schema?: Pick<FeatureSchema, 'features' | 'csvColumns'>;
  /** Explicit positional column names; takes precedence over `schema`. */
  csvColumns?: readonly string[];
  /** Longest accepted line (UTF-16 code units); longer lines count as `line-too-long`. Default 16 Mi. */
  maxLineLength?: number;
  /** Largest multi-line profile document that is buffered. Default 64 Mi. */
  maxDocumentLength?: number;
  /**
   * Keep only capture records whose `eventMetadata.inferenceTime` lies in `[from, to)`. Capture records without a
   * parseable time are then dropped too (counted in `noEventTime`). Plain records carry no time and are not filtered.
   */
  window?: TimeWindow;
  /** How many `{ lineNumber, reason }` examples of invalid lines to keep (default 10). */
  maxInvalidExamples?: number;
  /**
   * The time field every record must carry (see `core/drift/time.ts`): `inferenceTime` is the capture record's
   * `eventMetadata.inferenceTime`; any other name is a field of the record (for a multi-instance capture line, of
   * its first instance). A record whose time is absent or unparsable is counted invalid (`time-missing`,
   * `time-unparsable`). The parsed time is {@link ReadRecord.time}; the field stays in the record (profiles skip it).
   */
  timeField?: string;
}

/** Running counters of a read. */
export interface ReadCounters {
  /** Non-blank physical lines read (including invalid and filtered ones and the lines of a profile document). */
  lines: number;
  /** Feature records produced (a batched capture request contributes one per instance). */
  records: number;
  /** Lines rejected as malformed. */
  invalid: number;
  /** Rejected lines per {@link InvalidReason}. */
  invalidReasons: Record<string, number>;
  /** Valid capture lines dropped because their inference time is outside the window. */
  outOfWindow: number;
  /** Valid capture lines dropped (window given) because they have no parseable inference time. */
  noEventTime: number;
  /** The first few invalid lines, for diagnostics (no content, to keep payload data out of logs). */
  invalidExamples: Array<{ lineNumber: number; reason: InvalidReason }>;
}

/** One feature record with its provenance. */
export interface ReadRecord {
  /** The features (input names as-is, output features prefixed `output.`). */
  record: FeatureRecord;
  /** 1-based physical line number in the source. */
  lineNumber: number;
  /** Capture records: `eventMetadata.inferenceTime`. */
  eventTime: string | undefined;
  /** Capture records: `eventMetadata.inferenceId`. */
  inferenceId: string | undefined;
  /** Epoch milliseconds of the record's time field (or of its capture time in a window), NaN when not read. */
  time: number;
}

/**
 * Receives each record as soon as its line is parsed (see {@link RecordPipeline}): the record, its time (NaN when
 * none was read) and, for a one-row CSV capture input with named columns, the row's values in column order in a
 * buffer reused by the next line (`record` then holds only the output features).
 */
export type RecordSink = (record: FeatureRecord, time: number, columns: readonly FeatureValue[] | undefined) => void;

/** Outcome of a read. */
export interface ReadSummary {
  /** The detected (or forced) format; `unknown` when no line was a JSON object. */
  format: DataFormat | 'unknown';
  /** Final counters. */
  counters: ReadCounters;
  /** The parsed baseline-profile document when `format` is `profile` (not interpreted here). */
  profile?: unknown;
  /** The fields of the first record rejected for its time field (for error messages), when one was. */
  timeRejectedFields?: string[];
}

/** Fresh zeroed counters. */
export function createCounters(): ReadCounters {
  return { lines: 0, records: 0, invalid: 0, invalidReasons: {}, outOfWindow: 0, noEventTime: 0, invalidExamples: [] };
}

function toEpochMs(value: TimeLike | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`window.${name} is not a valid time: ${String(value)}`);
  return ms;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Epoch milliseconds of an ISO 8601 timestamp, `NaN` when unparseable. The format SageMaker writes
 * (`YYYY-MM-DDTHH:MM:SS[.fff…]Z`) is parsed directly; anything else goes through `Date.parse`.
 */
export function parseTimestamp(s: string): number {
  const n = s.length;
  if (
    n < 20 ||
    s.charCodeAt(n - 1) !== 90 || // Z
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 || // T
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  ) {
    return Date.parse(s);
  }
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  let ms = 0;
  if (n > 20) {
    // Fraction: validate every digit, keep milliseconds (truncated, like Date.parse).
    const fractionDigits = n - 21;
    const fraction = digits(s, 20, fractionDigits);
    if (s.charCodeAt(19) !== 46 || fractionDigits === 0 || fraction !== fraction) return Date.parse(s);
    ms = fractionDigits >= 3 ? digits(s, 20, 3) : digits(s, 20, fractionDigits) * (fractionDigits === 1 ? 100 : 10);
  }
  const valid = year >= 100 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59;
  if (!valid) return Date.parse(s);
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0)) return Date.parse(s);
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** A capture time: the SageMaker format directly, anything else as {@link parseTimeValue}. */
function timeOf(eventTime: string): number | 'unparsable' {
  const t = parseTimestamp(eventTime);
  if (t === t) return t;
  const parsed = parseTimeValue(eventTime);
  return typeof parsed === 'number' ? parsed : 'unparsable';
}

/**
 * Push-based core shared by {@link consumeRecords} and {@link readRecords}: feed chunks, then take the records
 * produced so far with {@link take}. Synchronous, so per-line work involves no promise.
 */
export class RecordPipeline {
  /** Live counters. */
  readonly counters: ReadCounters = createCounters();
  private readonly splitter: LineSplitter;
  private readonly detector: FormatDetector;
  private readonly capture: CaptureParser;
  private readonly lineSink: LineSink;
  private readonly from: number;
  private readonly to: number;
  private readonly windowed: boolean;
  private readonly maxExamples: number;
  private readonly timeField: string | undefined;
  private detected: DataFormat | undefined;
  private profileValue: unknown;
  private timeRejectedFields: string[] | undefined;
  private batch: ReadRecord[] = [];
  private readonly sink: RecordSink | undefined;

  /**
   * @param options See {@link ReadOptions}.
   * @param sink Deliver records to this function as they are parsed instead of batching them for {@link take}; a
   *   one-row CSV input with named columns then arrives as column values, without a record object per line.
   * @throws RangeError for an unparseable window bound or a non-positive `maxLineLength` (programming errors).
   */
  constructor(options: ReadOptions = {}, recordSink?: RecordSink) {
    const columns = options.csvColumns ?? (options.schema !== undefined ? csvColumnsOf(options.schema) : undefined);
    this.sink = recordSink;
    this.capture = new CaptureParser({ csvColumns: columns, columnar: recordSink !== undefined });
    const from = toEpochMs(options.window?.from, 'from');
    const to = toEpochMs(options.window?.to, 'to');
    this.windowed = from !== undefined || to !== undefined;
    this.from = from ?? -Infinity;
    this.to = to ?? Infinity;
    this.maxExamples = options.maxInvalidExamples ?? 10;
    this.timeField = options.timeField;
    this.splitter = new LineSplitter({ maxLineLength: options.maxLineLength });
    const sink: DetectorSink = {
      decided: (format, profile) => this.onDecided(format, profile),
      line: (text, lineNumber, parsed) => this.onLine(text, lineNumber, parsed),
      invalid: (reason, lineNumber) => this.onInvalid(reason, lineNumber),
    };
    this.detector = new FormatDetector(sink, {
      format: options.format,
      maxDocumentLength: options.maxDocumentLength,
    });
    const counters = this.counters;
    const detector = this.detector;
    this.lineSink = {
      line(text, lineNumber) {
        counters.lines++;
        detector.line(text, lineNumber);
      },
      overlong(lineNumber, length) {
        counters.lines++;
        detector.overlong(lineNumber, length);
      },
    };
  }

  /** The detected (or forced) format, once known. */
  get format(): DataFormat | undefined {
    return this.detected;
  }

  /** The parsed profile document when the format is `profile`. */
  get profile(): unknown {
    return this.profileValue;
  }

  /** Feeds one chunk. */
  push(chunk: Chunk): void {
    this.splitter.push(chunk, this.lineSink);
  }

  /** Signals the end of input. */
  end(): void {
    this.splitter.end(this.lineSink);
    this.detector.end();
  }

  /** Removes and returns the records produced since the last call. */
  take(): ReadRecord[] {
    const out = this.batch;
    if (out.length > 0) this.batch = [];
    return out;
  }

  /** The summary so far. */
  summary(): ReadSummary {
    const summary: ReadSummary = { format: this.detected ?? 'unknown', counters: this.counters };
    if (this.detected === 'profile') summary.profile = this.profileValue;
    if (this.timeRejectedFields !== undefined) summary.timeRejectedFields = this.timeRejectedFields;
    return summary;
  }

  private onDecided(format: DataFormat, profile: unknown): void {
    this.detected = format;
    if (format === 'profile') this.profileValue = profile;
  }

  private onLine(text: string, lineNumber: number, parsed: unknown): void {
    let value = parsed;
    if (value === undefined) {
      try {
        value = JSON.parse(text);
      } catch {
        this.onInvalid('invalid-json', lineNumber);
        return;
      }
    }
    if (this.detected === 'capture') {
      const result = this.capture.parseValue(value);
      if (!result.ok) {
        this.onInvalid(result.reason, lineNumber);
        return;
      }
      const { eventTime, inferenceId } = result;
      let time = NaN;
      if (this.windowed) {
        const t = eventTime === undefined ? NaN : parseTimestamp(eventTime);
        if (t !== t) {
          this.counters.noEventTime++;
          return;
        }
        if (t < this.from || t >= this.to) {
          this.counters.outOfWindow++;
          return;
        }
        time = t;
      }
      const field = this.timeField;
      if (field !== undefined) {
        const parsed =
          field === CAPTURE_TIME_FIELD
            ? time === time
              ? time
              : eventTime === undefined
                ? 'missing'
                : timeOf(eventTime)
            : parseTimeValue(result.record[field]);
        if (typeof parsed === 'string') {
          this.onTimeInvalid(parsed, lineNumber, result.record);
          return;
        }
        time = parsed;
      }
      const instances = result.instances;
      const sink = this.sink;
      if (sink !== undefined) {
        if (instances === undefined) sink(result.record, time, result.columns);
        else for (let i = 0; i < instances.length; i++) sink(instances[i], time, undefined);
        this.counters.records += instances === undefined ? 1 : instances.length;
        return;
      }
      if (instances === undefined) {
        this.batch.push({ record: result.record, lineNumber, eventTime, inferenceId, time });
        this.counters.records++;
      } else {
        for (let i = 0; i < instances.length; i++) {
          this.batch.push({ record: instances[i], lineNumber, eventTime, inferenceId, time });
        }
        this.counters.records += instances.length;
      }
      return;
    }
    const result = parsePlainRecord(value);
    if (!result.ok) {
      this.onInvalid(result.reason, lineNumber);
      return;
    }
    let time = NaN;
    if (this.timeField !== undefined) {
      const parsed = parseTimeValue(result.record[this.timeField]);
      if (typeof parsed === 'string') {
        this.onTimeInvalid(parsed, lineNumber, result.record);
        return;
      }
      time = parsed;
    }
    this.counters.records++;
    if (this.sink !== undefined) this.sink(result.record, time, undefined);
    else this.batch.push({ record: result.record, lineNumber, eventTime: undefined, inferenceId: undefined, time });
  }

  private onTimeInvalid(problem: 'missing' | 'unparsable', lineNumber: number, record: object): void {
    this.timeRejectedFields ??= Object.keys(record);
    this.onInvalid(problem === 'missing' ? 'time-missing' : 'time-unparsable', lineNumber);
  }

  private onInvalid(reason: InvalidReason, lineNumber: number): void {
    const counters = this.counters;
    counters.invalid++;
    counters.invalidReasons[reason] = (counters.invalidReasons[reason] ?? 0) + 1;
    if (counters.invalidExamples.length < this.maxExamples) counters.invalidExamples.push({ lineNumber, reason });
  }
}

/**
 * Streams the records of `source` to `onRecord` (awaited when it returns a promise, so it can apply
 * back-pressure) and resolves with the summary. Malformed lines are counted, never thrown; errors of the source
 * stream itself and of `onRecord` do propagate.
 */
export async function consumeRecords(
  source: ChunkSource,
  options: ReadOptions,
  onRecord: (record: ReadRecord) => void | Promise<void>,
): Promise<ReadSummary> {
  const pipeline = new RecordPipeline(options);
  for await (const chunk of iterateChunks(source)) {
    pipeline.push(chunk);
    const batch = pipeline.take();
    for (let i = 0; i < batch.length; i++) {
      const pending = onRecord(batch[i]);
      if (pending !== undefined) await pending;
    }
  }
  pipeline.end();
  const batch = pipeline.take();
  for (let i = 0; i < batch.length; i++) {
    const pending = onRecord(batch[i]);
    if (pending !== undefined) await pending;
  }
  return pipeline.summary();
}

/**
 * Streams the records of `source` synchronously into `sink`, each as soon as its line is parsed (no batches, no
 * promise per record; see {@link RecordSink}), and resolves with the summary. Malformed lines are counted, never
 * thrown.
 */
export async function streamRecords(source: ChunkSource, options: ReadOptions, sink: RecordSink): Promise<ReadSummary> {
  const pipeline = new RecordPipeline(options, sink);
  for await (const chunk of iterateChunks(source)) pipeline.push(chunk);
  pipeline.end();
  return pipeline.summary();
}

/**
 * An async-iterable view of the records of a source, with live {@link counters}. Iterate it once.
 */
export class RecordStream implements AsyncIterable<ReadRecord> {
  private readonly pipeline: RecordPipeline;
  private started = false;

  /**
   * @param source The input.
   * @param options See {@link ReadOptions}.
   */
  constructor(
    private readonly source: ChunkSource,
    options: ReadOptions = {},
  ) {
    this.pipeline = new RecordPipeline(options);
  }

  /** Live counters (final once iteration has finished). */
  get counters(): ReadCounters {
    return this.pipeline.counters;
  }

  /** The detected format, once known. */
  get format(): DataFormat | undefined {
    return this.pipeline.format;
  }

  /** The parsed profile document when the format is `profile`. */
  get profile(): unknown {
    return this.pipeline.profile;
  }

  /** The summary so far (final once iteration has finished). */
  summary(): ReadSummary {
    return this.pipeline.summary();
  }

  /** Iterates the records; throws if called twice. */
  [Symbol.asyncIterator](): AsyncIterator<ReadRecord> {
    if (this.started) throw new Error('RecordStream can only be iterated once');
    this.started = true;
    return this.iterate();
  }

  private async *iterate(): AsyncGenerator<ReadRecord> {
    const pipeline = this.pipeline;
    for await (const chunk of iterateChunks(this.source)) {
      pipeline.push(chunk);
      yield* pipeline.take();
    }
    pipeline.end();
    yield* pipeline.take();
  }
}

/** Streams the records of `source` (see {@link RecordStream}); counters and summary are on the returned object. */
export function readRecords(source: ChunkSource, options: ReadOptions = {}): RecordStream {
  return new RecordStream(source, options);
}
