import type {
  CtrCounts,
  FeatureStore,
  ItemCounts,
  PredictionRecord,
  RecentInteraction,
} from '../../core/recommender/feature-store';

/** An in-memory {@link FeatureStore} with the DynamoDB implementation's semantics (for unit tests). */
export class MemoryFeatureStore implements FeatureStore {
  readonly recent = new Map<string, RecentInteraction[]>();
  readonly items = new Map<string, ItemCounts>();
  readonly popularLists = new Map<number, Map<string, number>>();
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

  async mergePopular(bucket: number, counts: ReadonlyMap<string, number>, keep: number): Promise<void> {
    const merged = new Map(this.popularLists.get(bucket) ?? []);
    for (const [item, n] of counts) merged.set(item, (merged.get(item) ?? 0) + n);
    this.popularLists.set(bucket, new Map([...merged].sort((a, b) => b[1] - a[1]).slice(0, keep)));
  }

  async popular(bucket: number): Promise<Map<string, number>> {
    this.check('popular', [bucket]);
    return new Map(this.popularLists.get(bucket) ?? []);
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
