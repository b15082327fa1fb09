/**
 * The vision system's daily review job: active learning with a budget, and the backfill of predictions deferred
 * while the endpoint was at zero. Once a day (02:00 UTC) a Step Functions workflow
 *
 *   PlanBackfill → AnyDeferred? → FindServedModel (the inference component's model, or the endpoint config's) →
 *   Backfill (batch transform of yesterday's deferred images with that model) → RecordBackfill → SelectForReview
 *
 * scores the deferred images with the model that serves, on its own instance (the endpoint need not wake up, and
 * no model or role is created: the transform runs as the served model, with its role), logs the answers like live
 * predictions, then sends yesterday's most uncertain predictions (up to the budget) and a random audit share to the
 * reviewers' queue (`core/vision/daily-review.ts`). An execution whose input names a day (`{"day": "yyyy-mm-dd"}`)
 * reviews that day instead (a missed day, re-run). A failed backfill (or no model serving yet) still lets the
 * selection run on the live predictions; any other failure fails the run (alarmed).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
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
  /** The served model is the one of this inference component (scale to zero). @default the endpoint config's */
  readonly inferenceComponentName?: string;
  /** Lake key: the backfill's outputs are encrypted with it. */
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
  /** Runs the workflow daily. */
  public readonly rule: events.Rule;
  /** Failed runs. */
  public readonly failureAlarm: cloudwatch.Alarm;

  private readonly props: DailyReviewProps;

  constructor(scope: Construct, id: string, props: DailyReviewProps) {
    super(scope, id);
    this.props = props;
    const { endpointName, logBucket } = props;
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

  /**
   * Lets the served model's role (the loop's SageMaker role) read the backfill's manifests and write its answers:
   * the backfill's transform runs as the served model.
   */
  public grantModelRole(role: iam.IGrantable): void {
    this.props.logBucket.grantReadWrite(role, `${BACKFILL_PREFIX}*`);
    const policy = (role.grantPrincipal as iam.Role).node.tryFindChild('DefaultPolicy');
    if (policy) {
      acknowledgeBucketGrants(policy, [
        { bucket: this.props.logBucket, prefixes: [BACKFILL_PREFIX], write: 'read-write', encrypted: true },
      ]);
    }
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
    // The day reviewed: the day before the run, or the one its input names (`{"day": "yyyy-mm-dd"}`, a re-run).
    const plan = step(
      'PlanBackfill',
      { action: 'plan', 'time.$': '$$.Execution.StartTime', 'input.$': '$' },
      '$.backfill',
    );
    const select = step('SelectForReview', { action: 'select', 'day.$': '$.backfill.day' }, '$.selection');
    const record = step(
      'RecordBackfill',
      {
        action: 'record',
        'day.$': '$.backfill.day',
        'outputUri.$': '$.backfill.outputUri',
      },
      '$.recorded',
    );
    const stack = Stack.of(this);
    const jobPrefix = `${props.endpointName}-bf`;
    // The served model: the inference component's (scale to zero), or the endpoint config's first variant's.
    const servedModel = props.inferenceComponentName
      ? componentModel(this, props.inferenceComponentName)
      : endpointModel(this, props.endpointName);
    const transform = new sfn.CustomState(this, 'Backfill', {
      stateJson: {
        Type: 'Task',
        Comment: "Scores yesterday's deferred images with the served model (batch transform)",
        Resource: `arn:${stack.partition}:states:::sagemaker:createTransformJob.sync`,
        TimeoutSeconds: 3 * 3600,
        Parameters: {
          'TransformJobName.$': `States.Format('${jobPrefix}-{}', States.ArrayGetItem(States.StringSplit($$.Execution.Name, '-'), 0))`,
          'ModelName.$': '$.served.name',
          TransformInput: {
            DataSource: { S3DataSource: { S3DataType: 'ManifestFile', 'S3Uri.$': '$.backfill.manifestUri' } },
            ContentType: 'application/x-image',
            SplitType: 'None',
          },
          TransformOutput: {
            'S3OutputPath.$': '$.backfill.outputUri',
            Accept: 'application/json',
            KmsKeyId: props.dataKey.keyArn,
          },
          TransformResources: { InstanceType: props.transformInstanceType, InstanceCount: 1 },
        },
        ResultPath: sfn.JsonPath.DISCARD,
      },
    });
    for (const state of [...servedModel.all, record]) {
      state.addCatch(select, { errors: ['States.ALL'], resultPath: '$.backfillError' });
    }
    transform.addCatch(select, { errors: ['States.ALL'], resultPath: '$.backfillError' });
    servedModel.last.next(transform).next(record).next(select);
    const chain = plan.next(
      new sfn.Choice(this, 'AnyDeferred?')
        .when(sfn.Condition.numberGreaterThan('$.backfill.images', 0), servedModel.first)
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
    const add = (sid: string, actions: string[], resources: string[]) =>
      machine.addToRolePolicy(new iam.PolicyStatement({ sid, actions, resources }));
    add(
      'BackfillJobs',
      ['sagemaker:CreateTransformJob', 'sagemaker:DescribeTransformJob', 'sagemaker:StopTransformJob'],
      [stack.formatArn({ service: 'sagemaker', resource: 'transform-job', resourceName: `${jobPrefix}-*` })],
    );
    add(
      'BackfillJobEvents',
      ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      [
        stack.formatArn({
          service: 'events',
          resource: 'rule',
          resourceName: 'StepFunctionsGetEventsForSageMakerTransformJobsRule',
        }),
      ],
    );
    const policy = machine.role.node.findChild('DefaultPolicy');
    acknowledgeNag(
      policy,
      `IAM5[Resource::${nagArnName(this, this.function.functionArn)}:*]`,
      "Invoking the job's own function, any version (the Step Functions Lambda task grants the qualified ARN).",
    );
    acknowledgeNag(
      policy,
      `IAM5[Resource::${nagArnName(this, stack.formatArn({ service: 'sagemaker', resource: 'transform-job', resourceName: `${jobPrefix}-*` }))}]`,
      'The backfill transform is named per run (`<endpoint>-bf-<run>`); only those names.',
    );
    acknowledgeNag(policy, 'IAM5[Resource::*]', 'X-Ray and log delivery actions have no resource-level permissions.');
    if (!props.inferenceComponentName) {
      acknowledgeNag(
        policy,
        `IAM5[Resource::${nagArnName(this, stack.formatArn({ service: 'sagemaker', resource: 'endpoint-config', resourceName: `${props.endpointName.toLowerCase()}-*` }))}]`,
        "The endpoint's configs, named per deployment by the retraining loop (`<endpoint>-<run>`); only those names.",
      );
    }
    return machine;
  }
}

/** The served model of an inference component: `$.served.name`. */
function componentModel(scope: Construct, name: string) {
  const state = new tasks.CallAwsService(scope, 'FindServedModel', {
    service: 'sagemaker',
    action: 'describeInferenceComponent',
    parameters: { InferenceComponentName: name },
    iamResources: [
      Stack.of(scope).formatArn({
        service: 'sagemaker',
        resource: 'inference-component',
        resourceName: name.toLowerCase(),
      }),
    ],
    resultSelector: { 'name.$': '$.Specification.ModelName' },
    resultPath: '$.served',
  });
  return Object.assign(state, { first: state, last: state, all: [state] });
}

/** The served model of an endpoint (its config's first variant): `$.served.name`. */
function endpointModel(scope: Construct, endpointName: string) {
  const stack = Stack.of(scope);
  const endpoint = new tasks.CallAwsService(scope, 'FindServingEndpoint', {
    service: 'sagemaker',
    action: 'describeEndpoint',
    parameters: { EndpointName: endpointName },
    iamResources: [
      stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: endpointName.toLowerCase() }),
    ],
    resultSelector: { 'config.$': '$.EndpointConfigName' },
    resultPath: '$.served',
  });
  const config = new tasks.CallAwsService(scope, 'FindServedModel', {
    service: 'sagemaker',
    action: 'describeEndpointConfig',
    parameters: { 'EndpointConfigName.$': '$.served.config' },
    iamResources: [
      stack.formatArn({
        service: 'sagemaker',
        resource: 'endpoint-config',
        resourceName: `${endpointName.toLowerCase()}-*`,
      }),
    ],
    resultSelector: { 'name.$': '$.ProductionVariants[0].ModelName' },
    resultPath: '$.served',
  });
  endpoint.next(config);
  return Object.assign(endpoint, { first: endpoint, last: config, all: [endpoint, config] });
}
