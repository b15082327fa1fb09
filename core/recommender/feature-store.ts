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
 *
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
}

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
  putRecent(interactions: readonly RecentInteraction[], expiresAt: number): Promise<void>;
  recentInteractions(userId: string, limit: number): Promise<RecentInteraction[]>;
  addItemCounts(bucket: number, counts: ReadonlyMap<string, ItemCounts>, expiresAt: number): Promise<void>;
  itemCounts(itemIds: readonly string[], buckets: readonly number[]): Promise<Map<string, ItemCounts>>;
  /** Adds counts to a bucket's popularity list, keeping the `keep` largest (optimistic concurrency). */
  mergePopular(bucket: number, counts: ReadonlyMap<string, number>, keep: number, expiresAt: number): Promise<void>;
  popular(bucket: number): Promise<Map<string, number>>;
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
