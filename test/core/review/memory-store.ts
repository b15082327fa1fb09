/**
 * A {@link ReviewStore} in memory with the DynamoDB store's contract (lambdas/shared/aws/review-store.ts): versioned
 * conditional replaces, `pending` candidates in `rankOf` order, and `unpublished` as the accepted items whose
 * `published` flag is false (the table's sparse index). For fast unit tests of the service; the dynalite tests in
 * test/lambdas/review-api/ run the same use cases on the real store.
 */
import { rankOf, type ReviewItem } from '../../../core/review/item';
import type { QueueCounts, ReviewStore } from '../../../core/review/store';

export class MemoryReviewStore implements ReviewStore {
  readonly items = new Map<string, ReviewItem>();
  private readonly classNames = new Set<string>();

  async add(item: ReviewItem): Promise<boolean> {
    if (this.items.has(item.itemId)) return false;
    this.items.set(item.itemId, item);
    return true;
  }

  async get(itemId: string): Promise<ReviewItem | undefined> {
    return this.items.get(itemId);
  }

  async *candidates(): AsyncIterable<ReviewItem> {
    const pending = [...this.items.values()].filter((i) => i.status === 'pending');
    yield* pending.sort((a, b) => (rankOf(a) < rankOf(b) ? -1 : 1));
  }

  async replace(item: ReviewItem): Promise<boolean> {
    if (this.items.get(item.itemId)?.version !== item.version - 1) return false;
    this.items.set(item.itemId, item);
    return true;
  }

  async *unpublished(): AsyncIterable<ReviewItem> {
    yield* [...this.items.values()].filter((i) => i.status === 'accepted' && !i.published);
  }

  async counts(): Promise<QueueCounts> {
    const all = [...this.items.values()];
    return {
      pending: all.filter((i) => i.status === 'pending').length,
      disputed: all.filter((i) => i.status === 'disputed').length,
    };
  }

  async classes(): Promise<string[]> {
    return [...this.classNames].sort();
  }

  async addClasses(names: readonly string[]): Promise<void> {
    for (const n of names) this.classNames.add(n);
  }
}
