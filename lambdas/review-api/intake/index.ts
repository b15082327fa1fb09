/**
 * The review intake: an SQS-triggered Lambda on the vision loop's review queue. Each message is one review request
 * (an uncertain prediction, an audit sample or a label conflict); it becomes a queue item in DynamoDB (a duplicate
 * delivery is one item). A malformed request is a partial batch failure: after the queue's maxReceiveCount it lands
 * in the dead-letter queue (alarmed), never silently dropped.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { REVIEW_METRICS_NAMESPACE } from '../../../core/review/metrics';
import { intakeRequest } from '../../../core/review/service';
import { DynamoReviewStore } from '../../shared/aws/review-store';
import { reviewSettingsFromEnv } from '../settings';

const logger = new Logger();
const metrics = new Metrics({ namespace: REVIEW_METRICS_NAMESPACE });
const tracer = new Tracer();
const settings = reviewSettingsFromEnv(process.env);
const store = new DynamoReviewStore(tracer.captureAWSv3Client(new DynamoDBClient({})), settings.tableName);
const ports = {
  store,
  now: () => new Date(),
  metric: (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value),
};

/** The Lambda entry point. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const failures: string[] = [];
  try {
    for (const record of event.Records) {
      try {
        const outcome = await intakeRequest(ports, settings, JSON.parse(record.body) as unknown);
        if (outcome === 'duplicate') logger.info('duplicate review request', { messageId: record.messageId });
      } catch (error) {
        logger.warn('review request not queued', { messageId: record.messageId, error: (error as Error).message });
        failures.push(record.messageId);
      }
    }
    return { batchItemFailures: failures.map((id) => ({ itemIdentifier: id })) };
  } finally {
    metrics.publishStoredMetrics();
  }
}
