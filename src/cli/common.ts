/**
 * What every CLI of the blueprint shares: strict flag parsing that reports problems with the usage line, `--help`
 * (the usage and every flag with its description), and one way to run: output on stdout, one-line problems on
 * stderr with exit code 2, unexpected errors with exit code 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage or input problem: printed as one line (plus usage when given), exit code 2. */
export class CliError extends Error {}

/** `--help` (or `-h`) was given: not a problem. {@link runCli} prints the text on stdout and exits 0. */
export class HelpRequested extends Error {}

type ParseArgsOption = NonNullable<ParseArgsConfig['options']>[string];

/** One flag: what `node:util` `parseArgs` takes, plus what `--help` says about it. */
export type Flag = ParseArgsOption & {
  /** One line for `--help`: what the flag does, its unit and its default. */
  readonly description?: string;
  /** Placeholder of a string flag's value in `--help` (`<n>`). @default `<value>` */
  readonly placeholder?: string;
};

type Flags = Record<string, Flag>;

/** True when the arguments ask for help (`--help` or `-h` anywhere before a `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** The `--help` text: the usage, then one line per flag with its description. */
export function renderHelp(usage: string, flags: Flags): string {
  const rows = Object.entries(flags)
    .filter(([name]) => name !== 'help')
    .map(([name, f]) => {
      const left = f.type === 'string' ? `--${name} ${f.placeholder ?? '<value>'}` : `--${name}`;
      return [left, f.description ?? ''] as const;
    });
  rows.push(['--help, -h', 'print this help and exit']);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [usage, '', 'options:', ...rows.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`.trimEnd())].join(
    '\n',
  );
}

/**
 * Parses `argv` strictly (no positionals). `--help`/`-h` throws {@link HelpRequested} with {@link renderHelp}'s
 * text, unless the CLI declares a `help` flag itself (then it writes its own help); unknown or malformed flags
 * become a {@link CliError} with the usage.
 */
export function parseFlags<T extends Flags>(argv: readonly string[], options: T, usage: string) {
  if (!('help' in options) && wantsHelp(argv)) throw new HelpRequested(renderHelp(usage, options));
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n${usage}`);
  }
}

/** The one line an error is reported with: its message, else its code or name, else its text. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const first = error.message.split('\n')[0];
  if (first) return first;
  // Node's connection errors are AggregateErrors with an empty message (one error per address tried).
  const inner = error instanceof AggregateError ? error.errors.find((e: unknown) => e instanceof Error) : undefined;
  return inner ? errorMessage(inner) : (code ?? error.name);
}

/**
 * An AWS SDK or network error as one line that says how to fix it: a missing region or credentials name the
 * flag and the environment variables; a refused connection names the endpoint.
 */
export function describeAwsError(error: unknown, where: { readonly endpoint?: string } = {}): string {
  const message = errorMessage(error);
  const code = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.name) : undefined;
  if (/Region is missing/i.test(message)) {
    return 'no AWS region: pass --region <region>, or set AWS_REGION (or a region in your AWS profile)';
  }
  if (/Could not load credentials|CredentialsProviderError/i.test(`${message} ${code ?? ''}`)) {
    return 'no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for the target account';
  }
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT/.test(`${message} ${code ?? ''}`)) {
    const target = where.endpoint ?? 'the AWS endpoint';
    return `cannot reach ${target}: ${message}${where.endpoint ? ' (is the local service running on that port?)' : ''}`;
  }
  return message;
}

/**
 * Runs a CLI's main function: what it returns is printed on stdout; {@link HelpRequested} prints the help on
 * stdout (exit 0); a {@link CliError} prints `<name>: <message>` on stderr and exits 2; anything else prints its
 * stack and exits 1. Resolves when done (tests await it).
 */
export function runCli(name: string, main: () => Promise<string | void> | string | void): Promise<void> {
  return Promise.resolve()
    .then(main)
    .then(
      (out) => {
        if (typeof out === 'string') process.stdout.write(`${out}\n`);
      },
      (error: unknown) => {
        if (error instanceof HelpRequested) {
          process.stdout.write(`${error.message}\n`);
          return;
        }
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
