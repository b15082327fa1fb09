/**
 * Usage profiles: the traffic assumptions an estimate needs and a template cannot know. One committed file per
 * scenario in `data/usage/` (`idle.json`, `sandbox.json`, `production.json`, …), chosen with `--usage <name|file>`.
 * Every key carries its unit in its description; `docs/cost/usage-profiles.md` is generated from this schema.
 * Keys named `$comment` are allowed anywhere and ignored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { STAGES } from '../../lib/config/schema';
import { CostError } from './types';

const num = (description: string) => z.number().min(0).finite().describe(description);
const fraction = (description: string) => z.number().min(0).max(1).describe(description);
const hours = (description: string) => z.number().min(0).max(730).describe(description);
const comment = { $comment: z.string().optional() };

const ingestionSchema = z
  .strictObject({
    ...comment,
    eventsPerSecond: num('events/s: average rate while producers send'),
    eventSizeBytes: num('bytes: average serialized event (JSON) size'),
    activeHoursPerMonth: hours('hours/month producers send (730 = always)'),
    parquetRatio: fraction('ratio: Parquet bytes stored in S3 per JSON byte ingested'),
  })
  .describe('Event ingestion (Kinesis, Firehose, raw bucket)');

const servingSchema = z
  .strictObject({
    ...comment,
    modelDeployed: z
      .boolean()
      .describe(
        'true when the retraining loop has deployed a model, so the endpoint exists all month; false before the first model (no endpoint, nothing billed)',
      ),
    activeHoursPerMonth: hours(
      'hours/month the endpoint serves traffic, scale-in cooldown included: a scale-to-zero endpoint has instances only then; an always-on endpoint bills 730 h regardless',
    ),
    averageInstances: num(
      "instances: average instance count while serving (clamped to the template's bounds); an always-on endpoint keeps its autoscaling minimum the rest of the month",
    ),
    requestsPerMonth: num('requests/month: inference requests'),
    requestBytes: num('bytes: average request payload'),
    responseBytes: num('bytes: average response payload'),
    serverlessMsPerRequest: num(
      'ms: billed processing time per request on a serverless endpoint (memory size × this time is billed)',
    ),
  })
  .describe('Real-time inference (SageMaker endpoint, data capture)');

const trainingSchema = z
  .strictObject({
    ...comment,
    retrainsPerMonth: num('training jobs/month (each run of the loop that reaches training)'),
    hoursPerRun: num('hours: billable time of one training job per instance'),
    spotSavings: fraction('fraction: managed spot discount over on-demand when the template enables spot (e.g. 0.7)'),
    datasetGBPerRetrain: num('GB: training and validation files written to the curated bucket per retrain'),
    modelGBPerRetrain: num('GB: model artifact and checkpoints written to the artifacts bucket per retrain'),
  })
  .describe('Training (SageMaker training jobs)');

const retrainingSchema = z
  .strictObject({
    ...comment,
    executionsPerMonth: num(
      'executions/month of the retraining state machine (at least the scheduled ones; runs that stop before training count)',
    ),
    stateTransitionsPerExecution: num('state transitions: per execution, polling loops included'),
    athenaScannedGBPerExecution: num('GB: Athena data scanned per execution (new-record count and dataset queries)'),
    lockRequestsPerExecution: num(
      'requests: DynamoDB reads plus writes per execution on tables the state machine uses',
    ),
  })
  .describe('The retraining loop (Step Functions, Athena, DynamoDB lock)');

const lambdaSchema = z
  .strictObject({
    ...comment,
    averageDurationMs: num('ms: billed duration of one invocation, unless overridden per function'),
    logBytesPerInvocation: num('bytes: CloudWatch Logs written per invocation'),
    eventSourceBatchSize: num('records: average batch per invocation of a stream consumer'),
    functions: z
      .record(
        z.string(),
        z.strictObject({
          ...comment,
          averageDurationMs: num('ms').optional(),
          invocationsPerMonth: num('invocations/month added to the ones found in the templates').optional(),
          customMetrics: num('custom metric series (EMF) it publishes, instead of other.customMetrics').optional(),
        }),
      )
      .describe(
        'per function, keyed by a substring of its logical ID: averageDurationMs (ms), invocationsPerMonth (invocations/month added), customMetrics (EMF series)',
      ),
  })
  .describe('Lambda functions');

const otherSchema = z
  .strictObject({
    ...comment,
    logBytesPerStateTransition: num('bytes: CloudWatch Logs written per state transition (ALL-level execution logs)'),
    otherLogGroupGBPerMonth: num('GB/month: ingested into each log group not attached to a function or state machine'),
    customMetrics: num(
      'metrics: custom metric series (EMF) each publishing function sends; prorated by the hours it runs, so a function that is never invoked costs nothing',
    ),
    kmsRequestsPerKeyPerMonth: num('requests/month: KMS API requests per customer-managed key'),
    snsPublishesPerMonth: num('publishes/month per topic (alarms, run outcomes, approvals)'),
    snsEmailDeliveriesPerMonth: num('emails/month per topic'),
    sqsRequestsPerQueuePerMonth: num('requests/month per queue'),
    customEventsPerRulePerMonth: num('events/month matched by each rule on custom events (e.g. drift detections)'),
    dynamoRequestsPerOtherTablePerMonth: num('requests/month on each table the state machine does not use'),
    dynamoStorageGBPerTable: num('GB: stored per DynamoDB table'),
    s3GetRequestsPerBucketPerMonth: num('requests/month: GETs per bucket'),
    s3PutRequestsPerOtherBucketPerMonth: num('requests/month: PUTs per bucket with no modelled writer'),
    accessLogGBPerMonth: num('GB/month written to the access-log bucket'),
    unexpiredRetentionDays: num('days: how long objects without a lifecycle expiration are counted as stored'),
    athenaAdHocScannedGBPerMonth: num('GB/month: ad hoc Athena queries per workgroup'),
    athenaScheduledScannedGBPerMonth: num(
      "GB/month: scheduled Athena queries per workgroup (the recommender's slate-outcome writer: one UNLOAD per serving hour over about 2.5 h of arrival partitions)",
    ),
    apiRequestsPerMonth: num(
      'requests/month through the serving API (each API Gateway API; each function URL invokes its function once per request)',
    ),
  })
  .describe('Everything else (logs, metrics, keys, notifications, queues, events, storage, queries, APIs)');

/** The usage of one case study. */
export const caseUsageSchema = z.strictObject({
  ...comment,
  ingestion: ingestionSchema,
  serving: servingSchema,
  training: trainingSchema,
  retraining: retrainingSchema,
  lambda: lambdaSchema,
  other: otherSchema,
});

/** A usage profile file. */
export const usageProfileSchema = z.strictObject({
  ...comment,
  /** One line on the scenario. */
  description: z.string().min(1),
  /** The stage the profile describes. */
  stage: z.enum(STAGES),
  /** Config overrides used when the CLI synthesizes for this profile (e.g. 100M users need more shards). */
  synthOverrides: z.record(z.string(), z.unknown()).optional(),
  caseStudies: z.strictObject({ recommender: caseUsageSchema, vision: caseUsageSchema }),
});

/** Usage of one case study. */
export type CaseUsage = z.infer<typeof caseUsageSchema>;
/** A validated usage profile. */
export type UsageProfile = z.infer<typeof usageProfileSchema>;

/** Where committed profiles live. */
export const USAGE_DIR = join(__dirname, '..', '..', 'data', 'usage');

/** Parses a usage profile; throws CostError naming the field. */
export function parseUsageProfile(json: unknown, name: string): UsageProfile {
  const parsed = usageProfileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CostError(`usage profile ${name}: ${issue.path.join('.') || '(root)'} ${issue.message}`);
  }
  return parsed.data;
}

/** Loads a profile by committed name (`production-100m`) or by file path. */
export function loadUsageProfile(nameOrFile: string): UsageProfile {
  const committed = join(USAGE_DIR, `${nameOrFile}.json`);
  const file = /^[a-z0-9-]+$/.test(nameOrFile) && existsSync(committed) ? committed : nameOrFile;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CostError(
      `cannot read usage profile "${nameOrFile}": no such file and no committed profile of that name (committed: ${committedProfiles().join(', ')})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CostError(`usage profile ${file} is not valid JSON: ${(e as Error).message}`);
  }
  return parseUsageProfile(json, file);
}

/** The committed profile of a stage left deployed with no traffic and no retraining. */
export const IDLE_PROFILE = 'idle';

/** Names of the committed profiles. */
export function committedProfiles(): string[] {
  return [IDLE_PROFILE, 'sandbox', 'production', 'production-100m'].filter((n) =>
    existsSync(join(USAGE_DIR, `${n}.json`)),
  );
}
