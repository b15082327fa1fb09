/**
 * The review queue on dynalite for tests: a fresh table per world (same definition as in AWS), the real
 * {@link DynamoReviewStore}, a settable clock, and a publisher that records label events (or fails on demand).
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DEFAULT_REVIEW_POLICY, type ReviewPolicy } from '../../../core/review/policy';
import { ReviewService, type ReviewMetric, type ReviewPorts } from '../../../core/review/service';
import { DynamoReviewStore, REVIEW_TABLE_DEFINITION } from '../../../lambdas/shared/aws/review-store';
import type { Emulators } from '../../../src/simulate/emulators';

let tables = 0;

/** One queue with its ports. */
export interface ReviewWorld {
  readonly service: ReviewService;
  readonly store: DynamoReviewStore;
  readonly ports: ReviewPorts;
  readonly published: Array<Record<string, unknown>>;
  readonly metrics: Array<[ReviewMetric, number]>;
  /** Moves the clock. */
  advance(seconds: number): void;
  /** Makes the next publishes fail (the stream refuses). */
  failPublishing(fail: boolean): void;
}

export const START = new Date('2026-11-23T10:00:00.000Z');

/** A new table on the emulators' dynalite and a service over it. */
export async function reviewWorld(
  emulators: Emulators,
  policy: ReviewPolicy = DEFAULT_REVIEW_POLICY,
): Promise<ReviewWorld> {
  const tableName = `review-${++tables}`;
  await emulators.dynamo.send(new CreateTableCommand({ TableName: tableName, ...REVIEW_TABLE_DEFINITION }));
  const store = new DynamoReviewStore(emulators.dynamo, tableName, 3);
  let now = START.getTime();
  let tokens = 0;
  let failing = false;
  const published: Array<Record<string, unknown>> = [];
  const metrics: Array<[ReviewMetric, number]> = [];
  const ports: ReviewPorts = {
    store,
    publish: async (events) => {
      if (failing) throw new Error('stream unavailable');
      published.push(...events);
    },
    presign: async (key, at) => `http://images.test/${key}?signed=${at.toISOString()}`,
    now: () => new Date(now),
    newToken: () => `token-${++tokens}`,
    metric: (name, value) => metrics.push([name, value]),
  };
  return {
    service: new ReviewService(ports, { imagesPrefix: 'images/', policy }),
    store,
    ports,
    published,
    metrics,
    advance: (seconds) => {
      now += seconds * 1000;
    },
    failPublishing: (fail) => {
      failing = fail;
    },
  };
}
