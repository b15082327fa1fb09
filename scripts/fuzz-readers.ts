/**
 * `npm run fuzz -- [--seed <n>] [--size <lines>] [--rounds <n>]`: fuzzes the drift record readers with a seeded
 * corpus (see `test/support/reader-fuzz.ts`); jest runs a small sample of it, CI a mid-sized run, and a developer
 * any seed and size. Prints what it checked; on a failure, the seed and size to reproduce it, and exit code 1.
 */
import { parseArgs } from 'node:util';
import {
  captureCase,
  checkChunkings,
  checkMix,
  checkPlain,
  checkWhole,
  checkWindow,
} from '../test/support/reader-fuzz';

const USAGE = 'usage: npm run fuzz -- [--seed <n>] [--size <lines>] [--rounds <chunkings>]';

function integer(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new Error(`--${name} must be an integer ≥ ${min}; received "${value}"\n${USAGE}`);
  }
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      size: { type: 'string' },
      rounds: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const seed = integer('seed', values.seed, 20261123, -(2 ** 31));
  const size = integer('size', values.size, 4000, 100);
  const rounds = integer('rounds', values.rounds, 5, 1);
  const started = process.hrtime.bigint();
  const c = captureCase(seed, size);
  const checks: Array<[string, () => void | Promise<void>]> = [
    ['capture: a meaningful mix', () => checkMix(c)],
    ['capture: whole buffer', () => checkWhole(c)],
    [`capture: ${rounds} random chunkings`, () => checkChunkings(c, rounds)],
    ['capture: time window', () => checkWindow(c)],
    ['plain lines', () => checkPlain(seed, size)],
  ];
  for (const [name, check] of checks) {
    try {
      await check();
      process.stdout.write(`ok    ${name}\n`);
    } catch (e) {
      process.stdout.write(
        `FAIL  ${name}\n${(e as Error).message}\nreproduce: npm run fuzz -- --seed ${seed} --size ${size} --rounds ${rounds}\n`,
      );
      return 1;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(
    `fuzz: seed ${seed}, ${size} capture lines (${c.bad} bad) and ${size} plain lines: all checks passed in ${seconds.toFixed(1)} s\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fuzz: ${(e as Error).message}\n`);
    process.exitCode = 2;
  },
);
