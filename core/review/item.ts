/**
 * A queue item: a review request with its state (lease, votes, skips, decision). Items are values: every change
 * makes a new item with `version + 1`, and the store writes it only if the stored version is still the one read
 * (optimistic concurrency), so two reviewers can never both change the same item.
 */
import type { ReviewPolicy } from './policy';
import type { ReviewRequest } from './request';
import { itemIdOf } from './request';

/** Where an item stands. */
export type ItemStatus = 'pending' | 'accepted' | 'disputed';

/** One reviewer's answer. */
export interface Vote {
  readonly reviewerId: string;
  readonly label: string;
  /** The reviewer created the class ("none of these"). */
  readonly newClass: boolean;
  /** ISO-8601. */
  readonly at: string;
}

/** One reviewer's exclusive hold on an item, until `expiresAt`. */
export interface Lease {
  readonly reviewerId: string;
  /** Proves the holder: a label or skip must present it. */
  readonly token: string;
  readonly expiresAt: string;
}

/** The accepted label. */
export interface Decision {
  readonly label: string;
  readonly newClass: boolean;
  readonly at: string;
  /** The reviewers whose votes make the label (sorted). */
  readonly reviewers: readonly string[];
}

/** A queue item. */
export interface ReviewItem {
  readonly itemId: string;
  readonly request: ReviewRequest;
  readonly enqueuedAt: string;
  readonly status: ItemStatus;
  /** Votes for one label that accept it (from the policy, fixed when the item is queued). */
  readonly agreement: number;
  readonly maxVotes: number;
  readonly votes: readonly Vote[];
  /** Reviewers who skipped the item: it is not offered to them again. */
  readonly skippedBy: readonly string[];
  readonly lease?: Lease;
  readonly decision?: Decision;
  /**
   * Everything the decision sets off is confirmed: its label event is in the lake's stream and, for an accepted
   * audit item, its outcome record is written (`outcome.ts`). False until then: the item stays in the store's
   * `unpublished` scan and the keeper finishes what is missing.
   */
  readonly published: boolean;
  /** The decision's label event is in the lake's stream (absent until the publisher confirms). */
  readonly labelEventPublished?: boolean;
  /** An accepted audit item's outcome record is written for the drift checker (absent until the store confirms). */
  readonly outcomeWritten?: boolean;
  readonly version: number;
}

/** A new pending item for a request. */
export function newItem(request: ReviewRequest, now: Date, policy: ReviewPolicy): ReviewItem {
  return {
    itemId: itemIdOf(request),
    request,
    enqueuedAt: now.toISOString(),
    status: 'pending',
    agreement: policy.agreement[request.reason],
    maxVotes: policy.maxVotes,
    votes: [],
    skippedBy: [],
    published: false,
    version: 0,
  };
}

/**
 * The order reviewers see items in (a string that sorts ascending): items that already have a vote first (finish
 * a consensus before starting new ones), then audit and conflict items, then uncertain predictions, most uncertain
 * first; ties by arrival.
 */
export function rankOf(item: ReviewItem): string {
  const tier = item.votes.length > 0 ? 0 : item.request.reason === 'uncertain' ? 2 : 1;
  const certainty = (1 - (item.request.uncertainty ?? 0)).toFixed(6);
  return `${tier}#${certainty}#${item.enqueuedAt}#${item.itemId}`;
}

/** Whether the lease is held at `now`. */
export function leaseHeld(lease: Lease, now: Date): boolean {
  return Date.parse(lease.expiresAt) > now.getTime();
}
