/**
 * Review router: an SQS-triggered Lambda that writes each batch of low-confidence predictions as a Ground Truth
 * input manifest ({@link routeReviews}); malformed messages are partial batch failures (then the DLQ).
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { routeReviews } from '../../core/vision/review-router';

const logger = new Logger();
const metrics = new Metrics({ namespace: 'MlBlueprint/Vision' });
const tracer = new Tracer();
const s3 = tracer.captureAWSv3Client(new S3Client({}));

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}
const settings = {
  endpointName: required('ENDPOINT_NAME'),
  bucket: required('MANIFEST_BUCKET'),
  prefix: required('MANIFEST_PREFIX'),
};

/** The Lambda entry point. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  try {
    const result = await routeReviews(
      event.Records.map((r) => ({ id: r.messageId, body: r.body })),
      settings,
      async (bucket, key, body) => {
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/jsonlines' }),
        );
      },
      new Date(),
    );
    metrics.addMetric('ReviewItemsManifested', MetricUnit.Count, result.items);
    if (result.failures.length > 0) logger.warn('malformed review messages', { ids: result.failures });
    logger.info('review manifest written', { ...result });
    return { batchItemFailures: result.failures.map((id) => ({ itemIdentifier: id })) };
  } finally {
    metrics.publishStoredMetrics();
  }
}
