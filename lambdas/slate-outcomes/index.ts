/**
 * Slate-outcome writer Lambda, scheduled by EventBridge: writes the recommender's outcome records (served slates
 * with the clicks they led to) for every settled serving hour not yet written, by Athena `UNLOAD`, where the drift
 * checker judges realised quality from them. Wires Athena, S3 and Powertools; everything it decides is in
 * `core/recommender/outcomes*.ts`.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { DeleteObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { athenaQueryRunner, type AthenaQueryPort, type AthenaQueryState } from '../../core/recommender/outcomes-athena';
import { slateOutcomeSettingsFromEnv } from '../../core/recommender/outcomes-settings';
import { summarize, writeSlateOutcomes, type HourOutcome } from '../../core/recommender/outcomes-writer';
import { S3ObjectStore } from '../shared/aws/s3-object-store';

const logger = new Logger();
const metrics = new Metrics({ namespace: 'MlBlueprint/Recommender' });
const tracer = new Tracer();
const settings = slateOutcomeSettingsFromEnv(process.env);
const athena = tracer.captureAWSv3Client(new AthenaClient({}));
const s3 = tracer.captureAWSv3Client(new S3Client({}));
const store = new S3ObjectStore(s3);

/** Time kept back after the longest query wait: marker write, metrics, log flush. */
const MARGIN_MS = 30_000;

const STATES: readonly AthenaQueryState[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

/** The Athena port: StartQueryExecution in the workgroup, GetQueryExecution, StopQueryExecution. */
export function athenaPort(client: Pick<AthenaClient, 'send'>, workGroup: string): AthenaQueryPort {
  return {
    async start(sql) {
      const out = await client.send(new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: workGroup }));
      if (!out.QueryExecutionId) throw new Error('StartQueryExecution returned no QueryExecutionId');
      return out.QueryExecutionId;
    },
    async state(id) {
      const out = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const status = out.QueryExecution?.Status;
      const state = STATES.find((s) => s === status?.State) ?? 'QUEUED';
      const reason = status?.StateChangeReason ?? status?.AthenaError?.ErrorMessage;
      return { state, ...(reason ? { reason } : {}) };
    },
    async stop(id) {
      await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    },
  };
}

/** Deletes keys in batches of 1,000 (DeleteObjects); fails naming the keys S3 did not delete. */
export async function deleteObjects(client: Pick<S3Client, 'send'>, bucket: string, keys: readonly string[]) {
  for (let i = 0; i < keys.length; i += 1000) {
    const out = await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
    if (out.Errors && out.Errors.length > 0) {
      throw new Error(
        `could not delete ${out.Errors.map((e) => `s3://${bucket}/${e.Key}: ${e.Code ?? e.Message}`).join(', ')}`,
      );
    }
  }
}

/** The Lambda entry point: writes the settled hours; fails (for the alarm and the retry) when an hour failed. */
export async function handler(event: Partial<ScheduledEvent>, context?: Pick<Context, 'getRemainingTimeInMillis'>) {
  const now = event.time ? new Date(event.time) : new Date();
  if (Number.isNaN(now.getTime())) throw new Error(`event.time is not a valid time: ${String(event.time)}`);
  logger.appendKeys({ caseStudy: settings.caseStudy, endpoint: settings.endpointName });
  const maxWaitMs = settings.maxQueryWaitSeconds * 1000;
  let hours: HourOutcome[] = [];
  try {
    hours = await writeSlateOutcomes(
      {
        store,
        runQuery: athenaQueryRunner(athenaPort(athena, settings.workGroup), { maxWaitMs }),
        deleteObjects: (bucket, keys) => deleteObjects(s3, bucket, keys),
        log: (level, message, data) => logger[level](message, data ?? {}),
      },
      settings,
      now,
      { hasTimeFor: () => !context || context.getRemainingTimeInMillis() > maxWaitMs + MARGIN_MS },
    );
  } finally {
    metrics.addDimensions({ CaseStudy: settings.caseStudy, Endpoint: settings.endpointName });
    const count = (status: HourOutcome['status']) => hours.filter((h) => h.status === status).length;
    metrics.addMetric('OutcomeHoursWritten', MetricUnit.Count, count('written'));
    metrics.addMetric('OutcomeHoursDeferred', MetricUnit.Count, count('deferred'));
    metrics.addMetric('OutcomeHoursFailed', MetricUnit.Count, count('failed'));
    metrics.publishStoredMetrics();
  }
  const summary = summarize(hours);
  const failed = hours.filter((h) => h.status === 'failed');
  if (failed.length > 0) {
    throw new Error(`slate outcomes: ${summary}: ${failed.map((h) => h.error).join('; ')}`);
  }
  logger.info(`slate outcomes: ${summary}`, { hours: hours.filter((h) => h.status !== 'already-written') });
  return { summary, hours };
}
