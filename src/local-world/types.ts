/**
 * The shapes every service of the local world shares: a call's context, a handler, and the behaviours a run may
 * choose (how models train and score, how deployments go, how an approver answers).
 */
import type { MemoryObjectStore } from '../../core/storage/object-store';
import type { Call } from './calls';
import type { SimClock, WorldLog } from './clock';

/** A JSON object (a request or a response of an AWS call). */
export type Json = Record<string, unknown>;

/** An event in the local lake (what Firehose would have delivered to the raw bucket). */
export type LakeEvent = Readonly<Record<string, unknown>>;

/** What the world's services share. */
export interface WorldContext {
  /** S3 as every service, Lambda and job sees it. */
  readonly store: MemoryObjectStore;
  readonly clock: SimClock;
  readonly log: WorldLog;
  /** The lake the local Athena queries. */
  readonly lake: () => readonly LakeEvent[];
}

/** How a trained model behaves: the local SageMaker's training and batch transform. */
export interface ModelRuntime {
  /**
   * Runs a training job (`CreateTrainingJob` request) and returns its final metrics; throws a {@link TaskError}
   * to fail the job. The model artifact goes where SageMaker puts it (`<S3OutputPath><job>/output/model.tar.gz`).
   */
  train(request: Json, job: JobContext): Promise<TrainingOutcome> | TrainingOutcome;
  /** Runs a batch transform (`CreateTransformJob` request): writes the outputs, returns how many records. */
  transform(request: Json, job: JobContext): Promise<{ readonly records: number }>;
}

/** A training job's result. */
export interface TrainingOutcome {
  readonly metrics: ReadonlyArray<{ readonly name: string; readonly value: number }>;
}

/** What a job sees: the world, the state that started it and its execution. */
export interface JobContext extends WorldContext {
  readonly state: string;
  readonly executionName: string;
}

/** How a deployment goes: polls before it settles, then in service, rolled back or failed. */
export interface RolloutBehaviour {
  /** Describe calls answering Creating/Updating before the endpoint settles. @default create 1, update 1 */
  readonly endpointPolls?: { readonly create: number; readonly update: number };
  /** The endpoint update trips an auto-rollback alarm: the previous config stays. @default false */
  readonly endpointRollback?: boolean;
  /** Describe calls answering Creating/Updating before the inference component settles. @default 1, 1 */
  readonly componentPolls?: { readonly create: number; readonly update: number };
  /** The rolling update of the inference component rolls back to the previous model. @default false */
  readonly componentRollback?: boolean;
  /** The inference component fails with this reason instead of coming up. @default it comes up */
  readonly componentFailure?: string;
  /** The endpoint's deployment ends `Failed` with this reason instead of coming up. @default it comes up */
  readonly endpointFailure?: string;
}

/** The approver's answer to an approval request (SNS publish with a task token). */
export type Approver = (request: Json) => Json;

/** The code a local Lambda function runs (the function's own core logic). */
export type LambdaCode = (event: Json, ctx: CallContext) => Promise<unknown> | unknown;

/** What one execution brings: its name and the behaviours it chooses. */
export interface RunContext {
  readonly executionName: string;
  readonly executionId: string;
  readonly models: ModelRuntime;
  readonly rollout: RolloutBehaviour;
  readonly approver: Approver;
  /** Function code by a fragment of the function name; the first match runs. */
  readonly functions: Readonly<Record<string, LambdaCode>>;
}

/** The context of one call. */
export interface CallContext {
  readonly state: string;
  readonly call: Call;
  readonly run: RunContext;
  /** The world's own implementation of the call (for overrides that change only some calls). */
  readonly fallback: () => Promise<unknown>;
}

/** One action of a service. */
export type Handler = (input: Json, ctx: CallContext) => Promise<unknown> | unknown;

/** A service: its actions by name (`putItem`, `startQueryExecution`, …). */
export type ServiceHandlers = Readonly<Record<string, Handler>>;
