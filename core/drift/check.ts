/**
 * The drift check end to end, shared by the Lambda handler and the CLI: read a baseline (a profile document or
 * raw records), stream the current window into accumulators aligned with it, and compare.
 */
import type { FeatureSchema } from './features';
import {
  expectationsFromBaseline,
  expectationsFromSchema,
  parseBaselineProfile,
  ProfileAccumulator,
  toBaselineProfile,
  type BaselineProfile,
  type SamplingOptions,
} from './profile';
import { consumeRecords, type ChunkSource, type ReadCounters, type ReadOptions } from './readers';
import { compareWindow, DEFAULT_POLICY, type DriftPolicy, type DriftReport, type ProportionSignal } from './engine';

/** Read settings shared by both sides. */
export interface CheckReadOptions {
  /** Feature schema: fixed kinds, CSV column names, per-feature thresholds. */
  readonly schema?: FeatureSchema;
  /** Sample sizes and seed. */
  readonly sampling?: SamplingOptions;
  /** Only capture records in this window (current side). */
  readonly window?: ReadOptions['window'];
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

/** Reads a baseline from a profile document or from raw records (capture or plain JSONL). */
export async function loadBaseline(
  source: ChunkSource,
  options: CheckReadOptions & { readonly name?: string } = {},
): Promise<LoadedBaseline> {
  const acc = new ProfileAccumulator({
    sampling: options.sampling,
    expectations: options.schema ? expectationsFromSchema(options.schema) : undefined,
  });
  const summary = await consumeRecords(source, { schema: options.schema }, ({ record }) => acc.add(record));
  if (summary.format === 'profile') {
    return { profile: parseBaselineProfile(summary.profile), fromProfile: true, counters: summary.counters };
  }
  if (acc.records === 0) throw new EmptyInputError(options.name ?? 'the baseline', summary.counters);
  return {
    profile: toBaselineProfile(acc, { invalid: summary.counters.invalid, source: options.name }),
    fromProfile: false,
    counters: summary.counters,
  };
}

/** Accumulates a current window aligned with a baseline (same kinds, reference bins, embedding projection). */
export function windowAccumulator(baseline: BaselineProfile, sampling?: SamplingOptions): ProfileAccumulator {
  return new ProfileAccumulator({
    sampling: { ...baseline.sampling, ...sampling },
    expectations: expectationsFromBaseline(baseline),
  });
}

/** Streams every source of the current window into one accumulator; returns the accumulated counters. */
export async function accumulateWindow(
  acc: ProfileAccumulator,
  sources: Iterable<ChunkSource> | AsyncIterable<ChunkSource>,
  options: CheckReadOptions = {},
): Promise<ReadCounters> {
  const total: ReadCounters = {
    lines: 0,
    records: 0,
    invalid: 0,
    invalidReasons: {},
    outOfWindow: 0,
    noEventTime: 0,
    invalidExamples: [],
  };
  for await (const source of sources) {
    const summary = await consumeRecords(
      source,
      { schema: options.schema, window: options.window, format: 'auto' },
      ({ record }) => acc.add(record),
    );
    const c = summary.counters;
    total.lines += c.lines;
    total.records += c.records;
    total.invalid += c.invalid;
    total.outOfWindow += c.outOfWindow;
    total.noEventTime += c.noEventTime;
    for (const [reason, n] of Object.entries(c.invalidReasons)) {
      total.invalidReasons[reason] = (total.invalidReasons[reason] ?? 0) + n;
    }
    for (const example of c.invalidExamples) {
      if (total.invalidExamples.length < 10) total.invalidExamples.push(example);
    }
  }
  return total;
}

/** Policy with per-feature thresholds taken from a schema. */
export function policyWithSchema(policy: DriftPolicy, schema?: FeatureSchema): DriftPolicy {
  if (!schema) return policy;
  const features = { ...policy.features };
  for (const f of schema.features) {
    if (f.threshold !== undefined) features[f.name] = { ...features[f.name], threshold: f.threshold };
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
    { records: acc.records, invalid: counters.invalid, features: acc.features() },
    policy,
    proportions,
  );
  report.unexpectedFeatures = [...acc.unexpected].sort();
  return report;
}
