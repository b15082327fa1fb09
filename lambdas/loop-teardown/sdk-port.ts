/**
 * The teardown's calls ({@link TeardownPort}) on the AWS SDK: SageMaker, Application Auto Scaling and CloudWatch. Every list
 * is paginated to the end (SageMaker applies `StatusEquals` after `MaxResults`, so a single page can miss items).
 * Shared by the custom-resource handler and `npm run teardown`.
 */
import {
  ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  paginateDescribeScalableTargets,
  type ScalableDimension,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteInferenceComponentCommand,
  DeleteModelCommand,
  DeleteModelPackageCommand,
  SageMakerClient,
  StopTrainingJobCommand,
  StopTransformJobCommand,
  paginateListEndpointConfigs,
  paginateListEndpoints,
  paginateListInferenceComponents,
  paginateListModelPackages,
  paginateListModels,
  paginateListTags,
  paginateListTrainingJobs,
  paginateListTransformJobs,
} from '@aws-sdk/client-sagemaker';
import { CloudWatchClient, DeleteAlarmsCommand, paginateDescribeAlarms } from '@aws-sdk/client-cloudwatch';
import type { SageMakerItem, TeardownPort } from '../../core/retraining/teardown';

/** Clients the port uses (created once per container by the caller). */
export interface TeardownClients {
  readonly sagemaker: SageMakerClient;
  readonly autoscaling: ApplicationAutoScalingClient;
  /** For the alarms the loop creates (the scale-from-zero alarm). @default none: they are named for a deletion by hand */
  readonly cloudwatch?: CloudWatchClient;
}

async function collect<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(items(page) ?? []));
  return out;
}

const item = (name: string | undefined, arn: string | undefined, status?: string): SageMakerItem => ({
  name: name ?? '',
  arn: arn ?? '',
  status,
});

/** The teardown port on real clients. */
export function sdkTeardownPort({ sagemaker, autoscaling, cloudwatch }: TeardownClients): TeardownPort {
  const client = { client: sagemaker };
  return {
    ...(cloudwatch
      ? {
          alarms: {
            list: (AlarmNamePrefix: string) =>
              collect(paginateDescribeAlarms({ client: cloudwatch }, { AlarmNamePrefix }), (p) =>
                [...(p.MetricAlarms ?? []), ...(p.CompositeAlarms ?? [])].map((a) => a.AlarmName ?? ''),
              ),
            delete: async (names: readonly string[]) => {
              // DeleteAlarms takes at most 100 names a call.
              for (let i = 0; i < names.length; i += 100) {
                await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: names.slice(i, i + 100) }));
              }
            },
          },
        }
      : {}),
    listEndpoints: (NameContains) =>
      collect(paginateListEndpoints(client, { NameContains }), (p) =>
        p.Endpoints?.map((e) => item(e.EndpointName, e.EndpointArn, e.EndpointStatus)),
      ),
    listInferenceComponents: (EndpointNameEquals) =>
      collect(paginateListInferenceComponents(client, { EndpointNameEquals }), (p) =>
        p.InferenceComponents?.map((c) =>
          item(c.InferenceComponentName, c.InferenceComponentArn, c.InferenceComponentStatus),
        ),
      ),
    listEndpointConfigs: (NameContains) =>
      collect(paginateListEndpointConfigs(client, { NameContains }), (p) =>
        p.EndpointConfigs?.map((c) => item(c.EndpointConfigName, c.EndpointConfigArn)),
      ),
    listModels: (NameContains) =>
      collect(paginateListModels(client, { NameContains }), (p) => p.Models?.map((m) => item(m.ModelName, m.ModelArn))),
    listRunningTrainingJobs: (NameContains) =>
      collect(paginateListTrainingJobs(client, { NameContains, StatusEquals: 'InProgress' }), (p) =>
        p.TrainingJobSummaries?.map((j) => item(j.TrainingJobName, j.TrainingJobArn, j.TrainingJobStatus)),
      ),
    listRunningTransformJobs: (NameContains) =>
      collect(paginateListTransformJobs(client, { NameContains, StatusEquals: 'InProgress' }), (p) =>
        p.TransformJobSummaries?.map((j) => item(j.TransformJobName, j.TransformJobArn, j.TransformJobStatus)),
      ),
    listModelPackages: (ModelPackageGroupName) =>
      collect(paginateListModelPackages(client, { ModelPackageGroupName, ModelPackageType: 'Versioned' }), (p) =>
        p.ModelPackageSummaryList?.map((m) => item(m.ModelPackageArn, m.ModelPackageArn, m.ModelApprovalStatus)),
      ),
    tagsOf: async (ResourceArn) => {
      const tags = await collect(paginateListTags(client, { ResourceArn }), (p) => p.Tags);
      return Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? '']));
    },
    listScalableTargets: (ids) =>
      collect(
        paginateDescribeScalableTargets(
          { client: autoscaling },
          { ServiceNamespace: 'sagemaker', ResourceIds: [...ids] },
        ),
        (p) =>
          p.ScalableTargets?.map((t) => ({ resourceId: t.ResourceId ?? '', dimension: t.ScalableDimension ?? '' })),
      ),
    stopTrainingJob: async (TrainingJobName) => {
      await sagemaker.send(new StopTrainingJobCommand({ TrainingJobName }));
    },
    stopTransformJob: async (TransformJobName) => {
      await sagemaker.send(new StopTransformJobCommand({ TransformJobName }));
    },
    deregisterScalableTarget: async (ResourceId, dimension) => {
      await autoscaling.send(
        new DeregisterScalableTargetCommand({
          ServiceNamespace: 'sagemaker',
          ResourceId,
          ScalableDimension: dimension as ScalableDimension,
        }),
      );
    },
    deleteInferenceComponent: async (InferenceComponentName) => {
      await sagemaker.send(new DeleteInferenceComponentCommand({ InferenceComponentName }));
    },
    deleteEndpoint: async (EndpointName) => {
      await sagemaker.send(new DeleteEndpointCommand({ EndpointName }));
    },
    deleteEndpointConfig: async (EndpointConfigName) => {
      await sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName }));
    },
    deleteModel: async (ModelName) => {
      await sagemaker.send(new DeleteModelCommand({ ModelName }));
    },
    deleteModelPackage: async (ModelPackageName) => {
      await sagemaker.send(new DeleteModelPackageCommand({ ModelPackageName }));
    },
  };
}
