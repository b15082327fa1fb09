/**
 * The vision system's daily review job: active learning with a budget, and the backfill of predictions deferred
 * while the endpoint was at zero. Once a day (02:00 UTC) a Step Functions workflow
 *
 *   PlanBackfill → AnyDeferred? → FindServingPackage → PackageFound? → CreateBackfillModel → Backfill (batch
 *   transform of yesterday's deferred images) → DeleteBackfillModel → RecordBackfill → SelectForReview
 *
 * scores the deferred images with the newest approved model on its own instance (the endpoint need not wake up),
 * logs the answers like live predictions, then sends yesterday's most uncertain predictions (up to the budget)
 * and a random audit share to the reviewers' queue (`core/vision/daily-review.ts`). A failed backfill still lets
 * the selection run on the live predictions; any other failure fails the run (alarmed).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ActiveLearningPolicy } from '../../../core/vision/active-learning';
import { BlueprintFunction } from '../../constructs/blueprint-function';
import { acknowledgeBucketGrants, acknowledgeNag, nagArnName } from '../../nag';
import { PREDICTION_LOG_PREFIXES } from './image-ingestion';

/** Salt of the audit draw: the same in the daily selection and in the dataset's test-set rule. */
export const AUDIT_SALT = 'audit-v1';

/** Prefix of the backfill's manifests, indexes and transform outputs in the log bucket. */
export const BACKFILL_PREFIX = 'vision/backfill/';

/** Properties of a {@link DailyReview}. */
export interface DailyReviewProps {
  readonly endpointName: string;
  /** Bucket of the prediction log (the artifacts bucket): predictions, deferred predictions, backfill. */
  readonly logBucket: s3.IBucket;
  /** Bucket of the images, read under `imagesPrefix` by the backfill's transform. */
  readonly imagesBucket: s3.IBucket;
  readonly imagesPrefix: string;
  /** The reviewers' queue (the review app's intake). */
  readonly reviewQueue: sqs.IQueue;
  /** Budget, audit share and uncertainty score. */
  readonly policy: ActiveLearningPolicy;
  /** Instance type of the backfill's batch transform (the endpoint's). */
  readonly transformInstanceType: string;
  /** ECR repository ARN of the model's inference image. */
  readonly inferenceRepositoryArn: string;
  /** Lake key: the images, the model archives and the backfill outputs are encrypted with it. */
  readonly dataKey: kms.IKey;
  /** Key of the job's logs and environment. */
  readonly encryptionKey: kms.IKey;
  readonly alarmTopic: sns.ITopic;
  /** @default every day at 02:00 UTC */
  readonly schedule?: events.Schedule;
}

/** The daily review job (see the module comment). */
export class DailyReview extends Construct {
  /** The job's steps (plan, record, select). */
  public readonly function: BlueprintFunction;
  /** The workflow. */
  public readonly stateMachine: sfn.StateMachine;
  /** The role of the backfill's model (reads images and archives, writes outputs). */
  public readonly backfillRole: iam.Role;
  /** Runs the workflow daily. */
  public readonly rule: events.Rule;
  /** Failed runs. */
  public readonly failureAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DailyReviewProps) {
    super(scope, id);
    const { endpointName, logBucket } = props;
    const stack = Stack.of(this);
    const p = PREDICTION_LOG_PREFIXES;
    this.function = new BlueprintFunction(this, 'Function', {
      handlerDir: 'vision-review',
      description: `Daily review of ${endpointName}: backfill plan and record, active learning to the reviewers' queue`,
      encryptionKey: props.encryptionKey,
      timeout: Duration.minutes(5),
      memorySize: 1024,
      environment: {
        LOG_BUCKET: logBucket.bucketName,
        PREDICTIONS_PREFIX: p.predictions,
        DEFERRED_PREFIX: p.deferred,
        BACKFILL_PREFIX,
        ENDPOINT_NAME: endpointName,
        IMAGES_URI: `s3://${props.imagesBucket.bucketName}/${props.imagesPrefix}`,
        REVIEW_POLICY: JSON.stringify(props.policy),
        REVIEW_QUEUE_URL: props.reviewQueue.queueUrl,
      },
    });
    logBucket.grantRead(this.function, `${p.deferred}*`);
    logBucket.grantReadWrite(this.function, `${p.predictions}*`);
    logBucket.grantReadWrite(this.function, `${BACKFILL_PREFIX}*`);
    props.reviewQueue.grantSendMessages(this.function);
    acknowledgeBucketGrants(this.function.role!.node.findChild('DefaultPolicy'), [
      {
        bucket: logBucket,
        prefixes: [p.deferred, p.predictions, BACKFILL_PREFIX],
        write: 'read-write',
        encrypted: true,
      },
    ]);

    this.backfillRole = new iam.Role(this, 'BackfillRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `Backfill transform of ${endpointName}: reads images and model archives, writes answers`,
    });
    props.imagesBucket.grantRead(this.backfillRole, `${props.imagesPrefix}*`);
    logBucket.grantRead(this.backfillRole, 'models/*');
    logBucket.grantReadWrite(this.backfillRole, `${BACKFILL_PREFIX}*`);
    props.dataKey.grant(this.backfillRole, 'kms:CreateGrant');
    this.backfillRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PullInferenceImage',
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        resources: [props.inferenceRepositoryArn],
      }),
    );
    this.backfillRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    );
    const transformLogs = `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/sagemaker/TransformJobs:log-stream:*`;
    this.backfillRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TransformLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [transformLogs],
      }),
    );
    const rolePolicy = this.backfillRole.node.findChild('DefaultPolicy');
    acknowledgeBucketGrants(rolePolicy, [
      { bucket: props.imagesBucket, prefixes: [props.imagesPrefix], encrypted: true },
      { bucket: logBucket, prefixes: ['models/', BACKFILL_PREFIX], write: 'read-write', encrypted: true },
    ]);
    acknowledgeNag(rolePolicy, 'IAM5[Resource::*]', 'ecr:GetAuthorizationToken has no resource-level permissions.');
    acknowledgeNag(
      rolePolicy,
      `IAM5[Resource::${nagArnName(this, transformLogs)}]`,
      'SageMaker names the log streams of a transform job at run time; the grant is limited to the one log group.',
    );

    this.stateMachine = this.workflow(props);
    this.rule = new events.Rule(this, 'Schedule', {
      description: `Daily review of ${endpointName}: backfill and active learning`,
      schedule: props.schedule ?? events.Schedule.cron({ minute: '0', hour: '2' }),
    });
    this.rule.addTarget(new targets.SfnStateMachine(this.stateMachine, { retryAttempts: 3 }));
    this.failureAlarm = new cloudwatch.Alarm(this, 'FailuresAlarm', {
      alarmDescription: `The daily review of ${endpointName} failed: no review items today. Runbook: docs/runbooks/review-queue-backlog.md`,
      metric: this.stateMachine.metricFailed({ statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failureAlarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
  }

  private workflow(props: DailyReviewProps): sfn.StateMachine {
    const step = (id: string, payload: Record<string, unknown>, resultPath: string) =>
      new tasks.LambdaInvoke(this, id, {
        lambdaFunction: this.function,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        resultPath,
        retryOnServiceExceptions: true,
      });
    const plan = step('PlanBackfill', { action: 'plan', 'time.$': '$$.Execution.StartTime' }, '$.backfill');
    const select = step('SelectForReview', { action: 'select', 'day.$': '$.backfill.day' }, '$.selection');
    const record = step(
      'RecordBackfill',
      {
        action: 'record',
        'day.$': '$.backfill.day',
        'outputUri.$': '$.backfill.outputUri',
        'time.$': '$$.State.EnteredTime',
      },
      '$.recorded',
    );
    const modelName = `${props.endpointName}-bf`;
    const modelArn = Stack.of(this).formatArn({
      service: 'sagemaker',
      resource: 'model',
      resourceName: `${modelName}-*`,
    });
    const find = new tasks.CallAwsService(this, 'FindServingPackage', {
      service: 'sagemaker',
      action: 'listModelPackages',
      parameters: {
        ModelPackageGroupName: props.endpointName,
        ModelApprovalStatus: 'Approved',
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: 1,
      },
      iamResources: ['*'],
      resultSelector: { 'list.$': '$.ModelPackageSummaryList' },
      resultPath: '$.packages',
    });
    const create = new tasks.CallAwsService(this, 'CreateBackfillModel', {
      service: 'sagemaker',
      action: 'createModel',
      parameters: {
        'ModelName.$': `States.Format('${modelName}-{}', States.ArrayGetItem(States.StringSplit($$.Execution.Name, '-'), 0))`,
        ExecutionRoleArn: this.backfillRole.roleArn,
        PrimaryContainer: { 'ModelPackageName.$': '$.packages.list[0].ModelPackageArn' },
      },
      iamResources: [modelArn],
      additionalIamStatements: [
        new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [this.backfillRole.roleArn] }),
        new iam.PolicyStatement({
          actions: ['sagemaker:DescribeModelPackage'],
          resources: [
            Stack.of(this).formatArn({
              service: 'sagemaker',
              resource: 'model-package',
              resourceName: `${props.endpointName}/*`,
            }),
          ],
        }),
      ],
      resultSelector: { 'name.$': "States.ArrayGetItem(States.StringSplit($.ModelArn, '/'), 1)" },
      resultPath: '$.model',
    });
    const transform = new tasks.SageMakerCreateTransformJob(this, 'Backfill', {
      transformJobName: sfn.JsonPath.format(`${modelName}-{}`, sfn.JsonPath.stringAt('$.backfill.day')),
      modelName: sfn.JsonPath.stringAt('$.model.name'),
      role: this.backfillRole,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      transformInput: {
        transformDataSource: {
          s3DataSource: {
            s3Uri: sfn.JsonPath.stringAt('$.backfill.manifestUri'),
            s3DataType: tasks.S3DataType.MANIFEST_FILE,
          },
        },
        contentType: 'application/x-image',
        splitType: tasks.SplitType.NONE,
      },
      transformOutput: {
        s3OutputPath: sfn.JsonPath.stringAt('$.backfill.outputUri'),
        accept: 'application/json',
        encryptionKey: props.dataKey,
      },
      transformResources: {
        instanceCount: 1,
        instanceType: new ec2.InstanceType(props.transformInstanceType.replace(/^ml\./, '')),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    const remove = new tasks.CallAwsService(this, 'DeleteBackfillModel', {
      service: 'sagemaker',
      action: 'deleteModel',
      parameters: { 'ModelName.$': '$.model.name' },
      iamResources: [modelArn],
      resultPath: sfn.JsonPath.DISCARD,
    });
    for (const state of [find, create, transform, remove, record]) {
      state.addCatch(select, { errors: ['States.ALL'], resultPath: '$.backfillError' });
    }
    const packageFound = new sfn.Choice(this, 'PackageFound?')
      .when(
        sfn.Condition.isPresent('$.packages.list[0]'),
        create.next(transform).next(remove).next(record).next(select),
      )
      .otherwise(select);
    const chain = plan.next(
      new sfn.Choice(this, 'AnyDeferred?')
        .when(sfn.Condition.numberGreaterThan('$.backfill.images', 0), find.next(packageFound))
        .otherwise(select),
    );
    const logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.encryptionKey,
      retention: logs.RetentionDays.SIX_MONTHS,
    });
    const machine = new sfn.StateMachine(this, 'StateMachine', {
      comment: `Daily review of ${props.endpointName}: backfill of deferred predictions, active learning`,
      definitionBody: sfn.DefinitionBody.fromChainable(chain),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    const policy = machine.role.node.findChild('DefaultPolicy');
    const stack = Stack.of(this);
    const acknowledge = (arn: string, reason: string) =>
      acknowledgeNag(policy, `IAM5[Resource::${nagArnName(this, arn)}]`, reason);
    acknowledge('*', 'ListModelPackages and the X-Ray and log delivery actions have no resource-level permissions.');
    acknowledgeNag(
      policy,
      `IAM5[Resource::${nagArnName(this, this.function.functionArn)}:*]`,
      "Invoking the job's own function, any version (the Step Functions Lambda task grants the qualified ARN).",
    );
    acknowledge(modelArn, 'The backfill model is named per run (`<endpoint>-bf-<run>`); only those names.');
    acknowledge(
      stack.formatArn({ service: 'sagemaker', resource: 'model-package', resourceName: `${props.endpointName}/*` }),
      "The newest approved package of the endpoint's own model package group; the version is known at run time.",
    );
    acknowledge(
      stack.formatArn({ service: 'sagemaker', resource: 'transform-job', resourceName: '*' }),
      'The Step Functions SageMaker transform task grants transform-job/* (the job is named at run time).',
    );
    return machine;
  }
}
