/**
 * `npm run --silent drift -- --baseline <file> --current <file> [--features <schema.json>] [--format json|table]`
 *
 * Compares a current file with a baseline. Either may be SageMaker data-capture JSONL or plain JSONL of flat
 * feature objects (auto-detected); the baseline may also be a baseline profile (`--save-profile` writes one).
 * Exit 0 whether or not drift was found; 2 with one message for unusable input.
 */
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import {
  accumulateWindow,
  EmptyInputError,
  loadBaseline,
  policyWithSchema,
  reportWindow,
  windowAccumulator,
} from '../../core/drift/check';
import { DEFAULT_POLICY, type DriftPolicy } from '../../core/drift/engine';
import { parseFeatureSchema, type FeatureSchema } from '../../core/drift/features';
import { renderReportTable } from '../../core/drift/render';
import { CliError, parseFlags, runCli } from './common';

const USAGE = `usage: npm run --silent drift -- --baseline <file> --current <file> [--features <schema.json>] [--format json|table]
  [--alpha <0..1>] [--correction bonferroni|benjamini-hochberg] [--min-window-size <n>] [--drifted-share <0..1>]
  [--sample-size <n>] [--seed <n>] [--save-profile <file>]`;

export { CliError };

interface CliOptions {
  baseline: string;
  current: string;
  features?: string;
  format: 'json' | 'table';
  policy: DriftPolicy;
  sampleSize?: number;
  seed?: number;
  saveProfile?: string;
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

/** Parses the command line. */
export function parseCli(argv: readonly string[]): CliOptions {
  const v = parseFlags(
    argv,
    {
      baseline: { type: 'string' },
      current: { type: 'string' },
      features: { type: 'string' },
      format: { type: 'string', default: 'table' },
      alpha: { type: 'string' },
      correction: { type: 'string' },
      'min-window-size': { type: 'string' },
      'drifted-share': { type: 'string' },
      'sample-size': { type: 'string' },
      seed: { type: 'string' },
      'save-profile': { type: 'string' },
      help: { type: 'boolean' },
    },
    USAGE,
  );
  if (v.help) throw new CliError(USAGE);
  if (!v.baseline) throw new CliError(`--baseline <file> is required\n${USAGE}`);
  if (!v.current) throw new CliError(`--current <file> is required\n${USAGE}`);
  if (v.format !== 'json' && v.format !== 'table') {
    throw new CliError(`--format must be json or table; received "${v.format}"`);
  }
  if (v.correction !== undefined && v.correction !== 'bonferroni' && v.correction !== 'benjamini-hochberg') {
    throw new CliError(`--correction must be bonferroni or benjamini-hochberg; received "${v.correction}"`);
  }
  const alpha = numberOption('alpha', v.alpha, Number.MIN_VALUE, 0.999999);
  const policy: DriftPolicy = {
    ...DEFAULT_POLICY,
    ...(alpha !== undefined ? { alpha } : {}),
    ...(v.correction ? { correction: v.correction as DriftPolicy['correction'] } : {}),
    minWindowSize: numberOption('min-window-size', v['min-window-size'], 1, 1e12, true) ?? DEFAULT_POLICY.minWindowSize,
    driftedShareThreshold:
      numberOption('drifted-share', v['drifted-share'], 0, 1) ?? DEFAULT_POLICY.driftedShareThreshold,
  };
  return {
    baseline: v.baseline,
    current: v.current,
    features: v.features,
    format: v.format,
    policy,
    sampleSize: numberOption('sample-size', v['sample-size'], 10, 10_000_000, true),
    seed: numberOption('seed', v.seed, 0, 2 ** 32 - 1, true),
    saveProfile: v['save-profile'],
  };
}

function openInput(flag: string, path: string) {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read --${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!stat.isFile()) throw new CliError(`cannot read --${flag} ${path}: not a regular file`);
  if (stat.size === 0) throw new CliError(`--${flag} ${path} is empty`);
  return createReadStream(path, { highWaterMark: 1 << 20 });
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

/** Runs the CLI; returns what to print on stdout. */
export async function runDriftCli(argv: readonly string[]): Promise<string> {
  const options = parseCli(argv);
  const schema = options.features ? loadSchema(options.features) : undefined;
  const sampling = {
    // The CLI keeps up to 100k values per feature so that raw baselines up to that size are compared exactly.
    sampleSize: options.sampleSize ?? 100_000,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
  try {
    const baseline = await loadBaseline(openInput('baseline', options.baseline), {
      schema,
      sampling,
      name: `--baseline ${options.baseline}`,
    });
    if (options.saveProfile) writeFileSync(options.saveProfile, `${JSON.stringify(baseline.profile)}\n`);
    const acc = windowAccumulator(baseline.profile, sampling);
    const counters = await accumulateWindow(acc, [openInput('current', options.current)], { schema });
    if (acc.records === 0) throw new EmptyInputError(`--current ${options.current}`, counters);
    const report = reportWindow(baseline.profile, acc, counters, policyWithSchema(options.policy, schema));
    report.records.invalid = counters.invalid + (baseline.fromProfile ? 0 : baseline.counters.invalid);
    return options.format === 'json' ? JSON.stringify(report) : renderReportTable(report);
  } catch (e) {
    if (e instanceof EmptyInputError || (e instanceof Error && e.message.startsWith('invalid baseline profile'))) {
      throw new CliError(e.message);
    }
    throw e;
  }
}

if (require.main === module) runCli('drift', () => runDriftCli(process.argv.slice(2)));
