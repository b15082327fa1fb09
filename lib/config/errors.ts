/**
 * A configuration problem found at synth time. `bin/app.ts` prints its message alone (no stack trace) and
 * exits non-zero, so a user sees exactly which field was wrong, what was received and what is allowed.
 */
export class ConfigError extends Error {
  /** Each problem on its own, e.g. `ingestion.shardCount must be a positive integer; received 0`. */
  public readonly problems: readonly string[];

  constructor(context: string, problems: readonly string[]) {
    const body = problems.length === 1 ? problems[0] : problems.map((p) => `\n  - ${p}`).join('');
    super(`Invalid configuration (${context}): ${body}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Renders a received value for an error message: short, unambiguous, never `[object Object]`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}
