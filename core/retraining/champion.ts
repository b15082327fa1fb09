/**
 * The champion is the model the endpoint actually serves, never "the newest Approved package": a package approved
 * for a deployment that then failed, timed out or rolled back has never served and must not become the model to
 * beat, nor move the "new data since" point. The chain is endpoint → its config (or its inference component) →
 * the served model → the registry package the loop tagged that model with.
 *
 * Pure: the caller passes what the SageMaker Describe/List calls returned. The retraining state machine walks the
 * same chain with Choice states (see docs/retraining.md); these functions are the rule it implements.
 */

/** Tag the loop puts on a candidate's model once its package is registered (model → package). */
export const MODEL_PACKAGE_TAG = 'ml-blueprint:model-package-arn';

/** Endpoint statuses in which the endpoint serves a model that can be named. */
export const SERVING_STATUSES = ['InService', 'Updating', 'SystemUpdating', 'RollingBack', 'UpdateRollbackFailed'];
/** Endpoint statuses that end on their own: wait (bounded) before deciding anything. */
export const BUSY_STATUSES = ['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting'];

/** What `ListEndpoints`/`DescribeEndpoint` say about the endpoint. */
export interface EndpointView {
  readonly name: string;
  readonly status: string;
  /** The config that serves (during an update: still the old one). */
  readonly configName?: string;
}

/** What `DescribeEndpointConfig` says: the variants and their models (none for inference-component endpoints). */
export interface EndpointConfigView {
  readonly variants: ReadonlyArray<{ readonly name: string; readonly modelName?: string }>;
}

/** What `DescribeInferenceComponent` says. */
export interface InferenceComponentView {
  readonly name: string;
  readonly status: string;
  readonly modelName?: string;
}

/** A registry package as `DescribeModelPackage` returns it. */
export interface PackageView {
  readonly arn: string;
  readonly status: 'Approved' | 'Rejected' | 'PendingManualApproval';
  readonly metadata: Readonly<Record<string, string>>;
}

/** What serves, or why nothing does. */
export type ServedModel =
  { readonly serving: true; readonly modelName: string } | { readonly serving: false; readonly reason: string };

/** The champion, or why there is none. */
export type Champion =
  | {
      readonly found: true;
      readonly modelName: string;
      readonly modelPackageArn: string;
      readonly metadata: Readonly<Record<string, string>>;
      /** New data is counted after this instant (the champion's dataset end). */
      readonly since: string;
      /** The package serves but the registry says otherwise (a run failed after the update took): approve it. */
      readonly reconcile: boolean;
    }
  | { readonly found: false; readonly reason: string };

/**
 * The model an endpoint serves. Instance-based endpoints name it on their config's variant (`variantName`, or the
 * only variant); inference-component endpoints in their component. A missing or failed endpoint serves nothing.
 */
export function servedModel(input: {
  readonly endpoint?: EndpointView;
  readonly config?: EndpointConfigView;
  readonly component?: InferenceComponentView;
  readonly variantName?: string;
}): ServedModel {
  const { endpoint, config, component } = input;
  if (!endpoint) return { serving: false, reason: 'no endpoint: nothing serves yet' };
  if (!SERVING_STATUSES.includes(endpoint.status)) {
    return { serving: false, reason: `endpoint ${endpoint.name} is ${endpoint.status}: nothing serves` };
  }
  if (component) {
    if (component.status === 'Failed' || !component.modelName) {
      return { serving: false, reason: `inference component ${component.name} is ${component.status}: nothing serves` };
    }
    return { serving: true, modelName: component.modelName };
  }
  const variants = config?.variants ?? [];
  const variant =
    variants.find((v) => v.name === (input.variantName ?? 'AllTraffic')) ??
    (variants.length === 1 ? variants[0] : undefined);
  if (!variant?.modelName) {
    return {
      serving: false,
      reason: `endpoint ${endpoint.name} config ${endpoint.configName ?? '?'} names no model (an inference-component endpoint without a component?)`,
    };
  }
  return { serving: true, modelName: variant.modelName };
}

/** The package ARN the loop tagged a model with, if any. */
export function packageOfModel(
  tags: ReadonlyArray<{ readonly Key: string; readonly Value: string }>,
): string | undefined {
  return tags.find((t) => t.Key === MODEL_PACKAGE_TAG)?.Value;
}

/**
 * The champion: the package of the served model. A served model without the loop's tag (deployed by hand or before
 * the loop tagged models) has no known package: there is no champion to re-score, and the run says so.
 */
export function championFromEndpoint(input: {
  readonly served: ServedModel;
  /** Tags of the served model (`ListTags`). */
  readonly modelTags?: ReadonlyArray<{ readonly Key: string; readonly Value: string }>;
  /** The tagged package, when there is one. */
  readonly package?: PackageView;
}): Champion {
  const { served } = input;
  if (!served.serving) return { found: false, reason: served.reason };
  const arn = packageOfModel(input.modelTags ?? []);
  if (!arn) {
    return {
      found: false,
      reason: `the served model ${served.modelName} carries no ${MODEL_PACKAGE_TAG} tag: its registry package is unknown`,
    };
  }
  const pkg = input.package;
  if (!pkg || pkg.arn !== arn)
    throw new Error(`package ${arn} of the served model ${served.modelName} was not described`);
  const since = pkg.metadata.datasetEnd;
  if (!since) {
    throw new Error(`package ${arn} has no datasetEnd metadata: it was not registered by the retraining loop`);
  }
  return {
    found: true,
    modelName: served.modelName,
    modelPackageArn: arn,
    metadata: pkg.metadata,
    since,
    reconcile: pkg.status !== 'Approved',
  };
}

/** How a deployment ended, as recorded on the candidate's package. */
export type DeploymentResult =
  'deployed' | 'failed' | 'timed-out' | 'rolled-back' | 'skipped' | 'approval-timed-out' | 'rejected';

/**
 * The registry status and metadata a package gets when its run ends: only a deployed package is `Approved`; every
 * other ending after registration leaves it `Rejected` with the reason, so no package is Approved that does not serve.
 */
export function packageVerdict(
  result: DeploymentResult,
  reason: string,
): { readonly status: 'Approved' | 'Rejected'; readonly metadata: Record<string, string> } {
  return {
    status: result === 'deployed' ? 'Approved' : 'Rejected',
    metadata: { deployment: result, deploymentReason: reason.slice(0, 256) },
  };
}
