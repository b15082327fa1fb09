/**
 * Label merger: invoked with `{ "outputManifestUri": "s3://…/output.manifest" }` when a Ground Truth job finishes
 * (by an operator, `aws lambda invoke`, or an EventBridge rule on the labeling job's completion). Wires S3, Kinesis
 * and Powertools around {@link mergeReviewedLabels}.
 */
import { randomUUID } from 'node:crypto';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, HeadObjectCommand, NotFound, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { mergeReviewedLabels, type LabelMergeInput, type LabelMergeResult } from '../../core/vision/label-merger';

const logger = new Logger();
const tracer = new Tracer();
const s3 = tracer.captureAWSv3Client(new S3Client({}));
const kinesis = tracer.captureAWSv3Client(new KinesisClient({}));

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}
const streamArn = required('STREAM_ARN');
const settings = {
  imagesBucket: required('IMAGES_BUCKET'),
  labelAttribute: required('LABEL_ATTRIBUTE'),
  reviewBucket: required('REVIEW_BUCKET'),
  reviewOutputPrefix: required('REVIEW_OUTPUT_PREFIX'),
  minAutoConfidence: Number(process.env.MIN_AUTO_CONFIDENCE ?? '0.95'),
};

/** The Lambda entry point. */
export async function handler(event: LabelMergeInput): Promise<LabelMergeResult> {
  const result = await mergeReviewedLabels(event, settings, {
    async readText(bucket, key) {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await out.Body?.transformToString('utf8')) ?? '';
    },
    async head(bucket, key) {
      try {
        const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { size: out.ContentLength ?? 0, contentType: out.ContentType ?? '' };
      } catch (e) {
        if (e instanceof NotFound || (e as { name?: string }).name === 'NotFound') return undefined;
        throw e;
      }
    },
    async publish(events) {
      const out = await kinesis.send(
        new PutRecordsCommand({
          StreamARN: streamArn,
          Records: events.map((e) => ({
            Data: Buffer.from(JSON.stringify(e)),
            PartitionKey: String(e.image_key),
          })),
        }),
      );
      if ((out.FailedRecordCount ?? 0) > 0) throw new Error(`${out.FailedRecordCount} label events were not written`);
    },
    newId: randomUUID,
  });
  logger.info('reviewed labels merged', { ...result, invalid: result.invalid.length });
  return result;
}
