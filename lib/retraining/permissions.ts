/**
 * What the loop's state machine may do beyond the grants its tasks generate, limited to the names of its own
 * endpoint, and the cdk-nag acknowledgements of the wildcards that remain (each with its reason).
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { BlueprintFunction } from '../constructs/blueprint-function';
import { acknowledgeBucketGrants, acknowledgeNag, nagArnName } from '../nag';
import type { RetrainingLoopProps } from './props';
import type { InferenceComponentPlan } from './serving-plan';

/** What the state machine's permissions are derived from. */
export interface StateMachinePermissions {
  readonly props: RetrainingLoopProps;
  readonly stateMachine: sfn.StateMachine;
  readonly sageMakerRole: iam.IRole;
  /** The loop's Lambdas (the LambdaInvoke tasks may call their versions). */
  readonly functions: Readonly<Record<string, BlueprintFunction>>;
  /** Inference-component serving, when the plan asks for it. */
  readonly component?: InferenceComponentPlan;
}

/** Grants the state machine role the SageMaker, Athena, Glue, S3, KMS and scaling calls of a run. */
export function grantStateMachine(p: StateMachinePermissions): void {
  const { props, stateMachine } = p;
  const stack = Stack.of(stateMachine);
  const arn = (service: string, resource: string) =>
    `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
  const name = props.endpointName;
  const role = stateMachine.role;
  const add = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
    stateMachine.addToRolePolicy(new iam.PolicyStatement({ sid, actions, resources, conditions }));
  add(
    'TrainingJobs',
    ['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob', 'sagemaker:AddTags'],
    [arn('sagemaker', `training-job/${name}-*`)],
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
    [arn('sagemaker', `transform-job/${name}-*`)],
  );
  add(
    'ModelsAndEndpoints',
    ['sagemaker:AddTags'],
    [
      arn('sagemaker', `model/${name}-*`),
      arn('sagemaker', `endpoint-config/${name}-*`),
      arn('sagemaker', `endpoint/${name}`),
      arn('sagemaker', `model-package-group/${name}`),
      arn('sagemaker', `model-package/${name}/*`),
    ],
  );
  add(
    'EndpointForAutoscaling',
    // Application Auto Scaling's minimum permissions on SageMaker variants, checked on RegisterScalableTarget.
    ['sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
    [arn('sagemaker', `endpoint/${name}`), arn('sagemaker', `endpoint-config/${name}-*`)],
  );
  add(
    'RollbackAlarms',
    ['cloudwatch:DescribeAlarms'],
    props.rollbackAlarms.map((a) => a.alarmArn),
  );
  add(
    'TargetTrackingAlarms',
    ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms'],
    [
      arn('cloudwatch', `alarm:TargetTracking-endpoint/${name}/*`),
      // Target tracking on the inference component names its alarms after the component's resource ID.
      ...(p.component ? [arn('cloudwatch', `alarm:TargetTracking-inference-component/${p.component.name}-*`)] : []),
    ],
  );
  add(
    'AutoscalingServiceLinkedRole',
    ['iam:CreateServiceLinkedRole'],
    [
      `arn:${stack.partition}:iam::${stack.account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`,
    ],
    { StringLike: { 'iam:AWSServiceName': 'sagemaker.application-autoscaling.amazonaws.com' } },
  );
  add('PassSageMakerRole', ['iam:PassRole'], [p.sageMakerRole.roleArn], {
    StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
  });
  // Athena reads the raw events, writes results and UNLOADs datasets with the caller's credentials.
  add(
    'AthenaQueries',
    ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
    [arn('athena', `workgroup/${props.workGroupName}`)],
  );
  const eventsPrefix = props.eventsPrefix ?? 'events/';
  props.rawBucket.grantRead(role, `${eventsPrefix}*`);
  props.curatedBucket.grantRead(role, 'athena-results/*');
  props.curatedBucket.grantPut(role, 'athena-results/*');
  props.curatedBucket.grantRead(role, 'datasets/*');
  props.curatedBucket.grantPut(role, 'datasets/*');
  // Training volumes and outputs are encrypted with the lake key on the caller's behalf.
  props.dataKey.grant(role, 'kms:CreateGrant', 'kms:DescribeKey');
  // The topic is KMS-encrypted: publishing needs the key.
  props.opsKey.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
  acknowledgeStateMachinePolicy(p, eventsPrefix, arn);
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

function acknowledgeStateMachinePolicy(
  p: StateMachinePermissions,
  eventsPrefix: string,
  arn: (service: string, resource: string) => string,
): void {
  const { props } = p;
  // On the role, not its DefaultPolicy: a large statement set overflows into managed policies (OverflowPolicyN)
  // at synthesis, and the same acknowledgements must cover them.
  const policy = p.stateMachine.role;
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
  for (const f of Object.values(p.functions)) {
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
      `IAM5[Resource::${nagArnName(policy, arn('sagemaker', resource))}]`,
      `SageMaker ${what} are named per execution at run time; the grant is limited to names of this case study's endpoint.`,
    );
  }
  acknowledgeNag(
    policy,
    `IAM5[Resource::${nagArnName(policy, arn('cloudwatch', `alarm:TargetTracking-endpoint/${props.endpointName}/*`))}]`,
    'Target-tracking scaling creates its own alarms, named by Application Auto Scaling; limited to this endpoint.',
  );
  if (p.component) {
    acknowledgeNag(
      policy,
      `IAM5[Resource::${nagArnName(policy, arn('cloudwatch', `alarm:TargetTracking-inference-component/${p.component.name}-*`))}]`,
      "Target tracking on the inference component creates its own alarms, named by Application Auto Scaling; limited to this endpoint's component.",
    );
  }
}

/** The references writer reads the checker's state of the endpoint and writes its CTR and quality references. */
export function grantReferencesFunction(
  props: RetrainingLoopProps,
  referencesFn: BlueprintFunction,
  statePrefix: string,
): void {
  const state = `${statePrefix}${props.endpointName}.json`;
  const baselines = `drift/baselines/${props.endpointName}/`;
  // Exact objects and actions (no wildcard): the state document, and the two references it writes.
  referencesFn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'ReadCheckerState',
      actions: ['s3:GetObject'],
      resources: [props.artifactsBucket.arnForObjects(state)],
    }),
  );
  // A missing state document must read as "not found" (404), not "access denied".
  referencesFn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'TellMissingState',
      actions: ['s3:ListBucket'],
      resources: [props.artifactsBucket.bucketArn],
    }),
  );
  referencesFn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'WriteReferences',
      actions: ['s3:PutObject'],
      resources: ['ctr.json', 'quality.json'].map((f) => props.artifactsBucket.arnForObjects(`${baselines}${f}`)),
    }),
  );
  const key = props.artifactsBucket.encryptionKey;
  if (key) {
    referencesFn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UseLakeKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [key.keyArn],
      }),
    );
  }
}

/** The baseline and evaluate Lambdas read the dataset (and raw inputs); the baseline writes the drift baseline. */
export function grantLoopFunctions(
  props: RetrainingLoopProps,
  rawInputPrefixes: readonly string[],
  evaluateFn: BlueprintFunction,
  baselineFn: BlueprintFunction,
  evaluateWrites = false,
): void {
  props.curatedBucket.grantRead(baselineFn, 'datasets/*');
  for (const prefix of rawInputPrefixes) props.rawBucket.grantRead(baselineFn, `${prefix}*`);
  props.curatedBucket.grantRead(evaluateFn, 'datasets/*');
  // A case study's own evaluation writes its report next to the dataset (the package's metrics).
  if (evaluateWrites) props.curatedBucket.grantPut(evaluateFn, 'datasets/*');
  acknowledgeBucketGrants(evaluateFn.role!.node.findChild('DefaultPolicy'), [
    {
      bucket: props.curatedBucket,
      prefixes: ['datasets/'],
      encrypted: true,
      write: evaluateWrites ? 'put' : undefined,
    },
  ]);
  const baselines = `drift/baselines/${props.endpointName}/`;
  props.artifactsBucket.grantPut(baselineFn, `${baselines}*`);
  acknowledgeBucketGrants(baselineFn.role!.node.findChild('DefaultPolicy'), [
    { bucket: props.curatedBucket, prefixes: ['datasets/'], encrypted: true },
    ...(rawInputPrefixes.length > 0 ? [{ bucket: props.rawBucket, prefixes: rawInputPrefixes, encrypted: true }] : []),
    { bucket: props.artifactsBucket, prefixes: [baselines], write: 'put' as const, encrypted: true },
  ]);
}
