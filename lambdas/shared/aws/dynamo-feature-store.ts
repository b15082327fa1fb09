/** {@link FeatureStore} on DynamoDB with the AWS SDK v3 document client (the layout is documented in core/recommender/feature-store.ts). */
import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type {
  CtrCounts,
  FeatureStore,
  ItemCounts,
  PredictionRecord,
  RecentInteraction,
} from '../../../core/recommender/feature-store';
import { mapLimit } from '../../../core/recommender/feature-store';

const recentPk = (userId: string) => `u#${userId}`;
const itemPk = (itemId: string) => `i#${itemId}`;
const bucketSk = (bucket: number) => `w#${bucket}`;
const ctrPk = (bucket: number) => `ctr#${bucket}`;
const predictionPk = (id: string) => `p#${id}`;
const POPULAR_PK = 'popular';

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

  async putRecent(interactions: readonly RecentInteraction[], expiresAt: number): Promise<void> {
    const requests = interactions.map((r) => ({
      PutRequest: {
        Item: {
          pk: recentPk(r.userId),
          sk: `r#${r.eventTime}#${r.eventId}`,
          itemId: r.itemId,
          eventType: r.eventType,
          expiresAt,
        },
      },
    }));
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

  async recentInteractions(userId: string, limit: number): Promise<RecentInteraction[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
        ExpressionAttributeValues: { ':pk': recentPk(userId), ':r': 'r#' },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => {
      const sk = String(item.sk);
      const [, eventTime, eventId] = /^r#(.*)#([^#]*)$/.exec(sk) ?? ['', '', ''];
      return { userId, itemId: String(item.itemId), eventType: String(item.eventType), eventTime, eventId };
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
  ): Promise<void> {
    const key = { pk: POPULAR_PK, sk: bucketSk(bucket) };
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

  async popular(bucket: number): Promise<Map<string, number>> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: POPULAR_PK, sk: bucketSk(bucket) } }),
    );
    return new Map(Object.entries((out.Item?.counts ?? {}) as Record<string, number>).map(([k, v]) => [k, Number(v)]));
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
