/**
 * The role SageMaker assumes for the loop's training jobs, scoring jobs and hosting: it reads datasets (and the
 * raw inputs the case study names), writes model artifacts, checkpoints and data capture, pulls the algorithm
 * image and writes its logs; with a VPC, a security group for the jobs and the model.
 */
import { inferenceComponentPlan } from './serving-plan';
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { acknowledgeBucketGrants, acknowledgeNag, nagArnName } from '../nag';
import type { VpcConfig } from './phases/train';
import type { RetrainingLoopProps } from './props';

/** The execution role and, with a VPC, where jobs and models run. */
export interface SageMakerExecution {
  readonly role: iam.Role;
  readonly securityGroup?: ec2.SecurityGroup;
  readonly vpcConfig?: VpcConfig;
}

/**
 * Creates `SageMakerRole` (and `SecurityGroup` with a VPC) in the loop's scope.
 * @param rawInputPrefixes prefixes of the raw bucket that training reads besides the dataset
 */
export function sageMakerExecution(
  scope: Construct,
  props: RetrainingLoopProps,
  rawInputPrefixes: readonly string[],
): SageMakerExecution {
  const stack = Stack.of(scope);
  const arn = (service: string, resource: string) =>
    `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
  const capturePrefix = props.capturePrefix ?? 'datacapture/';
  const role = new iam.Role(scope, 'SageMakerRole', {
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
    description: `SageMaker training and hosting role of ${props.endpointName}`,
  });
  props.curatedBucket.grantRead(role, 'datasets/*');
  // Batch-transform re-scoring writes its outputs next to the dataset.
  props.curatedBucket.grantPut(role, 'datasets/*');
  for (const prefix of rawInputPrefixes) props.rawBucket.grantRead(role, `${prefix}*`);
  props.artifactsBucket.grantReadWrite(role, 'models/*');
  props.artifactsBucket.grantReadWrite(role, 'checkpoints/*');
  props.captureBucket.grantPut(role, `${capturePrefix}*`);
  props.dataKey.grant(role, 'kms:CreateGrant');
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'PullAlgorithmImage',
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      resources: [props.recipe.repositoryArn],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
  );
  const component = inferenceComponentPlan(props.servingPlan);
  // Training and transform jobs, the endpoint, and (scale to zero) the inference component write their own logs.
  const logGroups = [
    'TrainingJobs',
    'TransformJobs',
    `Endpoints/${props.endpointName}`,
    ...(component ? [`InferenceComponents/${component.name}`] : []),
  ];
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'JobAndEndpointLogs',
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: logGroups.flatMap((group) => [
        arn('logs', `log-group:/aws/sagemaker/${group}`),
        arn('logs', `log-group:/aws/sagemaker/${group}:log-stream:*`),
      ]),
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'PublishSageMakerMetrics',
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'AWS/SageMaker'] } },
    }),
  );
  let securityGroup: ec2.SecurityGroup | undefined;
  let vpcConfig: VpcConfig | undefined;
  if (props.vpc) {
    securityGroup = new ec2.SecurityGroup(scope, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Training jobs and model of ${props.endpointName}`,
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'S3, ECR and SageMaker APIs over TLS');
    // Distributed training: instances of one job talk to each other.
    securityGroup.addIngressRule(securityGroup, ec2.Port.allTraffic(), 'Between training instances');
    securityGroup.addEgressRule(securityGroup, ec2.Port.allTraffic(), 'Between training instances');
    vpcConfig = {
      SecurityGroupIds: [securityGroup.securityGroupId],
      Subnets: props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS })
        .subnetIds,
    };
    role.addToPrincipalPolicy(
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
  const policy = role.node.findChild('DefaultPolicy');
  acknowledgeBucketGrants(policy, [
    { bucket: props.curatedBucket, prefixes: ['datasets/'], write: 'put', encrypted: true },
    ...(rawInputPrefixes.length > 0 ? [{ bucket: props.rawBucket, prefixes: rawInputPrefixes, encrypted: true }] : []),
    { bucket: props.artifactsBucket, prefixes: ['models/', 'checkpoints/'], write: 'read-write', encrypted: true },
    { bucket: props.captureBucket, prefixes: [capturePrefix], write: 'put', encrypted: true },
  ]);
  acknowledgeNag(
    policy,
    'IAM5[Resource::*]',
    'ecr:GetAuthorizationToken, cloudwatch:PutMetricData and (with a VPC) the EC2 network-interface actions SageMaker needs have no resource-level permissions; PutMetricData is limited to the SageMaker namespaces by condition.',
  );
  for (const group of logGroups) {
    acknowledgeNag(
      policy,
      `IAM5[Resource::${nagArnName(scope, arn('logs', `log-group:/aws/sagemaker/${group}:log-stream:*`))}]`,
      'SageMaker names the log streams of a job or endpoint at run time; the grant is limited to the one log group.',
    );
  }
  return { role, securityGroup, vpcConfig };
}
