/**
 * The review queue on dynalite for tests: a fresh table per world (same definition as in AWS), the real
 * {@link DynamoReviewStore}, a settable clock, a publisher that records label events and an outcome writer into an
 * in-memory artifacts bucket (each fails on demand).
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { objectStoreOutcomeWriter, type AuditOutcome } from '../../../core/review/outcome';
import { DEFAULT_REVIEW_POLICY, type ReviewPolicy } from '../../../core/review/policy';
import { ReviewService, type ReviewMetric, type ReviewPorts } from '../../../core/review/service';
import { MemoryObjectStore } from '../../../core/storage/object-store';
import { DynamoReviewStore, REVIEW_TABLE_DEFINITION } from '../../../lambdas/shared/aws/review-store';
import type { Emulators } from '../../../src/simulate/emulators';

let tables = 0;

/** One queue with its ports. */
export interface ReviewWorld {
  readonly service: ReviewService;
  readonly store: DynamoReviewStore;
  readonly ports: ReviewPorts;
  readonly published: Array<Record<string, unknown>>;
  /** Every outcome write that succeeded, in order (a repeat shows twice). */
  readonly outcomes: AuditOutcome[];
  /** The artifacts bucket the outcomes land in ({@link OUTCOMES}). */
  readonly artifacts: MemoryObjectStore;
  readonly metrics: Array<[ReviewMetric, number]>;
  /** Moves the clock. */
  advance(seconds: number): void;
  /** Makes the next publishes fail (the stream refuses). */
  failPublishing(fail: boolean): void;
  /** Makes the next outcome writes fail (S3 refuses). */
  failOutcomes(fail: boolean): void;
}

export const START = new Date('2026-11-23T10:00:00.000Z');

/** Where the world's outcomes go. */
export const OUTCOMES = { bucket: 'artifacts', prefix: 'drift/outcomes/', endpointName: 'mlbp-sandbox-vision' };

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
  let outcomesFailing = false;
  const published: Array<Record<string, unknown>> = [];
  const outcomes: AuditOutcome[] = [];
  const artifacts = new MemoryObjectStore();
  const write = objectStoreOutcomeWriter(artifacts, OUTCOMES);
  const metrics: Array<[ReviewMetric, number]> = [];
  const ports: ReviewPorts = {
    store,
    publish: async (events) => {
      if (failing) throw new Error('stream unavailable');
      published.push(...events);
    },
    writeOutcome: async (outcome) => {
      if (outcomesFailing) throw new Error('artifacts bucket unavailable');
      await write(outcome);
      outcomes.push(outcome);
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
    outcomes,
    artifacts,
    metrics,
    advance: (seconds) => {
      now += seconds * 1000;
    },
    failPublishing: (fail) => {
      failing = fail;
    },
    failOutcomes: (fail) => {
      outcomesFailing = fail;
    },
  };
}
