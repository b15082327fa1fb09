import { CustomResource, Duration, Stack, ArnFormat } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { BlueprintFunction } from '../constructs/blueprint-function';
import { acknowledgeNag, nagArnName } from '../nag';

/** Properties of a {@link LoopTeardown}. */
export interface LoopTeardownProps {
  readonly stage: string;
  readonly caseStudy: string;
  /** The loop's endpoint: also its model package group and the prefix of every runtime name. */
  readonly endpointName: string;
  /** Key of the function's logs and environment, and of the provider's logs. */
  readonly encryptionKey: kms.IKey;
  /** Deleted only after the teardown (CloudFormation deletes a model package group only when it is empty). */
  readonly modelPackageGroup: IConstruct;
  /** Deleted before the teardown starts, so that no run creates anything while it works. */
  readonly stateMachine: IConstruct;
  /** Longest the teardown may take before the stack deletion fails. @default Duration.hours(1) */
  readonly totalTimeout?: Duration;
}

/**
 * Deletes, when its stack is deleted, what the retraining loop created at run time for its stage and case study
 * (endpoints, inference components, endpoint configs, models, scalable targets and their policies, model packages;
 * running jobs stopped): a custom resource whose provider calls `lambdas/loop-teardown` on Delete, step by step
 * until nothing is left (`core/retraining/teardown.ts`). Create and Update do nothing.
 *
 * CloudFormation deletes dependents first: the state machine goes before the teardown (no run can create anything
 * while it works) and the model package group after it (the group must be empty).
 */
export class LoopTeardown extends Construct {
  /** The custom resource. */
  public readonly resource: CustomResource;
  /** The handler (onEvent and isComplete). */
  public readonly function: BlueprintFunction;

  constructor(scope: Construct, id: string, props: LoopTeardownProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const name = props.endpointName;
    this.function = new BlueprintFunction(this, 'Function', {
      handlerDir: 'loop-teardown',
      description: `Deletes what the retraining loop of ${name} created, when its stack is deleted`,
      encryptionKey: props.encryptionKey,
      timeout: Duration.minutes(5),
      memorySize: 256,
    });
    const sm = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'sagemaker', resource, resourceName });
    const add = (sid: string, actions: string[], resources: string[]) =>
      this.function.addToRolePolicy(new iam.PolicyStatement({ sid, actions, resources }));
    // Lists have no resource-level permissions; what is changed is limited to the loop's names.
    add(
      'ListLoopResources',
      [
        'sagemaker:ListEndpoints',
        'sagemaker:ListInferenceComponents',
        'sagemaker:ListEndpointConfigs',
        'sagemaker:ListModels',
        'sagemaker:ListTrainingJobs',
        'sagemaker:ListTransformJobs',
        'sagemaker:ListModelPackages',
        'application-autoscaling:DescribeScalableTargets',
        'application-autoscaling:DeregisterScalableTarget',
      ],
      ['*'],
    );
    const owned = {
      endpoint: sm('endpoint', name),
      components: sm('inference-component', `${name}-*`),
      configs: sm('endpoint-config', `${name}-*`),
      models: sm('model', `${name}-*`),
      trainingJobs: sm('training-job', `${name}-*`),
      transformJobs: sm('transform-job', `${name}-*`),
      packages: sm('model-package', `${name}/*`),
    };
    // The alarms the loop creates carry its names as a prefix (e.g. the scale-from-zero alarm).
    add('DescribeLoopAlarms', ['cloudwatch:DescribeAlarms'], ['*']);
    const alarms = stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: `${name}-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    add('DeleteLoopAlarms', ['cloudwatch:DeleteAlarms'], [alarms]);
    add(
      'ReadLoopTags',
      ['sagemaker:ListTags'],
      Object.values(owned).filter((a) => a !== owned.packages),
    );
    add(
      'StopLoopJobs',
      ['sagemaker:StopTrainingJob', 'sagemaker:StopTransformJob'],
      [owned.trainingJobs, owned.transformJobs],
    );
    add(
      'DeleteLoopResources',
      [
        'sagemaker:DeleteEndpoint',
        'sagemaker:DeleteInferenceComponent',
        'sagemaker:DeleteEndpointConfig',
        'sagemaker:DeleteModel',
        'sagemaker:DeleteModelPackage',
      ],
      [owned.endpoint, owned.components, owned.configs, owned.models, owned.packages],
    );
    const policy = this.function.role!.node.findChild('DefaultPolicy');
    acknowledgeNag(
      policy,
      'IAM5[Resource::*]',
      'SageMaker List*, Application Auto Scaling DescribeScalableTargets/DeregisterScalableTarget and CloudWatch DescribeAlarms have no resource-level permissions; the handler acts only on names and tags of this loop.',
    );
    acknowledgeNag(
      policy,
      `IAM5[Resource::${nagArnName(policy, alarms)}]`,
      "The loop's alarms (e.g. the scale-from-zero alarm) are named under this loop's endpoint; only those can be deleted.",
    );
    for (const arn of [
      owned.components,
      owned.configs,
      owned.models,
      owned.trainingJobs,
      owned.transformJobs,
      owned.packages,
    ]) {
      acknowledgeNag(
        policy,
        `IAM5[Resource::${nagArnName(policy, arn)}]`,
        "The loop names these per run; the grant is limited to names under this loop's endpoint.",
      );
    }

    // The provider framework's handlers run under roles of ours (no managed policy): logs to their own group.
    const providerLogs = new logs.LogGroup(this, 'ProviderLogs', {
      encryptionKey: props.encryptionKey,
      retention: logs.RetentionDays.ONE_MONTH,
    });
    const frameworkRole = (roleId: string) => {
      const role = new iam.Role(this, roleId, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `CDK provider framework handler of the retraining-loop teardown of ${name}`,
      });
      providerLogs.grantWrite(role);
      return role;
    };
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.function,
      isCompleteHandler: this.function,
      queryInterval: Duration.seconds(30),
      totalTimeout: props.totalTimeout ?? Duration.hours(1),
      logGroup: providerLogs,
      frameworkOnEventRole: frameworkRole('OnEventRole'),
      frameworkCompleteAndTimeoutRole: frameworkRole('WaiterRole'),
      waiterStateMachineLogOptions: {
        destination: new logs.LogGroup(this, 'WaiterLogs', {
          encryptionKey: props.encryptionKey,
          retention: logs.RetentionDays.ONE_MONTH,
        }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
      disableWaiterStateMachineLogging: false,
    });
    acknowledgeProvider(this, provider);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::RetrainingLoopTeardown',
      properties: { Stage: props.stage, CaseStudy: props.caseStudy, EndpointName: name },
    });
    // Deleted after the state machine, before the model package group (CloudFormation deletes dependents first).
    this.resource.node.addDependency(props.modelPackageGroup);
    props.stateMachine.node.addDependency(this.resource);
  }
}

/**
 * The CDK provider framework's own functions and waiter state machine: acknowledged one finding at a time on the
 * construct that has it (the framework does not let their roles or policies be replaced piecemeal).
 */
function acknowledgeProvider(scope: Construct, provider: cr.Provider): void {
  for (const roleId of ['OnEventRole', 'WaiterRole']) {
    const policy = scope.node.findChild(roleId).node.findChild('DefaultPolicy');
    acknowledgeNag(
      policy,
      `IAM5[Resource::${nagArnName(policy, (provider.onEventHandler as lambda.IFunction).functionArn)}:*]`,
      'The provider framework may invoke any version of the one teardown handler.',
    );
  }
  const waiter = provider.node.findChild('waiter-state-machine');
  acknowledgeNag(
    waiter.node.findChild('Resource'),
    'SF2',
    'The provider framework builds its waiter state machine without X-Ray; it only polls the teardown handler.',
  );
  const waiterPolicy = waiter.node.findChild('Role').node.findChild('DefaultPolicy');
  acknowledgeNag(
    waiterPolicy,
    'IAM5[Resource::*]',
    'CloudWatch Logs delivery actions of Step Functions execution logging have no resource-level permissions.',
  );
  for (const id of ['framework-isComplete', 'framework-onTimeout']) {
    const fn = provider.node.findChild(id) as lambda.IFunction;
    acknowledgeNag(
      waiterPolicy,
      `IAM5[Resource::${nagArnName(waiterPolicy, fn.functionArn)}:*]`,
      'The waiter state machine may invoke any version of its own framework handler.',
    );
  }
}
