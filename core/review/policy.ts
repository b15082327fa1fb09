/**
 * How the review queue decides: how long a lease lasts, how many reviewers must agree per kind of item, and when
 * an item stops circulating. One place, validated once.
 */

/** Why an image is in the queue. */
export const REVIEW_REASONS = ['uncertain', 'audit', 'conflict'] as const;
export type ReviewReason = (typeof REVIEW_REASONS)[number];

/** What the reasons mean, for the page and the docs. */
export const REVIEW_REASON_TITLES: Readonly<Record<ReviewReason, string>> = {
  uncertain: 'Uncertain prediction',
  audit: 'Random audit sample',
  conflict: 'Label sources disagree',
};

/** The queue's decision rule. */
export interface ReviewPolicy {
  /** How long a reviewer holds an item before it returns to the queue, in seconds. */
  readonly leaseSeconds: number;
  /**
   * Votes for one label that accept it, per reason. Uncertain predictions take one reviewer; audit items (an
   * unbiased accuracy estimate) and images whose label sources disagree take two agreeing reviewers.
   */
  readonly agreement: Readonly<Record<ReviewReason, number>>;
  /**
   * Votes after which an item without agreement leaves the queue as disputed. With agreement 2 and 3 votes, a
   * disagreement goes to a third reviewer, who settles it unless all three differ.
   */
  readonly maxVotes: number;
}

/** The defaults: 5-minute leases, one vote for uncertain items, two agreeing of at most three for the others. */
export const DEFAULT_REVIEW_POLICY: ReviewPolicy = {
  leaseSeconds: 300,
  agreement: { uncertain: 1, audit: 2, conflict: 2 },
  maxVotes: 3,
};

/** Checks a policy; throws one line naming the value and the allowed range. */
export function validatePolicy(policy: ReviewPolicy): ReviewPolicy {
  const int = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${name} must be an integer between ${min} and ${max}; received ${value}`);
    }
  };
  int('leaseSeconds', policy.leaseSeconds, 30, 3600);
  for (const reason of REVIEW_REASONS) int(`agreement.${reason}`, policy.agreement[reason], 1, 5);
  const most = Math.max(...REVIEW_REASONS.map((r) => policy.agreement[r]));
  int('maxVotes', policy.maxVotes, most, 9);
  return policy;
}
