/**
 * When drift turns into a retraining request: drift must hold in `windowsRequired` of the last
 * `windowsConsidered` windows, and no request may have been made within the cooldown. The state is a small JSON
 * document the drift checker keeps per endpoint; re-processing a window that is already recorded changes nothing
 * (idempotent per window).
 */

/** The outcome of one window. */
export interface WindowOutcome {
  /** End of the window (ISO-8601), its identity. */
  readonly windowEnd: string;
  readonly drifted: boolean;
}

/** What the checker remembers between runs. */
export interface RetrainingState {
  /** Most recent windows, newest last. */
  readonly windows: readonly WindowOutcome[];
  /** When retraining was last requested (ISO-8601). */
  readonly lastRequestAt?: string;
}

/** The k-of-n and cooldown settings. */
export interface RetrainingPolicy {
  readonly windowsRequired: number;
  readonly windowsConsidered: number;
  readonly cooldownHours: number;
}

/** The decision for one window. */
export interface RetrainingDecision {
  readonly requestRetraining: boolean;
  readonly reason: string;
  /** True when the window had been recorded before: nothing changed. */
  readonly duplicate: boolean;
  readonly state: RetrainingState;
}

/** An empty state. */
export const EMPTY_STATE: RetrainingState = { windows: [] };

/** Records a window and decides whether to request retraining. Pure. */
export function decideRetraining(
  state: RetrainingState,
  outcome: WindowOutcome,
  policy: RetrainingPolicy,
  now: Date,
): RetrainingDecision {
  if (state.windows.some((w) => w.windowEnd === outcome.windowEnd)) {
    return {
      requestRetraining: false,
      reason: `window ${outcome.windowEnd} was already processed`,
      duplicate: true,
      state,
    };
  }
  const windows = [...state.windows, outcome]
    .sort((a, b) => (a.windowEnd < b.windowEnd ? -1 : a.windowEnd > b.windowEnd ? 1 : 0))
    .slice(-Math.max(policy.windowsConsidered, 1));
  const driftedCount = windows.filter((w) => w.drifted).length;
  const base: RetrainingState = { windows, ...(state.lastRequestAt ? { lastRequestAt: state.lastRequestAt } : {}) };
  if (!outcome.drifted) {
    return { requestRetraining: false, reason: 'no drift in this window', duplicate: false, state: base };
  }
  if (driftedCount < policy.windowsRequired) {
    return {
      requestRetraining: false,
      reason: `drift in ${driftedCount} of the last ${windows.length} windows; ${policy.windowsRequired} required`,
      duplicate: false,
      state: base,
    };
  }
  if (state.lastRequestAt) {
    const elapsedHours = (now.getTime() - Date.parse(state.lastRequestAt)) / 3_600_000;
    if (elapsedHours < policy.cooldownHours) {
      return {
        requestRetraining: false,
        reason: `retraining was requested ${elapsedHours.toFixed(1)} h ago; cooldown is ${policy.cooldownHours} h`,
        duplicate: false,
        state: base,
      };
    }
  }
  return {
    requestRetraining: true,
    reason: `drift in ${driftedCount} of the last ${windows.length} windows (≥ ${policy.windowsRequired})`,
    duplicate: false,
    state: { windows, lastRequestAt: now.toISOString() },
  };
}
