/**
 * Reads a Step Functions state machine definition from a template: resolves the `Fn::Join` of its
 * `DefinitionString` (tokens become `${...}` placeholders) and finds the SageMaker training and endpoint
 * settings (instance, scale-to-zero or serverless), autoscaling bounds and the Lambda functions and tables the
 * states call.
 */
import type { CfnResource } from '../synth/assembly';
import { CostError } from './types';

/** A training job as the definition starts it. */
export interface TrainingSettings {
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly volumeSizeGB: number;
  readonly spot: boolean;
  readonly maxRuntimeSeconds?: number;
  readonly maxWaitSeconds?: number;
}

/**
 * How an endpoint bills: `instance` endpoints bill every instance-hour while they exist (730 h a month, at least
 * the autoscaling floor); `scale-to-zero` endpoints (inference components with managed instance scaling down to 0
 * instances) bill instance-hours only while they serve; `serverless` endpoints bill memory × processing time.
 */
export type EndpointKind = 'instance' | 'scale-to-zero' | 'serverless';

/** A serverless variant's settings (`ProductionVariants[].ServerlessConfig`). */
export interface ServerlessSettings {
  readonly memorySizeMB: number;
  readonly maxConcurrency: number;
  /** Warm capacity billed all month; undefined when none. */
  readonly provisionedConcurrency?: number;
}

/** The endpoint configuration the definition creates, with its autoscaling bounds. */
export interface EndpointSettings {
  readonly kind: EndpointKind;
  /** Instance type of `instance` and `scale-to-zero` endpoints; `serverless` for serverless ones. */
  readonly instanceType: string;
  readonly initialInstanceCount: number;
  /** Percent of requests captured, 0 when data capture is off. */
  readonly capturePercent: number;
  /** Autoscaling bounds (instances of a variant, or copies of an inference component). */
  readonly minCapacity?: number;
  readonly maxCapacity?: number;
  /** Most instances managed instance scaling may start (scale-to-zero endpoints). */
  readonly maxInstances?: number;
  readonly serverless?: ServerlessSettings;
}

/** What the estimator needs from one state machine. */
export interface StateMachineModel {
  readonly training?: TrainingSettings;
  readonly endpoint?: EndpointSettings;
  /** Logical IDs of resources the definition refers to, with how many Task states refer to each. */
  readonly references: ReadonlyMap<string, number>;
  readonly stateCount: number;
}

/** Renders a CloudFormation token as a placeholder (`${Ref:Table}`, `${GetAtt:Fn.Arn}`, `${ImportValue:X}`). */
export function placeholder(token: unknown): string {
  if (token && typeof token === 'object') {
    const t = token as Record<string, unknown>;
    if (typeof t.Ref === 'string') return `\${Ref:${t.Ref}}`;
    const getAtt = t['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `\${GetAtt:${getAtt.join('.')}}`;
    if (typeof t['Fn::ImportValue'] === 'string') return `\${ImportValue:${t['Fn::ImportValue']}}`;
    const inner = JSON.stringify(token).match(/"(?:Fn::ImportValue|Ref)":"([^"]+)"/);
    if (inner) return `\${Token:${inner[1]}}`;
  }
  return '${Token}';
}

/** The definition as one string, tokens kept as placeholders. */
export function resolveDefinitionString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'Fn::Join' in value) {
    const [sep, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    return parts.map((p) => (typeof p === 'string' ? p : placeholder(p))).join(sep);
  }
  return placeholder(value);
}

interface State {
  Type?: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  States?: Record<string, State>;
  Branches?: { States?: Record<string, State> }[];
  Iterator?: { States?: Record<string, State> };
  ItemProcessor?: { States?: Record<string, State> };
}

function allStates(states: Record<string, State> | undefined, out: State[] = []): State[] {
  for (const state of Object.values(states ?? {})) {
    out.push(state);
    for (const b of state.Branches ?? []) allStates(b.States, out);
    allStates(state.Iterator?.States, out);
    allStates(state.ItemProcessor?.States, out);
  }
  return out;
}

const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The billing settings of the first variant that has an instance type or a serverless config. */
function variantSettings(
  variants: readonly Record<string, unknown>[],
  capturePercent: number,
): Omit<EndpointSettings, 'minCapacity' | 'maxCapacity'> | undefined {
  for (const v of variants) {
    const serverless = v.ServerlessConfig as Record<string, unknown> | undefined;
    if (serverless && typeof serverless === 'object') {
      return {
        kind: 'serverless',
        instanceType: 'serverless',
        initialInstanceCount: 0,
        capturePercent,
        serverless: {
          memorySizeMB: int(serverless.MemorySizeInMB) ?? 1024,
          maxConcurrency: int(serverless.MaxConcurrency) ?? 1,
          provisionedConcurrency: int(serverless.ProvisionedConcurrency),
        },
      };
    }
    if (typeof v.InstanceType === 'string') {
      const managed = (v.ManagedInstanceScaling ?? {}) as Record<string, unknown>;
      const scaleToZero = managed.Status === 'ENABLED' && int(managed.MinInstanceCount) === 0;
      return {
        kind: scaleToZero ? 'scale-to-zero' : 'instance',
        instanceType: v.InstanceType,
        initialInstanceCount: int(v.InitialInstanceCount) ?? 1,
        capturePercent,
        ...(managed.Status === 'ENABLED' && int(managed.MaxInstanceCount) !== undefined
          ? { maxInstances: int(managed.MaxInstanceCount) }
          : {}),
      };
    }
  }
  return undefined;
}

/** Parses the `DefinitionString` of an `AWS::StepFunctions::StateMachine`. */
export function parseStateMachine(resource: CfnResource, where: string): StateMachineModel {
  const text = resolveDefinitionString(resource.Properties?.DefinitionString);
  let definition: { States?: Record<string, State> };
  try {
    definition = JSON.parse(text) as { States?: Record<string, State> };
  } catch (e) {
    throw new CostError(`cannot read the state machine definition of ${where}: ${(e as Error).message}`);
  }
  const states = allStates(definition.States);
  let training: TrainingSettings | undefined;
  let endpoint: Omit<EndpointSettings, 'minCapacity' | 'maxCapacity'> | undefined;
  let minCapacity: number | undefined;
  let maxCapacity: number | undefined;
  const references = new Map<string, number>();
  for (const state of states) {
    const resourceArn = state.Resource ?? '';
    const p = state.Parameters ?? {};
    if (/:sagemaker:createTrainingJob/i.test(resourceArn)) {
      const rc = (p.ResourceConfig ?? {}) as Record<string, unknown>;
      const sc = (p.StoppingCondition ?? {}) as Record<string, unknown>;
      if (typeof rc.InstanceType === 'string') {
        training = {
          instanceType: rc.InstanceType,
          instanceCount: int(rc.InstanceCount) ?? 1,
          volumeSizeGB: int(rc.VolumeSizeInGB) ?? 0,
          spot: p.EnableManagedSpotTraining === true,
          maxRuntimeSeconds: int(sc.MaxRuntimeInSeconds),
          maxWaitSeconds: int(sc.MaxWaitTimeInSeconds),
        };
      }
    }
    if (/:sagemaker:createEndpointConfig$/i.test(resourceArn)) {
      const variants = (p.ProductionVariants ?? []) as Record<string, unknown>[];
      const capture = (p.DataCaptureConfig ?? {}) as Record<string, unknown>;
      const capturePercent = capture.EnableCapture === true ? (int(capture.InitialSamplingPercentage) ?? 100) : 0;
      endpoint = variantSettings(variants, capturePercent) ?? endpoint;
    }
    if (/:applicationautoscaling:registerScalableTarget$/i.test(resourceArn) && p.ServiceNamespace === 'sagemaker') {
      minCapacity = int(p.MinCapacity);
      maxCapacity = int(p.MaxCapacity);
    }
    if (state.Type === 'Task') {
      const body = JSON.stringify(state);
      for (const m of new Set(body.match(/\$\{(?:Ref|GetAtt):([A-Za-z0-9]+)/g) ?? [])) {
        const id = m.replace(/^\$\{(?:Ref|GetAtt):/, '');
        references.set(id, (references.get(id) ?? 0) + 1);
      }
    }
  }
  return {
    training,
    endpoint: endpoint && { ...endpoint, minCapacity, maxCapacity },
    references,
    stateCount: states.length,
  };
}
