/**
 * What every CLI of the blueprint shares: strict flag parsing that reports problems with the usage line, and one
 * way to run: output on stdout, one-line problems on stderr with exit code 2, unexpected errors with exit code 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage or input problem: printed as one line (plus usage when given), exit code 2. */
export class CliError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` strictly (no positionals); unknown or malformed flags become a {@link CliError} with the usage. */
export function parseFlags<T extends Options>(argv: readonly string[], options: T, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n${usage}`);
  }
}

/**
 * Runs a CLI's main function: what it returns is printed on stdout; a {@link CliError} prints `<name>: <message>`
 * on stderr and exits 2; anything else prints its stack and exits 1.
 */
export function runCli(name: string, main: () => Promise<string | void> | string | void): void {
  Promise.resolve()
    .then(main)
    .then(
      (out) => {
        if (typeof out === 'string') process.stdout.write(`${out}\n`);
      },
      (error: unknown) => {
        if (error instanceof CliError) {
          process.stderr.write(`${name}: ${error.message}\n`);
          process.exitCode = 2;
          return;
        }
        process.stderr.write(`${name}: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
        process.exitCode = 1;
      },
    );
}
