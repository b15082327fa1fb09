import { Annotations, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, type IConstruct } from 'constructs';
import { DRIFT_DETAIL_TYPE, DRIFT_EVENT_SOURCE } from '../../core/contracts/drift-events';
import type { EventSchema } from '../../core/contracts/events';
import { MODEL_REJECTED_ERROR_NAME } from '../../core/retraining/approval';
import { acknowledgeBucketGrants, acknowledgeNag, nagArnName } from '../nag';
import { BlueprintFunction } from './blueprint-function';
import { hasInstanceStorage, type TrainingRecipe } from './training-recipe';
import type { VisionServingPlan } from './vision-serving';

/** Training resources of the loop. */
export interface LoopTrainingProps {
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly maxRuntime: Duration;
  /** Managed spot training with checkpoints. */
  readonly useSpot: boolean;
  /** Spot: how long to wait for capacity plus the run (at least maxRuntime). */
  readonly maxWait: Duration;
  readonly volumeSize: Size;
  /** No network access from the training and inference containers. @default false */
  readonly networkIsolation?: boolean;
}

/** Serving settings of the endpoint the loop deploys. */
export interface LoopServingProps {
  readonly instanceType: string;
  readonly initialInstanceCount: number;
  /** Autoscaling floor (instance-based variants cannot go below 1: 0 registers 1 unless `servingPlan` scales to 0). */
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Share of requests captured for drift monitoring. */
  readonly dataCapturePercent: number;
  /** Target-tracking target: invocations per instance per minute. @default 100 */
  readonly targetInvocationsPerInstance?: number;
}

/** Bounds of the images the vision drift baseline reads (as the image consumer's `vision.ingestion`). */
export interface LoopImageLimits {
  /** Larger objects are not read past this size. */
  readonly maxImageSize: Size;
  /** Images with more pixels are skipped before decoding. */
  readonly maxImagePixels: number;
}

/** Image bounds of the vision baseline when none are given (the sandbox's `vision.ingestion`). */
export const DEFAULT_IMAGE_LIMITS: LoopImageLimits = {
  maxImageSize: Size.mebibytes(5),
  maxImagePixels: 25_000_000,
};

/** Champion/challenger policy. */
export interface PromotionPolicy {
  readonly metricName: string;
  readonly metricDirection: 'maximize' | 'minimize';
  /** The candidate must beat the champion by at least this much. */
  readonly minImprovement: number;
  /** The first model must reach this. */
  readonly absoluteFloor: number;
}

/** Properties of a {@link RetrainingLoop}. */
export interface RetrainingLoopProps {
  readonly caseStudy: 'recommender' | 'vision';
  readonly stage: string;
  /** The endpoint the loop creates and updates (also the model package group name). */
  readonly endpointName: string;
  /** The case study's raw events (columns and closed value sets drive the recommender's features). */
  readonly eventSchema: EventSchema;
  /** Image, channels, hyperparameters, metric definitions. */
  readonly recipe: TrainingRecipe;
  readonly training: LoopTrainingProps;
  readonly serving: LoopServingProps;
  readonly policy: PromotionPolicy;
  /** Fewer new records than this ends the run without training. */
  readonly minNewRecords: number;
  /** The dataset covers this much history. */
  readonly datasetWindow: Duration;
  /** `manual` waits for a person (task token sent through SNS). */
  readonly approval: 'auto' | 'manual';
  /** How long a manual approval may take. */
  readonly approvalTimeout: Duration;
  /** Canary share and bake time of blue/green updates. */
  readonly canaryPercent: number;
  readonly canaryBake: Duration;
  /** Bound of the endpoint wait (polling stops after this). */
  readonly deployTimeout: Duration;
  /** A lock older than this is abandoned; also the execution timeout. */
  readonly lockTtl: Duration;
  /** Also retrain on this schedule. @default no schedule */
  readonly schedule?: Duration;
  /** Lake key: datasets, model artifacts, training volumes, data capture. */
  readonly dataKey: kms.IKey;
  /** Operations key: logs, lock table, Lambda environments. */
  readonly opsKey: kms.IKey;
  /** Where outcomes, approval requests and alarms go. */
  readonly topic: sns.ITopic;
  readonly rawBucket: s3.IBucket;
  /** Athena results (`athena-results/`) and datasets (`datasets/`). */
  readonly curatedBucket: s3.IBucket;
  /** Model artifacts (`models/`), checkpoints (`checkpoints/`), drift baselines (`drift/baselines/`). */
  readonly artifactsBucket: s3.IBucket;
  readonly captureBucket: s3.IBucket;
  /** @default 'datacapture/' */
  readonly capturePrefix?: string;
  /** Prefix of the raw events in the raw bucket. @default 'events/' */
  readonly eventsPrefix?: string;
  /** Prefix of the images the vision events point at (in the raw bucket). @default 'images/' */
  readonly imagesPrefix?: string;
  /** Glue database, table and Athena workgroup names. */
  readonly databaseName: string;
  readonly tableName: string;
  readonly workGroupName: string;
  /** Blue/green auto-rollback alarms. */
  readonly rollbackAlarms: readonly cloudwatch.IAlarm[];
  /** Endpoint status poll interval. @default Duration.minutes(1) */
  readonly pollInterval?: Duration;
  /** @default logs.RetentionDays.SIX_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Run training jobs and the endpoint's model in this VPC (reach S3 and ECR through VPC endpoints or NAT).
   * @default no VPC (SageMaker-managed network)
   */
  readonly vpc?: ec2.IVpc;
  /** Subnets of the VPC to use. @default the VPC's private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Vision serving plan (`VisionServing.plan`). In `inference-component` mode the loop deploys the model as an
   * inference component on an endpoint with managed instance scaling down to zero, and registers its scaling;
   * in `instances` mode the loop's own instance-based variant path is used.
   * @default instance-based variant
   * @see https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html
   */
  readonly servingPlan?: VisionServingPlan;
  /** Image bounds of the vision drift baseline. @default DEFAULT_IMAGE_LIMITS */
  readonly imageLimits?: LoopImageLimits;
}

/** Errors of AWS services that a retry with backoff usually cures. */
export const TRANSIENT_ERRORS = [
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'RequestLimitExceeded',
  'SageMaker.ThrottlingException',
  'SageMaker.AmazonSageMakerException',
  'SageMaker.InternalFailure',
  'Athena.TooManyRequestsException',
  'Athena.InternalServerException',
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.ThrottlingException',
  'DynamoDB.InternalServerErrorException',
  'DynamoDB.RequestLimitExceeded',
  'SNS.ThrottledException',
  'SNS.InternalErrorException',
  'ApplicationAutoScaling.ConcurrentUpdateException',
  'ApplicationAutoScaling.InternalServiceException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
];

/** Error the approve CLI sends to reject a model. */
export const MODEL_REJECTED_ERROR = MODEL_REJECTED_ERROR_NAME;
const VARIANT = 'AllTraffic';
/** Rank of a label's source in the vision dataset: a person beats a labels file beats a folder beats a model. */
const LABEL_PRECEDENCE =
  "CASE label_source WHEN 'human' THEN 4 WHEN 'labels-file' THEN 3 WHEN 'prefix' THEN 2 ELSE 1 END";
const LOCK_ATTRIBUTE = 'lockId';
const EXPIRES_ATTRIBUTE = 'expiresAt';

/**
 * The retraining loop of one case study: a Standard Step Functions workflow that, from a `ModelDriftDetected` event,
 * a schedule or a person, locks the model, builds a dataset with Athena, trains on GPU, evaluates the candidate
 * against the champion, registers it, waits for approval when configured, deploys it (create, or blue/green canary
 * with auto-rollback), registers autoscaling, refreshes the drift baseline, notifies and releases the lock. Every
 * task retries transient errors with jittered backoff; every failure notifies with its cause, releases the lock and
 * fails the execution. See docs/retraining.md.
 */
export class RetrainingLoop extends Construct {
  /** The workflow. */
  public readonly stateMachine: sfn.StateMachine;
  /** Per-model lock (and nothing else). */
  public readonly lockTable: dynamodb.TableV2;
  /** Role SageMaker assumes for training and hosting. */
  public readonly sageMakerRole: iam.Role;
  /** Model registry group of the case study. */
  public readonly modelPackageGroup: sagemaker.CfnModelPackageGroup;
  /** Routes `ModelDriftDetected` of this endpoint to the workflow. */
  public readonly driftRule: events.Rule;
  /** Scheduled retraining, when configured. */
  public readonly scheduleRule?: events.Rule;
  /** Execution log group. */
  public readonly logGroup: logs.LogGroup;
  /** Failed or timed-out executions. */
  public readonly failureAlarm: cloudwatch.Alarm;
  /** The Lambdas of the loop, by role. */
  public readonly functions: Readonly<Record<string, BlueprintFunction>>;
  /** Security group of training jobs and the model, when a VPC is given. */
  public readonly securityGroup?: ec2.SecurityGroup;
  private readonly vpcConfig?: { SecurityGroupIds: string[]; Subnets: string[] };
  constructor(scope: Construct, id: string, props: RetrainingLoopProps) {
    super(scope, id);
    validate(props);
    const componentPlan = inferenceComponentPlan(props.servingPlan);
    if (props.serving.minCapacity === 0 && !componentPlan) {
      Annotations.of(this).addWarningV2(
        'ml-blueprint:minCapacityZero',
        'serving.minCapacity is 0, but instance-based SageMaker variants cannot scale below 1 instance: autoscaling registers a minimum of 1 (scale to zero needs inference components).',
      );
    }
    const stack = Stack.of(this);
    const capturePrefix = props.capturePrefix ?? 'datacapture/';
    const eventsPrefix = props.eventsPrefix ?? 'events/';
    const imagesPrefix = props.imagesPrefix ?? 'images/';
    const namePrefix = props.endpointName;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const vision = props.caseStudy === 'vision';
    const arn = (service: string, resource: string) =>
      `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;

    // ---------------------------------------------------------------------------------------------------------
    // Stateful pieces: lock table, model registry group.
    this.lockTable = new dynamodb.TableV2(this, 'LockTable', {
      partitionKey: { name: LOCK_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(props.opsKey),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: EXPIRES_ATTRIBUTE,
      removalPolicy,
    });

    this.modelPackageGroup = new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: props.endpointName,
      modelPackageGroupDescription: `ml-blueprint ${props.stage} ${props.caseStudy}: candidates, champions and rejects`,
    });
    const groupArn = arn('sagemaker', `model-package-group/${props.endpointName}`);
    const packageArn = arn('sagemaker', `model-package/${props.endpointName}/*`);

    // ---------------------------------------------------------------------------------------------------------
    // SageMaker execution role: reads datasets (and images), writes artifacts, checkpoints and data capture.
    this.sageMakerRole = new iam.Role(this, 'SageMakerRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `SageMaker training and hosting role of ${props.endpointName}`,
    });
    props.curatedBucket.grantRead(this.sageMakerRole, 'datasets/*');
    // Batch-transform re-scoring writes its outputs next to the dataset.
    props.curatedBucket.grantPut(this.sageMakerRole, 'datasets/*');
    if (vision) props.rawBucket.grantRead(this.sageMakerRole, `${imagesPrefix}*`);
    props.artifactsBucket.grantReadWrite(this.sageMakerRole, 'models/*');
    props.artifactsBucket.grantReadWrite(this.sageMakerRole, 'checkpoints/*');
    props.captureBucket.grantPut(this.sageMakerRole, `${capturePrefix}*`);
    props.dataKey.grant(this.sageMakerRole, 'kms:CreateGrant');
    this.sageMakerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PullAlgorithmImage',
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        resources: [props.recipe.repositoryArn],
      }),
    );
    this.sageMakerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    );
    this.sageMakerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'JobAndEndpointLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [
          arn('logs', 'log-group:/aws/sagemaker/TrainingJobs'),
          arn('logs', 'log-group:/aws/sagemaker/TrainingJobs:log-stream:*'),
          arn('logs', `log-group:/aws/sagemaker/Endpoints/${props.endpointName}`),
          arn('logs', `log-group:/aws/sagemaker/Endpoints/${props.endpointName}:log-stream:*`),
        ],
      }),
    );
    this.sageMakerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PublishSageMakerMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'AWS/SageMaker'] } },
      }),
    );
    if (props.vpc) {
      this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: `Training jobs and model of ${props.endpointName}`,
        allowAllOutbound: false,
      });
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'S3, ECR and SageMaker APIs over TLS');
      // Distributed training: instances of one job talk to each other.
      this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.allTraffic(), 'Between training instances');
      this.securityGroup.addEgressRule(this.securityGroup, ec2.Port.allTraffic(), 'Between training instances');
      this.vpcConfig = {
        SecurityGroupIds: [this.securityGroup.securityGroupId],
        Subnets: props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS })
          .subnetIds,
      };
      this.sageMakerRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'VpcNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:CreateNetworkInterfacePermission',
            'ec2:DeleteNetworkInterface',
            'ec2:DeleteNetworkInterfacePermission',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeVpcs',
            'ec2:DescribeDhcpOptions',
            'ec2:DescribeSubnets',
            'ec2:DescribeSecurityGroups',
          ],
          resources: ['*'],
        }),
      );
    }
    const smPolicy = this.sageMakerRole.node.findChild('DefaultPolicy');
    acknowledgeBucketGrants(smPolicy, [
      { bucket: props.curatedBucket, prefixes: ['datasets/'], write: 'put', encrypted: true },
      ...(vision ? [{ bucket: props.rawBucket, prefixes: [imagesPrefix], encrypted: true }] : []),
      { bucket: props.artifactsBucket, prefixes: ['models/', 'checkpoints/'], write: 'read-write', encrypted: true },
      { bucket: props.captureBucket, prefixes: [capturePrefix], write: 'put', encrypted: true },
    ]);
    acknowledgeNag(
      smPolicy,
      'IAM5[Resource::*]',
      'ecr:GetAuthorizationToken, cloudwatch:PutMetricData and (with a VPC) the EC2 network-interface actions SageMaker needs have no resource-level permissions; PutMetricData is limited to the SageMaker namespaces by condition.',
    );
    for (const stream of ['TrainingJobs', `Endpoints/${props.endpointName}`]) {
      acknowledgeNag(
        smPolicy,
        `IAM5[Resource::${literal(this, arn('logs', `log-group:/aws/sagemaker/${stream}:log-stream:*`))}]`,
        'SageMaker names the log streams of a job or endpoint at run time; the grant is limited to the one log group.',
      );
    }

    // ---------------------------------------------------------------------------------------------------------
    // Lambdas.
    const fn = (
      fnId: string,
      handlerDir: string,
      description: string,
      timeout = Duration.minutes(1),
      memorySize = 512,
      environment?: Record<string, string>,
    ) =>
      new BlueprintFunction(this, fnId, {
        handlerDir,
        description,
        encryptionKey: props.opsKey,
        timeout,
        memorySize,
        environment,
      });
    const planFn = fn('PlanFunction', 'retraining-plan', `Plans a retraining run of ${props.endpointName}`);
    const evaluateFn = fn(
      'EvaluateFunction',
      'retraining-evaluate',
      `Champion/challenger evaluation for ${props.endpointName}`,
      Duration.minutes(10), // reads every transform output of the validation set
      1024,
    );
    const imageLimits = { ...DEFAULT_IMAGE_LIMITS, ...props.imageLimits };
    // Vision: image statistics of the validation images (decoded one at a time); recommender: feature profile.
    const baselineFn = vision
      ? fn(
          'BaselineFunction',
          'vision-baseline',
          `Refreshes the image drift baseline of ${props.endpointName}`,
          Duration.minutes(15),
          1769,
          {
            MAX_IMAGE_BYTES: String(imageLimits.maxImageSize.toBytes()),
            MAX_IMAGE_PIXELS: String(imageLimits.maxImagePixels),
          },
        )
      : fn(
          'BaselineFunction',
          'retraining-baseline',
          `Refreshes the drift baseline of ${props.endpointName}`,
          Duration.minutes(10),
          1769,
        );
    props.curatedBucket.grantRead(baselineFn, 'datasets/*');
    if (vision) props.rawBucket.grantRead(baselineFn, `${imagesPrefix}*`);
    props.curatedBucket.grantRead(evaluateFn, 'datasets/*');
    acknowledgeBucketGrants(evaluateFn.role!.node.findChild('DefaultPolicy'), [
      { bucket: props.curatedBucket, prefixes: ['datasets/'], encrypted: true },
    ]);
    props.artifactsBucket.grantPut(baselineFn, `drift/baselines/${props.endpointName}/*`);
    acknowledgeBucketGrants(baselineFn.role!.node.findChild('DefaultPolicy'), [
      { bucket: props.curatedBucket, prefixes: ['datasets/'], encrypted: true },
      ...(vision ? [{ bucket: props.rawBucket, prefixes: [imagesPrefix], encrypted: true }] : []),
      {
        bucket: props.artifactsBucket,
        prefixes: [`drift/baselines/${props.endpointName}/`],
        write: 'put' as const,
        encrypted: true,
      },
    ]);
    const functions: Record<string, BlueprintFunction> = { plan: planFn, evaluate: evaluateFn, baseline: baselineFn };
    let manifestsFn: BlueprintFunction | undefined;
    if (vision) {
      manifestsFn = fn(
        'ManifestsFunction',
        'retraining-manifests',
        `Builds training manifests for ${props.endpointName}`,
        Duration.minutes(5),
        1024,
      );
      props.curatedBucket.grantRead(manifestsFn, 'athena-results/*');
      props.curatedBucket.grantPut(manifestsFn, 'datasets/*');
      acknowledgeBucketGrants(manifestsFn.role!.node.findChild('DefaultPolicy'), [
        { bucket: props.curatedBucket, prefixes: ['athena-results/', 'datasets/'], write: 'put', encrypted: true },
      ]);
      functions.manifests = manifestsFn;
    }
    this.functions = functions;

    // ---------------------------------------------------------------------------------------------------------
    // The workflow.
    const retry = <T extends sfn.TaskStateBase | sfn.CustomState>(state: T): T => {
      state.addRetry({
        errors: TRANSIENT_ERRORS,
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 6,
        maxDelay: Duration.minutes(1),
        jitterStrategy: sfn.JitterType.FULL,
      });
      return state;
    };
    const common = {
      caseStudy: props.caseStudy,
      stage: props.stage,
      endpointName: props.endpointName,
      'executionName.$': '$$.Execution.Name',
    };

    // Terminal path shared by every outcome: notify, release the lock, end.
    const succeeded = new sfn.Succeed(this, 'RunSucceeded', {
      comment: 'Deployed, or ended cleanly without deploying.',
    });
    const failed = new sfn.Fail(this, 'RunFailed', { errorPath: '$.outcome.error', causePath: '$.outcome.cause' });
    const finished = new sfn.Choice(this, 'Finished?')
      .when(
        sfn.Condition.or(
          sfn.Condition.stringEquals('$.outcome.status', 'failed'),
          sfn.Condition.stringEquals('$.outcome.status', 'rolled-back'),
        ),
        failed,
      )
      .otherwise(succeeded);
    const releaseLock = retry(
      new tasks.DynamoDeleteItem(this, 'ReleaseLock', {
        table: this.lockTable,
        key: { [LOCK_ATTRIBUTE]: tasks.DynamoAttributeValue.fromString(props.endpointName) },
        // Never release another execution's lock (e.g. after "already running" or a failure before acquiring).
        conditionExpression: 'executionId = :me',
        expressionAttributeValues: {
          ':me': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.Id')),
        },
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    releaseLock.addCatch(finished, { errors: ['States.ALL'], resultPath: '$.releaseError' });
    releaseLock.next(finished);
    const notifyOutcome = retry(
      new tasks.SnsPublish(this, 'NotifyOutcome', {
        topic: props.topic,
        subject: `ml-blueprint ${props.stage} ${props.caseStudy}: retraining run ended`,
        message: sfn.TaskInput.fromJsonPathAt('$.outcome'),
        messageAttributes: { status: { value: sfn.JsonPath.stringAt('$.outcome.status') } },
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    notifyOutcome.addCatch(releaseLock, { errors: ['States.ALL'], resultPath: '$.notifyError' });
    notifyOutcome.next(releaseLock);
    const outcome = (stateId: string, fields: Record<string, unknown>) =>
      new sfn.Pass(this, stateId, { parameters: { ...common, ...fields }, resultPath: '$.outcome' }).next(
        notifyOutcome,
      );

    const recordFailure = outcome('RecordFailure', {
      status: 'failed',
      reason: 'the retraining run failed',
      'error.$': '$.error.Error',
      'cause.$': '$.error.Cause',
    });
    const guard = <T extends sfn.TaskStateBase | sfn.CustomState>(state: T): T => {
      retry(state);
      state.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
      return state;
    };

    // 1. Plan and lock.
    const plan = guard(
      new tasks.LambdaInvoke(this, 'PlanRun', {
        lambdaFunction: planFn,
        payload: sfn.TaskInput.fromObject({
          executionName: sfn.JsonPath.stringAt('$$.Execution.Name'),
          startTime: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
          input: sfn.JsonPath.objectAt('$'),
          namePrefix,
          datasetDays: props.datasetWindow.toDays(),
          lockTtlHours: props.lockTtl.toHours(),
        }),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false, // the loop's retrier (with jitter) covers Lambda errors
        resultPath: '$.run',
      }),
    );
    const alreadyRunning = new sfn.Succeed(this, 'AlreadyRunning', {
      comment: 'Another run holds the lock of this model: end without training.',
    });
    const acquireLock = retry(
      new tasks.DynamoPutItem(this, 'AcquireLock', {
        table: this.lockTable,
        item: {
          [LOCK_ATTRIBUTE]: tasks.DynamoAttributeValue.fromString(props.endpointName),
          executionId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.Id')),
          datasetId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.run.datasetId')),
          reason: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.run.trigger.reason')),
          [EXPIRES_ATTRIBUTE]: tasks.DynamoAttributeValue.numberFromString(
            sfn.JsonPath.stringAt('$.run.lockExpiresAt'),
          ),
        },
        // Free, expired, or already ours (a retried write that had succeeded).
        conditionExpression: `attribute_not_exists(${LOCK_ATTRIBUTE}) OR ${EXPIRES_ATTRIBUTE} < :now OR executionId = :me`,
        expressionAttributeValues: {
          ':now': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt('$.run.lockNow')),
          ':me': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.Id')),
        },
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    acquireLock.addCatch(alreadyRunning, {
      errors: ['DynamoDB.ConditionalCheckFailedException'],
      resultPath: '$.lockError',
    });
    acquireLock.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    // 2. The champion: the newest approved package of the group.
    const sagemakerCall = (
      stateId: string,
      action: string,
      parameters: Record<string, unknown>,
      resources: string[],
      extra: Partial<tasks.CallAwsServiceProps> = {},
    ) =>
      guard(
        new tasks.CallAwsService(this, stateId, {
          service: 'sagemaker',
          action,
          parameters,
          iamResources: resources,
          resultPath: sfn.JsonPath.DISCARD,
          ...extra,
        }),
      );
    const findChampion = sagemakerCall(
      'FindChampion',
      'listModelPackages',
      {
        ModelPackageGroupName: props.endpointName,
        ModelApprovalStatus: 'Approved',
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: 1,
      },
      ['*'],
      { resultSelector: { 'packages.$': '$.ModelPackageSummaryList' }, resultPath: '$.championSearch' },
    );
    const describeChampion = sagemakerCall(
      'DescribeChampion',
      'describeModelPackage',
      { 'ModelPackageName.$': '$.championSearch.packages[0].ModelPackageArn' },
      [packageArn],
      {
        resultSelector: {
          found: true,
          'modelPackageArn.$': '$.ModelPackageArn',
          'metadata.$': '$.CustomerMetadataProperties',
          'since.$': '$.CustomerMetadataProperties.datasetEnd',
        },
        resultPath: '$.champion',
      },
    );
    const noChampion = new sfn.Pass(this, 'NoChampion', {
      parameters: { found: false, 'since.$': '$.run.windowStart' },
      resultPath: '$.champion',
    });

    // 3. Dataset.
    const table = `"${props.databaseName}"."${props.tableName}"`;
    // Placeholders: window start (twice), window end. Partition pruning on dt, exact bounds on event_time.
    const inWindow = `dt >= substr('{}', 1, 10) AND event_time > from_iso8601_timestamp('{}') AND event_time <= from_iso8601_timestamp('{}')`;
    // Athena through the service integration directly (not the L2 task, whose generated policy grants S3 and Glue
    // write actions on every resource); permissions are in grantStateMachine.
    const athena = (stateId: string, resultPath: string, query: string, ...paths: string[]) =>
      guard(
        new sfn.CustomState(this, stateId, {
          stateJson: {
            Type: 'Task',
            Resource: `arn:${stack.partition}:states:::athena:startQueryExecution.sync`,
            TimeoutSeconds: 1800,
            Parameters: {
              'QueryString.$': formatIntrinsic(query, ...paths),
              QueryExecutionContext: { Database: props.databaseName, Catalog: 'AwsDataCatalog' },
              WorkGroup: props.workGroupName,
            },
            ResultSelector: {
              'id.$': '$.QueryExecution.QueryExecutionId',
              'outputUri.$': '$.QueryExecution.ResultConfiguration.OutputLocation',
            },
            ResultPath: resultPath,
          },
        }),
      );
    const labelled = vision ? ' AND label IS NOT NULL' : '';
    const countNew = athena(
      'CountNewRecords',
      '$.countQuery',
      `SELECT count(*) AS n FROM ${table} WHERE ${inWindow}${labelled}`,
      '$.champion.since',
      '$.champion.since',
      '$.run.windowEnd',
    );
    const readCount = guard(
      new sfn.CustomState(this, 'ReadNewRecordCount', {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${stack.partition}:states:::athena:getQueryResults`,
          TimeoutSeconds: 300,
          Parameters: { 'QueryExecutionId.$': '$.countQuery.id', MaxResults: 2 },
          ResultSelector: { 'count.$': 'States.StringToJson($.ResultSet.Rows[1].Data[0].VarCharValue)' },
          ResultPath: '$.newData',
        },
      }),
    );
    const insufficient = outcome('RecordInsufficientData', {
      status: 'skipped',
      'reason.$': `States.Format('only {} new records since {} (at least ${props.minNewRecords} needed): no training', $.newData.count, $.champion.since)`,
      'datasetId.$': '$.run.datasetId',
    });

    const datasetUri = (suffix: string) =>
      sfn.JsonPath.format(
        `s3://${props.curatedBucket.bucketName}/datasets/{}/${suffix}`,
        sfn.JsonPath.stringAt('$.run.datasetId'),
      );
    let buildDataset: sfn.IChainable;
    let datasetEnd: sfn.INextable;
    if (!vision) {
      const features = recommenderFeatures(props.eventSchema);
      const split = `bitwise_and(from_big_endian_64(xxhash64(to_utf8(event_id))), 1023)`;
      const unload = (stateId: string, suffix: string, columns: string, where: string, format: string) =>
        athena(
          stateId,
          sfn.JsonPath.DISCARD,
          `UNLOAD (SELECT ${columns} FROM ${table} WHERE ${inWindow} AND ${where}) TO 's3://${props.curatedBucket.bucketName}/datasets/{}/${suffix}/' WITH (format = '${format}')`,
          '$.run.windowStart',
          '$.run.windowStart',
          '$.run.windowEnd',
          '$.run.datasetId',
        );
      const labelColumn = `CASE WHEN event_type IN ('click', 'watch', 'purchase') THEN 1 ELSE 0 END AS label`;
      const trainSet = unload(
        'ExportTrainingSet',
        'train',
        `${labelColumn}, ${features.join(', ')}`,
        `${split} >= 102`,
        'PARQUET',
      );
      const validationSet = unload(
        'ExportValidationSet',
        'validation',
        `${labelColumn}, ${features.join(', ')}`,
        `${split} < 102`,
        'PARQUET',
      );
      // The baseline uses the model's input columns named as the capture reader names CSV columns (f0, f1, …).
      const baselineColumns = features.map((f, i) => `${f.replace(/ AS \w+$/, '')} AS f${i}`).join(', ');
      const baselineSet = unload('ExportBaselineSample', 'baseline', baselineColumns, `${split} < 102`, 'JSON');
      // The validation split as label-first CSV, for re-scoring candidate and champion with batch transform.
      const scoringSet = athena(
        'ExportScoringSet',
        sfn.JsonPath.DISCARD,
        `UNLOAD (SELECT ${labelColumn}, ${features.join(', ')} FROM ${table} WHERE ${inWindow} AND ${split} < 102) TO 's3://${props.curatedBucket.bucketName}/datasets/{}/scoring/' WITH (format = 'TEXTFILE', field_delimiter = ',')`,
        '$.run.windowStart',
        '$.run.windowStart',
        '$.run.windowEnd',
        '$.run.datasetId',
      );
      const describe = new sfn.Pass(this, 'DescribeDataset', {
        parameters: {
          trainUri: datasetUri('train/'),
          validationUri: datasetUri('validation/'),
          baselineUri: datasetUri('baseline/'),
          scoringUri: datasetUri('scoring/'),
          hyperparameters: props.recipe.hyperparameters,
        },
        resultPath: '$.dataset',
      });
      buildDataset = trainSet.next(validationSet).next(baselineSet).next(scoringSet).next(describe);
      datasetEnd = describe;
    } else {
      const select = athena(
        'SelectLabelledImages',
        '$.labelledQuery',
        // One label per image: human > labels file > prefix > model, the latest among equals (section 3 of
        // docs/case-studies/vision.md). 1e13 s is far beyond any event time, so the source always decides first.
        `SELECT image_key, max_by(label, ${LABEL_PRECEDENCE} * 1e13 + to_unixtime(event_time)) AS label FROM ${table} WHERE ${inWindow} AND label IS NOT NULL GROUP BY image_key`,
        '$.run.windowStart',
        '$.run.windowStart',
        '$.run.windowEnd',
      );
      const manifests = guard(
        new tasks.LambdaInvoke(this, 'BuildManifests', {
          lambdaFunction: requireFunction(manifestsFn, 'ManifestsFunction'),
          payload: sfn.TaskInput.fromObject({
            queryResultUri: sfn.JsonPath.stringAt('$.labelledQuery.outputUri'),
            outputUri: datasetUri(''),
            imageBucket: props.rawBucket.bucketName,
            validationFraction: 0.1,
            hyperparameters: props.recipe.hyperparameters,
          }),
          payloadResponseOnly: true,
          retryOnServiceExceptions: false,
          resultPath: '$.dataset',
        }),
      );
      buildDataset = select.next(manifests);
      datasetEnd = manifests;
    }

    // 4. Train.
    const training = this.trainingState(props);
    training.addRetry({
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 6,
      maxDelay: Duration.minutes(2),
      jitterStrategy: sfn.JitterType.FULL,
    });
    // A failed job is retried once with a fresh name (the retry count is part of the job name).
    training.addRetry({
      errors: ['States.TaskFailed'],
      interval: Duration.minutes(1),
      backoffRate: 2,
      maxAttempts: 1,
      jitterStrategy: sfn.JitterType.FULL,
    });
    training.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    // 5. Evaluate.
    const evaluate = guard(
      new tasks.LambdaInvoke(this, 'EvaluateCandidate', {
        lambdaFunction: evaluateFn,
        payload: sfn.TaskInput.fromObject({
          policy: { ...props.policy },
          candidateMetrics: sfn.JsonPath.objectAt('$.training.finalMetrics'),
          champion: sfn.JsonPath.objectAt('$.champion'),
          stamp: {
            datasetId: sfn.JsonPath.stringAt('$.run.datasetId'),
            datasetStart: sfn.JsonPath.stringAt('$.run.windowStart'),
            datasetEnd: sfn.JsonPath.stringAt('$.run.windowEnd'),
            trainingJobName: sfn.JsonPath.stringAt('$.training.jobName'),
            modelName: sfn.JsonPath.stringAt('$.run.modelName'),
            trigger: sfn.JsonPath.stringAt('$.run.trigger.kind'),
          },
          scoring: {
            candidate: this.scoringSource(props, 'candidate'),
            champion: this.scoringSource(props, 'champion'),
          },
        }),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false, // the loop's retrier (with jitter) covers Lambda errors
        resultPath: '$.evaluation',
      }),
    );

    // 6. Register.
    const register = (stateId: string, status: 'Approved' | 'PendingManualApproval' | 'Rejected') =>
      sagemakerCall(
        stateId,
        'createModelPackage',
        {
          ModelPackageGroupName: props.endpointName,
          'ModelPackageDescription.$': "States.Format('dataset {}: {}', $.run.datasetId, $.evaluation.reason)",
          ModelApprovalStatus: status,
          InferenceSpecification: {
            Containers: [{ Image: props.recipe.image, 'ModelDataUrl.$': '$.training.modelArtifacts' }],
            SupportedContentTypes: props.recipe.contentTypes,
            SupportedResponseMIMETypes: props.recipe.responseTypes,
            SupportedRealtimeInferenceInstanceTypes: [props.serving.instanceType],
          },
          'CustomerMetadataProperties.$': '$.evaluation.metadata',
          Tags: [{ Key: 'ml-blueprint:dataset-id', 'Value.$': '$.run.datasetId' }],
        },
        [groupArn, packageArn],
        { resultSelector: { 'arn.$': '$.ModelPackageArn' }, resultPath: '$.registered' },
      );
    const setApproval = (stateId: string, status: 'Approved' | 'Rejected', description: string) =>
      sagemakerCall(
        stateId,
        'updateModelPackage',
        { 'ModelPackageArn.$': '$.registered.arn', ModelApprovalStatus: status, 'ApprovalDescription.$': description },
        [packageArn],
      );
    const registerRejected = register('RegisterRejectedCandidate', 'Rejected');
    const candidateRejected = outcome('RecordCandidateRejected', {
      status: 'rejected',
      'reason.$': '$.evaluation.reason',
      'evaluation.$': '$.evaluation',
      'modelPackageArn.$': '$.registered.arn',
      'datasetId.$': '$.run.datasetId',
    });
    registerRejected.next(candidateRejected);

    // 7. Deploy.
    const deploy = this.deploymentStates(props, capturePrefix, {
      sagemakerCall,
      guard,
      retry,
      recordFailure,
      outcome,
      setApproval,
      arn,
    });

    const registerCandidate = register(
      'RegisterCandidate',
      props.approval === 'auto' ? 'Approved' : 'PendingManualApproval',
    );
    let approvalChain: sfn.IChainable;
    if (props.approval === 'manual') {
      const request = retry(
        new tasks.SnsPublish(this, 'RequestApproval', {
          topic: props.topic,
          subject: `ml-blueprint ${props.stage} ${props.caseStudy}: model awaiting approval`,
          integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
          message: sfn.TaskInput.fromObject({
            kind: 'approval-request',
            ...common,
            taskToken: sfn.JsonPath.taskToken,
            modelPackageArn: sfn.JsonPath.stringAt('$.registered.arn'),
            evaluation: sfn.JsonPath.objectAt('$.evaluation'),
            approve: `npm run approve -- --case ${props.caseStudy} --stage ${props.stage} --decision approve --token <taskToken>`,
            reject: `npm run approve -- --case ${props.caseStudy} --stage ${props.stage} --decision reject --token <taskToken> --comment "<why>"`,
          }),
          messageAttributes: { kind: { value: 'approval-request' } },
          taskTimeout: sfn.Timeout.duration(props.approvalTimeout),
          resultPath: '$.approval',
        }),
      );
      const rejectedByApprover = setApproval(
        'MarkRejectedByApprover',
        'Rejected',
        "States.Format('rejected: {}', $.approvalError.Cause)",
      );
      rejectedByApprover.next(
        outcome('RecordApprovalRejected', {
          status: 'rejected',
          'reason.$': "States.Format('rejected by the approver: {}', $.approvalError.Cause)",
          'modelPackageArn.$': '$.registered.arn',
          'datasetId.$': '$.run.datasetId',
        }),
      );
      request.addCatch(rejectedByApprover, { errors: [MODEL_REJECTED_ERROR], resultPath: '$.approvalError' });
      request.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
      const approved = setApproval('MarkApproved', 'Approved', "States.Format('approved by {}', $.approval.approver)");
      approvalChain = registerCandidate.next(request).next(approved).next(deploy);
    } else {
      approvalChain = registerCandidate.next(deploy);
    }

    const promote = new sfn.Choice(this, 'CandidateBetter?')
      .when(sfn.Condition.booleanEquals('$.evaluation.promote', true), approvalChain)
      .otherwise(registerRejected);

    const enough = new sfn.Choice(this, 'EnoughNewData?')
      .when(sfn.Condition.numberLessThan('$.newData.count', props.minNewRecords), insufficient)
      .otherwise(buildDataset);
    // 5a. The candidate's model (deployed later if promoted), and both models scored on the same validation data.
    const createModel = sagemakerCall(
      'CreateModel',
      'createModel',
      {
        'ModelName.$': '$.run.modelName',
        ExecutionRoleArn: this.sageMakerRole.roleArn,
        PrimaryContainer: { Image: props.recipe.image, 'ModelDataUrl.$': '$.training.modelArtifacts' },
        EnableNetworkIsolation: props.training.networkIsolation ?? false,
        ...(this.vpcConfig ? { VpcConfig: this.vpcConfig } : {}),
        Tags: [{ Key: 'ml-blueprint:dataset-id', 'Value.$': '$.run.datasetId' }],
      },
      [arn('sagemaker', `model/${props.endpointName}-*`)],
    );
    // The champion's model, rebuilt from its registry package (independent of how it was deployed).
    const createChampionModel = sagemakerCall(
      'CreateChampionModel',
      'createModel',
      {
        'ModelName.$': '$.run.championScoringJobName',
        ExecutionRoleArn: this.sageMakerRole.roleArn,
        PrimaryContainer: { 'ModelPackageName.$': '$.champion.modelPackageArn' },
        EnableNetworkIsolation: props.training.networkIsolation ?? false,
        ...(this.vpcConfig ? { VpcConfig: this.vpcConfig } : {}),
        Tags: [{ Key: 'ml-blueprint:dataset-id', 'Value.$': '$.run.datasetId' }],
      },
      [arn('sagemaker', `model/${props.endpointName}-*`)],
    );
    const scoreChampion = guard(this.scoringState(props, 'ScoreChampion', 'champion'));
    const scoreCandidate = guard(this.scoringState(props, 'ScoreCandidate', 'candidate'));
    const championToBeat = new sfn.Choice(this, 'ChampionToBeat?')
      .when(sfn.Condition.booleanEquals('$.champion.found', true), createChampionModel)
      .otherwise(evaluate);
    createChampionModel.next(scoreChampion).next(scoreCandidate).next(evaluate);
    datasetEnd.next(training).next(createModel).next(championToBeat);
    evaluate.next(promote);

    const championFound = new sfn.Choice(this, 'ChampionFound?')
      .when(sfn.Condition.isPresent('$.championSearch.packages[0]'), describeChampion)
      .otherwise(noChampion);
    describeChampion.next(countNew);
    noChampion.next(countNew);
    countNew.next(readCount).next(enough);

    const definition = plan.next(acquireLock).next(findChampion).next(championFound);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.opsKey,
      retention: props.logRetention ?? logs.RetentionDays.SIX_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: `ml-blueprint ${props.stage} ${props.caseStudy}: retraining loop of ${props.endpointName}`,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.lockTtl,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    this.grantStateMachine(props, eventsPrefix, arn, groupArn, packageArn);

    // ---------------------------------------------------------------------------------------------------------
    // Triggers and alarms.
    this.driftRule = new events.Rule(this, 'DriftRule', {
      description: `Retrains ${props.endpointName} when its drift checker reports drift`,
      eventPattern: {
        source: [DRIFT_EVENT_SOURCE],
        detailType: [DRIFT_DETAIL_TYPE],
        detail: { endpointName: [props.endpointName] },
      },
    });
    this.driftRule.addTarget(
      new targets.SfnStateMachine(this.stateMachine, {
        input: events.RuleTargetInput.fromObject({
          trigger: {
            kind: 'drift',
            reason: events.EventField.fromPath('$.detail.reason'),
            detail: events.EventField.fromPath('$.detail'),
          },
        }),
        retryAttempts: 3,
      }),
    );
    if (props.schedule) {
      this.scheduleRule = new events.Rule(this, 'ScheduleRule', {
        description: `Retrains ${props.endpointName} every ${props.schedule.toHumanString()}`,
        schedule: events.Schedule.rate(props.schedule),
      });
      this.scheduleRule.addTarget(
        new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({
            trigger: { kind: 'schedule', reason: `scheduled retraining (every ${props.schedule.toHumanString()})` },
          }),
          retryAttempts: 3,
        }),
      );
    }
    this.failureAlarm = new cloudwatch.Alarm(this, 'FailuresAlarm', {
      alarmDescription: `Retraining of ${props.endpointName} failed, timed out or was rolled back. Runbook: docs/runbooks/retraining-failed.md`,
      metric: new cloudwatch.MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: {
          failed: this.stateMachine.metricFailed({ statistic: 'Sum' }),
          timedOut: this.stateMachine.metricTimedOut({ statistic: 'Sum' }),
          aborted: this.stateMachine.metricAborted({ statistic: 'Sum' }),
        },
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failureAlarm.addAlarmAction(new cwActions.SnsAction(props.topic));
  }

  /** Lets a principal (an operator role, the CLIs) start runs. */
  public grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /** Lets a principal approve or reject models waiting for approval. */
  public grantTaskResponse(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantTaskResponse(grantee);
  }

  /** Executions that started. */
  public metricStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricStarted(props);
  }

  /** Executions that failed (rolled-back deployments included). */
  public metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricFailed(props);
  }

  /** Executions that succeeded (deployed, or ended without deploying). */
  public metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricSucceeded(props);
  }

  /** Execution time. */
  public metricTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricTime(props);
  }

  private acknowledgeStateMachinePolicy(
    props: RetrainingLoopProps,
    eventsPrefix: string,
    arn: (service: string, resource: string) => string,
  ): void {
    const policy = this.stateMachine.role.node.findChild('DefaultPolicy');
    acknowledgeBucketGrants(policy, [
      { bucket: props.rawBucket, prefixes: [eventsPrefix], encrypted: true },
      { bucket: props.curatedBucket, prefixes: ['athena-results/', 'datasets/'], write: 'put', encrypted: true },
    ]);
    acknowledgeNag(
      policy,
      'IAM5[Resource::*]',
      'Actions without resource-level permissions: sagemaker:ListEndpoints and ListModelPackages, application-autoscaling ' +
        'RegisterScalableTarget/PutScalingPolicy, X-Ray tracing, and the CloudWatch Logs delivery actions of execution logging.',
    );
    for (const f of Object.values(this.functions)) {
      acknowledgeNag(
        policy,
        `IAM5[Resource::${nagArnName(policy, f.functionArn)}:*]`,
        'The LambdaInvoke task may call a version or alias of its own function; limited to that function.',
      );
    }
    const runtime = [
      [`training-job/${props.endpointName}-*`, 'training jobs'],
      [`model/${props.endpointName}-*`, 'models'],
      [`endpoint-config/${props.endpointName}-*`, 'endpoint configs'],
      [`model-package/${props.endpointName}/*`, 'model package versions'],
      [`transform-job/${props.endpointName}-*`, 'scoring (batch transform) jobs'],
    ];
    for (const [resource, what] of runtime) {
      acknowledgeNag(
        policy,
        `IAM5[Resource::${literal(this, arn('sagemaker', resource))}]`,
        `SageMaker ${what} are named per execution at run time; the grant is limited to names of this case study's endpoint.`,
      );
    }
    acknowledgeNag(
      policy,
      `IAM5[Resource::${literal(this, arn('cloudwatch', `alarm:TargetTracking-endpoint/${props.endpointName}/*`))}]`,
      'Target-tracking scaling creates its own alarms, named by Application Auto Scaling; limited to this endpoint.',
    );
    const component = inferenceComponentPlan(props.servingPlan);
    if (component) {
      acknowledgeNag(
        policy,
        `IAM5[Resource::${literal(this, arn('cloudwatch', `alarm:TargetTracking-inference-component/${component.name}-*`))}]`,
        "Target tracking on the inference component creates its own alarms, named by Application Auto Scaling; limited to this endpoint's component.",
      );
    }
  }

  /** Where the evaluate Lambda finds a model's transform output (the evaluation payload). */
  private scoringSource(props: RetrainingLoopProps, who: 'candidate' | 'champion'): Record<string, unknown> {
    const outputUri = sfn.JsonPath.format(
      `s3://${props.curatedBucket.bucketName}/datasets/{}/scores/${who}/`,
      sfn.JsonPath.stringAt('$.run.datasetId'),
    );
    return props.caseStudy === 'recommender'
      ? { kind: 'recommender', outputUri }
      : {
          kind: 'vision',
          outputUri,
          manifestUri: sfn.JsonPath.stringAt('$.dataset.validationUri'),
          imagePrefixUri: sfn.JsonPath.stringAt('$.dataset.imagePrefixUri'),
        };
  }

  /** A batch transform of one model over the validation data (`createTransformJob.sync`). */
  private scoringState(props: RetrainingLoopProps, stateId: string, who: 'candidate' | 'champion'): sfn.CustomState {
    const stack = Stack.of(this);
    const instanceType = props.serving.instanceType;
    const recommender = props.caseStudy === 'recommender';
    return new sfn.CustomState(this, stateId, {
      stateJson: {
        Type: 'Task',
        Comment: `Scores the ${who} on the validation data (batch transform)`,
        Resource: `arn:${stack.partition}:states:::sagemaker:createTransformJob.sync`,
        TimeoutSeconds: 3 * 3600,
        Parameters: {
          'TransformJobName.$': who === 'candidate' ? '$.run.candidateScoringJobName' : '$.run.championScoringJobName',
          'ModelName.$': who === 'candidate' ? '$.run.modelName' : '$.run.championScoringJobName',
          TransformInput: recommender
            ? {
                DataSource: { S3DataSource: { S3DataType: 'S3Prefix', 'S3Uri.$': '$.dataset.scoringUri' } },
                ContentType: 'text/csv',
                CompressionType: 'Gzip',
                SplitType: 'Line',
              }
            : {
                DataSource: { S3DataSource: { S3DataType: 'ManifestFile', 'S3Uri.$': '$.dataset.scoringManifestUri' } },
                ContentType: 'application/x-image',
                SplitType: 'None',
              },
          TransformOutput: {
            'S3OutputPath.$': `States.Format('s3://${props.curatedBucket.bucketName}/datasets/{}/scores/${who}/', $.run.datasetId)`,
            Accept: recommender ? 'text/csv' : 'application/json',
            ...(recommender ? { AssembleWith: 'Line' } : {}),
            KmsKeyId: props.dataKey.keyArn,
          },
          TransformResources: {
            InstanceType: instanceType,
            InstanceCount: 1,
            ...(hasInstanceStorage(instanceType) ? {} : { VolumeKmsKeyId: props.dataKey.keyArn }),
          },
          // Recommender: send the features (drop the label), write back "label,prediction".
          ...(recommender
            ? { DataProcessing: { InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[0,-1]' } }
            : {}),
          Tags: [{ Key: 'ml-blueprint:dataset-id', 'Value.$': '$.run.datasetId' }],
        },
        ResultPath: sfn.JsonPath.DISCARD,
      },
    });
  }

  private trainingState(props: RetrainingLoopProps): sfn.CustomState {
    const stack = Stack.of(this);
    const t = props.training;
    const recipe = props.recipe;
    const localStorage = hasInstanceStorage(t.instanceType);
    const maxRuntime = t.maxRuntime.toSeconds();
    const maxWait = t.maxWait.toSeconds();
    const channels = recipe.channels.map((c) => ({
      ChannelName: c.name,
      ContentType: c.contentType,
      ...(c.recordWrapperType ? { RecordWrapperType: c.recordWrapperType } : {}),
      DataSource: {
        S3DataSource: {
          S3DataType: c.s3DataType,
          'S3Uri.$': c.name === 'train' ? '$.dataset.trainUri' : '$.dataset.validationUri',
          S3DataDistributionType: 'FullyReplicated',
          ...(c.attributeNames ? { AttributeNames: c.attributeNames } : {}),
        },
      },
    }));
    return new sfn.CustomState(this, 'TrainCandidate', {
      stateJson: {
        Type: 'Task',
        Comment: `Trains the candidate on ${t.instanceCount} × ${t.instanceType}${t.useSpot ? ' (managed spot)' : ''}`,
        Resource: `arn:${stack.partition}:states:::sagemaker:createTrainingJob.sync`,
        TimeoutSeconds: (t.useSpot ? maxWait : maxRuntime) + 3600,
        Parameters: {
          'TrainingJobName.$': "States.Format('{}-{}', $.run.trainingJobName, $$.State.RetryCount)",
          RoleArn: this.sageMakerRole.roleArn,
          AlgorithmSpecification: {
            TrainingImage: recipe.image,
            TrainingInputMode: recipe.inputMode,
            MetricDefinitions: recipe.metricDefinitions.map((m) => ({ Name: m.name, Regex: m.regex })),
            EnableSageMakerMetricsTimeSeries: true,
          },
          'HyperParameters.$': '$.dataset.hyperparameters',
          InputDataConfig: channels,
          OutputDataConfig: {
            S3OutputPath: `s3://${props.artifactsBucket.bucketName}/models/`,
            KmsKeyId: props.dataKey.keyArn,
          },
          ResourceConfig: {
            InstanceType: t.instanceType,
            InstanceCount: t.instanceCount,
            VolumeSizeInGB: t.volumeSize.toGibibytes(),
            ...(localStorage ? {} : { VolumeKmsKeyId: props.dataKey.keyArn }),
          },
          StoppingCondition: {
            MaxRuntimeInSeconds: maxRuntime,
            ...(t.useSpot ? { MaxWaitTimeInSeconds: maxWait } : {}),
          },
          EnableManagedSpotTraining: t.useSpot,
          ...(t.useSpot
            ? {
                CheckpointConfig: {
                  'S3Uri.$': `States.Format('s3://${props.artifactsBucket.bucketName}/checkpoints/{}/', $.run.datasetId)`,
                },
              }
            : {}),
          EnableInterContainerTrafficEncryption: t.instanceCount > 1,
          EnableNetworkIsolation: t.networkIsolation ?? false,
          ...(this.vpcConfig ? { VpcConfig: this.vpcConfig } : {}),
          Tags: [
            { Key: 'ml-blueprint:dataset-id', 'Value.$': '$.run.datasetId' },
            { Key: 'ml-blueprint:case-study', Value: props.caseStudy },
          ],
        },
        ResultSelector: {
          'jobName.$': '$.TrainingJobName',
          'modelArtifacts.$': '$.ModelArtifacts.S3ModelArtifacts',
          'finalMetrics.$': '$.FinalMetricDataList',
          'status.$': '$.TrainingJobStatus',
        },
        ResultPath: '$.training',
      },
    });
  }

  private deploymentStates(props: RetrainingLoopProps, capturePrefix: string, h: DeployHelpers): sfn.IChainable {
    const { sagemakerCall, guard, outcome, setApproval, arn } = h;
    const s = props.serving;
    const ic = inferenceComponentPlan(props.servingPlan);
    const tags = [{ Key: 'ml-blueprint:dataset-id', 'Value.$': '$.run.datasetId' }];
    // Scale to zero: the plan's variant (managed instance scaling, no model) with the execution role on the config.
    const variants = ic
      ? bindStatePaths(ic.endpointConfig, { '$.run.sageMakerRoleArn': this.sageMakerRole.roleArn })
      : {
          ProductionVariants: [
            {
              VariantName: VARIANT,
              'ModelName.$': '$.run.modelName',
              InstanceType: s.instanceType,
              InitialInstanceCount: s.initialInstanceCount,
            },
          ],
        };
    const createConfig = sagemakerCall(
      'CreateEndpointConfig',
      'createEndpointConfig',
      {
        'EndpointConfigName.$': '$.run.endpointConfigName',
        ...variants,
        DataCaptureConfig: {
          EnableCapture: true,
          InitialSamplingPercentage: s.dataCapturePercent,
          DestinationS3Uri: `s3://${props.captureBucket.bucketName}/${capturePrefix.replace(/\/$/, '')}`,
          KmsKeyId: props.dataKey.keyArn,
          CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
          CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'], JsonContentTypes: ['application/json'] },
        },
        ...(hasInstanceStorage(s.instanceType) ? {} : { KmsKeyId: props.dataKey.keyArn }),
        Tags: tags,
      },
      [arn('sagemaker', `endpoint-config/${props.endpointName}-*`)],
    );
    const endpointArn = arn('sagemaker', `endpoint/${props.endpointName}`);
    const findEndpoint = sagemakerCall(
      'FindEndpoint',
      'listEndpoints',
      { NameContains: props.endpointName, MaxResults: 100 },
      ['*'],
      {
        // The endpoint name is reserved for this loop (mlbp-<stage>-<case>); any match is ours.
        resultSelector: { 'count.$': 'States.ArrayLength($.Endpoints)' },
        resultPath: '$.existing',
      },
    );
    const createEndpoint = sagemakerCall(
      'CreateEndpoint',
      'createEndpoint',
      { EndpointName: props.endpointName, 'EndpointConfigName.$': '$.run.endpointConfigName', Tags: tags },
      [endpointArn],
    );
    const interval = props.pollInterval ?? Duration.minutes(1);
    const maxPolls = Math.ceil(props.deployTimeout.toSeconds() / interval.toSeconds());
    const startPolling = new sfn.Pass(this, 'StartPolling', {
      result: sfn.Result.fromObject({ count: 0 }),
      resultPath: '$.poll',
    });
    const wait = new sfn.Wait(this, 'WaitForEndpoint', { time: sfn.WaitTime.duration(interval) });
    const describe = sagemakerCall(
      'DescribeEndpoint',
      'describeEndpoint',
      { EndpointName: props.endpointName },
      [endpointArn],
      {
        resultSelector: {
          'status.$': '$.EndpointStatus',
          'configName.$': '$.EndpointConfigName',
          'details.$': 'States.JsonToString($)',
        },
        resultPath: '$.endpoint',
      },
    );
    const countPoll = new sfn.Pass(this, 'CountPoll', {
      parameters: { 'count.$': 'States.MathAdd($.poll.count, 1)' },
      resultPath: '$.poll',
    });

    const registerScaling = guard(
      new tasks.CallAwsService(this, 'RegisterScalableTarget', {
        service: 'applicationautoscaling',
        action: 'registerScalableTarget',
        iamAction: 'application-autoscaling:RegisterScalableTarget',
        parameters: ic
          ? ic.scalableTarget
          : {
              ServiceNamespace: 'sagemaker',
              ResourceId: `endpoint/${props.endpointName}/variant/${VARIANT}`,
              ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
              MinCapacity: Math.max(1, s.minCapacity),
              MaxCapacity: s.maxCapacity,
            },
        iamResources: ['*'],
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    const putScaling = guard(
      new tasks.CallAwsService(this, 'PutScalingPolicy', {
        service: 'applicationautoscaling',
        action: 'putScalingPolicy',
        iamAction: 'application-autoscaling:PutScalingPolicy',
        parameters: ic
          ? ic.targetTracking
          : {
              PolicyName: `${props.endpointName}-invocations`,
              ServiceNamespace: 'sagemaker',
              ResourceId: `endpoint/${props.endpointName}/variant/${VARIANT}`,
              ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
              PolicyType: 'TargetTrackingScaling',
              TargetTrackingScalingPolicyConfiguration: {
                TargetValue: s.targetInvocationsPerInstance ?? 100,
                PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
                ScaleInCooldown: 300,
                ScaleOutCooldown: 60,
              },
            },
        iamResources: ['*'],
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    const baseline = guard(
      new tasks.LambdaInvoke(this, 'RefreshBaseline', {
        lambdaFunction: this.functions.baseline,
        payload: sfn.TaskInput.fromObject(
          props.caseStudy === 'vision'
            ? {
                sourceUri: sfn.JsonPath.stringAt('$.dataset.validationUri'),
                artifactsBucket: props.artifactsBucket.bucketName,
                endpointName: props.endpointName,
                datasetId: sfn.JsonPath.stringAt('$.run.datasetId'),
                // Each image is fetched and decoded: bounded so the refresh fits the 15-minute Lambda limit.
                maxImages: VISION_BASELINE_MAX_IMAGES,
              }
            : {
                sourceUri: sfn.JsonPath.stringAt('$.dataset.baselineUri'),
                artifactsBucket: props.artifactsBucket.bucketName,
                endpointName: props.endpointName,
                datasetId: sfn.JsonPath.stringAt('$.run.datasetId'),
                exclude: ['label'],
              },
        ),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false, // the loop's retrier (with jitter) covers Lambda errors
        resultPath: '$.baseline',
      }),
    );
    const deployed = outcome('RecordDeployed', {
      status: 'deployed',
      'reason.$': '$.evaluation.reason',
      'modelPackageArn.$': '$.registered.arn',
      'datasetId.$': '$.run.datasetId',
      'trainingJobName.$': '$.training.jobName',
      ...(ic
        ? { 'modelName.$': '$.run.modelName', inferenceComponentName: ic.name }
        : { 'endpointConfigName.$': '$.run.endpointConfigName' }),
      'baselineUri.$': '$.baseline.profileUri',
    });
    baseline.next(deployed);

    const endpointFailed = outcome('RecordEndpointFailed', {
      status: 'failed',
      error: 'EndpointFailed',
      'cause.$': '$.endpoint.details',
      reason: 'the endpoint failed to deploy',
      'datasetId.$': '$.run.datasetId',
    });
    const timedOut = outcome('RecordDeployTimeout', {
      status: 'failed',
      error: 'DeploymentTimedOut',
      'cause.$': `States.Format('endpoint still {} after {} polls (${props.deployTimeout.toHumanString()})', $.endpoint.status, $.poll.count)`,
      reason: 'the deployment did not settle in time',
      'datasetId.$': '$.run.datasetId',
    });
    const endpointBroken = sfn.Condition.or(
      sfn.Condition.stringEquals('$.endpoint.status', 'Failed'),
      sfn.Condition.stringEquals('$.endpoint.status', 'UpdateRollbackFailed'),
    );
    startPolling.next(wait).next(describe).next(countPoll);
    createEndpoint.next(startPolling);

    if (ic) {
      // The endpoint only hosts; the model lives in the inference component, which is created (first model) or
      // updated in place with a rolling update and auto-rollback on the endpoint alarms. An existing endpoint is
      // therefore not updated (its config carries no model): it only has to be InService.
      const component = this.inferenceComponentStates(props, ic, h, interval, maxPolls, tags);
      registerScaling.next(putScaling).next(component.scaleFromZero).next(baseline);
      component.settledTo(registerScaling);
      const settled = new sfn.Choice(this, 'EndpointSettled?')
        .when(sfn.Condition.stringEquals('$.endpoint.status', 'InService'), component.start)
        .when(endpointBroken, endpointFailed)
        .when(sfn.Condition.numberGreaterThanEquals('$.poll.count', maxPolls), timedOut)
        .otherwise(wait);
      countPoll.next(settled);
      const exists = new sfn.Choice(this, 'EndpointExists?')
        .when(sfn.Condition.numberGreaterThan('$.existing.count', 0), startPolling)
        .otherwise(createConfig);
      createConfig.next(createEndpoint);
      return findEndpoint.next(exists);
    }

    const updateEndpoint = sagemakerCall(
      'UpdateEndpoint',
      'updateEndpoint',
      {
        EndpointName: props.endpointName,
        'EndpointConfigName.$': '$.run.endpointConfigName',
        RetainAllVariantProperties: false,
        DeploymentConfig: {
          BlueGreenUpdatePolicy: {
            TrafficRoutingConfiguration: {
              Type: 'CANARY',
              CanarySize: { Type: 'CAPACITY_PERCENT', Value: props.canaryPercent },
              WaitIntervalInSeconds: props.canaryBake.toSeconds(),
            },
            TerminationWaitInSeconds: 300,
            MaximumExecutionTimeoutInSeconds: props.deployTimeout.toSeconds(),
          },
          AutoRollbackConfiguration: { Alarms: props.rollbackAlarms.map((a) => ({ AlarmName: a.alarmName })) },
        },
      },
      [endpointArn, arn('sagemaker', `endpoint-config/${props.endpointName}-*`)],
    );
    registerScaling.next(putScaling).next(baseline);
    const rolledBack = setApproval(
      'MarkRolledBack',
      'Rejected',
      "States.Format('canary rolled back by a CloudWatch alarm; endpoint kept {}', $.endpoint.configName)",
    );
    rolledBack.next(
      outcome('RecordRolledBack', {
        status: 'rolled-back',
        error: 'DeploymentRolledBack',
        'cause.$':
          "States.Format('the canary of {} raised an alarm; {} rolled back to {} (the champion keeps serving)', $.run.endpointConfigName, $.endpoint.configName, $.endpoint.configName)",
        'reason.$': "States.Format('deployment rolled back; champion kept ({})', $.endpoint.configName)",
        'modelPackageArn.$': '$.registered.arn',
        'datasetId.$': '$.run.datasetId',
      }),
    );
    const settled = new sfn.Choice(this, 'EndpointSettled?')
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.endpoint.status', 'InService'),
          sfn.Condition.stringEqualsJsonPath('$.endpoint.configName', '$.run.endpointConfigName'),
        ),
        registerScaling,
      )
      .when(sfn.Condition.stringEquals('$.endpoint.status', 'InService'), rolledBack)
      .when(endpointBroken, endpointFailed)
      .when(sfn.Condition.numberGreaterThanEquals('$.poll.count', maxPolls), timedOut)
      .otherwise(wait);
    countPoll.next(settled);
    const exists = new sfn.Choice(this, 'EndpointExists?')
      .when(sfn.Condition.numberGreaterThan('$.existing.count', 0), updateEndpoint)
      .otherwise(createEndpoint);
    updateEndpoint.next(startPolling);
    return createConfig.next(findEndpoint).next(exists);
  }

  /**
   * Scale to zero: find the inference component, create or update it, poll it (the same bounded counter as the
   * endpoint poll, so the whole deployment stays within `deployTimeout`), then the scale-from-zero policy and alarm.
   */
  private inferenceComponentStates(
    props: RetrainingLoopProps,
    ic: InferenceComponentPlan,
    h: DeployHelpers,
    interval: Duration,
    maxPolls: number,
    tags: Array<Record<string, string>>,
  ): { start: sfn.IChainable; settledTo: (next: sfn.IChainable) => void; scaleFromZero: sfn.Chain } {
    const { sagemakerCall, guard, retry, recordFailure, outcome, setApproval, arn } = h;
    const componentArn = arn('sagemaker', `inference-component/${ic.name}`);
    const find = retry(
      new tasks.CallAwsService(this, 'FindInferenceComponent', {
        service: 'sagemaker',
        action: 'describeInferenceComponent',
        parameters: { InferenceComponentName: ic.name },
        iamAction: 'sagemaker:DescribeInferenceComponent',
        iamResources: [componentArn],
        resultSelector: { found: true, 'status.$': '$.InferenceComponentStatus' },
        resultPath: '$.component',
      }),
    );
    const none = new sfn.Pass(this, 'NoInferenceComponent', {
      result: sfn.Result.fromObject({ found: false }),
      resultPath: '$.component',
    });
    // SageMaker answers ValidationException ("Could not find inference component") for a missing component.
    find.addCatch(none, { errors: INFERENCE_COMPONENT_NOT_FOUND, resultPath: '$.componentLookup' });
    find.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    const create = sagemakerCall(
      'CreateInferenceComponent',
      'createInferenceComponent',
      { ...ic.createInferenceComponent, Tags: tags },
      [componentArn],
      { iamAction: 'sagemaker:CreateInferenceComponent' }, // as VisionServing.grantDeploy names it
    );
    const update = sagemakerCall(
      'UpdateInferenceComponent',
      'updateInferenceComponent',
      ic.updateInferenceComponent,
      [componentArn],
      { iamAction: 'sagemaker:UpdateInferenceComponent' },
    );
    const wait = new sfn.Wait(this, 'WaitForInferenceComponent', { time: sfn.WaitTime.duration(interval) });
    const describe = sagemakerCall(
      'DescribeInferenceComponent',
      'describeInferenceComponent',
      { InferenceComponentName: ic.name },
      [componentArn],
      {
        iamAction: 'sagemaker:DescribeInferenceComponent',
        resultSelector: {
          found: true,
          'status.$': '$.InferenceComponentStatus',
          'modelName.$': '$.Specification.ModelName',
          'details.$': 'States.JsonToString($)',
        },
        resultPath: '$.component',
      },
    );
    const count = new sfn.Pass(this, 'CountComponentPoll', {
      parameters: { 'count.$': 'States.MathAdd($.poll.count, 1)' },
      resultPath: '$.poll',
    });
    const rolledBack = setApproval(
      'MarkComponentRolledBack',
      'Rejected',
      "States.Format('rolling update rolled back by a CloudWatch alarm; the component kept model {}', $.component.modelName)",
    );
    rolledBack.next(
      outcome('RecordComponentRolledBack', {
        status: 'rolled-back',
        error: 'DeploymentRolledBack',
        'cause.$': `States.Format('the rolling update of ${ic.name} to {} raised an alarm and rolled back to {} (the champion keeps serving)', $.run.modelName, $.component.modelName)`,
        'reason.$': "States.Format('deployment rolled back; champion kept ({})', $.component.modelName)",
        'modelPackageArn.$': '$.registered.arn',
        'datasetId.$': '$.run.datasetId',
      }),
    );
    const failed = outcome('RecordInferenceComponentFailed', {
      status: 'failed',
      error: 'InferenceComponentFailed',
      'cause.$': '$.component.details',
      reason: `the inference component ${ic.name} failed to deploy`,
      'datasetId.$': '$.run.datasetId',
    });
    const timedOut = outcome('RecordComponentDeployTimeout', {
      status: 'failed',
      error: 'DeploymentTimedOut',
      'cause.$': `States.Format('inference component ${ic.name} still {} after {} polls (${props.deployTimeout.toHumanString()})', $.component.status, $.poll.count)`,
      reason: 'the deployment did not settle in time',
      'datasetId.$': '$.run.datasetId',
    });
    const exists = new sfn.Choice(this, 'InferenceComponentExists?')
      .when(sfn.Condition.booleanEquals('$.component.found', true), update)
      .otherwise(create);
    find.next(exists);
    none.next(exists);
    create.next(wait);
    update.next(wait);
    wait.next(describe).next(count);

    const fromZeroPolicy = guard(
      new tasks.CallAwsService(this, 'PutScaleFromZeroPolicy', {
        service: 'applicationautoscaling',
        action: 'putScalingPolicy',
        iamAction: 'application-autoscaling:PutScalingPolicy',
        parameters: ic.scaleFromZeroPolicy,
        iamResources: ['*'],
        // The alarm's action is this policy (`plan.scaleFromZeroAlarm` reads `$.scaleFromZero.PolicyARN`).
        resultSelector: { 'PolicyARN.$': '$.PolicyARN' },
        resultPath: '$.scaleFromZero',
      }),
    );
    const fromZeroAlarm = guard(
      new tasks.CallAwsService(this, 'PutScaleFromZeroAlarm', {
        service: 'cloudwatch',
        action: 'putMetricAlarm',
        iamAction: 'cloudwatch:PutMetricAlarm',
        parameters: ic.scaleFromZeroAlarm,
        iamResources: [arn('cloudwatch', `alarm:${ic.alarmName}`)],
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    return {
      start: find,
      settledTo: (next) => {
        count.next(
          new sfn.Choice(this, 'InferenceComponentSettled?')
            .when(
              sfn.Condition.and(
                sfn.Condition.stringEquals('$.component.status', 'InService'),
                sfn.Condition.stringEqualsJsonPath('$.component.modelName', '$.run.modelName'),
              ),
              next,
            )
            .when(sfn.Condition.stringEquals('$.component.status', 'InService'), rolledBack)
            .when(sfn.Condition.stringEquals('$.component.status', 'Failed'), failed)
            .when(sfn.Condition.numberGreaterThanEquals('$.poll.count', maxPolls), timedOut)
            .otherwise(wait),
        );
      },
      scaleFromZero: fromZeroPolicy.next(fromZeroAlarm),
    };
  }

  private grantStateMachine(
    props: RetrainingLoopProps,
    eventsPrefix: string,
    arn: (service: string, resource: string) => string,
    groupArn: string,
    packageArn: string,
  ): void {
    const role = this.stateMachine.role;
    const add = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ sid, actions, resources, conditions }));
    add(
      'TrainingJobs',
      [
        'sagemaker:CreateTrainingJob',
        'sagemaker:DescribeTrainingJob',
        'sagemaker:StopTrainingJob',
        'sagemaker:AddTags',
      ],
      [arn('sagemaker', `training-job/${props.endpointName}-*`)],
    );
    add(
      'TrainingJobEvents',
      ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      [
        arn('events', 'rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule'),
        arn('events', 'rule/StepFunctionsGetEventsForSageMakerTransformJobsRule'),
      ],
    );
    add(
      'ScoringJobs',
      [
        'sagemaker:CreateTransformJob',
        'sagemaker:DescribeTransformJob',
        'sagemaker:StopTransformJob',
        'sagemaker:AddTags',
      ],
      [arn('sagemaker', `transform-job/${props.endpointName}-*`)],
    );
    add(
      'ModelsAndEndpoints',
      ['sagemaker:AddTags'],
      [
        arn('sagemaker', `model/${props.endpointName}-*`),
        arn('sagemaker', `endpoint-config/${props.endpointName}-*`),
        arn('sagemaker', `endpoint/${props.endpointName}`),
        groupArn,
        packageArn,
      ],
    );
    add(
      'EndpointForAutoscaling',
      ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
      [arn('sagemaker', `endpoint/${props.endpointName}`)],
    );
    add(
      'RollbackAlarms',
      ['cloudwatch:DescribeAlarms'],
      props.rollbackAlarms.map((a) => a.alarmArn),
    );
    const component = inferenceComponentPlan(props.servingPlan);
    add(
      'TargetTrackingAlarms',
      ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms'],
      [
        arn('cloudwatch', `alarm:TargetTracking-endpoint/${props.endpointName}/*`),
        // Target tracking on the inference component names its alarms after the component's resource ID.
        ...(component ? [arn('cloudwatch', `alarm:TargetTracking-inference-component/${component.name}-*`)] : []),
      ],
    );
    add(
      'AutoscalingServiceLinkedRole',
      ['iam:CreateServiceLinkedRole'],
      [
        `arn:${Stack.of(this).partition}:iam::${Stack.of(this).account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`,
      ],
      { StringLike: { 'iam:AWSServiceName': 'sagemaker.application-autoscaling.amazonaws.com' } },
    );
    add('PassSageMakerRole', ['iam:PassRole'], [this.sageMakerRole.roleArn], {
      StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
    });
    // Athena reads the raw events, writes results and UNLOADs datasets with the caller's credentials.
    add(
      'AthenaQueries',
      ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
      [arn('athena', `workgroup/${props.workGroupName}`)],
    );
    props.rawBucket.grantRead(role, `${eventsPrefix}*`);
    props.curatedBucket.grantRead(role, 'athena-results/*');
    props.curatedBucket.grantPut(role, 'athena-results/*');
    props.curatedBucket.grantRead(role, 'datasets/*');
    props.curatedBucket.grantPut(role, 'datasets/*');
    // Training volumes and outputs are encrypted with the lake key on the caller's behalf.
    props.dataKey.grant(role, 'kms:CreateGrant', 'kms:DescribeKey');
    // The topic is KMS-encrypted: publishing needs the key.
    props.opsKey.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
    this.acknowledgeStateMachinePolicy(props, eventsPrefix, arn);
    add(
      'GlueCatalog',
      ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
      [
        arn('glue', 'catalog'),
        arn('glue', `database/${props.databaseName}`),
        arn('glue', `table/${props.databaseName}/${props.tableName}`),
      ],
    );
  }
}

/** The state builders the deployment states share with the rest of the workflow. */
interface DeployHelpers {
  readonly sagemakerCall: (
    stateId: string,
    action: string,
    parameters: Record<string, unknown>,
    resources: string[],
    extra?: Partial<tasks.CallAwsServiceProps>,
  ) => tasks.CallAwsService;
  /** Retry transient errors and catch the rest into the failure path. */
  readonly guard: <T extends sfn.TaskStateBase | sfn.CustomState>(state: T) => T;
  /** Retry transient errors only (the caller adds its catchers). */
  readonly retry: <T extends sfn.TaskStateBase | sfn.CustomState>(state: T) => T;
  readonly recordFailure: sfn.IChainable;
  readonly outcome: (stateId: string, fields: Record<string, unknown>) => sfn.IChainable;
  readonly setApproval: (stateId: string, status: 'Approved' | 'Rejected', description: string) => tasks.CallAwsService;
  readonly arn: (service: string, resource: string) => string;
}

/** A serving plan in inference-component mode, with every call it needs present. */
interface InferenceComponentPlan {
  readonly name: string;
  readonly alarmName: string;
  readonly endpointConfig: Record<string, unknown>;
  readonly createInferenceComponent: Record<string, unknown>;
  readonly updateInferenceComponent: Record<string, unknown>;
  readonly scalableTarget: Record<string, unknown>;
  readonly targetTracking: Record<string, unknown>;
  readonly scaleFromZeroPolicy: Record<string, unknown>;
  readonly scaleFromZeroAlarm: Record<string, unknown>;
}

/** Errors of `DescribeInferenceComponent` that mean "there is no such component". */
export const INFERENCE_COMPONENT_NOT_FOUND = ['SageMaker.ValidationException', 'SageMaker.ResourceNotFoundException'];

/** At most this many validation images are decoded for the vision drift baseline (one Lambda run). */
export const VISION_BASELINE_MAX_IMAGES = 5000;

/** The plan when it asks for inference components (validated), else undefined (instance-based variant). */
function inferenceComponentPlan(plan: VisionServingPlan | undefined): InferenceComponentPlan | undefined {
  if (!plan || plan.mode !== 'inference-component') return undefined;
  const missing = (
    [
      'inferenceComponentName',
      'createInferenceComponent',
      'updateInferenceComponent',
      'scaleFromZeroPolicy',
      'scaleFromZeroAlarm',
    ] as const
  ).filter((k) => plan[k] === undefined);
  const alarmName = plan.scaleFromZeroAlarm?.AlarmName;
  if (missing.length > 0 || typeof alarmName !== 'string') {
    throw new Error(
      `servingPlan in inference-component mode needs ${missing.join(', ') || 'scaleFromZeroAlarm.AlarmName'}; build it with visionServingPlan`,
    );
  }
  return {
    name: plan.inferenceComponentName!,
    alarmName,
    endpointConfig: plan.endpointConfig,
    createInferenceComponent: plan.createInferenceComponent!,
    updateInferenceComponent: plan.updateInferenceComponent!,
    scalableTarget: plan.scalableTarget,
    targetTracking: plan.targetTracking,
    scaleFromZeroPolicy: plan.scaleFromZeroPolicy!,
    scaleFromZeroAlarm: plan.scaleFromZeroAlarm!,
  };
}

/**
 * Replaces JSONPath parameters (`"Key.$": "<path>"`) whose path the loop knows at synth time with the value
 * (`"Key": <value>`), at any depth: e.g. the plan's `$.run.sageMakerRoleArn` is the loop's own SageMaker role.
 */
export function bindStatePaths(
  parameters: Record<string, unknown>,
  bindings: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const bind = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(bind);
    if (value && typeof value === 'object') return bindStatePaths(value as Record<string, unknown>, bindings);
    return value;
  };
  return Object.fromEntries(
    Object.entries(parameters).map(([key, value]) =>
      key.endsWith('.$') && typeof value === 'string' && Object.hasOwn(bindings, value)
        ? [key.slice(0, -2), bindings[value]]
        : [key, bind(value)],
    ),
  );
}

/**
 * `States.Format('<template>', <paths>)` with the template quoted as the intrinsic-function grammar requires
 * (`'` and `\` escaped; `{}` are the placeholders).
 */
export function formatIntrinsic(template: string, ...paths: string[]): string {
  if (paths.length === 0) return `States.Format('${escapeIntrinsic(template)}')`;
  const placeholders = template.split('{}').length - 1;
  if (placeholders !== paths.length) {
    throw new Error(`template has ${placeholders} placeholders but ${paths.length} paths were given: ${template}`);
  }
  return `States.Format('${escapeIntrinsic(template)}', ${paths.join(', ')})`;
}

function escapeIntrinsic(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}

/**
 * How a cdk-nag finding names an ARN built from the stack's partition, region and account: literals where the stack
 * environment is concrete, `<AWS::AccountId>` (and the like) where it is not.
 */
function literal(scope: IConstruct, value: string): string {
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    if (part && typeof part === 'object') {
      const o = part as Record<string, unknown>;
      if (typeof o.Ref === 'string') return `<${o.Ref}>`;
      const getAtt = o['Fn::GetAtt'];
      if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
      const join = o['Fn::Join'];
      if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
        return (join[1] as unknown[]).map(render).join(join[0]);
      }
    }
    throw new Error(`cannot name ${JSON.stringify(part)} for a cdk-nag acknowledgement`);
  };
  return render(Stack.of(scope).resolve(value));
}

/** Feature columns of the recommender, computed in SQL from the interaction events (model input order). */
export function recommenderFeatures(schema: EventSchema): string[] {
  const code = (field: string) => {
    const values = schema.fields.find((f) => f.name === field)?.values ?? [];
    if (values.length === 0) throw new Error(`event schema ${schema.name} has no closed value set for ${field}`);
    return `CASE ${field} ${values.map((v, i) => `WHEN '${v}' THEN ${i}`).join(' ')} ELSE -1 END AS ${field}_code`;
  };
  return [
    'coalesce(position, -1) AS position',
    code('surface'),
    code('device'),
    'hour(event_time) AS hour_of_day',
    'day_of_week(event_time) AS day_of_week',
  ];
}

function requireFunction(fn: BlueprintFunction | undefined, name: string): BlueprintFunction {
  if (!fn) throw new Error(`${name} is required for the vision dataset`);
  return fn;
}

function validate(props: RetrainingLoopProps): void {
  const t = props.training;
  if (t.useSpot && t.maxWait.toSeconds() < t.maxRuntime.toSeconds()) {
    throw new Error(
      `training.maxWait must be at least training.maxRuntime with spot training; received ${t.maxWait.toHumanString()} < ${t.maxRuntime.toHumanString()}`,
    );
  }
  if (props.serving.maxCapacity < Math.max(1, props.serving.minCapacity)) {
    throw new Error(
      `serving.maxCapacity must be at least 1 and at least minCapacity; received ${props.serving.maxCapacity}`,
    );
  }
  if (props.rollbackAlarms.length === 0) {
    throw new Error('rollbackAlarms must list at least one alarm: blue/green deployments roll back on them');
  }
  if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(props.endpointName)) {
    throw new Error(
      `endpointName must be a SageMaker name (letters, digits, hyphens, ≤ 63); received "${props.endpointName}"`,
    );
  }
}
