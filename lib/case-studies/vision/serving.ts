import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ServingPlan } from '../../retraining/serving-plan';

/**
 * Serving of the vision model, as the parameters of the SageMaker and Application Auto Scaling calls the retraining
 * loop makes (the endpoint's lifecycle belongs to the loop; see docs/case-studies/vision.md).
 *
 * - **Scale to zero (sandbox)**: the endpoint hosts the model as an *inference component* on a variant with *managed
 *   instance scaling* (minimum 0 instances). The component scales between 0 and `maxCopies` copies: target tracking
 *   on concurrent requests per copy scales in to 0 after `idleMinutes` without traffic; a step-scaling policy
 *   triggered by the `NoCapacityInvocationFailures` alarm scales out from 0 on the first request. Instance-based
 *   variants cannot go below one instance, and scheduled scaling cannot reach zero either, hence this choice.
 * - **Instances (production)**: a classic variant with target tracking on invocations per instance between
 *   `minCapacity` and `maxCapacity` (what the loop does today).
 *
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints-deploy-models.html
 */
export interface VisionServingProps {
  readonly endpointName: string;
  readonly instanceType: string;
  /** Instance floor and ceiling (0 only with `scaleToZero`). */
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly initialInstanceCount: number;
  /** Share of requests captured. */
  readonly dataCapturePercent: number;
  /** Inference component with managed instance scaling down to zero. */
  readonly scaleToZero: boolean;
  /** GPUs and memory one model copy reserves. */
  readonly acceleratorsPerCopy: number;
  readonly memoryPerCopyMiB: number;
  /** Target-tracking target of the inference component: concurrent requests per copy. */
  readonly targetConcurrentRequestsPerCopy: number;
  /** Idle time before scaling in (scale-in cooldown), in minutes. */
  readonly idleMinutesBeforeScaleIn: number;
  /** Target of the instance-mode target tracking: invocations per instance per minute. @default 100 */
  readonly targetInvocationsPerInstance?: number;
}

/** Variant name, as the loop uses it. */
const VISION_VARIANT = 'AllTraffic';

/** Name of the inference component of an endpoint (stable, so alarms and the consumer can name it). */
export function inferenceComponentNameOf(endpointName: string): string {
  return `${endpointName}-ic`;
}

/** Validates the props and builds the plan. */
export function visionServingPlan(p: VisionServingProps, rollbackAlarmNames: readonly string[] = []): ServingPlan {
  if (p.maxCapacity < 1 || p.maxCapacity < p.minCapacity) {
    throw new Error(
      `maxCapacity must be at least 1 and at least minCapacity (${p.minCapacity}); received ${p.maxCapacity}`,
    );
  }
  if (p.minCapacity === 0 && !p.scaleToZero) {
    throw new Error(
      'minCapacity 0 needs scaleToZero (instance-based variants cannot scale below 1 instance); received scaleToZero false',
    );
  }
  if (p.scaleToZero && p.minCapacity !== 0) {
    throw new Error(`scaleToZero needs minCapacity 0; received ${p.minCapacity}`);
  }
  if (!p.scaleToZero) {
    const resourceId = `endpoint/${p.endpointName}/variant/${VISION_VARIANT}`;
    return {
      mode: 'instances',
      endpointConfig: {
        ProductionVariants: [
          {
            VariantName: VISION_VARIANT,
            'ModelName.$': '$.run.modelName',
            InstanceType: p.instanceType,
            InitialInstanceCount: Math.max(p.initialInstanceCount, p.minCapacity),
          },
        ],
      },
      scalableTarget: {
        ServiceNamespace: 'sagemaker',
        ResourceId: resourceId,
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        MinCapacity: p.minCapacity,
        MaxCapacity: p.maxCapacity,
      },
      targetTracking: {
        PolicyName: `${p.endpointName}-invocations`,
        ServiceNamespace: 'sagemaker',
        ResourceId: resourceId,
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: p.targetInvocationsPerInstance ?? 100,
          PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
          ScaleInCooldown: p.idleMinutesBeforeScaleIn * 60,
          ScaleOutCooldown: 60,
        },
      },
    };
  }
  const ic = inferenceComponentNameOf(p.endpointName);
  const resourceId = `inference-component/${ic}`;
  const specification = {
    'ModelName.$': '$.run.modelName',
    ComputeResourceRequirements: {
      ...(p.acceleratorsPerCopy > 0 ? { NumberOfAcceleratorDevicesRequired: p.acceleratorsPerCopy } : {}),
      MinMemoryRequiredInMb: p.memoryPerCopyMiB,
    },
  };
  return {
    mode: 'inference-component',
    inferenceComponentName: ic,
    endpointConfig: {
      // Inference-component endpoints name the execution role on the config and no model on the variant.
      'ExecutionRoleArn.$': '$.run.sageMakerRoleArn',
      ProductionVariants: [
        {
          VariantName: VISION_VARIANT,
          InstanceType: p.instanceType,
          InitialInstanceCount: 1,
          ManagedInstanceScaling: { Status: 'ENABLED', MinInstanceCount: 0, MaxInstanceCount: p.maxCapacity },
          RoutingConfig: { RoutingStrategy: 'LEAST_OUTSTANDING_REQUESTS' },
        },
      ],
    },
    createInferenceComponent: {
      InferenceComponentName: ic,
      EndpointName: p.endpointName,
      VariantName: VISION_VARIANT,
      Specification: specification,
      RuntimeConfig: { CopyCount: 1 },
    },
    updateInferenceComponent: {
      InferenceComponentName: ic,
      Specification: specification,
      DeploymentConfig: {
        RollingUpdatePolicy: {
          MaximumBatchSize: { Type: 'COPY_COUNT', Value: 1 },
          WaitIntervalInSeconds: 120,
          MaximumExecutionTimeoutInSeconds: 3600,
          RollbackMaximumBatchSize: { Type: 'COPY_COUNT', Value: 1 },
        },
        AutoRollbackConfiguration: { Alarms: rollbackAlarmNames.map((AlarmName) => ({ AlarmName })) },
      },
    },
    scalableTarget: {
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceId,
      ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
      MinCapacity: 0,
      MaxCapacity: p.maxCapacity,
    },
    targetTracking: {
      PolicyName: `${p.endpointName}-concurrency`,
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceId,
      ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: p.targetConcurrentRequestsPerCopy,
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution',
        },
        ScaleInCooldown: p.idleMinutesBeforeScaleIn * 60,
        ScaleOutCooldown: 60,
      },
    },
    scaleFromZeroPolicy: {
      PolicyName: `${p.endpointName}-from-zero`,
      ServiceNamespace: 'sagemaker',
      ResourceId: resourceId,
      ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'ChangeInCapacity',
        MetricAggregationType: 'Maximum',
        Cooldown: 60,
        StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
      },
    },
    scaleFromZeroAlarm: {
      AlarmName: `${p.endpointName}-no-capacity`,
      AlarmDescription: `Scales ${ic} out from zero copies on the first request that found no capacity`,
      Namespace: 'AWS/SageMaker',
      MetricName: 'NoCapacityInvocationFailures',
      Dimensions: [{ Name: 'InferenceComponentName', Value: ic }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'missing',
      'AlarmActions.$': 'States.Array($.scaleFromZero.PolicyARN)',
    },
  };
}

/**
 * The vision serving plan as a construct: holds the plan for the retraining loop and grants the loop's state
 * machine role exactly the extra calls inference-component serving needs, on the endpoint's names only.
 */
export class VisionServing extends Construct {
  /** The API parameters the loop passes. */
  public readonly plan: ServingPlan;
  private readonly props: VisionServingProps;

  constructor(scope: Construct, id: string, props: VisionServingProps & { readonly rollbackAlarmNames?: string[] }) {
    super(scope, id);
    this.props = props;
    this.plan = visionServingPlan(props, props.rollbackAlarmNames ?? []);
  }

  /**
   * Permissions for the inference-component path: create/update/describe the component, put the scale-from-zero
   * alarm. (Application Auto Scaling actions have no resource-level permissions; the loop already holds them.)
   */
  public grantDeploy(grantee: iam.IGrantable): iam.Grant | undefined {
    if (this.plan.mode !== 'inference-component' || !this.plan.inferenceComponentName) return undefined;
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'],
      resourceArns: [
        stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${this.props.endpointName}-no-capacity`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'sagemaker:CreateInferenceComponent',
        'sagemaker:UpdateInferenceComponent',
        'sagemaker:DescribeInferenceComponent',
        'sagemaker:UpdateInferenceComponentRuntimeConfig',
        'sagemaker:AddTags',
      ],
      resourceArns: [
        stack.formatArn({
          service: 'sagemaker',
          resource: 'inference-component',
          resourceName: this.plan.inferenceComponentName,
        }),
      ],
    });
  }

  /** Requests that found no copy (scaling from zero): each one is a cold-start wait for a client. */
  public metricNoCapacityInvocationFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/SageMaker',
      metricName: 'NoCapacityInvocationFailures',
      dimensionsMap: { InferenceComponentName: this.plan.inferenceComponentName ?? '' },
      statistic: 'Sum',
      ...props,
    });
  }
}
