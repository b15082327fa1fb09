import type {
  BucketList,
  CtrCounts,
  FeatureStore,
  ItemCounts,
  ItemMeta,
  ItemSighting,
  Neighbour,
  NeighbourList,
  PredictionRecord,
  RecentInteraction,
} from '../../core/recommender/feature-store';

/** An in-memory {@link FeatureStore} with the DynamoDB implementation's semantics (for unit tests). */
export class MemoryFeatureStore implements FeatureStore {
  readonly recent = new Map<string, RecentInteraction[]>();
  readonly items = new Map<string, ItemCounts>();
  readonly popularLists = new Map<number, Map<string, number>>();
  readonly freshLists = new Map<number, Map<string, number>>();
  readonly meta = new Map<string, ItemMeta>();
  readonly neighbourLists = new Map<string, Neighbour[]>();
  readonly ctr = new Map<string, CtrCounts>();
  readonly predictionRecords = new Map<string, PredictionRecord>();
  /** Makes the next calls of a method fail with this error. */
  failures: Partial<Record<keyof FeatureStore, (args: unknown[]) => Error | undefined>> = {};

  private check(method: keyof FeatureStore, args: unknown[]) {
    const error = this.failures[method]?.(args);
    if (error) throw error;
  }

  async putRecent(interactions: readonly RecentInteraction[]): Promise<void> {
    this.check('putRecent', [interactions]);
    for (const r of interactions) {
      const list = (this.recent.get(r.userId) ?? []).filter((x) => x.eventId !== r.eventId);
      list.push(r);
      list.sort((a, b) => (a.eventTime < b.eventTime ? 1 : -1));
      this.recent.set(r.userId, list);
    }
  }

  async recentInteractions(userId: string, limit: number): Promise<RecentInteraction[]> {
    this.check('recentInteractions', [userId]);
    return (this.recent.get(userId) ?? []).slice(0, limit);
  }

  async recentEngagements(userId: string, limit: number): Promise<RecentInteraction[]> {
    this.check('recentEngagements', [userId]);
    return (this.recent.get(userId) ?? []).filter((r) => r.eventType !== 'impression').slice(0, limit);
  }

  async addItemCounts(bucket: number, counts: ReadonlyMap<string, ItemCounts>): Promise<void> {
    for (const [item, c] of counts) {
      const key = `${item}|${bucket}`;
      const t = this.items.get(key) ?? { interactions: 0, impressions: 0, clicks: 0 };
      t.interactions += c.interactions;
      t.impressions += c.impressions;
      t.clicks += c.clicks;
      this.items.set(key, t);
    }
  }

  async itemCounts(itemIds: readonly string[], buckets: readonly number[]): Promise<Map<string, ItemCounts>> {
    this.check('itemCounts', [itemIds]);
    const out = new Map<string, ItemCounts>();
    for (const id of itemIds) {
      const t = { interactions: 0, impressions: 0, clicks: 0 };
      for (const b of buckets) {
        const c = this.items.get(`${id}|${b}`);
        if (c) {
          t.interactions += c.interactions;
          t.impressions += c.impressions;
          t.clicks += c.clicks;
        }
      }
      out.set(id, t);
    }
    return out;
  }

  async mergePopular(
    bucket: number,
    counts: ReadonlyMap<string, number>,
    keep: number,
    _expiresAt?: number,
    list: BucketList = 'popular',
  ): Promise<void> {
    const lists = list === 'fresh' ? this.freshLists : this.popularLists;
    const merged = new Map(lists.get(bucket) ?? []);
    for (const [item, n] of counts) merged.set(item, (merged.get(item) ?? 0) + n);
    lists.set(bucket, new Map([...merged].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, keep)));
  }

  async popular(bucket: number, list: BucketList = 'popular'): Promise<Map<string, number>> {
    this.check('popular', [bucket, list]);
    return new Map((list === 'fresh' ? this.freshLists : this.popularLists).get(bucket) ?? []);
  }

  async touchItems(items: readonly ItemSighting[]): Promise<string[]> {
    this.check('touchItems', [items]);
    const fresh: string[] = [];
    for (const i of items) {
      const old = this.meta.get(i.itemId);
      if (!old) fresh.push(i.itemId);
      this.meta.set(i.itemId, {
        firstSeen: old?.firstSeen ?? i.seenAt,
        ...((i.category ?? old?.category) ? { category: i.category ?? old?.category } : {}),
      });
    }
    return fresh.sort();
  }

  async itemMeta(itemIds: readonly string[]): Promise<Map<string, ItemMeta>> {
    this.check('itemMeta', [itemIds]);
    return new Map(itemIds.filter((id) => this.meta.has(id)).map((id) => [id, this.meta.get(id) as ItemMeta]));
  }

  async putNeighbours(lists: readonly NeighbourList[]): Promise<void> {
    for (const l of lists) this.neighbourLists.set(l.itemId, [...l.neighbours]);
  }

  async neighbours(itemIds: readonly string[]): Promise<Map<string, Neighbour[]>> {
    this.check('neighbours', [itemIds]);
    return new Map(
      itemIds.filter((id) => this.neighbourLists.has(id)).map((id) => [id, this.neighbourLists.get(id) as Neighbour[]]),
    );
  }

  async addCtr(bucket: number, counts: readonly CtrCounts[]): Promise<void> {
    for (const c of counts) {
      const key = `${bucket}|${c.modelVersion}`;
      const t = this.ctr.get(key) ?? { bucket, modelVersion: c.modelVersion, impressions: 0, clicks: 0 };
      this.ctr.set(key, { ...t, impressions: t.impressions + c.impressions, clicks: t.clicks + c.clicks });
    }
  }

  async ctrCounts(bucket: number): Promise<CtrCounts[]> {
    return [...this.ctr.values()].filter((c) => c.bucket === bucket);
  }

  async putPrediction(p: PredictionRecord): Promise<void> {
    this.check('putPrediction', [p]);
    this.predictionRecords.set(p.inferenceId, p);
  }

  async predictions(ids: readonly string[]): Promise<Map<string, PredictionRecord>> {
    const out = new Map<string, PredictionRecord>();
    for (const id of ids) {
      const p = this.predictionRecords.get(id);
      if (p) out.set(id, p);
    }
    return out;
  }
}
