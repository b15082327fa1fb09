/**
 * `npm run --silent drift -- --baseline <file> --current <file> [options]` (`--help` describes every option).
 *
 * Compares a current file with a baseline. Either may be SageMaker data-capture JSONL or plain JSONL of flat
 * feature objects (auto-detected); the baseline may also be a baseline profile (`--save-profile` writes one).
 * Exit 0 whether or not drift was found; 2 with one message for unusable input.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  accumulateWindowFile,
  checkSharedFeatures,
  checkTimeField,
  EmptyInputError,
  loadBaselineFile,
  NoSharedFeatureError,
  policyWithSchema,
  reportWindow,
  TimeFieldError,
  type LoadedBaseline,
} from '../../core/drift/check';
import { DEFAULT_POLICY, type DriftPolicy, type DriftReport } from '../../core/drift/engine';
import { parseFeatureSchema, type FeatureSchema } from '../../core/drift/features';
import { workerCount } from '../../core/drift/parallel';
import type { ProfileAccumulator } from '../../core/drift/profile';
import { renderReportTable } from '../../core/drift/render';
import { renderReportHtml, windowScore, type WindowScore } from '../../core/drift/report-html';
import { DEFAULT_SEASONAL_POLICY } from '../../core/drift/seasonal';
import { CAPTURE_TIME_FIELD, SEASONALITIES, type Seasonality } from '../../core/drift/time';
import { CliError, parseFlags, runCli } from './common';

const USAGE = `usage: npm run --silent drift -- --baseline <file> --current <file> [--current <file> …] [options]
       npm run --silent drift -- --help`;

const HELP = `${USAGE}

Compares the current window(s) with a baseline, feature by feature, and decides whether the data drifted.
Inputs are JSON Lines: SageMaker data capture (CSV, JSON or BASE64 payloads) or one flat JSON object per line;
the baseline may also be a baseline profile written by --save-profile. The format is detected from the content.

Inputs
  --baseline <file>          reference data: capture JSONL, plain JSONL, or a baseline profile (required)
  --current <file>           the window to check (required); repeat it to check several windows in order: the
                             last one is reported, all of them make the drift score over time
  --features <schema.json>   feature schema: {"features":[{"name","kind","threshold"?,"direction"?,
                             "seasonality"?}],"csvColumns"?:[…]} fixes kinds, names CSV columns, sets thresholds

Time
  --time-field <name>        the field holding each record's time (ISO 8601 or epoch seconds/milliseconds); never
                             compared as a feature; records without a parseable time are counted invalid.
                             Default with --seasonality: inferenceTime (data capture's eventMetadata.inferenceTime)
  --seasonality <s>          none (default), daily or weekly: compare each window with the baseline's records at
                             the same hour of day (daily) or hour of week (weekly), UTC
  --min-reference-records <n> fewest baseline records a phase needs before it is widened to neighbouring hours
                             (±1 h … ±${DEFAULT_SEASONAL_POLICY.maxBandHours} h) and then to the whole baseline (default ${DEFAULT_SEASONAL_POLICY.minReferenceRecords})

Decision rule
  --alpha <0..1>             significance level before correction (default ${DEFAULT_POLICY.alpha})
  --correction <method>      bonferroni (default) or benjamini-hochberg, across every tested feature
  --min-window-size <n>      below this many current values nothing is flagged (default ${DEFAULT_POLICY.minWindowSize})
  --drifted-share <0..1>     share of drifted features that drifts the dataset (default ${DEFAULT_POLICY.driftedShareThreshold})

Sampling and speed
  --sample-size <n>          values kept per numerical feature for KS and Wasserstein (default 100000)
  --seed <n>                 seed of every sampler (default 42)
  --workers <n|auto>         threads reading large files in byte ranges (default auto: the cores available;
                             0 reads in this thread); the result does not depend on it

Output
  --format <f>               table (default; the human view), json (one JSON document) or html (a self-contained
                             page with the distributions, statistics, thresholds and decisions)
  --out <file>               write the report to this file instead of stdout (prints one summary line)
  --save-profile <file>      also write the baseline's profile (reusable as --baseline)
  --help                     this text

Exit status: 0 whether or not drift was found; 2 with one line on stderr for unusable input (unreadable or
empty files, no valid records, a time field absent from every record, no feature in common).`;

export { CliError };

interface CliOptions {
  baseline: string;
  current: string[];
  features?: string;
  format: 'json' | 'table' | 'html';
  out?: string;
  policy: DriftPolicy;
  sampleSize?: number;
  seed?: number;
  saveProfile?: string;
  timeField?: string;
  seasonality: Seasonality;
  workers: number;
}

function numberOption(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
  integer = false,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new CliError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}; received "${raw}"`,
    );
  }
  return n;
}

/** Asked for `--help`: the help text goes to stdout with exit 0. */
class HelpRequested {
  constructor(readonly text: string) {}
}

/** The flags of the CLI (every one is described by `--help`). */
export const DRIFT_FLAGS = {
  baseline: { type: 'string' },
  current: { type: 'string', multiple: true },
  features: { type: 'string' },
  format: { type: 'string', default: 'table' },
  out: { type: 'string' },
  'time-field': { type: 'string' },
  seasonality: { type: 'string' },
  'min-reference-records': { type: 'string' },
  alpha: { type: 'string' },
  correction: { type: 'string' },
  'min-window-size': { type: 'string' },
  'drifted-share': { type: 'string' },
  'sample-size': { type: 'string' },
  seed: { type: 'string' },
  'save-profile': { type: 'string' },
  workers: { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** Parses the command line. */
export function parseCli(argv: readonly string[]): CliOptions {
  const v = parseFlags(argv, DRIFT_FLAGS, USAGE);
  if (v.help) throw new HelpRequested(HELP);
  if (!v.baseline) throw new CliError(`--baseline <file> is required\n${USAGE}`);
  if (!v.current || v.current.length === 0) throw new CliError(`--current <file> is required\n${USAGE}`);
  if (v.format !== 'json' && v.format !== 'table' && v.format !== 'html') {
    throw new CliError(`--format must be json, table or html; received "${v.format}"`);
  }
  if (v.correction !== undefined && v.correction !== 'bonferroni' && v.correction !== 'benjamini-hochberg') {
    throw new CliError(`--correction must be bonferroni or benjamini-hochberg; received "${v.correction}"`);
  }
  const seasonality = (v.seasonality ?? 'none') as Seasonality;
  if (!SEASONALITIES.includes(seasonality)) {
    throw new CliError(`--seasonality must be none, daily or weekly; received "${v.seasonality}"`);
  }
  if (v['time-field'] !== undefined && v['time-field'].trim() === '') {
    throw new CliError('--time-field must name a field; received an empty name');
  }
  const alpha = numberOption('alpha', v.alpha, Number.MIN_VALUE, 0.999999);
  const minReference = numberOption('min-reference-records', v['min-reference-records'], 1, 1e12, true);
  const policy: DriftPolicy = {
    ...DEFAULT_POLICY,
    ...(alpha !== undefined ? { alpha } : {}),
    ...(v.correction ? { correction: v.correction as DriftPolicy['correction'] } : {}),
    minWindowSize: numberOption('min-window-size', v['min-window-size'], 1, 1e12, true) ?? DEFAULT_POLICY.minWindowSize,
    driftedShareThreshold:
      numberOption('drifted-share', v['drifted-share'], 0, 1) ?? DEFAULT_POLICY.driftedShareThreshold,
    seasonality,
    ...(minReference !== undefined ? { seasonal: { minReferenceRecords: minReference } } : {}),
  };
  return {
    baseline: v.baseline,
    current: v.current,
    features: v.features,
    format: v.format,
    out: v.out,
    policy,
    sampleSize: numberOption('sample-size', v['sample-size'], 10, 10_000_000, true),
    seed: numberOption('seed', v.seed, 0, 2 ** 32 - 1, true),
    saveProfile: v['save-profile'],
    timeField: v['time-field'] ?? (seasonality !== 'none' ? CAPTURE_TIME_FIELD : undefined),
    seasonality,
    workers: workerCount(
      v.workers === undefined || v.workers === 'auto' ? 'auto' : (numberOption('workers', v.workers, 0, 64, true) ?? 0),
    ),
  };
}

function checkInput(flag: string, path: string): string {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read --${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!stat.isFile()) throw new CliError(`cannot read --${flag} ${path}: not a regular file`);
  if (stat.size === 0) throw new CliError(`--${flag} ${path} is empty`);
  return path;
}

function loadSchema(path: string): FeatureSchema {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read --features ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError(`--features ${path} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return parseFeatureSchema(json);
  } catch (e) {
    throw new CliError(`--features ${path}: ${(e as Error).message}`);
  }
}

function writeOutput(flag: string, path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new CliError(`cannot write --${flag} ${path}: ${why}`);
  }
}

const FORMATS_HINT =
  'drift reads JSON Lines: SageMaker data capture, one flat JSON object per line, or a baseline profile ' +
  '(--save-profile); convert a CSV file to JSON Lines first (one {"column": value} object per row)';

/** An input with no valid records: the reader's counts, plus a hint when it looks like another format. */
function emptyInputMessage(error: EmptyInputError, path: string): string {
  const reasons = Object.keys(error.counters.invalidReasons);
  const notJson = reasons.length > 0 && reasons.every((r) => r === 'invalid-json' || r === 'not-an-object');
  return /\.(csv|tsv|txt)$/i.test(path) || notJson ? `${error.message}. ${FORMATS_HINT}` : error.message;
}

/**
 * Positional columns (CSV or JSON arrays without a schema are named f0, f1, …) beyond the baseline's: rows with more
 * columns than the baseline's are an input problem, not a new feature.
 */
function checkExtraColumns(baseline: LoadedBaseline, acc: ProfileAccumulator, path: string): void {
  const positional = (name: string) => /^f\d+$/.test(name);
  const extra = [...acc.unexpected].filter(positional);
  const known = Object.keys(baseline.profile.features).filter(positional);
  if (extra.length === 0 || known.length === 0) return;
  const columns = (names: string[]) => Math.max(...names.map((n) => Number(n.slice(1)))) + 1;
  throw new CliError(
    `--current ${path}: its CSV rows have up to ${columns(extra)} columns but the baseline's have ${columns(known)} (f0…f${columns(known) - 1}); column(s) ${extra.sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))).join(', ')} are not in the baseline. Compare files with the same columns, or name the columns with --features (csvColumns)`,
  );
}

async function checkWindow(
  options: CliOptions,
  baseline: LoadedBaseline,
  schema: FeatureSchema | undefined,
  sampling: { sampleSize: number; seed?: number },
  path: string,
): Promise<DriftReport> {
  const { acc, counters } = await accumulateWindowFile(baseline.profile, checkInput('current', path), {
    schema,
    sampling,
    timeField: options.timeField,
    workers: options.workers,
  });
  checkTimeField(`--current ${path}`, options, acc.records, {
    counters,
    timeRejectedFields: counters.timeRejectedFields,
  });
  if (acc.records === 0) {
    const error = new EmptyInputError(`--current ${path}`, counters);
    throw new CliError(emptyInputMessage(error, path));
  }
  checkExtraColumns(baseline, acc, path);
  checkSharedFeatures(baseline.profile, acc, `--baseline ${options.baseline} and --current ${path}`);
  const report = reportWindow(baseline.profile, acc, counters, policyWithSchema(options.policy, schema));
  report.records.invalid = counters.invalid + (baseline.fromProfile ? 0 : baseline.counters.invalid);
  return report;
}

/** Runs the CLI; returns what to print on stdout. */
export async function runDriftCli(argv: readonly string[]): Promise<string> {
  let options: CliOptions;
  try {
    options = parseCli(argv);
  } catch (e) {
    if (e instanceof HelpRequested) return e.text;
    throw e;
  }
  const schema = options.features ? loadSchema(options.features) : undefined;
  const sampling = {
    // The CLI keeps up to 100k values per feature so that raw baselines up to that size are compared exactly.
    sampleSize: options.sampleSize ?? 100_000,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
  try {
    let baseline: LoadedBaseline;
    try {
      baseline = await loadBaselineFile(checkInput('baseline', options.baseline), {
        schema,
        sampling,
        timeField: options.timeField,
        name: `--baseline ${options.baseline}`,
        workers: options.workers,
      });
    } catch (e) {
      if (e instanceof EmptyInputError) throw new CliError(emptyInputMessage(e, options.baseline));
      throw e;
    }
    if (baseline.fromProfile && options.seasonality !== 'none' && !baseline.profile.seasonal) {
      throw new CliError(
        `--baseline ${options.baseline} is a baseline profile without per-phase data; rebuild it from raw records with --time-field to compare --seasonality ${options.seasonality}`,
      );
    }
    if (options.saveProfile) writeOutput('save-profile', options.saveProfile, `${JSON.stringify(baseline.profile)}\n`);
    const history: WindowScore[] = [];
    let report: DriftReport | undefined;
    for (const path of options.current) {
      report = await checkWindow(options, baseline, schema, sampling, path);
      history.push(windowScore(basename(path), report));
    }
    const last = report as DriftReport;
    const output = render(options, last, history);
    if (!options.out) return output;
    writeOutput('out', options.out, options.format === 'html' ? output : `${output}\n`);
    return `wrote ${options.out}: ${last.drifted ? 'DRIFT DETECTED' : 'no drift'} (${last.reason})`;
  } catch (e) {
    if (
      e instanceof EmptyInputError ||
      e instanceof TimeFieldError ||
      e instanceof NoSharedFeatureError ||
      (e instanceof Error && e.message.startsWith('invalid baseline profile'))
    ) {
      throw new CliError(e.message);
    }
    throw e;
  }
}

function render(options: CliOptions, report: DriftReport, history: WindowScore[]): string {
  if (options.format === 'json') {
    return JSON.stringify(history.length > 1 ? { ...report, history } : report);
  }
  if (options.format === 'html') {
    return renderReportHtml(report, {
      title: 'Drift report',
      subtitle: `baseline ${basename(options.baseline)} · current ${basename(options.current[options.current.length - 1])}`,
      history,
    });
  }
  return renderReportTable(report);
}

if (require.main === module) runCli('drift', () => runDriftCli(process.argv.slice(2)));
