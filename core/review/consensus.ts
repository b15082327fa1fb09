/**
 * The consensus rule: a label is accepted once `agreement` reviewers chose it; an item that reaches `maxVotes`
 * without that is disputed. With agreement 2 of at most 3, two reviewers who disagree send the item to a third,
 * whose vote settles it unless all three differ.
 */
import type { Vote } from './item';

/** What the votes so far decide. */
export type Consensus =
  | { readonly kind: 'accepted'; readonly label: string; readonly newClass: boolean; readonly reviewers: string[] }
  | { readonly kind: 'open'; readonly leading?: string }
  | { readonly kind: 'disputed' };

/** Applies the rule to the votes of one item. */
export function decide(votes: readonly Vote[], agreement: number, maxVotes: number): Consensus {
  const byLabel = new Map<string, Vote[]>();
  for (const v of votes) byLabel.set(v.label, [...(byLabel.get(v.label) ?? []), v]);
  let leading: string | undefined;
  let most = 0;
  for (const [label, vs] of byLabel) {
    if (vs.length >= agreement) {
      return {
        kind: 'accepted',
        label,
        newClass: vs.some((v) => v.newClass),
        reviewers: vs.map((v) => v.reviewerId).sort(),
      };
    }
    if (vs.length > most) [leading, most] = [label, vs.length];
  }
  if (votes.length >= maxVotes) return { kind: 'disputed' };
  return { kind: 'open', leading };
}
