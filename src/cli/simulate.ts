/**
 * `npm run simulate -- [--case recommender|vision] [--seed <n>] [--drift|--no-drift] [--json] [--out <dir>]`: the blueprint's
 * loop on this machine, with local emulators and simulated time (see docs/simulate.md).
 */
import '../local-world/polyfill';
import { CASE_STUDIES, type CaseStudyName } from '../../lib/config';
import { simulate } from '../simulate/run';
import { CliError, HelpRequested, parseFlags, runCli } from './common';

const USAGE =
  'usage: npm run simulate -- [--case recommender|vision] [--seed <n>] [--drift | --no-drift] [--json] [--out <dir>]';

/** The flags of `simulate`, with what `--help` says about each. */
export const SIMULATE_FLAGS = {
  case: { type: 'string', placeholder: '<case>', description: 'one case study: recommender or vision (default: both)' },
  seed: {
    type: 'string',
    placeholder: '<n>',
    description: 'integer seed of every generator (default 1); the same seed gives the same result',
  },
  drift: { type: 'boolean', description: 'the second period drifts (default: odd seeds drift, even seeds do not)' },
  'no-drift': { type: 'boolean', description: 'the second period does not drift' },
  json: { type: 'boolean', description: 'print one JSON document at the end instead of the timeline' },
  out: {
    type: 'string',
    placeholder: '<dir>',
    description:
      'keep the local world’s files in <dir> (S3 layout: lake, served slates, datasets, model.tar.gz, transform outputs, reports)',
  },
} as const;

/** Parses the flags and runs the simulation; returns what to print. */
export async function main(
  argv: readonly string[],
  print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<string | void> {
  let flags;
  try {
    flags = parseFlags(argv, SIMULATE_FLAGS, USAGE);
  } catch (e) {
    if (e instanceof HelpRequested) return e.message;
    throw e;
  }
  let caseStudies: CaseStudyName[] | undefined;
  if (flags.case !== undefined) {
    if (!(CASE_STUDIES as readonly string[]).includes(flags.case)) {
      throw new CliError(`--case must be one of ${CASE_STUDIES.join(', ')}; received "${flags.case}"\n${USAGE}`);
    }
    caseStudies = [flags.case as CaseStudyName];
  }
  let seed = 1;
  if (flags.seed !== undefined) {
    seed = Number(flags.seed);
    if (!/^-?\d+$/.test(flags.seed) || !Number.isSafeInteger(seed)) {
      throw new CliError(`--seed must be an integer; received "${flags.seed}"\n${USAGE}`);
    }
  }
  if (flags.drift && flags['no-drift']) throw new CliError(`--drift and --no-drift exclude each other\n${USAGE}`);
  const drift = flags.drift ? true : flags['no-drift'] ? false : undefined;
  const result = await simulate({
    caseStudies,
    seed,
    drift,
    sink: flags.json ? undefined : print,
    ...(flags.out !== undefined ? { outDir: flags.out } : {}),
  });
  if (flags.json) return JSON.stringify(result, null, 2);
}

if (require.main === module) void runCli('simulate', () => main(process.argv.slice(2)));
