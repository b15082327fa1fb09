/**
 * Runs one Athena statement to completion for the slate-outcome writer: start it, poll its state with a bounded
 * wait, stop it when the wait runs out (so that no query still writes when the next attempt clears its
 * destination), and fail with Athena's own reason. The Lambda implements the port with the Athena client.
 */

/** Athena's query states. */
export type AthenaQueryState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** The three Athena calls the runner makes. */
export interface AthenaQueryPort {
  /** StartQueryExecution: the query execution id. */
  start(sql: string): Promise<string>;
  /** GetQueryExecution: the state and, when it failed, why. */
  state(queryExecutionId: string): Promise<{ readonly state: AthenaQueryState; readonly reason?: string }>;
  /** StopQueryExecution. */
  stop(queryExecutionId: string): Promise<void>;
}

/** How long to wait and how often to look. */
export interface AthenaWait {
  /** Give up (and stop the query) after this long. */
  readonly maxWaitMs: number;
  /** Between two state reads. @default 2000 */
  readonly pollMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** A `runQuery` port over Athena: resolves with the query execution id once the statement succeeded. */
export function athenaQueryRunner(
  port: AthenaQueryPort,
  wait: AthenaWait,
): (sql: string) => Promise<{ queryExecutionId: string }> {
  if (!(wait.maxWaitMs > 0)) throw new Error(`maxWaitMs must be positive; received ${wait.maxWaitMs}`);
  const pollMs = wait.pollMs ?? 2000;
  const sleep = wait.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const clock = wait.clock ?? Date.now;
  return async (sql) => {
    const queryExecutionId = await port.start(sql);
    const deadline = clock() + wait.maxWaitMs;
    for (;;) {
      const { state, reason } = await port.state(queryExecutionId);
      if (state === 'SUCCEEDED') return { queryExecutionId };
      if (state === 'FAILED') {
        throw new Error(`Athena query ${queryExecutionId} failed: ${reason ?? 'no reason given'}`);
      }
      if (state === 'CANCELLED') {
        throw new Error(`Athena query ${queryExecutionId} was cancelled${reason ? `: ${reason}` : ''}`);
      }
      if (clock() >= deadline) {
        await port.stop(queryExecutionId);
        throw new Error(
          `Athena query ${queryExecutionId} did not finish within ${Math.round(wait.maxWaitMs / 1000)} s (still ${state}); it was stopped`,
        );
      }
      await sleep(Math.min(pollMs, Math.max(0, deadline - clock())));
    }
  };
}
