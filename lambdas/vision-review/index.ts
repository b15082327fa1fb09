/**
 * The vision daily review job's steps ({@link runDailyReviewStep}): plan the backfill of yesterday's deferred
 * predictions, record the backfill's answers, select the day's review items (budget + random audit) and send them to
 * the reviewers' queue (SQS, ten per batch).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { S3ObjectStore } from '../shared/aws/s3-object-store';
import { dailyReviewSettingsFromEnv, runDailyReviewStep, type DailyReviewStep } from '../../core/vision/daily-review';

const logger = new Logger();
const tracer = new Tracer();
const store = new S3ObjectStore(tracer.captureAWSv3Client(new S3Client({})));
const sqs = tracer.captureAWSv3Client(new SQSClient({}));
const settings = dailyReviewSettingsFromEnv(process.env);
const queueUrl = process.env.REVIEW_QUEUE_URL ?? '';

/** The Lambda entry point. */
export async function handler(event: DailyReviewStep): Promise<Record<string, unknown>> {
  const result = await runDailyReviewStep(store, settings, event, async (requests) => {
    for (let i = 0; i < requests.length; i += 10) {
      const batch = requests.slice(i, i + 10);
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((r, j) => ({ Id: String(j), MessageBody: JSON.stringify(r) })),
        }),
      );
      if ((out.Failed ?? []).length > 0) {
        throw new Error(`the review queue rejected ${out.Failed?.length} requests: ${out.Failed?.[0]?.Message ?? ''}`);
      }
    }
  });
  logger.info(`daily review: ${event.action}`, { ...result });
  return result;
}
