/** {@link FeatureStore} on DynamoDB with the AWS SDK v3 document client (the layout is documented in core/recommender/feature-store.ts). */
import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
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
} from '../../../core/recommender/feature-store';
import { mapLimit } from '../../../core/recommender/feature-store';

const recentPk = (userId: string) => `u#${userId}`;
const itemPk = (itemId: string) => `i#${itemId}`;
const bucketSk = (bucket: number) => `w#${bucket}`;
const ctrPk = (bucket: number) => `ctr#${bucket}`;
const predictionPk = (id: string) => `p#${id}`;
const neighboursPk = (itemId: string) => `n#${itemId}`;
const META_SK = 'meta';

/** One request of a `BatchWriteItem` (a put, here). */
type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** {@link FeatureStore} on DynamoDB. */
export class DynamoFeatureStore implements FeatureStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { concurrency?: number; maxAttempts?: number } = {},
  ) {}

  private get concurrency() {
    return this.options.concurrency ?? 16;
  }
  /**
   * Writes put requests in batches of 25, `concurrency` batches at a time, retrying what DynamoDB leaves
   * unprocessed with exponential backoff (at most `maxAttempts` attempts per batch).
   */
  private async batchWrite(requests: readonly WriteRequest[]): Promise<void> {
    await mapLimit(chunks(requests, 25), this.concurrency, async (chunk) => {
      let pending = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= (this.options.maxAttempts ?? 6)) {
          throw new Error(`BatchWriteItem left ${pending.length} items unprocessed after ${attempt} attempts`);
        }
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        const out = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
      }
    });
  }

  async putRecent(interactions: readonly RecentInteraction[], expiresAt: number): Promise<void> {
    const item = (r: RecentInteraction, prefix: string) => ({
      PutRequest: {
        Item: {
          pk: recentPk(r.userId),
          sk: `${prefix}#${r.eventTime}#${r.eventId}`,
          itemId: r.itemId,
          eventType: r.eventType,
          ...(r.category ? { category: r.category } : {}),
          expiresAt,
        },
      },
    });
    const requests = interactions.flatMap((r) => [
      item(r, 'r'),
      ...(r.eventType === 'impression' ? [] : [item(r, 'e')]),
    ]);
    await this.batchWrite(requests);
  }

  recentInteractions(userId: string, limit: number): Promise<RecentInteraction[]> {
    return this.recentUnder(userId, 'r', limit);
  }

  recentEngagements(userId: string, limit: number): Promise<RecentInteraction[]> {
    return this.recentUnder(userId, 'e', limit);
  }

  private async recentUnder(userId: string, prefix: string, limit: number): Promise<RecentInteraction[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
        ExpressionAttributeValues: { ':pk': recentPk(userId), ':r': `${prefix}#` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => {
      const sk = String(item.sk);
      const [, eventTime, eventId] = /^\w#(.*)#([^#]*)$/.exec(sk) ?? ['', '', ''];
      return {
        userId,
        itemId: String(item.itemId),
        eventType: String(item.eventType),
        eventTime,
        eventId,
        ...(typeof item.category === 'string' ? { category: item.category } : {}),
      };
    });
  }

  async addItemCounts(bucket: number, counts: ReadonlyMap<string, ItemCounts>, expiresAt: number): Promise<void> {
    await mapLimit([...counts], this.concurrency, ([itemId, c]) =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: itemPk(itemId), sk: bucketSk(bucket) },
          UpdateExpression: 'ADD interactions :n, impressions :i, clicks :c SET expiresAt = :e',
          ExpressionAttributeValues: { ':n': c.interactions, ':i': c.impressions, ':c': c.clicks, ':e': expiresAt },
        }),
      ),
    );
  }

  async itemCounts(itemIds: readonly string[], buckets: readonly number[]): Promise<Map<string, ItemCounts>> {
    const keys = itemIds.flatMap((id) => buckets.map((b) => ({ pk: itemPk(id), sk: bucketSk(b) })));
    const totals = new Map<string, ItemCounts>();
    for (const id of itemIds) totals.set(id, { interactions: 0, impressions: 0, clicks: 0 });
    await mapLimit(chunks(keys, 100), this.concurrency, async (chunk) => {
      let pending: Record<string, unknown>[] = chunk;
      for (let attempt = 0; pending.length > 0 && attempt < (this.options.maxAttempts ?? 6); attempt++) {
        if (attempt > 0) await sleep(Math.min(200, 10 * 2 ** attempt));
        const out = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const t = totals.get(String(item.pk).slice(2));
          if (!t) continue;
          t.interactions += Number(item.interactions ?? 0);
          t.impressions += Number(item.impressions ?? 0);
          t.clicks += Number(item.clicks ?? 0);
        }
        pending = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    });
    return totals;
  }

  async mergePopular(
    bucket: number,
    counts: ReadonlyMap<string, number>,
    keep: number,
    expiresAt: number,
    list: BucketList = 'popular',
  ): Promise<void> {
    const key = { pk: list, sk: bucketSk(bucket) };
    for (let attempt = 0; ; attempt++) {
      const current = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      const merged = new Map<string, number>(Object.entries((current.Item?.counts ?? {}) as Record<string, number>));
      for (const [item, n] of counts) merged.set(item, (merged.get(item) ?? 0) + n);
      const top = [...merged].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, keep);
      const version = Number(current.Item?.version ?? 0);
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...key, counts: Object.fromEntries(top), version: version + 1, expiresAt },
            ConditionExpression: current.Item ? 'version = :v' : 'attribute_not_exists(pk)',
            ExpressionAttributeValues: current.Item ? { ':v': version } : undefined,
          }),
        );
        return;
      } catch (error) {
        if (!isConditionFailed(error) || attempt >= (this.options.maxAttempts ?? 6)) throw error;
        await sleep(Math.random() * 20 * 2 ** attempt);
      }
    }
  }

  async popular(bucket: number, list: BucketList = 'popular'): Promise<Map<string, number>> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: list, sk: bucketSk(bucket) } }),
    );
    return new Map(Object.entries((out.Item?.counts ?? {}) as Record<string, number>).map(([k, v]) => [k, Number(v)]));
  }

  async touchItems(items: readonly ItemSighting[], expiresAt: number): Promise<string[]> {
    const fresh: string[] = [];
    await mapLimit(items, this.concurrency, async (item) => {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: itemPk(item.itemId), sk: META_SK },
          UpdateExpression: `SET firstSeen = if_not_exists(firstSeen, :t), expiresAt = :e${item.category ? ', category = :c' : ''}`,
          ExpressionAttributeValues: {
            ':t': item.seenAt,
            ':e': expiresAt,
            ...(item.category ? { ':c': item.category } : {}),
          },
          // The old firstSeen is absent exactly when this write created it.
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      if (out.Attributes?.firstSeen === undefined) fresh.push(item.itemId);
    });
    return fresh.sort();
  }

  async itemMeta(itemIds: readonly string[]): Promise<Map<string, ItemMeta>> {
    const out = new Map<string, ItemMeta>();
    await this.batchGet(
      [...new Set(itemIds)].map((id) => ({ pk: itemPk(id), sk: META_SK })),
      (item) =>
        out.set(String(item.pk).slice(2), {
          firstSeen: Number(item.firstSeen ?? 0),
          ...(typeof item.category === 'string' ? { category: item.category } : {}),
        }),
    );
    return out;
  }

  async putNeighbours(lists: readonly NeighbourList[], datasetId: string, expiresAt: number): Promise<void> {
    const requests = lists.map((l) => ({
      PutRequest: {
        Item: {
          pk: neighboursPk(l.itemId),
          sk: 'n',
          neighbours: l.neighbours.map((n) => [n.itemId, n.strength]),
          datasetId,
          expiresAt,
        },
      },
    }));
    await this.batchWrite(requests);
  }

  async neighbours(itemIds: readonly string[]): Promise<Map<string, Neighbour[]>> {
    const out = new Map<string, Neighbour[]>();
    await this.batchGet(
      [...new Set(itemIds)].map((id) => ({ pk: neighboursPk(id), sk: 'n' })),
      (item) =>
        out.set(
          String(item.pk).slice(2),
          ((item.neighbours ?? []) as [string, number][]).map(([itemId, strength]) => ({
            itemId: String(itemId),
            strength: Number(strength),
          })),
        ),
    );
    return out;
  }

  private async batchGet(keys: Record<string, unknown>[], onItem: (item: Record<string, unknown>) => void) {
    await mapLimit(chunks(keys, 100), this.concurrency, async (chunk) => {
      let pending: Record<string, unknown>[] = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= (this.options.maxAttempts ?? 6)) {
          throw new Error(`BatchGetItem left ${pending.length} keys unprocessed after ${attempt} attempts`);
        }
        if (attempt > 0) await sleep(Math.min(200, 10 * 2 ** attempt));
        const page = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
        );
        for (const item of page.Responses?.[this.tableName] ?? []) onItem(item);
        pending = (page.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    });
  }

  async addCtr(bucket: number, counts: readonly CtrCounts[], expiresAt: number): Promise<void> {
    await mapLimit(counts, this.concurrency, (c) =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: ctrPk(bucket), sk: `v#${c.modelVersion}` },
          UpdateExpression: 'ADD impressions :i, clicks :c SET expiresAt = :e',
          ExpressionAttributeValues: { ':i': c.impressions, ':c': c.clicks, ':e': expiresAt },
        }),
      ),
    );
  }

  async ctrCounts(bucket: number): Promise<CtrCounts[]> {
    const out: CtrCounts[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': ctrPk(bucket) },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        out.push({
          bucket,
          modelVersion: String(item.sk).slice(2),
          impressions: Number(item.impressions ?? 0),
          clicks: Number(item.clicks ?? 0),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async putPrediction(p: PredictionRecord, expiresAt: number): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: predictionPk(p.inferenceId),
          sk: 'p',
          modelVersion: p.modelVersion,
          userId: p.userId,
          items: [...p.items],
          fallback: p.fallback,
          createdAt: p.createdAt,
          expiresAt,
        },
      }),
    );
  }

  async predictions(inferenceIds: readonly string[]): Promise<Map<string, PredictionRecord>> {
    const out = new Map<string, PredictionRecord>();
    const keys = [...new Set(inferenceIds)].map((id) => ({ pk: predictionPk(id), sk: 'p' }));
    await mapLimit(chunks(keys, 100), this.concurrency, async (chunk) => {
      let pending: Record<string, unknown>[] = chunk;
      for (let attempt = 0; pending.length > 0 && attempt < (this.options.maxAttempts ?? 6); attempt++) {
        if (attempt > 0) await sleep(Math.min(200, 10 * 2 ** attempt));
        const page = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
        );
        for (const item of page.Responses?.[this.tableName] ?? []) {
          const inferenceId = String(item.pk).slice(2);
          out.set(inferenceId, {
            inferenceId,
            modelVersion: String(item.modelVersion),
            userId: String(item.userId),
            items: (item.items ?? []) as string[],
            fallback: Boolean(item.fallback),
            createdAt: String(item.createdAt),
          });
        }
        pending = (page.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    });
    return out;
  }
}
