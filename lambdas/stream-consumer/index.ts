/**
 * Stream consumer Lambda (Kinesis event source mapping with partial batch responses). Parses the event, wires the
 * DynamoDB feature store, the S3 quarantine and Powertools, and runs {@link processBatch}.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { canaryCtrCheck } from '../../core/recommender/canary';
import { processBatch, type StreamRecord } from '../../core/recommender/consume';
import { bucketStart } from '../../core/recommender/features';
import { DynamoFeatureStore } from '../shared/aws/dynamo-feature-store';
import { consumerSettingsFromEnv } from '../../core/recommender/settings';

const logger = new Logger();
const metrics = new Metrics({ namespace: 'MlBlueprint/Recommender' });
const tracer = new Tracer();
const settings = consumerSettingsFromEnv(process.env);
const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
const s3 = tracer.captureAWSv3Client(new S3Client({}));
const store = new DynamoFeatureStore(DynamoDBDocumentClient.from(dynamo), settings.tableName);

/** The Lambda event's records in the consumer's shape. */
export function toStreamRecords(event: KinesisStreamEvent): StreamRecord[] {
  return (event.Records ?? []).map((r) => ({
    id: r.eventID,
    sequenceNumber: r.kinesis.sequenceNumber,
    partitionKey: r.kinesis.partitionKey,
    data: r.kinesis.data,
    approximateArrivalTimestamp: r.kinesis.approximateArrivalTimestamp,
  }));
}

/** The Lambda entry point. */
export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  metrics.addDimensions({ CaseStudy: settings.caseStudy, Stage: settings.stage });
  try {
    const { batchItemFailures, summary } = await processBatch(
      toStreamRecords(event),
      settings,
      {
        store,
        quarantine: async (key, document) => {
          await s3.send(
            new PutObjectCommand({
              Bucket: settings.rawBucket,
              Key: key,
              Body: JSON.stringify(document),
              ContentType: 'application/json',
            }),
          );
        },
        log: (level, message, data) => logger[level](message, data ?? {}),
        ...(settings.servedFeaturesBucket
          ? {
              writeServedFeatures: async (key: string, body: string) => {
                await s3.send(
                  new PutObjectCommand({
                    Bucket: settings.servedFeaturesBucket,
                    Key: key,
                    Body: body,
                    ContentType: 'application/x-ndjson',
                  }),
                );
              },
            }
          : {}),
      },
      new Date(),
    );
    const quarantined = Object.values(summary.quarantined).reduce((a, b) => a + b, 0);
    metrics.addMetric('RecordsReceived', MetricUnit.Count, summary.received);
    metrics.addMetric('EventsProcessed', MetricUnit.Count, summary.valid);
    metrics.addMetric('EventsQuarantined', MetricUnit.Count, quarantined);
    metrics.addMetric('RecordsFailed', MetricUnit.Count, summary.failed);
    metrics.addMetric('FeedbackJoined', MetricUnit.Count, summary.feedbackJoined);
    metrics.addMetric('FeedbackUnjoined', MetricUnit.Count, summary.feedbackUnjoined);
    metrics.addMetric('SlatesReceived', MetricUnit.Count, summary.slates);
    if (settings.canaryTolerance !== undefined) {
      // Blue/green canary: the window's two model versions, one-sided (the rollback alarm watches the maximum).
      const now = new Date();
      const check = canaryCtrCheck(await store.ctrCounts(bucketStart(now, settings.ctrWindowMinutes)), {
        tolerance: settings.canaryTolerance,
      });
      if (check) {
        metrics.addMetric('CanaryCtrInferior', MetricUnit.Count, check.inferior ? 1 : 0);
        if (check.inferior) logger.warn('canary CTR below the champion beyond the tolerance', { ...check });
      }
    }
    metrics.addMetric('RecordAge', MetricUnit.Milliseconds, summary.maxAgeMs);
    logger.info('batch processed', { ...summary, batchItemFailures: batchItemFailures.length });
    return { batchItemFailures };
  } finally {
    metrics.publishStoredMetrics();
  }
}
