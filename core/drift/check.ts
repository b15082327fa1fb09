/**
 * The drift check end to end, shared by the Lambda handler and the CLI: read a baseline (a profile document or
 * raw records), stream the current window into accumulators aligned with it, and compare.
 */
import { csvColumnsOf, type FeatureSchema } from './features';
import { createReadStream } from 'node:fs';
import { accumulateRanges, accumulatorOptions, lineFormat, workerCount, type RangeJob } from './parallel';
import { addCounters } from './checker-io';
import {
  accumulatorSink,
  DEFAULT_SAMPLING,
  expectationsFromBaseline,
  expectationsFromSchema,
  parseBaselineProfile,
  ProfileAccumulator,
  toBaselineProfile,
  type BaselineProfile,
  type SamplingOptions,
} from './profile';
import { streamRecords, type ChunkSource, type ReadCounters, type ReadOptions, type ReadSummary } from './readers';
import { CAPTURE_TIME_FIELD } from './time';
import { compareWindow, DEFAULT_POLICY, type DriftPolicy, type DriftReport, type ProportionSignal } from './engine';

/** Read settings shared by both sides. */
export interface CheckReadOptions {
  /** Feature schema: fixed kinds, CSV column names, per-feature thresholds. */
  readonly schema?: FeatureSchema;
  /** Sample sizes and seed. */
  readonly sampling?: SamplingOptions;
  /** Only capture records in this window (current side). */
  readonly window?: ReadOptions['window'];
  /**
   * The time field of every record (`inferenceTime` for data capture, see `time.ts`): never profiled; records
   * without a parseable time are invalid; a raw baseline keeps per-phase data for seasonal comparisons, a window
   * counts its records per phase.
   */
  readonly timeField?: string;
}

/** A baseline and how it was read. */
export interface LoadedBaseline {
  readonly profile: BaselineProfile;
  /** Whether the source was a profile document (true) or raw records profiled on the fly (false). */
  readonly fromProfile: boolean;
  readonly counters: ReadCounters;
}

/** Raised when an input has nothing to compare; the message names the input and what was found. */
export class EmptyInputError extends Error {
  constructor(
    readonly input: string,
    readonly counters: ReadCounters,
  ) {
    super(
      `${input} has no valid records (${counters.lines} non-blank lines, ${counters.invalid} invalid${
        Object.keys(counters.invalidReasons).length > 0
          ? `: ${Object.entries(counters.invalidReasons)
              .map(([r, n]) => `${r} ${n}`)
              .join(', ')}`
          : ''
      }${counters.outOfWindow > 0 ? `, ${counters.outOfWindow} outside the time window` : ''})`,
    );
    this.name = 'EmptyInputError';
  }
}

/** Raised when the configured time field is missing or unparsable in every record of an input. */
export class TimeFieldError extends Error {
  constructor(input: string, timeField: string, counters: ReadCounters, fieldsSeen: readonly string[]) {
    const missing = counters.invalidReasons['time-missing'] ?? 0;
    const unparsable = counters.invalidReasons['time-unparsable'] ?? 0;
    super(
      `${input}: the time field "${timeField}" is ${
        unparsable === 0
          ? 'absent from every record'
          : `missing (${missing}) or unparsable (${unparsable}) in every record`
      }${fieldsSeen.length > 0 ? `; fields seen: ${fieldsSeen.slice(0, 12).join(', ')}${fieldsSeen.length > 12 ? ', …' : ''}` : ''}. ${
        timeField === CAPTURE_TIME_FIELD
          ? 'Plain JSONL has no capture time: name its time field with --time-field'
          : 'Check the name given with --time-field (ISO 8601 date-times or epoch seconds/milliseconds)'
      }`,
    );
    this.name = 'TimeFieldError';
  }
}

/** Throws {@link TimeFieldError} when no record had a usable time although some had everything else. */
export function checkTimeField(
  input: string,
  options: Pick<CheckReadOptions, 'timeField'>,
  records: number,
  summary: Pick<ReadSummary, 'counters' | 'timeRejectedFields'>,
): void {
  if (options.timeField === undefined || records > 0) return;
  const c = summary.counters;
  const timeInvalid = (c.invalidReasons['time-missing'] ?? 0) + (c.invalidReasons['time-unparsable'] ?? 0);
  if (timeInvalid > 0) throw new TimeFieldError(input, options.timeField, c, summary.timeRejectedFields ?? []);
}

/** Reads a baseline from a profile document or from raw records (capture or plain JSONL). */
export async function loadBaseline(
  source: ChunkSource,
  options: CheckReadOptions & { readonly name?: string } = {},
): Promise<LoadedBaseline> {
  const acc = new ProfileAccumulator({
    sampling: options.sampling,
    expectations: options.schema ? expectationsFromSchema(options.schema) : undefined,
    seasonal: options.timeField !== undefined ? { timeField: options.timeField } : undefined,
  });
  const name = options.name ?? 'the baseline';
  const summary = await streamRecords(
    source,
    { schema: options.schema, timeField: options.timeField },
    accumulatorSink(acc, options.schema ? csvColumnsOf(options.schema) : undefined),
  );
  if (summary.format === 'profile') {
    return { profile: parseBaselineProfile(summary.profile), fromProfile: true, counters: summary.counters };
  }
  checkTimeField(name, options, acc.records, summary);
  if (acc.records === 0) throw new EmptyInputError(name, summary.counters);
  return {
    profile: toBaselineProfile(acc, { invalid: summary.counters.invalid, source: options.name }),
    fromProfile: false,
    counters: summary.counters,
  };
}

/**
 * Accumulates a current window aligned with a baseline (same kinds, reference bins, embedding projection, the
 * baseline's time fields skipped); with `trackPhases`, records with times are counted per hour of the week.
 */
export function windowAccumulator(
  baseline: BaselineProfile,
  sampling?: SamplingOptions,
  options: { readonly trackPhases?: boolean; readonly timeField?: string } = {},
): ProfileAccumulator {
  return new ProfileAccumulator(windowOptions(baseline, sampling, options));
}

function windowOptions(
  baseline: BaselineProfile,
  sampling: SamplingOptions | undefined,
  options: { readonly trackPhases?: boolean; readonly timeField?: string },
) {
  return {
    sampling: { ...baseline.sampling, ...sampling },
    expectations: expectationsFromBaseline(baseline),
    skip: [...(baseline.timeFields ?? []), ...(options.timeField !== undefined ? [options.timeField] : [])],
    trackPhases: options.trackPhases ?? options.timeField !== undefined,
  };
}

/** Reading a file on several cores (see `parallel.ts`). */
export interface FileReadOptions extends CheckReadOptions {
  /** Worker threads: a number, or `auto` for the cores available. @default 'auto' */
  readonly workers?: number | 'auto';
  /** Bytes per range. @default `rangeBytesFor(size)` in `parallel.ts` */
  readonly rangeBytes?: number;
}

/**
 * A baseline from a file: a profile document, or raw records read in byte ranges on several cores (the same
 * result with any number of workers).
 */
export async function loadBaselineFile(
  path: string,
  options: FileReadOptions & { readonly name?: string } = {},
): Promise<LoadedBaseline> {
  const format = lineFormat(path);
  if (!format) return loadBaseline(createReadStream(path, { highWaterMark: 1 << 20 }), options);
  const job: RangeJob = {
    path,
    format,
    schema: options.schema,
    timeField: options.timeField,
    sampling: { ...DEFAULT_SAMPLING, ...options.sampling },
    expectations: options.schema ? [...expectationsFromSchema(options.schema)] : null,
    skip: [],
    seasonal: options.timeField !== undefined ? { timeField: options.timeField } : undefined,
  };
  const acc = new ProfileAccumulator(accumulatorOptions(job));
  const counters = await accumulateRanges(acc, job, {
    workers: workerCount(options.workers ?? 'auto'),
    rangeBytes: options.rangeBytes,
  });
  const name = options.name ?? 'the baseline';
  checkTimeField(name, options, acc.records, { counters, timeRejectedFields: counters.timeRejectedFields });
  if (acc.records === 0) throw new EmptyInputError(name, counters);
  return {
    profile: toBaselineProfile(acc, { invalid: counters.invalid, source: options.name }),
    fromProfile: false,
    counters,
  };
}

/** A current window from a file, aligned with the baseline, read in byte ranges on several cores. */
export async function accumulateWindowFile(
  baseline: BaselineProfile,
  path: string,
  options: FileReadOptions = {},
): Promise<{ acc: ProfileAccumulator; counters: ReadCounters & { timeRejectedFields?: string[] } }> {
  const accOptions = windowOptions(baseline, options.sampling, { timeField: options.timeField });
  const format = lineFormat(path);
  if (!format) {
    const acc = new ProfileAccumulator(accOptions);
    const counters = await accumulateWindow(acc, [createReadStream(path, { highWaterMark: 1 << 20 })], options);
    return { acc, counters };
  }
  const job: RangeJob = {
    path,
    format,
    schema: options.schema,
    timeField: options.timeField,
    sampling: accOptions.sampling,
    expectations: [...accOptions.expectations],
    skip: accOptions.skip,
    trackPhases: accOptions.trackPhases,
  };
  const acc = new ProfileAccumulator(accumulatorOptions(job));
  const counters = await accumulateRanges(acc, job, {
    workers: workerCount(options.workers ?? 'auto'),
    rangeBytes: options.rangeBytes,
  });
  return { acc, counters };
}

/** Raised when the baseline and the current window have no feature in common. */
export class NoSharedFeatureError extends Error {
  constructor(baseline: readonly string[], current: readonly string[], inputs = 'the baseline and the window') {
    const list = (names: readonly string[]) =>
      names.length === 0 ? '(none)' : `${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}`;
    super(`${inputs} share no feature: baseline ${list(baseline)}; current ${list(current)}`);
    this.name = 'NoSharedFeatureError';
  }
}

/** Throws {@link NoSharedFeatureError} when no baseline feature appears in the window. */
export function checkSharedFeatures(baseline: BaselineProfile, acc: ProfileAccumulator, inputs?: string): void {
  const seen = acc.seenFeatures();
  const names = Object.keys(baseline.features);
  if (acc.records > 0 && names.length > 0 && !names.some((n) => seen.has(n))) {
    throw new NoSharedFeatureError(names, [...acc.unexpected].sort(), inputs);
  }
}

/** Streams every source of the current window into one accumulator; returns the accumulated counters. */
export async function accumulateWindow(
  acc: ProfileAccumulator,
  sources: Iterable<ChunkSource> | AsyncIterable<ChunkSource>,
  options: CheckReadOptions = {},
): Promise<ReadCounters & { timeRejectedFields?: string[] }> {
  const total: ReadCounters & { timeRejectedFields?: string[] } = {
    lines: 0,
    records: 0,
    invalid: 0,
    invalidReasons: {},
    outOfWindow: 0,
    noEventTime: 0,
    invalidExamples: [],
  };
  for await (const source of sources) {
    const summary = await streamRecords(
      source,
      { schema: options.schema, window: options.window, format: 'auto', timeField: options.timeField },
      accumulatorSink(acc, options.schema ? csvColumnsOf(options.schema) : undefined),
    );
    if (summary.timeRejectedFields && !total.timeRejectedFields) total.timeRejectedFields = summary.timeRejectedFields;
    addCounters(total, summary.counters);
  }
  return total;
}

/** Policy with per-feature thresholds, directions and seasonalities taken from a schema. */
export function policyWithSchema(policy: DriftPolicy, schema?: FeatureSchema): DriftPolicy {
  if (!schema) return policy;
  const features = { ...policy.features };
  for (const f of schema.features) {
    const rule = {
      ...(f.threshold !== undefined ? { threshold: f.threshold } : {}),
      ...(f.direction !== undefined ? { direction: f.direction } : {}),
      ...(f.seasonality !== undefined ? { seasonality: f.seasonality } : {}),
    };
    if (Object.keys(rule).length > 0) features[f.name] = { ...features[f.name], ...rule };
  }
  return { ...policy, features };
}

/** Compares an accumulated window with a baseline. */
export function reportWindow(
  baseline: BaselineProfile,
  acc: ProfileAccumulator,
  counters: ReadCounters,
  policy: DriftPolicy = DEFAULT_POLICY,
  proportions: readonly ProportionSignal[] = [],
): DriftReport {
  const report = compareWindow(
    baseline,
    {
      records: acc.records,
      invalid: counters.invalid,
      features: acc.features(),
      ...(acc.phaseRecords ? { phaseRecords: acc.phaseRecords } : {}),
    },
    policy,
    proportions,
  );
  report.unexpectedFeatures = [...acc.unexpected].sort();
  return report;
}
