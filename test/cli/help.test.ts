/**
 * The CLIs' shared contract (src/cli/common.ts): `--help` prints the usage and every flag with its description on
 * stdout and exits 0; usage problems exit 2 with one line; AWS and network failures become one line that says how
 * to fix them. Every CLI is held to it, in-process, and the two entry points a new user types first are spawned.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  CliError,
  describeAwsError,
  errorMessage,
  HelpRequested,
  parseFlags,
  renderHelp,
  runCli,
  wantsHelp,
  type Flag,
} from '../../src/cli/common';
import { APPROVE_FLAGS, parseApproveArgs } from '../../src/cli/approve';
import { COST_FLAGS, parseCostCli } from '../../src/cli/cost';
import { PRODUCE_FLAGS, parseProduceArgs } from '../../src/cli/produce';
import { parseRetrainArgs, RETRAIN_FLAGS } from '../../src/cli/retrain';
import { main as simulateMain, SIMULATE_FLAGS } from '../../src/cli/simulate';
import { docsCli, DOCS_FLAGS } from '../../src/docs/generate';

const root = join(__dirname, '..', '..');

/** Each CLI: its flags and what its `--help` produces (the thrown help, or the returned text). */
const CLIS: ReadonlyArray<readonly [string, Record<string, Flag>, (argv: string[]) => unknown]> = [
  ['produce', PRODUCE_FLAGS, parseProduceArgs],
  ['retrain', RETRAIN_FLAGS, (argv) => parseRetrainArgs(argv)],
  ['approve', APPROVE_FLAGS, (argv) => parseApproveArgs(argv)],
  ['cost', COST_FLAGS, parseCostCli],
  ['simulate', SIMULATE_FLAGS, simulateMain],
  ['docs', DOCS_FLAGS, (argv) => docsCli(argv, '/nonexistent')],
];

async function helpOf(run: (argv: string[]) => unknown, argv: string[]): Promise<string> {
  try {
    const out = await run(argv);
    if (typeof out === 'string') return out;
  } catch (e) {
    if (e instanceof HelpRequested) return e.message;
    throw e;
  }
  throw new Error('no help');
}

/** Runs a CLI's main through runCli, capturing stdout, stderr and the exit code. */
async function run(main: () => unknown) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  const before = process.exitCode;
  try {
    await runCli('x', main as () => string);
    return { stdout: out.join(''), stderr: err.join(''), code: process.exitCode ?? 0 };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = before;
  }
}

describe.each(CLIS)('%s --help', (_name, flags, main) => {
  test('describes every flag, and -h does the same', async () => {
    const text = await helpOf(main, ['--help']);
    expect(text).toMatch(/^usage: npm run /);
    for (const [name, flag] of Object.entries(flags)) {
      expect(flag.description).toBeTruthy();
      const line = text.split('\n').find((l) => l.trimStart().startsWith(`--${name} `) || l.trim() === `--${name}`);
      expect(line).toBeDefined();
      expect(line).toContain(flag.description);
    }
    expect(await helpOf(main, ['-h'])).toBe(text);
  });

  test('exits 0 with the help on stdout, even next to other flags', async () => {
    const result = await run(() => main(['--stage', 'nonsense', '--help']));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^usage: /);
    expect(result.stdout).toMatch(/--help, -h +print this help and exit/);
  });
});

describe('the shared parsing and running', () => {
  const flags = {
    rate: { type: 'string', placeholder: '<n>', description: 'events per second' },
    drift: { type: 'boolean', description: 'shift the distribution' },
  } as const;

  test('renderHelp aligns one line per flag after the usage', () => {
    expect(renderHelp('usage: x', flags).split('\n')).toEqual([
      'usage: x',
      '',
      'options:',
      '  --rate <n>  events per second',
      '  --drift     shift the distribution',
      '  --help, -h  print this help and exit',
    ]);
  });

  test('--help after -- is an argument, not a request for help', () => {
    expect(wantsHelp(['--', '--help'])).toBe(false);
    expect(wantsHelp(['--rate', '1', '-h'])).toBe(true);
  });

  test('an unknown flag is a usage problem: exit 2 with the message and the usage on stderr', async () => {
    const result = await run(() => parseFlags(['--bogus'], flags, 'usage: x'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^x: Unknown option '--bogus'[^\n]*\nusage: x\n$/);
  });

  test('an unexpected error exits 1 with its stack', async () => {
    const result = await run(() => {
      throw new TypeError('boom');
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^x: unexpected error: TypeError: boom\n\s+at /);
  });
});

describe('AWS and network failures are one line that says how to fix them', () => {
  test('a missing region names --region and AWS_REGION', () => {
    expect(describeAwsError(new Error('Region is missing'))).toBe(
      'no AWS region: pass --region <region>, or set AWS_REGION (or a region in your AWS profile)',
    );
  });

  test('missing credentials name AWS_PROFILE', () => {
    const e = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(describeAwsError(e)).toMatch(/^no AWS credentials: set AWS_PROFILE/);
  });

  test('a refused connection names the endpoint, also when Node reports an AggregateError without a message', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const aggregate = Object.assign(new AggregateError([refused], ''), { code: 'ECONNREFUSED' });
    expect(errorMessage(aggregate)).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(describeAwsError(aggregate, { endpoint: 'http://127.0.0.1:1' })).toBe(
      'cannot reach http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1 (is the local service running on that port?)',
    );
  });

  test('other errors keep their first line', () => {
    expect(describeAwsError(new Error('AccessDeniedException: not allowed\nmore'))).toBe(
      'AccessDeniedException: not allowed',
    );
    expect(new CliError('x')).toBeInstanceOf(Error);
  });
});

describe('spawned as a user runs them', () => {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const spawn = (args: string[]) =>
    spawnSync(tsx, args, {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      // As `npm run` does: the project's node_modules/.bin (and so its Node 22) first on PATH.
      env: { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
    });

  test('produce --help exits 0 and prints no warning (no Node-version notice either)', () => {
    const result = spawn(['src/cli/produce.ts', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run produce/);
    expect(result.stderr).toBe('');
  });

  test('produce --endpoint to a closed port fails with one line naming the endpoint, no stack trace', () => {
    const result = spawn([
      'src/cli/produce.ts',
      '--case',
      'recommender',
      '--rate',
      '1',
      '--seconds',
      '1',
      '--endpoint',
      'http://127.0.0.1:9',
      '--region',
      'us-east-1',
    ]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^produce: cannot reach http:\/\/127\.0\.0\.1:9: .*ECONNREFUSED/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('retrain without a region says how to set one, in one line', () => {
    const result = spawnSync(
      join(root, 'node_modules', '.bin', 'tsx'),
      ['src/cli/retrain.ts', '--case', 'vision', '--stage', 'sandbox'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
          HOME: '/nonexistent',
          AWS_CONFIG_FILE: '/nonexistent/config',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
        },
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'retrain: no AWS region: pass --region <region>, or set AWS_REGION (or a region in your AWS profile)\n',
    );
  });

  test('npm run synth -- --help prints the main job’s usage and synthesizes nothing', () => {
    const result = spawn(['scripts/synth.ts', '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run synth -- \[cdk synth options\]/);
    expect(result.stdout).toContain('-c notifyEmail=<address>');
    expect(result.stdout).not.toMatch(/Synthesized into/);
    expect(result.stderr).toBe('');
  });
});
