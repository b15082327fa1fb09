/**
 * Deployment to an endpoint with an instance-based variant: a new endpoint config (data capture on), then the
 * endpoint is created (first model) or updated blue/green with a canary and auto-rollback on the rollback alarms;
 * the loop polls it until it settles, then registers autoscaling. A rollback keeps the champion serving and marks
 * the candidate rejected. The endpoint states are shared with the inference-component deployment.
 */
import { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { RetrainingLoopProps } from '../props';
import type { LoopStates } from '../states';
import { hasInstanceStorage } from '../training-recipe';

/** Variant name of the endpoint. */
const VARIANT = 'AllTraffic';

/** Tags of what a run creates: the dataset it came from. */

/** Properties of the endpoint states and of a {@link DeployToEndpoint}. */
export interface DeployPhaseProps {
  readonly states: LoopStates;
  readonly props: RetrainingLoopProps;
  /** The role SageMaker assumes (named on inference-component endpoint configs). */
  readonly sageMakerRole: iam.IRole;
}

/**
 * The endpoint's own states: its config, the lookup, creation, and a bounded poll (`maxPolls` of `interval`, so
 * the wait ends within `deployTimeout`) with its failure and timeout outcomes. The caller adds the choices.
 */
export class EndpointStates {
  public readonly createConfig: tasks.CallAwsService;
  public readonly findEndpoint: tasks.CallAwsService;
  public readonly createEndpoint: tasks.CallAwsService;
  public readonly startPolling: sfn.Pass;
  public readonly wait: sfn.Wait;
  public readonly countPoll: sfn.Pass;
  public readonly endpointFailed: sfn.IChainable;
  public readonly timedOut: sfn.IChainable;
  /** Before a deployment: wait (bounded) while the endpoint is busy; after the bound, the run ends skipped. */
  public readonly waitGate: sfn.Choice;
  /** A Failed endpoint accepts only DeleteEndpoint: it is deleted, waited for, and created anew. */
  public readonly deleteFailed: tasks.CallAwsService;
  /** Marks the package not deployed (`skipped`) and ends the run: the endpoint or component stayed busy. */
  public readonly markBusy: tasks.CallAwsService;
  /** The endpoint failed or could not roll back. */
  public readonly broken: sfn.Condition;
  public readonly interval: Duration;
  public readonly maxPolls: number;
  public readonly endpointArn: string;

  constructor(
    scope: Construct,
    p: DeployPhaseProps,
    variants: Record<string, unknown>,
    /** Serverless endpoints take neither data capture nor a volume key. @default false */
    serverless = false,
  ) {
    const { states, props } = p;
    const s = props.serving;
    const capture = {
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: s.dataCapturePercent,
        DestinationS3Uri: `s3://${props.captureBucket.bucketName}/${(props.capturePrefix ?? 'datacapture/').replace(/\/$/, '')}`,
        KmsKeyId: props.dataKey.keyArn,
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'], JsonContentTypes: ['application/json'] },
      },
      ...(hasInstanceStorage(s.instanceType) ? {} : { KmsKeyId: props.dataKey.keyArn }),
    };
    this.createConfig = states.sageMaker(
      scope,
      'CreateEndpointConfig',
      'createEndpointConfig',
      {
        'EndpointConfigName.$': '$.run.endpointConfigName',
        ...variants,
        ...(serverless ? {} : capture),
        Tags: states.tags,
      },
      [states.arn(scope, 'sagemaker', `endpoint-config/${props.endpointName}-*`)],
    );
    this.endpointArn = states.arn(scope, 'sagemaker', `endpoint/${props.endpointName}`);
    this.findEndpoint = states.sageMaker(
      scope,
      'FindEndpoint',
      'listEndpoints',
      { NameContains: props.endpointName, SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 10 },
      ['*'],
      {
        // The exact name sorts first among names that contain it (the name is reserved for the loop).
        resultSelector: { 'endpoints.$': '$.Endpoints' },
        resultPath: '$.existing',
      },
    );
    this.createEndpoint = states.sageMaker(
      scope,
      'CreateEndpoint',
      'createEndpoint',
      { EndpointName: props.endpointName, 'EndpointConfigName.$': '$.run.endpointConfigName', Tags: states.tags },
      [this.endpointArn],
    );
    this.interval = props.pollInterval ?? Duration.minutes(1);
    this.maxPolls = Math.ceil(props.deployTimeout.toSeconds() / this.interval.toSeconds());
    this.startPolling = new sfn.Pass(scope, 'StartPolling', {
      result: sfn.Result.fromObject({ count: 0 }),
      resultPath: '$.poll',
    });
    this.wait = new sfn.Wait(scope, 'WaitForEndpoint', { time: sfn.WaitTime.duration(this.interval) });
    const describe = states.sageMaker(
      scope,
      'DescribeEndpoint',
      'describeEndpoint',
      { EndpointName: props.endpointName },
      [this.endpointArn],
      {
        resultSelector: {
          'status.$': '$.EndpointStatus',
          'configName.$': '$.EndpointConfigName',
          'details.$': 'States.JsonToString($)',
        },
        resultPath: '$.endpoint',
      },
    );
    this.countPoll = new sfn.Pass(scope, 'CountPoll', {
      parameters: { 'count.$': 'States.MathAdd($.poll.count, 1)' },
      resultPath: '$.poll',
    });
    const markFailed = states.markPackage(scope, 'MarkDeployFailed', 'failed', '$.endpoint.details');
    const markTimedOut = states.markPackage(
      scope,
      'MarkDeployTimedOut',
      'timed-out',
      "States.Format('endpoint still {} after {} polls', $.endpoint.status, $.poll.count)",
    );
    this.endpointFailed = markFailed;
    markFailed.next(
      states.outcome(scope, 'RecordEndpointFailed', {
        status: 'failed',
        error: 'EndpointFailed',
        'cause.$': '$.endpoint.details',
        reason: 'the endpoint failed to deploy',
        'datasetId.$': '$.run.datasetId',
        'modelPackageArn.$': '$.registered.arn',
      }),
    );
    this.timedOut = markTimedOut;
    markTimedOut.next(
      states.outcome(scope, 'RecordDeployTimeout', {
        status: 'failed',
        error: 'DeploymentTimedOut',
        'cause.$': `States.Format('endpoint still {} after {} polls (${props.deployTimeout.toHumanString()})', $.endpoint.status, $.poll.count)`,
        reason: 'the deployment did not settle in time',
        'datasetId.$': '$.run.datasetId',
        'modelPackageArn.$': '$.registered.arn',
      }),
    );
    this.broken = sfn.Condition.or(
      sfn.Condition.stringEquals('$.endpoint.status', 'Failed'),
      sfn.Condition.stringEquals('$.endpoint.status', 'UpdateRollbackFailed'),
    );
    this.startPolling.next(this.wait).next(describe).next(this.countPoll);
    this.createEndpoint.next(this.startPolling);

    const startWait = new sfn.Pass(scope, 'StartDeployWait', {
      result: sfn.Result.fromObject({ count: 0 }),
      resultPath: '$.deployWait',
    });
    const waitBefore = new sfn.Wait(scope, 'WaitBeforeDeploy', { time: sfn.WaitTime.duration(this.interval) });
    const countWait = new sfn.Pass(scope, 'CountDeployWait', {
      parameters: { 'count.$': 'States.MathAdd($.deployWait.count, 1)' },
      resultPath: '$.deployWait',
    });
    startWait.next(waitBefore).next(countWait).next(this.findEndpoint);
    const markBusy = (this.markBusy = states.markPackage(
      scope,
      'MarkEndpointBusy',
      'skipped',
      `endpoint busy: not InService within ${this.maxPolls} polls`,
    ));
    markBusy.next(
      states.outcome(scope, 'RecordDeployBusy', {
        status: 'skipped',
        reason: `endpoint busy: ${props.endpointName} (or its inference component) was not InService within ${this.maxPolls} polls; the candidate was not deployed`,
        'modelPackageArn.$': '$.registered.arn',
        'datasetId.$': '$.run.datasetId',
      }),
    );
    this.waitGate = new sfn.Choice(scope, 'KeepWaiting?')
      .when(sfn.Condition.not(sfn.Condition.isPresent('$.deployWait')), startWait)
      .when(sfn.Condition.numberLessThan('$.deployWait.count', this.maxPolls), waitBefore)
      .otherwise(markBusy);
    this.deleteFailed = states.sageMaker(
      scope,
      'DeleteFailedEndpoint',
      'deleteEndpoint',
      { EndpointName: props.endpointName },
      [this.endpointArn],
    );
    this.deleteFailed.next(this.waitGate);
  }

  /** `EndpointExists?`: absent → `absent`; InService → `inService`; Failed → replaced; busy → bounded wait. */
  public exists(
    scope: Construct,
    props: RetrainingLoopProps,
    inService: sfn.IChainable,
    absent: sfn.IChainable,
  ): sfn.Choice {
    const status = '$.existing.endpoints[0].EndpointStatus';
    return (
      new sfn.Choice(scope, 'EndpointExists?')
        .when(sfn.Condition.not(sfn.Condition.isPresent('$.existing.endpoints[0]')), absent)
        // NameContains also matches longer names; the exact name sorts first, so another first name means none.
        .when(
          sfn.Condition.not(sfn.Condition.stringEquals('$.existing.endpoints[0].EndpointName', props.endpointName)),
          absent,
        )
        .when(sfn.Condition.stringEquals(status, 'InService'), inService)
        .when(sfn.Condition.stringEquals(status, 'Failed'), this.deleteFailed)
        .otherwise(this.waitGate)
    );
  }
}

/** An Application Auto Scaling call, guarded (its result discarded unless `resultPath` says otherwise). */
function autoscalingCall(
  scope: Construct,
  states: LoopStates,
  stateId: string,
  action: string,
  parameters: Record<string, unknown>,
  extra: Partial<tasks.CallAwsServiceProps> = {},
): tasks.CallAwsService {
  return states.guard(
    new tasks.CallAwsService(scope, stateId, {
      service: 'applicationautoscaling',
      action,
      iamAction: `application-autoscaling:${action.charAt(0).toUpperCase()}${action.slice(1)}`,
      parameters,
      iamResources: ['*'],
      resultPath: sfn.JsonPath.DISCARD,
      ...extra,
    }),
  );
}

/**
 * `RegisterScalableTarget` → `PutScalingPolicy` with the given Application Auto Scaling parameters (`ids` names
 * the two states when the same calls appear twice, e.g. to restore the champion's scaling).
 */
export function scalingStates(
  scope: Construct,
  states: LoopStates,
  scalableTarget: Record<string, unknown>,
  targetTracking: Record<string, unknown>,
  ids: readonly [string, string] = ['RegisterScalableTarget', 'PutScalingPolicy'],
): { start: tasks.CallAwsService; end: tasks.CallAwsService } {
  const call = (stateId: string, action: string, parameters: Record<string, unknown>) =>
    autoscalingCall(scope, states, stateId, action, parameters);
  const register = call(ids[0], 'registerScalableTarget', scalableTarget);
  const put = call(ids[1], 'putScalingPolicy', targetTracking);
  register.next(put);
  return { start: register, end: put };
}

/**
 * `CreateEndpointConfig` → `FindEndpoint` → `EndpointExists?` → `CreateEndpoint` or `UpdateEndpoint` (blue/green
 * canary) → poll → `EndpointSettled?` → `RegisterScalableTarget` → `PutScalingPolicy`.
 */
export class DeployToEndpoint extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, p: DeployPhaseProps) {
    super(scope, id);
    const { states, props } = p;
    const s = props.serving;
    const endpoint = new EndpointStates(this, p, {
      ProductionVariants: [
        {
          VariantName: VARIANT,
          'ModelName.$': '$.run.modelName',
          InstanceType: s.instanceType,
          InitialInstanceCount: s.initialInstanceCount,
        },
      ],
    });
    const resourceId = `endpoint/${props.endpointName}/variant/${VARIANT}`;
    const target = {
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceId,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    };
    const scalableTarget = { ...target, MinCapacity: Math.max(1, s.minCapacity), MaxCapacity: s.maxCapacity };
    const policy = {
      PolicyName: `${props.endpointName}-invocations`,
      ...target,
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: s.targetInvocationsPerInstance ?? 100,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        ScaleInCooldown: 300,
        ScaleOutCooldown: 60,
      },
    };
    const scaling = scalingStates(this, states, scalableTarget, policy);
    const updateEndpoint = states.sageMaker(
      this,
      'UpdateEndpoint',
      'updateEndpoint',
      {
        EndpointName: props.endpointName,
        'EndpointConfigName.$': '$.run.endpointConfigName',
        // Keep the live (autoscaled) instance count; the new config's data capture applies.
        RetainAllVariantProperties: true,
        ExcludeRetainedVariantProperties: [{ VariantPropertyType: 'DataCaptureConfig' }],
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
      [endpoint.endpointArn, states.arn(this, 'sagemaker', `endpoint-config/${props.endpointName}-*`)],
    );
    // AWS (Update endpoints that use auto scaling): an update that changes the instance type of a variant registered
    // with Application Auto Scaling fails. Then the variant is deregistered first (its policies go with it); the
    // scaling is registered again after the update, or restored on the champion if the update rolls back.
    const liveEndpoint = states.sageMaker(
      this,
      'DescribeLiveEndpoint',
      'describeEndpoint',
      { EndpointName: props.endpointName },
      [endpoint.endpointArn],
      { resultSelector: { 'configName.$': '$.EndpointConfigName' }, resultPath: '$.live' },
    );
    const liveConfig = states.sageMaker(
      this,
      'DescribeLiveConfig',
      'describeEndpointConfig',
      { 'EndpointConfigName.$': '$.live.configName' },
      [states.arn(this, 'sagemaker', `endpoint-config/${props.endpointName}-*`)],
      { resultSelector: { 'variants.$': '$.ProductionVariants' }, resultPath: '$.live.config' },
    );
    const findTarget = autoscalingCall(
      this,
      states,
      'FindScalableTarget',
      'describeScalableTargets',
      {
        ServiceNamespace: 'sagemaker',
        ResourceIds: [resourceId],
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      },
      { resultSelector: { 'targets.$': '$.ScalableTargets' }, resultPath: '$.live.scaling' },
    );
    const deregister = autoscalingCall(this, states, 'DeregisterScalableTarget', 'deregisterScalableTarget', target, {
      resultSelector: { deregistered: true },
      resultPath: '$.scalingDeregistered',
    });
    const liveType = '$.live.config.variants[0].InstanceType';
    liveEndpoint
      .next(liveConfig)
      .next(
        new sfn.Choice(this, 'InstanceTypeChanged?')
          .when(
            sfn.Condition.and(
              sfn.Condition.isPresent(liveType),
              sfn.Condition.not(sfn.Condition.stringEquals(liveType, s.instanceType)),
            ),
            findTarget,
          )
          .otherwise(updateEndpoint),
      );
    findTarget.next(
      new sfn.Choice(this, 'ScalingRegistered?')
        .when(sfn.Condition.isPresent('$.live.scaling.targets[0]'), deregister)
        .otherwise(updateEndpoint),
    );
    deregister.next(updateEndpoint);
    const restore = scalingStates(this, states, scalableTarget, policy, [
      'RestoreScalableTarget',
      'RestoreScalingPolicy',
    ]);
    const rolledBack = states.setApproval(
      this,
      'MarkRolledBack',
      'Rejected',
      "States.Format('canary rolled back by a CloudWatch alarm; endpoint kept {}', $.endpoint.configName)",
    );
    rolledBack.next(
      states.outcome(this, 'RecordRolledBack', {
        status: 'rolled-back',
        error: 'DeploymentRolledBack',
        'cause.$':
          "States.Format('the canary of {} raised an alarm; {} rolled back to {} (the champion keeps serving)', $.run.endpointConfigName, $.endpoint.configName, $.endpoint.configName)",
        'reason.$': "States.Format('deployment rolled back; champion kept ({})', $.endpoint.configName)",
        'modelPackageArn.$': '$.registered.arn',
        'datasetId.$': '$.run.datasetId',
      }),
    );
    endpoint.countPoll.next(
      new sfn.Choice(this, 'EndpointSettled?')
        .when(
          sfn.Condition.and(
            sfn.Condition.stringEquals('$.endpoint.status', 'InService'),
            sfn.Condition.stringEqualsJsonPath('$.endpoint.configName', '$.run.endpointConfigName'),
          ),
          scaling.start,
        )
        .when(
          sfn.Condition.and(
            sfn.Condition.stringEquals('$.endpoint.status', 'InService'),
            sfn.Condition.isPresent('$.scalingDeregistered'),
          ),
          restore.start,
        )
        .when(sfn.Condition.stringEquals('$.endpoint.status', 'InService'), rolledBack)
        .when(endpoint.broken, endpoint.endpointFailed)
        .when(sfn.Condition.numberGreaterThanEquals('$.poll.count', endpoint.maxPolls), endpoint.timedOut)
        .otherwise(endpoint.wait),
    );
    restore.end.next(rolledBack);
    const exists = endpoint.exists(this, props, liveEndpoint, endpoint.createEndpoint);
    updateEndpoint.next(endpoint.startPolling);
    endpoint.createConfig.next(endpoint.findEndpoint).next(exists);
    this.startState = endpoint.createConfig;
    this.endStates = [scaling.end];
  }
}
