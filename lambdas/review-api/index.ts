/**
 * The review API Lambda: behind an HTTP API whose every route has the Cognito JWT authorizer. Wires DynamoDB (the
 * queue), Kinesis (label events to the lake), S3 (presigned images; accepted audit items' outcome records into the
 * drift checker's outcomes prefix) and Powertools around {@link ReviewService}. The same function runs on a
 * schedule as the queue's keeper: queue depth, disputed items and any label event or audit outcome left unwritten.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { REVIEW_METRICS_NAMESPACE } from '../../core/review/metrics';
import { objectStoreOutcomeWriter } from '../../core/review/outcome';
import { ReviewService, type KeeperResult } from '../../core/review/service';
import { DynamoReviewStore } from '../shared/aws/review-store';
import { S3ObjectStore } from '../shared/aws/s3-object-store';
import { imagePresigner, kinesisPublisher } from './adapters';
import { createApiHandler } from './api';
import { reviewSettingsFromEnv } from './settings';

const logger = new Logger();
const metrics = new Metrics({ namespace: REVIEW_METRICS_NAMESPACE });
const tracer = new Tracer();
const settings = reviewSettingsFromEnv(process.env);
if (!settings.imagesBucket || !settings.streamArn || !settings.outcomes) {
  throw new Error(
    'environment variables IMAGES_BUCKET, STREAM_ARN, OUTCOMES_BUCKET and OUTCOMES_ENDPOINT are required by the review API',
  );
}
const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
const kinesis = tracer.captureAWSv3Client(new KinesisClient({}));
const s3 = new S3Client({});
const outcomes = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));

const service = new ReviewService(
  {
    store: new DynamoReviewStore(dynamo, settings.tableName),
    publish: kinesisPublisher(kinesis, { StreamARN: settings.streamArn }),
    writeOutcome: objectStoreOutcomeWriter(outcomes, settings.outcomes),
    presign: imagePresigner(s3, settings.imagesBucket, settings.imagesPrefix, settings.imageUrlSeconds),
    now: () => new Date(),
    newToken: randomUUID,
    metric: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
  },
  { imagesPrefix: settings.imagesPrefix, policy: settings.policy },
);
const api = createApiHandler(service, (level, message, data) => logger[level](message, data));

/** A scheduled EventBridge event (the keeper's tick). */
interface ScheduledTick {
  readonly source: 'aws.events';
  readonly 'detail-type': 'Scheduled Event';
}

const isTick = (event: object): event is ScheduledTick =>
  (event as { source?: unknown }).source === 'aws.events' &&
  (event as { 'detail-type'?: unknown })['detail-type'] === 'Scheduled Event';

/** The Lambda entry point: an HTTP API request, or the keeper's scheduled tick. */
export async function handler(
  event: APIGatewayProxyEventV2WithJWTAuthorizer | ScheduledTick,
): Promise<APIGatewayProxyStructuredResultV2 | KeeperResult> {
  try {
    if (isTick(event)) {
      const result = await service.tick();
      logger.info('review queue kept', { ...result });
      return result;
    }
    return await api(event);
  } finally {
    metrics.publishStoredMetrics();
  }
}
