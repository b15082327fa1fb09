/**
 * Vision image consumer: a Lambda on the image-arrival stream. Parses the Kinesis batch, wires S3, SQS, the
 * SageMaker runtime and Powertools, and runs {@link consumeImages}; failed records are reported as partial batch
 * failures (retried with bisection, then sent to the on-failure queue).
 */
import { GetObjectCommand, HeadObjectCommand, NotFound, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { readBounded } from '../../core/vision/image-stats';
import { parseModelAnswer } from '../../core/vision/prediction';
import { consumeImages, EndpointUnavailableError, type ImageConsumerPorts } from '../../core/vision/image-consumer';
import { consumerSettingsFromEnv } from '../../core/vision/image-consumer-settings';

const logger = new Logger();
const metrics = new Metrics({ namespace: 'MlBlueprint/Vision' });
const tracer = new Tracer();
const s3 = tracer.captureAWSv3Client(new S3Client({}));
const sqs = tracer.captureAWSv3Client(new SQSClient({}));
const runtime = tracer.captureAWSv3Client(new SageMakerRuntimeClient({ maxAttempts: 2 }));
const settings = consumerSettingsFromEnv(process.env);
const inferenceComponent = process.env.INFERENCE_COMPONENT_NAME || undefined;
const accept = process.env.PREDICTION_ACCEPT || 'application/json';
const reviewQueueUrl = process.env.REVIEW_QUEUE_URL ?? '';

/** Invoke errors that mean "not now": no copy while scaling from zero, or no model deployed yet. */
export function isUnavailable(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return (
    (e.name === 'ValidationError' && /capacity|could not find endpoint|inference component/i.test(e.message ?? '')) ||
    e.name === 'ServiceUnavailable' ||
    e.name === 'ModelNotReadyException'
  );
}

const ports: ImageConsumerPorts = {
  async head(bucket, key) {
    try {
      const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { size: out.ContentLength ?? 0 };
    } catch (e) {
      if (e instanceof NotFound || (e as { name?: string }).name === 'NotFound') return undefined;
      throw e;
    }
  },
  async read(bucket, key, maxBytes) {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${maxBytes}` }));
    return readBounded(out.Body as AsyncIterable<Uint8Array>, maxBytes);
  },
  async put(bucket, key, body) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
  },
  async predict(bytes, contentType, inferenceId) {
    try {
      const out = await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: settings.endpointName,
          InferenceComponentName: inferenceComponent,
          ContentType: contentType,
          Accept: accept,
          Body: bytes,
          // Data capture records it; a reviewer's label names it.
          InferenceId: inferenceId,
        }),
      );
      return parseModelAnswer(new TextDecoder().decode(out.Body));
    } catch (e) {
      if (isUnavailable(e)) throw new EndpointUnavailableError((e as Error).message);
      throw e;
    }
  },
  async review(items) {
    if (!reviewQueueUrl)
      throw new Error('REVIEW_QUEUE_URL is not set: with the prediction log, nothing is queued here');
    for (let i = 0; i < items.length; i += 10) {
      const batch = items.slice(i, i + 10);
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: reviewQueueUrl,
          Entries: batch.map((item, j) => ({ Id: String(j), MessageBody: JSON.stringify(item) })),
        }),
      );
      if ((out.Failed ?? []).length > 0) {
        throw new Error(`review queue rejected ${out.Failed?.length} messages: ${out.Failed?.[0]?.Message ?? ''}`);
      }
    }
  },
  count(metric, value = 1) {
    metrics.addMetric(metric, MetricUnit.Count, value);
  },
  log(level, message, data) {
    logger[level](message, data ?? {});
  },
};

/** The Lambda entry point. */
export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  try {
    const records = event.Records.map((r) => ({
      id: r.kinesis.sequenceNumber,
      payload: Buffer.from(r.kinesis.data, 'base64').toString('utf8'),
      origin: {
        eventSourceARN: r.eventSourceARN,
        partitionKey: r.kinesis.partitionKey,
        sequenceNumber: r.kinesis.sequenceNumber,
      },
    }));
    const result = await consumeImages(records, settings, ports, new Date());
    logger.info('batch consumed', { ...result, records: records.length });
    return { batchItemFailures: result.failures.map((id) => ({ itemIdentifier: id })) };
  } finally {
    metrics.publishStoredMetrics();
  }
}
