import {
  ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DeleteModelPackageCommand,
  ListEndpointsCommand,
  ListInferenceComponentsCommand,
  ListModelPackagesCommand,
  ListTagsCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { CloudWatchClient, DeleteAlarmsCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { sdkTeardownPort } from '../../../lambdas/loop-teardown/sdk-port';

// SageMaker and Application Auto Scaling have no local emulator: the SDK calls are checked with aws-sdk-client-mock.
const sm = mockClient(SageMakerClient);
const aas = mockClient(ApplicationAutoScalingClient);
const port = sdkTeardownPort({ sagemaker: new SageMakerClient({}), autoscaling: new ApplicationAutoScalingClient({}) });

beforeEach(() => {
  sm.reset();
  aas.reset();
});

test('lists follow every page and pass the API filters (running jobs by StatusEquals, components by endpoint)', async () => {
  sm.on(ListTrainingJobsCommand, { NameContains: 'mlbp-x', StatusEquals: 'InProgress' })
    .resolvesOnce({
      TrainingJobSummaries: [
        {
          TrainingJobName: 'mlbp-x-a-0',
          TrainingJobArn: 'arn:a',
          TrainingJobStatus: 'InProgress',
          CreationTime: new Date(),
        },
      ],
      NextToken: 'page-2',
    })
    .resolvesOnce({
      TrainingJobSummaries: [
        {
          TrainingJobName: 'mlbp-x-b-0',
          TrainingJobArn: 'arn:b',
          TrainingJobStatus: 'InProgress',
          CreationTime: new Date(),
        },
      ],
    });
  sm.on(ListInferenceComponentsCommand, { EndpointNameEquals: 'mlbp-x' }).resolves({
    InferenceComponents: [
      {
        InferenceComponentName: 'mlbp-x-ic',
        InferenceComponentArn: 'arn:ic',
        InferenceComponentStatus: 'InService',
        EndpointName: 'mlbp-x',
        EndpointArn: 'arn:e',
        VariantName: 'AllTraffic',
        CreationTime: new Date(),
        LastModifiedTime: new Date(),
      },
    ],
  });
  sm.on(ListEndpointsCommand).resolves({ Endpoints: [] });

  expect(await port.listRunningTrainingJobs('mlbp-x')).toEqual([
    { name: 'mlbp-x-a-0', arn: 'arn:a', status: 'InProgress' },
    { name: 'mlbp-x-b-0', arn: 'arn:b', status: 'InProgress' },
  ]);
  expect(sm.commandCalls(ListTrainingJobsCommand)[1].args[0].input).toMatchObject({ NextToken: 'page-2' });
  expect(await port.listInferenceComponents('mlbp-x')).toEqual([
    { name: 'mlbp-x-ic', arn: 'arn:ic', status: 'InService' },
  ]);
  expect(await port.listEndpoints('mlbp-x')).toEqual([]);
});

test('tags become a map; model packages are the versions of the group, deleted by ARN', async () => {
  sm.on(ListTagsCommand, { ResourceArn: 'arn:m' }).resolves({
    Tags: [
      { Key: 'ml-blueprint:stage', Value: 'sandbox' },
      { Key: 'ml-blueprint:dataset-id', Value: 'run-1' },
    ],
  });
  sm.on(ListModelPackagesCommand, { ModelPackageGroupName: 'mlbp-x', ModelPackageType: 'Versioned' }).resolves({
    ModelPackageSummaryList: [
      {
        ModelPackageArn: 'arn:p/1',
        ModelApprovalStatus: 'Rejected',
        CreationTime: new Date(),
        ModelPackageStatus: 'Completed',
      },
    ],
  });
  sm.on(DeleteModelPackageCommand).resolves({});

  expect(await port.tagsOf('arn:m')).toEqual({ 'ml-blueprint:stage': 'sandbox', 'ml-blueprint:dataset-id': 'run-1' });
  expect(await port.listModelPackages('mlbp-x')).toEqual([{ name: 'arn:p/1', arn: 'arn:p/1', status: 'Rejected' }]);
  await port.deleteModelPackage('arn:p/1');
  expect(sm.commandCalls(DeleteModelPackageCommand)[0].args[0].input).toEqual({ ModelPackageName: 'arn:p/1' });
});

test('scalable targets are looked up by resource ID in the sagemaker namespace and deregistered with their dimension', async () => {
  aas.on(DescribeScalableTargetsCommand).resolves({
    ScalableTargets: [
      {
        ServiceNamespace: 'sagemaker',
        ResourceId: 'inference-component/mlbp-x-ic',
        ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
        MinCapacity: 0,
        MaxCapacity: 1,
        RoleARN: 'arn:role',
        CreationTime: new Date(),
      },
    ],
  });
  aas.on(DeregisterScalableTargetCommand).resolves({});

  const targets = await port.listScalableTargets([
    'inference-component/mlbp-x-ic',
    'endpoint/mlbp-x/variant/AllTraffic',
  ]);
  expect(aas.commandCalls(DescribeScalableTargetsCommand)[0].args[0].input).toEqual({
    ServiceNamespace: 'sagemaker',
    ResourceIds: ['inference-component/mlbp-x-ic', 'endpoint/mlbp-x/variant/AllTraffic'],
  });
  expect(targets).toEqual([
    { resourceId: 'inference-component/mlbp-x-ic', dimension: 'sagemaker:inference-component:DesiredCopyCount' },
  ]);
  await port.deregisterScalableTarget(targets[0].resourceId, targets[0].dimension);
  expect(aas.commandCalls(DeregisterScalableTargetCommand)[0].args[0].input).toEqual({
    ServiceNamespace: 'sagemaker',
    ResourceId: 'inference-component/mlbp-x-ic',
    ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
  });
});

test('alarms are listed by name prefix over every page (metric and composite) and deleted 100 names a call', async () => {
  const cw = mockClient(CloudWatchClient);
  cw.on(DescribeAlarmsCommand)
    .resolvesOnce({ MetricAlarms: [{ AlarmName: 'mlbp-sandbox-vision-no-capacity' }], NextToken: 't' })
    .resolvesOnce({ CompositeAlarms: [{ AlarmName: 'mlbp-sandbox-vision-other' }] });
  const port = sdkTeardownPort({
    sagemaker: new SageMakerClient({}),
    autoscaling: new ApplicationAutoScalingClient({}),
    cloudwatch: new CloudWatchClient({}),
  });
  expect(await port.alarms!.list('mlbp-sandbox-vision-')).toEqual([
    'mlbp-sandbox-vision-no-capacity',
    'mlbp-sandbox-vision-other',
  ]);
  expect(cw.commandCalls(DescribeAlarmsCommand)[0].args[0].input).toMatchObject({
    AlarmNamePrefix: 'mlbp-sandbox-vision-',
  });
  const names = Array.from({ length: 150 }, (_, i) => `mlbp-sandbox-vision-a${i}`);
  await port.alarms!.delete(names);
  const deletes = cw.commandCalls(DeleteAlarmsCommand).map((c) => c.args[0].input.AlarmNames);
  expect(deletes).toEqual([names.slice(0, 100), names.slice(100)]);
  cw.restore();
});

test('without a CloudWatch client the port has no alarms (the step names them for a deletion by hand)', () => {
  const port = sdkTeardownPort({
    sagemaker: new SageMakerClient({}),
    autoscaling: new ApplicationAutoScalingClient({}),
  });
  expect(port.alarms).toBeUndefined();
});
