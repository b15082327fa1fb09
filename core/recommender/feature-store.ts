/**
 * The real-time feature store of the recommender: one DynamoDB table (`pk`, `sk`, TTL on `expiresAt`) holding
 *
 * | item                          | pk               | sk                    | attributes                                |
 * | ----------------------------- | ---------------- | --------------------- | ----------------------------------------- |
 * | a user's recent interaction   | `u#<user_id>`    | `r#<event_time>#<id>` | itemId, eventType                          |
 * | an item's counters per bucket | `i#<item_id>`    | `w#<bucket start ms>` | interactions, impressions, clicks (ADD)    |
 * | the popularity list of bucket | `popular`        | `w#<bucket start ms>` | counts (item → interactions), version      |
 * | CTR counters per model/window | `ctr#<start ms>` | `v#<model version>`   | impressions, clicks (ADD)                  |
 * | a served prediction           | `p#<inference>`  | `p`                   | modelVersion, userId, items, fallback      |
 * | an item's catalogue facts     | `i#<item_id>`    | `meta`                | category, firstSeen (epoch ms)             |
 * | the new items of a bucket     | `fresh`          | `w#<bucket start ms>` | counts (item → first seen, epoch s)        |
 * | co-visitation neighbours      | `n#<item_id>`    | `n`                   | neighbours [[item, strength]], datasetId   |
 *
 * | a user's recent engagement    | `u#<user_id>`    | `e#<event_time>#<id>` | itemId, eventType, category                |
 *
 * Every interaction is kept under `r#`; engagements (everything but impressions) also under `e#`, so the serving
 * function reads the user's last engagements without impressions crowding them out. Co-visitation lists are
 * written by the retraining loop's co-visitation load, the rest by the consumer.
 * {@link FeatureStore} is the port the consumer, the serving function and the drift checker use;
 * {@link DynamoFeatureStore} implements it with the AWS SDK v3 document client.
 */

/** A user's interaction as kept for serving. */
export interface RecentInteraction {
  readonly userId: string;
  readonly itemId: string;
  readonly eventType: string;
  readonly eventTime: string;
  readonly eventId: string;
  /** The item's category, when the event carried it. */
  readonly category?: string;
}

/** What the consumer saw of an item in a batch. */
export interface ItemSighting {
  readonly itemId: string;
  readonly category?: string;
  /** Epoch ms of the earliest event of the item in the batch. */
  readonly seenAt: number;
}

/** An item's catalogue facts. */
export interface ItemMeta {
  readonly category?: string;
  /** Epoch ms the item was first seen (within the feature TTL). */
  readonly firstSeen: number;
}

/** A co-visitation neighbour of an item. */
export interface Neighbour {
  readonly itemId: string;
  /** Users who engaged with both items within the co-visitation window. */
  readonly strength: number;
}

/** One item's neighbour list, as the co-visitation job computed it. */
export interface NeighbourList {
  readonly itemId: string;
  readonly neighbours: readonly Neighbour[];
}

/** The two ranked lists kept per bucket. */
export type BucketList = 'popular' | 'fresh';

/** Counters of one item in one bucket. */
export interface ItemCounts {
  interactions: number;
  impressions: number;
  clicks: number;
}

/** Impressions and clicks of one model version in one bucket. */
export interface CtrCounts {
  readonly bucket: number;
  readonly modelVersion: string;
  readonly impressions: number;
  readonly clicks: number;
}

/** A served recommendation, kept so feedback can be joined to it by inference id. */
export interface PredictionRecord {
  readonly inferenceId: string;
  readonly modelVersion: string;
  readonly userId: string;
  readonly items: readonly string[];
  readonly fallback: boolean;
  readonly createdAt: string;
}

/** The feature-store port. Every write carries an expiry (epoch seconds) for DynamoDB TTL. */
export interface FeatureStore {
  /** Keeps interactions (engagements also under `e#`); idempotent per event id. */
  putRecent(interactions: readonly RecentInteraction[], expiresAt: number): Promise<void>;
  recentInteractions(userId: string, limit: number): Promise<RecentInteraction[]>;
  /** The user's last engagements (no impressions), newest first. */
  recentEngagements(userId: string, limit: number): Promise<RecentInteraction[]>;
  addItemCounts(bucket: number, counts: ReadonlyMap<string, ItemCounts>, expiresAt: number): Promise<void>;
  itemCounts(itemIds: readonly string[], buckets: readonly number[]): Promise<Map<string, ItemCounts>>;
  /**
   * Adds counts to a bucket's list, keeping the `keep` largest (optimistic concurrency). The `fresh` list holds new
   * items with their first-seen time (epoch s) as the count: each is added once, so the largest are the newest.
   */
  mergePopular(
    bucket: number,
    counts: ReadonlyMap<string, number>,
    keep: number,
    expiresAt: number,
    list?: BucketList,
  ): Promise<void>;
  popular(bucket: number, list?: BucketList): Promise<Map<string, number>>;
  /** Records the items a batch saw (category, first seen); returns the ones never seen before (within the TTL). */
  touchItems(items: readonly ItemSighting[], expiresAt: number): Promise<string[]>;
  itemMeta(itemIds: readonly string[]): Promise<Map<string, ItemMeta>>;
  /** Writes co-visitation lists (replacing an item's previous list). */
  putNeighbours(lists: readonly NeighbourList[], datasetId: string, expiresAt: number): Promise<void>;
  neighbours(itemIds: readonly string[]): Promise<Map<string, Neighbour[]>>;
  addCtr(bucket: number, counts: readonly CtrCounts[], expiresAt: number): Promise<void>;
  ctrCounts(bucket: number): Promise<CtrCounts[]>;
  putPrediction(prediction: PredictionRecord, expiresAt: number): Promise<void>;
  predictions(inferenceIds: readonly string[]): Promise<Map<string, PredictionRecord>>;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}
