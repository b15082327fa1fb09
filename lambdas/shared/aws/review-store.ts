/**
 * {@link ReviewStore} on DynamoDB with the AWS SDK v3 document client; the layout is `REVIEW_TABLE_LAYOUT` in
 * core/review/store.ts. The same class runs in AWS and against dynalite (locally and in tests).
 *
 * Race-freedom: every change of an existing item is a `PutItem` conditional on the version that was read, so of
 * two reviewers who lease (or label) the same item at the same time exactly one write succeeds; the other gets
 * `false` and moves on. New items are conditional on not existing (a duplicate request is one item).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { rankOf, type ReviewItem } from '../../../core/review/item';
import { REVIEW_TABLE_LAYOUT as L, type QueueCounts, type ReviewStore } from '../../../core/review/store';

const itemPk = (itemId: string) => `item#${itemId}`;
const classPk = (name: string) => `class#${name}`;

type Row = Record<string, unknown>;

function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Where an item appears in the `Queue` index (nowhere once its decision is published). */
function indexEntry(item: ReviewItem): Row {
  switch (item.status) {
    case 'pending':
      return { [L.queueKey]: 'pending', [L.rankKey]: rankOf(item) };
    case 'disputed':
      return { [L.queueKey]: 'disputed', [L.rankKey]: `${item.enqueuedAt}#${item.itemId}` };
    case 'accepted':
      return item.published
        ? {}
        : { [L.queueKey]: 'unpublished', [L.rankKey]: `${item.decision?.at ?? ''}#${item.itemId}` };
  }
}

/** The row of an item: the item itself plus the attributes the queries filter on. */
function toRow(item: ReviewItem): Row {
  return {
    [L.partitionKey]: itemPk(item.itemId),
    ...indexEntry(item),
    version: item.version,
    leaseReviewer: item.lease?.reviewerId,
    leaseExpiresAt: item.lease ? Date.parse(item.lease.expiresAt) : undefined,
    voters: item.votes.map((v) => v.reviewerId),
    skippers: item.skippedBy,
    item,
  };
}

function fromRow(row: Row | undefined): ReviewItem | undefined {
  const item = row?.item as ReviewItem | undefined;
  if (!item) return undefined;
  if (typeof item.itemId !== 'string' || typeof item.version !== 'number' || !item.request) {
    throw new Error(`review table row ${String(row?.[L.partitionKey])} is not a review item`);
  }
  return item;
}

/** The review queue on a DynamoDB table. */
export class DynamoReviewStore implements ReviewStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly pageSize = 50,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async add(item: ReviewItem): Promise<boolean> {
    return this.put(toRow(item), 'attribute_not_exists(#pk)', { '#pk': L.partitionKey });
  }

  async get(itemId: string): Promise<ReviewItem | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [L.partitionKey]: itemPk(itemId) }, ConsistentRead: true }),
    );
    return fromRow(out.Item);
  }

  async *candidates(reviewerId: string, now: Date): AsyncIterable<ReviewItem> {
    yield* this.query('pending', {
      // Leasable by this reviewer: no lease, an expired one or their own; not voted on or skipped by them.
      FilterExpression:
        '(attribute_not_exists(leaseExpiresAt) OR leaseExpiresAt <= :now OR leaseReviewer = :me) AND NOT contains(voters, :me) AND NOT contains(skippers, :me)',
      ExpressionAttributeValues: { ':now': now.getTime(), ':me': reviewerId },
    });
  }

  async replace(item: ReviewItem): Promise<boolean> {
    return this.put(toRow(item), 'version = :previous', undefined, { ':previous': item.version - 1 });
  }

  async *unpublished(): AsyncIterable<ReviewItem> {
    yield* this.query('unpublished');
  }

  async counts(): Promise<QueueCounts> {
    const [pending, disputed] = await Promise.all([this.count('pending'), this.count('disputed')]);
    return { pending, disputed };
  }

  async classes(): Promise<string[]> {
    const names: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          ...this.queueQuery('class'),
          ProjectionExpression: '#name',
          ExpressionAttributeNames: { ...this.queueQuery('class').ExpressionAttributeNames, '#name': 'name' },
          ExclusiveStartKey: start,
        }),
      );
      for (const row of out.Items ?? []) names.push(String(row.name));
      start = out.LastEvaluatedKey;
    } while (start);
    return names.sort();
  }

  async addClasses(names: readonly string[]): Promise<void> {
    for (const name of new Set(names)) {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [L.partitionKey]: classPk(name), [L.queueKey]: 'class', [L.rankKey]: name, name },
        }),
      );
    }
  }

  private async put(
    row: Row,
    condition: string,
    names?: Record<string, string>,
    values?: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: row,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  private queueQuery(queue: string) {
    return {
      TableName: this.tableName,
      IndexName: L.queueIndex,
      KeyConditionExpression: '#queue = :queue',
      ExpressionAttributeNames: { '#queue': L.queueKey } as Record<string, string>,
      ExpressionAttributeValues: { ':queue': queue } as Record<string, unknown>,
    };
  }

  private async *query(
    queue: string,
    filter?: { FilterExpression: string; ExpressionAttributeValues: Record<string, unknown> },
  ): AsyncIterable<ReviewItem> {
    const base = this.queueQuery(queue);
    const input: QueryCommandInput = {
      ...base,
      FilterExpression: filter?.FilterExpression,
      ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ...filter?.ExpressionAttributeValues },
      Limit: this.pageSize,
    };
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
      for (const row of out.Items ?? []) {
        const item = fromRow(row);
        if (item) yield item;
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }

  private async count(queue: string): Promise<number> {
    let total = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({ ...this.queueQuery(queue), Select: 'COUNT', ExclusiveStartKey: start }),
      );
      total += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    return total;
  }
}

/** The table's key schema and index, for creating it locally (the construct builds the same in AWS). */
export const REVIEW_TABLE_DEFINITION = {
  AttributeDefinitions: [
    { AttributeName: L.partitionKey, AttributeType: 'S' as const },
    { AttributeName: L.queueKey, AttributeType: 'S' as const },
    { AttributeName: L.rankKey, AttributeType: 'S' as const },
  ],
  KeySchema: [{ AttributeName: L.partitionKey, KeyType: 'HASH' as const }],
  GlobalSecondaryIndexes: [
    {
      IndexName: L.queueIndex,
      KeySchema: [
        { AttributeName: L.queueKey, KeyType: 'HASH' as const },
        { AttributeName: L.rankKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    },
  ],
  BillingMode: 'PAY_PER_REQUEST' as const,
};
