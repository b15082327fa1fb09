import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEFAULT_OUTCOMES_PREFIX } from '../../../core/drift/quality';
import { endpointOutcomesPrefix } from '../../../core/recommender/outcomes';
import type { BlueprintConfig } from '../../config';
import { SLATE_OUTCOMES_TIMEOUT_MINUTES } from '../../config/slate-outcomes';
import { BlueprintFunction } from '../../constructs/blueprint-function';
import { FailureQueue } from '../../constructs/failure-queue';
import { acknowledgeBucketGrants } from '../../nag';
import { alarmOnAny, scheduleFunction } from '../../constructs/scheduled-alarms';

/** A lake table the writer reads: its Glue name and the key prefix of its files in the raw bucket. */
export interface LakeTableRef {
  readonly name: string;
  readonly prefix: string;
}

/** Properties of a {@link SlateOutcomes}. */
export interface SlateOutcomesProps {
  readonly caseStudy: string;
  readonly stage: string;
  /** The endpoint whose outcomes are written (the drift checker's endpoint). */
  readonly endpointName: string;
  /** The lake's raw zone: the served slates and interactions (read by Athena with the writer's credentials). */
  readonly rawBucket: s3.IBucket;
  /** Where Athena writes query results (the workgroup's enforced location). */
  readonly curatedBucket: s3.IBucket;
  /** Prefix of Athena query results in the curated bucket. @default 'athena-results/' */
  readonly athenaResultsPrefix?: string;
  /** The drift checker's bucket: outcome records go under `drift/outcomes/<endpoint>/`. */
  readonly artifactsBucket: s3.IBucket;
  /** Glue database and Athena workgroup of the lake. */
  readonly databaseName: string;
  readonly workGroupName: string;
  readonly eventsTable: LakeTableRef;
  readonly slatesTable: LakeTableRef;
  readonly attributionMinutes: number;
  readonly deliveryAllowanceMinutes: number;
  readonly catchUpHours: number;
  /** How often the writer runs. */
  readonly schedule: Duration;
  /** Key of the function's logs, environment and dead-letter queue. */
  readonly encryptionKey: kms.IKey;
  /** Where alarms notify. */
  readonly alarmTopic: sns.ITopic;
}

/** Longest wait for one Athena statement (the function's timeout leaves room for one more wait and the marker). */
const MAX_QUERY_WAIT = Duration.minutes(10);

/**
 * The Glue database and Athena workgroup of a case study's lake, as the Data stack names them
 * (`lib/stacks/data-stack.ts`; a test checks the two agree).
 */
export function lakeNamesOf(config: Pick<BlueprintConfig, 'stage' | 'caseStudy'>): {
  databaseName: string;
  workGroupName: string;
} {
  const name = `ml_blueprint_${config.stage}_${config.caseStudy}`;
  return { databaseName: name, workGroupName: name.replace(/_/g, '-') };
}

/**
 * The recommender's scheduled **slate-outcome writer**: an EventBridge rule runs a Lambda that, for every serving
 * hour that has settled and is not yet written, unloads the served slates and the clicks they led to into the
 * drift checker's outcome records (`core/recommender/outcomes.ts`), so that the checker measures the served
 * model's realised CTR and nDCG@10. Least privilege: Athena in the lake's workgroup, the two Glue tables, their raw
 * prefixes, the Athena results prefix, and the endpoint's outcomes prefix. Failed invocations land in a
 * KMS-encrypted dead-letter queue; errors and dead letters raise alarms.
 */
export class SlateOutcomes extends Construct {
  public readonly function: BlueprintFunction;
  public readonly rule: events.Rule;
  public readonly deadLetterQueue: FailureQueue;
  public readonly alarms: cloudwatch.Alarm[];
  /** The outcomes prefix the writer owns: `drift/outcomes/<endpoint>/`. */
  public readonly outcomesPrefix: string;

  constructor(scope: Construct, id: string, props: SlateOutcomesProps) {
    super(scope, id);
    const minutes = props.schedule.toMinutes();
    if (minutes < 5 || minutes > 60) {
      throw new Error(`the slate-outcome schedule must be 5 to 60 minutes; received ${minutes}`);
    }
    const resultsPrefix = props.athenaResultsPrefix ?? 'athena-results/';
    this.outcomesPrefix = endpointOutcomesPrefix(props.endpointName, DEFAULT_OUTCOMES_PREFIX);

    this.deadLetterQueue = new FailureQueue(this, 'DeadLetters', {
      encryptionKey: props.encryptionKey,
      purpose: 'dead-letter queue of the slate-outcome writer',
    });
    this.function = new BlueprintFunction(this, 'Function', {
      handlerDir: 'slate-outcomes',
      description: `Writes the slate outcomes (served slates and their clicks) of ${props.endpointName} for the drift checker`,
      encryptionKey: props.encryptionKey,
      timeout: Duration.minutes(SLATE_OUTCOMES_TIMEOUT_MINUTES),
      memorySize: 256,
      // One run at a time: an hour is never unloaded twice concurrently, and no query outlives its run.
      reservedConcurrentExecutions: 1,
      environment: {
        CASE_STUDY: props.caseStudy,
        STAGE: props.stage,
        ENDPOINT_NAME: props.endpointName,
        ARTIFACTS_BUCKET: props.artifactsBucket.bucketName,
        OUTCOMES_PREFIX: DEFAULT_OUTCOMES_PREFIX,
        DATABASE: props.databaseName,
        EVENTS_TABLE: props.eventsTable.name,
        SLATES_TABLE: props.slatesTable.name,
        RAW_BUCKET: props.rawBucket.bucketName,
        SLATES_PREFIX: props.slatesTable.prefix,
        WORK_GROUP: props.workGroupName,
        ATTRIBUTION_MINUTES: String(props.attributionMinutes),
        DELIVERY_ALLOWANCE_MINUTES: String(props.deliveryAllowanceMinutes),
        CATCH_UP_HOURS: String(props.catchUpHours),
        MAX_QUERY_WAIT_SECONDS: String(MAX_QUERY_WAIT.toSeconds()),
        POWERTOOLS_METRICS_NAMESPACE: 'MlBlueprint/Recommender',
      },
    });
    this.function.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });

    const stack = Stack.of(this);
    const arn = (service: string, resource: string) => stack.formatArn({ service, resource, arnFormat: undefined });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AthenaInTheLakeWorkGroup',
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
        resources: [arn('athena', `workgroup/${props.workGroupName}`)],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'GlueTablesOfTheStatement',
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
        resources: [
          arn('glue', 'catalog'),
          arn('glue', `database/${props.databaseName}`),
          arn('glue', `table/${props.databaseName}/${props.eventsTable.name}`),
          arn('glue', `table/${props.databaseName}/${props.slatesTable.name}`),
        ],
      }),
    );
    // Athena reads the tables' files and writes results and the UNLOAD with the caller's credentials.
    props.rawBucket.grantRead(this.function, `${props.eventsTable.prefix}*`);
    props.rawBucket.grantRead(this.function, `${props.slatesTable.prefix}*`);
    props.curatedBucket.grantRead(this.function, `${resultsPrefix}*`);
    props.curatedBucket.grantPut(this.function, `${resultsPrefix}*`);
    // Markers are read and put, an interrupted attempt's objects deleted: the endpoint's outcomes only.
    props.artifactsBucket.grantRead(this.function, `${this.outcomesPrefix}*`);
    props.artifactsBucket.grantPut(this.function, `${this.outcomesPrefix}*`);
    props.artifactsBucket.grantDelete(this.function, `${this.outcomesPrefix}*`);
    const policy = this.function.role?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      acknowledgeBucketGrants(policy, [
        { bucket: props.rawBucket, prefixes: [props.eventsTable.prefix, props.slatesTable.prefix], encrypted: true },
        { bucket: props.curatedBucket, prefixes: [resultsPrefix], write: 'put', encrypted: true },
        { bucket: props.artifactsBucket, prefixes: [this.outcomesPrefix], write: 'read-write', encrypted: true },
      ]);
    }

    this.rule = scheduleFunction(this, {
      function: this.function,
      schedule: props.schedule,
      description: `Writes the settled slate outcomes of ${props.endpointName} every ${minutes} minutes`,
      deadLetterQueue: this.deadLetterQueue,
    });

    const action = new cwActions.SnsAction(props.alarmTopic);
    this.alarms = [
      alarmOnAny(this, 'ErrorsAlarm', {
        description: `The slate-outcome writer of ${props.endpointName} failed: realised quality goes unmeasured for the hours it did not write. Runbook: docs/runbooks/drift-checker-failed.md (the slate-outcome writer)`,
        metric: this.function.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      }),
      alarmOnAny(this, 'DeadLettersAlarm', {
        description: `Slate-outcome writer invocations of ${props.endpointName} were dead-lettered. Runbook: docs/runbooks/drift-checker-failed.md (the slate-outcome writer)`,
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      }),
    ];
    for (const alarm of this.alarms) alarm.addAlarmAction(action);
  }
}
