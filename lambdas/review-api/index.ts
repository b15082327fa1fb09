/**
 * The review API Lambda: behind an HTTP API whose every route has the Cognito JWT authorizer. Wires DynamoDB (the
 * queue), Kinesis (label events to the lake), S3 presigning (images) and Powertools around {@link ReviewService}.
 * The same function runs on a schedule as the queue's keeper: queue depth, disputed items and any label event left
 * unpublished.
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
import { ReviewService } from '../../core/review/service';
import { DynamoReviewStore } from '../shared/aws/review-store';
import { imagePresigner, kinesisPublisher } from './adapters';
import { createApiHandler } from './api';
import { reviewSettingsFromEnv } from './settings';

const logger = new Logger();
const metrics = new Metrics({ namespace: REVIEW_METRICS_NAMESPACE });
const tracer = new Tracer();
const settings = reviewSettingsFromEnv(process.env);
if (!settings.imagesBucket || !settings.streamArn) {
  throw new Error('environment variables IMAGES_BUCKET and STREAM_ARN are required by the review API');
}
const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
const kinesis = tracer.captureAWSv3Client(new KinesisClient({}));
const s3 = new S3Client({});

const service = new ReviewService(
  {
    store: new DynamoReviewStore(dynamo, settings.tableName),
    publish: kinesisPublisher(kinesis, { StreamARN: settings.streamArn }),
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
): Promise<APIGatewayProxyStructuredResultV2 | { pending: number; disputed: number; republished: number }> {
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
