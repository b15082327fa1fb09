/**
 * Candidate generation, the first of the recommender's two stages: a few hundred items at most are worth scoring,
 * and each source finds a different kind of good one.
 *
 * | source     | what it finds                                                                  | read from                        |
 * | ---------- | ------------------------------------------------------------------------------ | -------------------------------- |
 * | `covisit`  | items users engaged with next to the user's recent items (personal)            | co-visitation lists (`n#<item>`) |
 * | `trending` | what is engaged with now (sliding popularity window)                           | popularity lists of two buckets  |
 * | `fresh`    | items first seen recently, so new items get impressions at all (exploration)   | fresh lists of two buckets       |
 * | `popular`  | only to fill: items the user already engaged with, when nothing else is left   | popularity lists                 |
 *
 * `covisit` and `fresh` get a quota of the candidate budget, trending the rest; what a source cannot fill goes to
 * the others (trending first),
 * and an item found by several sources counts once (under the first source that found it). Items the user engaged
 * with recently are excluded, unless nothing else is left. Deterministic: ties are broken by item id.
 */
import type { Neighbour } from './feature-store';

/** Shares of the candidate budget of the personal and the exploration sources; trending gets the rest. */
export interface CandidateQuotas {
  readonly covisit: number;
  readonly fresh: number;
}

/** The default split of the budget: 40 % personal, 40 % trending, a fifth for exploration. */
export const DEFAULT_QUOTAS: CandidateQuotas = { covisit: 0.4, fresh: 0.2 };

/** Where a candidate came from (logged with the slate). */
export type CandidateSource = 'covisit' | 'trending' | 'fresh' | 'popular';

/** A candidate and what candidate generation learned about it. */
export interface Candidate {
  readonly itemId: string;
  readonly source: CandidateSource;
  /** Σ co-visitation strength with the user's distinct recent items (0 when none). */
  readonly covisitation: number;
}

/** What candidate generation reads. */
export interface CandidateInputs {
  /** The user's recent items, newest first (duplicates allowed). */
  readonly recentItems: readonly string[];
  /** Co-visitation neighbours of the recent items. */
  readonly neighbours: ReadonlyMap<string, readonly Neighbour[]>;
  /** Sliding popularity of items. */
  readonly popularity: ReadonlyMap<string, number>;
  /** New items with their first-seen time (larger is newer). */
  readonly fresh: ReadonlyMap<string, number>;
}

/** Checks quotas: each in [0, 1], summing to at most 1. */
export function validateQuotas(q: CandidateQuotas): void {
  for (const [name, v] of Object.entries(q)) {
    if (!(v >= 0 && v <= 1)) throw new Error(`candidate quota ${name} must be between 0 and 1; received ${v}`);
  }
  const sum = q.covisit + q.fresh;
  if (sum > 1 + 1e-9) throw new Error(`candidate quotas must sum to at most 1; received ${sum.toFixed(3)}`);
}

const byValueThenId = (a: [string, number], b: [string, number]) =>
  b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Σ strength of each neighbour over the distinct recent items, strongest first. */
export function covisitationScores(
  recentItems: readonly string[],
  neighbours: ReadonlyMap<string, readonly Neighbour[]>,
): Map<string, number> {
  const scores = new Map<string, number>();
  for (const item of new Set(recentItems)) {
    for (const n of neighbours.get(item) ?? []) scores.set(n.itemId, (scores.get(n.itemId) ?? 0) + n.strength);
  }
  return new Map([...scores].sort(byValueThenId));
}

/** Merges the sources under their quotas into at most `budget` distinct candidates. */
export function generateCandidates(
  inputs: CandidateInputs,
  budget: number,
  quotas: CandidateQuotas = DEFAULT_QUOTAS,
  minimum = 0,
): Candidate[] {
  const seen = new Set(inputs.recentItems);
  const covisit = covisitationScores(inputs.recentItems, inputs.neighbours);
  const ranked = {
    covisit: [...covisit.keys()],
    trending: [...inputs.popularity].sort(byValueThenId).map(([item]) => item),
    fresh: [...inputs.fresh].sort(byValueThenId).map(([item]) => item),
  };
  const out: Candidate[] = [];
  const chosen = new Set<string>();
  const take = (source: CandidateSource, items: readonly string[], limit: number, allowSeen = false) => {
    let taken = 0;
    for (const itemId of items) {
      if (out.length >= budget || taken >= limit) break;
      if (chosen.has(itemId) || (!allowSeen && seen.has(itemId))) continue;
      chosen.add(itemId);
      out.push({ itemId, source, covisitation: covisit.get(itemId) ?? 0 });
      taken++;
    }
  };
  take('covisit', ranked.covisit, Math.round(budget * quotas.covisit));
  take('fresh', ranked.fresh, Math.round(budget * quotas.fresh));
  take('trending', ranked.trending, budget);
  take('covisit', ranked.covisit, budget);
  take('fresh', ranked.fresh, budget);
  // Nothing else left: a heavy user still gets `minimum` items, the most popular ones first.
  if (out.length < minimum) take('popular', ranked.trending, minimum - out.length, true);
  return out;
}
