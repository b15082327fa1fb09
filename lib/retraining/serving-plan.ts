/**
 * How the retraining loop serves a model when the case study asks for more than one instance-based variant: the
 * parameters of the SageMaker and Application Auto Scaling calls the loop makes, JSONPath placeholders (`.$`)
 * included, so that the endpoint's lifecycle stays the loop's (see docs/retraining.md).
 */

/** The API parameters of a serving plan, as the loop's state machine passes them. */
export interface ServingPlan {
  /** `inference-component`: the model is an inference component on a host-only endpoint; `instances`: a variant. */
  readonly mode: 'inference-component' | 'instances';
  readonly inferenceComponentName?: string;
  /** Merged into `CreateEndpointConfig` (`ProductionVariants`; `DataCaptureConfig` stays the loop's). */
  readonly endpointConfig: Record<string, unknown>;
  /** `CreateInferenceComponent` after the endpoint is InService (first deploy). */
  readonly createInferenceComponent?: Record<string, unknown>;
  /** `UpdateInferenceComponent` with a rolling update and auto-rollback (later deploys). */
  readonly updateInferenceComponent?: Record<string, unknown>;
  /** `RegisterScalableTarget`. */
  readonly scalableTarget: Record<string, unknown>;
  /** `PutScalingPolicy`, target tracking. */
  readonly targetTracking: Record<string, unknown>;
  /** `PutScalingPolicy`, step scaling from zero (its result's `PolicyARN` goes to the alarm). */
  readonly scaleFromZeroPolicy?: Record<string, unknown>;
  /** `PutMetricAlarm` on `NoCapacityInvocationFailures`, acting on the step policy. */
  readonly scaleFromZeroAlarm?: Record<string, unknown>;
}

/** A serving plan in inference-component mode, with every call it needs present. */
export interface InferenceComponentPlan {
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

/**
 * The plan when it asks for inference components (validated), else undefined (instance-based variant).
 * @throws when an inference-component plan lacks one of its calls
 */
export function inferenceComponentPlan(plan: ServingPlan | undefined): InferenceComponentPlan | undefined {
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
      `servingPlan in inference-component mode needs ${missing.join(', ') || 'scaleFromZeroAlarm.AlarmName'}; received a plan without it (build plans with the case study's serving plan function)`,
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
