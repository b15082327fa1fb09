/**
 * Running the local container shim (`container.py`) under Debian's Python: which interpreter, how a process's
 * output is captured, and the error when it cannot even start.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** Environment variable that overrides the interpreter (a venv on macOS, for example). */
export const PYTHON_ENV_VAR = 'ML_BLUEPRINT_PYTHON';

/** Debian's interpreter: a bare `python3` may be a pyenv shim that cannot see python3-xgboost. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/** The shim playing the framework container. */
export const CONTAINER_SCRIPT = path.join(__dirname, 'container.py');

/** The interpreter the local SageMaker runs: `$ML_BLUEPRINT_PYTHON`, else `/usr/bin/python3`. */
export function pythonExecutable(env: NodeJS.ProcessEnv = process.env): string {
  return env[PYTHON_ENV_VAR] || DEFAULT_PYTHON;
}

/** Variables a container process inherits from this one; credentials and the rest stay out, as in SageMaker. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ'];

/** A minimal environment for a container process, plus `extra`. */
export function containerEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** What a finished process left behind. */
export interface ProcessOutcome {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved in arrival order (what CloudWatch Logs would show). */
  readonly log: string;
  /** True when `timeoutMs` elapsed and the process group was killed. */
  readonly timedOut: boolean;
}

/** Options of {@link runPython}. */
export interface RunPythonOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** Kill the process and its children after this long. @default no limit */
  readonly timeoutMs?: number;
}

/** Run `python <args>` to completion, capturing its output; rejects only when the interpreter cannot start. */
export function runPython(args: readonly string[], options: RunPythonOptions = {}): Promise<ProcessOutcome> {
  const python = pythonExecutable();
  return new Promise((resolve, reject) => {
    const child = spawn(python, [...args], {
      cwd: options.cwd,
      env: options.env ?? containerEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a timeout also ends the training script the shim started.
      detached: options.timeoutMs !== undefined,
    });
    const out: string[] = [];
    const err: string[] = [];
    const log: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out.push(chunk), log.push(chunk)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err.push(chunk), log.push(chunk)));
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          }, options.timeoutMs);
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(pythonStartError(python, error));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout: out.join(''), stderr: err.join(''), log: log.join(''), timedOut });
    });
  });
}

/** The error when the interpreter is missing: what was tried and how to fix it. */
export function pythonStartError(python: string, cause: Error): Error {
  return new Error(
    `cannot start Python at ${python} (${cause.message}); install Debian's python3 with python3-xgboost ` +
      `(npm test does) or set ${PYTHON_ENV_VAR} to an interpreter that has the model's packages`,
  );
}

/** The last `count` non-empty lines of a text, for error messages. */
export function lastLines(text: string, count: number): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-count)
    .join('\n');
}

/** Run the shim with `args`; throw with its stderr when it fails. */
export async function runContainerCommand(args: readonly string[], what: string): Promise<ProcessOutcome> {
  const outcome = await runPython([CONTAINER_SCRIPT, ...args]);
  if (outcome.code !== 0) {
    throw new Error(`${what} failed (exit code ${outcome.code}): ${lastLines(outcome.stderr, 10)}`);
  }
  return outcome;
}
