/**
 * What the drift checker remembers per endpoint between runs (`drift/state/<endpoint>.json`, written with a
 * conditional put): the k-of-n history of drifted windows (`retraining.ts`) and of quality drops, a short history of
 * scores for the report's "drift score over time", and the windows watched for late records.
 */
import type { DriftReport } from './engine';
import type { QualityStats } from './quality';
import { EMPTY_STATE, type RetrainingState, type WindowOutcome } from './retraining';
import type { WindowScore } from './report-html';

/** A reported window still watched for late records. */
export interface WatchedWindow {
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Records compared at the last check of the window. */
  readonly records: number;
  /** Records of the window that arrived after that check. */
  readonly late: number;
  /** Report version (1 = first check; each re-check adds one). */
  readonly version: number;
  /** Objects in the window's own hour folders that were already read (late records come from the others). */
  readonly keys: string[];
  /** Whether a report was written (false for a window that was empty at its check). */
  readonly reported: boolean;
}

/** One window of the score history. */
export interface HistoryEntry extends WindowScore {
  readonly windowEnd: string;
}

/** Quality statistics of one window (the rolling reference when no quality baseline exists). */
export interface QualityHistoryEntry {
  readonly windowEnd: string;
  readonly metrics: Record<string, QualityStats>;
}

/** The checker's state document. */
export interface CheckerState extends RetrainingState {
  /** k-of-n history of quality drops (cooldown shared with drift through `lastRequestAt`). */
  readonly quality?: { readonly windows: readonly WindowOutcome[] };
  readonly qualityHistory?: readonly QualityHistoryEntry[];
  readonly history?: readonly HistoryEntry[];
  readonly watch?: readonly WatchedWindow[];
}

/** An empty state. */
export const EMPTY_CHECKER_STATE: CheckerState = EMPTY_STATE;

/** How many windows of score history are kept for the report. */
export const HISTORY_WINDOWS = 48;

/** Adds (or replaces) a window's score, keeping the newest {@link HISTORY_WINDOWS}. */
export function withHistory(
  history: readonly HistoryEntry[] | undefined,
  windowEnd: string,
  report: DriftReport,
): HistoryEntry[] {
  const effects: Record<string, number> = {};
  for (const f of report.features) {
    if (f.effect && f.effect.threshold > 0)
      effects[f.name] = Number((f.effect.value / f.effect.threshold).toPrecision(4));
  }
  const entry: HistoryEntry = {
    windowEnd,
    label: windowEnd.slice(0, 16).replace('T', ' '),
    drifted: report.drifted,
    driftedShare: report.driftedShare,
    effects,
  };
  return [...(history ?? []).filter((h) => h.windowEnd !== windowEnd), entry]
    .sort((a, b) => (a.windowEnd < b.windowEnd ? -1 : 1))
    .slice(-HISTORY_WINDOWS);
}

/** Replaces the recorded outcome of a window (a re-check), keeping the order. */
export function withOutcome(windows: readonly WindowOutcome[], outcome: WindowOutcome): WindowOutcome[] {
  const others = windows.filter((w) => w.windowEnd !== outcome.windowEnd);
  return [...others, outcome].sort((a, b) => (a.windowEnd < b.windowEnd ? -1 : 1));
}

/** Parses the state document, tolerating older documents (only `windows` and `lastRequestAt`). */
export function parseCheckerState(json: unknown): CheckerState {
  const o = (json ?? {}) as Partial<CheckerState>;
  return { ...o, windows: Array.isArray(o.windows) ? o.windows : [] };
}
