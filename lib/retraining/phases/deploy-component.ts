/**
 * Deployment as an inference component (scale to zero): the endpoint only hosts, with managed instance scaling
 * and no model, so an existing endpoint is kept as it is and only has to be InService. The model lives in the
 * inference component, created for the first model or updated in place with a rolling update and auto-rollback on
 * the endpoint alarms, and polled with the same bounded counter as the endpoint (the whole deployment stays within
 * `deployTimeout`). Then its scaling: target tracking, and a step policy with an alarm that scales out from zero.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { InferenceComponentPlan } from '../serving-plan';
import { EndpointStates, scalingStates, type DeployPhaseProps } from './deploy-endpoint';

/** Errors of `DescribeInferenceComponent` that mean "there is no such component" (SageMaker's ValidationException). */

/** Properties of a {@link DeployToInferenceComponent}. */
export interface DeployToInferenceComponentProps extends DeployPhaseProps {
  /** The calls of the inference-component serving plan. */
  readonly plan: InferenceComponentPlan;
}

/**
 * `FindEndpoint` → `EndpointExists?` → (`CreateEndpointConfig` → `CreateEndpoint` →) poll → `EndpointSettled?` →
 * `FindInferenceComponent` → create or update → poll → `InferenceComponentSettled?` → scaling → scale from zero.
 */
export class DeployToInferenceComponent extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, p: DeployToInferenceComponentProps) {
    super(scope, id);
    const { states, props, plan } = p;
    // The plan's variant (managed instance scaling, no model), with the execution role on the config.
    const endpoint = new EndpointStates(
      this,
      p,
      bindStatePaths(plan.endpointConfig, { '$.run.sageMakerRoleArn': p.sageMakerRole.roleArn }),
    );
    const scaling = scalingStates(this, states, plan.scalableTarget, plan.targetTracking);
    const componentArn = states.arn(this, 'sagemaker', `inference-component/${plan.name}`);
    // "Is there a component?" is a List call with filters (the exact name sorts first), never an error's name.
    const find = states.sageMaker(
      this,
      'FindInferenceComponent',
      'listInferenceComponents',
      {
        EndpointNameEquals: props.endpointName,
        NameContains: plan.name,
        SortBy: 'Name',
        SortOrder: 'Ascending',
        MaxResults: 10,
      },
      ['*'],
      {
        iamAction: 'sagemaker:ListInferenceComponents',
        resultSelector: { 'components.$': '$.InferenceComponents' },
        resultPath: '$.componentSearch',
      },
    );
    // A Failed component accepts only a delete: deleted, waited for until gone, created anew. A busy one is waited
    // for. Both within the deployment's bound, after which the run ends skipped (package marked).
    const deleteFailed = states.sageMaker(
      this,
      'DeleteFailedComponent',
      'deleteInferenceComponent',
      { InferenceComponentName: plan.name },
      [componentArn],
      { iamAction: 'sagemaker:DeleteInferenceComponent' },
    );
    const startWait = new sfn.Pass(this, 'StartComponentWait', {
      result: sfn.Result.fromObject({ count: 0 }),
      resultPath: '$.componentWait',
    });
    const waitComponent = new sfn.Wait(this, 'WaitForComponentChange', {
      time: sfn.WaitTime.duration(endpoint.interval),
    });
    const countWait = new sfn.Pass(this, 'CountComponentWait', {
      parameters: { 'count.$': 'States.MathAdd($.componentWait.count, 1)' },
      resultPath: '$.componentWait',
    });
    startWait.next(waitComponent).next(countWait).next(find);
    const keepWaiting = new sfn.Choice(this, 'KeepWaitingForComponent?')
      .when(sfn.Condition.not(sfn.Condition.isPresent('$.componentWait')), startWait)
      .when(sfn.Condition.numberLessThan('$.componentWait.count', endpoint.maxPolls), waitComponent)
      .otherwise(endpoint.markBusy);
    deleteFailed.next(keepWaiting);
    const create = states.sageMaker(
      this,
      'CreateInferenceComponent',
      'createInferenceComponent',
      { ...plan.createInferenceComponent, Tags: states.tags },
      [componentArn],
      { iamAction: 'sagemaker:CreateInferenceComponent' }, // as the serving construct's grantDeploy names it
    );
    const update = states.sageMaker(
      this,
      'UpdateInferenceComponent',
      'updateInferenceComponent',
      plan.updateInferenceComponent,
      [componentArn],
      { iamAction: 'sagemaker:UpdateInferenceComponent' },
    );
    const wait = new sfn.Wait(this, 'WaitForInferenceComponent', {
      time: sfn.WaitTime.duration(endpoint.interval),
    });
    const describe = states.sageMaker(
      this,
      'DescribeInferenceComponent',
      'describeInferenceComponent',
      { InferenceComponentName: plan.name },
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
    const rolledBack = states.setApproval(
      this,
      'MarkComponentRolledBack',
      'Rejected',
      "States.Format('rolling update rolled back by a CloudWatch alarm; the component kept model {}', $.component.modelName)",
    );
    rolledBack.next(
      states.outcome(this, 'RecordComponentRolledBack', {
        status: 'rolled-back',
        error: 'DeploymentRolledBack',
        'cause.$': `States.Format('the rolling update of ${plan.name} to {} raised an alarm and rolled back to {} (the champion keeps serving)', $.run.modelName, $.component.modelName)`,
        'reason.$': "States.Format('deployment rolled back; champion kept ({})', $.component.modelName)",
        'modelPackageArn.$': '$.registered.arn',
        'datasetId.$': '$.run.datasetId',
      }),
    );
    const failed = states.markPackage(this, 'MarkComponentFailed', 'failed', '$.component.details');
    failed.next(
      states.outcome(this, 'RecordInferenceComponentFailed', {
        status: 'failed',
        error: 'InferenceComponentFailed',
        'cause.$': '$.component.details',
        reason: `the inference component ${plan.name} failed to deploy`,
        'datasetId.$': '$.run.datasetId',
        'modelPackageArn.$': '$.registered.arn',
      }),
    );
    const timedOut = states.markPackage(
      this,
      'MarkComponentTimedOut',
      'timed-out',
      "States.Format('inference component still {} after {} polls', $.component.status, $.poll.count)",
    );
    timedOut.next(
      states.outcome(this, 'RecordComponentDeployTimeout', {
        status: 'failed',
        error: 'DeploymentTimedOut',
        'cause.$': `States.Format('inference component ${plan.name} still {} after {} polls (${props.deployTimeout.toHumanString()})', $.component.status, $.poll.count)`,
        reason: 'the deployment did not settle in time',
        'datasetId.$': '$.run.datasetId',
        'modelPackageArn.$': '$.registered.arn',
      }),
    );
    const status = '$.componentSearch.components[0].InferenceComponentStatus';
    const exists = new sfn.Choice(this, 'InferenceComponentExists?')
      .when(sfn.Condition.not(sfn.Condition.isPresent('$.componentSearch.components[0]')), create)
      .when(
        sfn.Condition.not(
          sfn.Condition.stringEquals('$.componentSearch.components[0].InferenceComponentName', plan.name),
        ),
        create,
      )
      .when(sfn.Condition.stringEquals(status, 'InService'), update)
      .when(sfn.Condition.stringEquals(status, 'Failed'), deleteFailed)
      .otherwise(keepWaiting);
    find.next(exists);
    create.next(wait);
    update.next(wait);
    wait.next(describe).next(count);

    const fromZeroPolicy = states.guard(
      new tasks.CallAwsService(this, 'PutScaleFromZeroPolicy', {
        service: 'applicationautoscaling',
        action: 'putScalingPolicy',
        iamAction: 'application-autoscaling:PutScalingPolicy',
        parameters: plan.scaleFromZeroPolicy,
        iamResources: ['*'],
        // The alarm's action is this policy (`plan.scaleFromZeroAlarm` reads `$.scaleFromZero.PolicyARN`).
        resultSelector: { 'PolicyARN.$': '$.PolicyARN' },
        resultPath: '$.scaleFromZero',
      }),
    );
    const fromZeroAlarm = states.guard(
      new tasks.CallAwsService(this, 'PutScaleFromZeroAlarm', {
        service: 'cloudwatch',
        action: 'putMetricAlarm',
        iamAction: 'cloudwatch:PutMetricAlarm',
        parameters: plan.scaleFromZeroAlarm,
        iamResources: [states.arn(this, 'cloudwatch', `alarm:${plan.alarmName}`)],
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    scaling.end.next(fromZeroPolicy).next(fromZeroAlarm);
    count.next(
      new sfn.Choice(this, 'InferenceComponentSettled?')
        .when(
          sfn.Condition.and(
            sfn.Condition.stringEquals('$.component.status', 'InService'),
            sfn.Condition.stringEqualsJsonPath('$.component.modelName', '$.run.modelName'),
          ),
          scaling.start,
        )
        .when(sfn.Condition.stringEquals('$.component.status', 'InService'), rolledBack)
        .when(sfn.Condition.stringEquals('$.component.status', 'Failed'), failed)
        .when(sfn.Condition.numberGreaterThanEquals('$.poll.count', endpoint.maxPolls), timedOut)
        .otherwise(wait),
    );
    endpoint.countPoll.next(
      new sfn.Choice(this, 'EndpointSettled?')
        .when(sfn.Condition.stringEquals('$.endpoint.status', 'InService'), find)
        .when(endpoint.broken, endpoint.endpointFailed)
        .when(sfn.Condition.numberGreaterThanEquals('$.poll.count', endpoint.maxPolls), endpoint.timedOut)
        .otherwise(endpoint.wait),
    );
    const endpointExists = endpoint.exists(this, props, endpoint.startPolling, endpoint.createConfig);
    endpoint.createConfig.next(endpoint.createEndpoint);
    endpoint.findEndpoint.next(endpointExists);
    this.startState = endpoint.findEndpoint;
    this.endStates = [fromZeroAlarm];
  }
}

/**
 * Replaces JSONPath parameters (`"Key.$": "<path>"`) whose path the loop knows at synth time with the value
 * (`"Key": <value>`), at any depth: e.g. the plan's `$.run.sageMakerRoleArn` is the loop's own SageMaker role.
 */
function bindStatePaths(
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
