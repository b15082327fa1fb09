/**
 * The review queue's storage port. One implementation, on DynamoDB (`lambdas/shared/aws/review-store.ts`), runs in
 * AWS and, against dynalite, on this machine and in tests. Every write of an existing item is conditional on the
 * version that was read: the store never decides anything, it only refuses a write that lost a race.
 */
import type { ReviewItem } from './item';

/** Counts of the queue. */
export interface QueueCounts {
  /** Items waiting for a label (leased or not). */
  readonly pending: number;
  /** Items that reached the vote limit without agreement. */
  readonly disputed: number;
}

/** Where review items live. */
export interface ReviewStore {
  /** Adds a new item; false when an item with its id exists (a duplicate request). */
  add(item: ReviewItem): Promise<boolean>;
  /** Reads an item (strongly consistent). */
  get(itemId: string): Promise<ReviewItem | undefined>;
  /**
   * Pending items in queue order (see `rankOf`) that may be available to the reviewer at `now`: a pre-filter for
   * the caller, which checks each with `availability` and leases it with {@link ReviewStore.replace}.
   */
  candidates(reviewerId: string, now: Date): AsyncIterable<ReviewItem>;
  /** Writes `item` if the stored version is `item.version - 1`; false when someone changed it first. */
  replace(item: ReviewItem): Promise<boolean>;
  /** Accepted items not yet `published`: their label event, or an audit item's outcome record, is not confirmed. */
  unpublished(): AsyncIterable<ReviewItem>;
  counts(): Promise<QueueCounts>;
  /** The class list, sorted. */
  classes(): Promise<string[]>;
  /** Adds classes (idempotent). */
  addClasses(names: readonly string[]): Promise<void>;
}

/**
 * The table layout, shared by the store, the construct and the local server. One item per review item
 * (`item#<id>`) and per class (`class#<name>`); a sparse index `Queue` (`queue`, `rank`) holds what each query
 * reads in order: `pending` items by `rankOf`, `unpublished` decisions, `disputed` items and the `class` list.
 * Decided items whose label event is published leave the index and stay in the table as the audit trail.
 */
export const REVIEW_TABLE_LAYOUT = {
  partitionKey: 'pk',
  queueIndex: 'Queue',
  queueKey: 'queue',
  rankKey: 'rank',
} as const;
