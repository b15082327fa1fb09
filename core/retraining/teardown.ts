/**
 * Teardown of what the retraining loop created at run time for one stage and case study: CloudFormation never saw
 * these resources (the loop makes them with API calls), so deleting the stacks leaves them behind, and an endpoint
 * keeps billing. Used by the sandbox ML stack's custom resource (on stack deletion) and by `npm run teardown`.
 *
 * Found by name and tags: every runtime name starts with the endpoint name (`mlbp-<stage>-<case>`, reserved for the
 * loop) and every resource the loop creates carries its `ml-blueprint:dataset-id` tag (training jobs also
 * `ml-blueprint:case-study`). A resource under the name whose tags name another stage or case study, or that carries
 * no loop tag, is left alone and reported.
 *
 * Deleted in a safe order, one step at a time (each step lists again, so it is idempotent and can resume after any
 * failure): running training and transform jobs are stopped; scalable targets are deregistered (Application Auto
 * Scaling then deletes their policies and target-tracking alarms) and the loop's own alarms deleted; inference
 * components are deleted; endpoints once no component remains; endpoint configs and models once no endpoint
 * remains; the model packages of the group last. A step returns `done` when nothing is left or in transition.
 *
 * Pure logic over a {@link TeardownPort}; the SDK adapter is `lambdas/loop-teardown/sdk-port.ts`.
 */

/** Tags the loop puts on what it creates. */
export const LOOP_TAG_KEYS = {
  stage: 'ml-blueprint:stage',
  caseStudy: 'ml-blueprint:case-study',
  datasetId: 'ml-blueprint:dataset-id',
} as const;

/** Which loop to tear down. */
export interface TeardownScope {
  readonly stage: string;
  readonly caseStudy: string;
  /** `mlbp-<stage>-<case>`: the endpoint, the model package group and the prefix of every runtime name. */
  readonly endpointName: string;
  /** @default 'AllTraffic' */
  readonly variantName?: string;
}

/** A SageMaker resource as the List calls return it. */
export interface SageMakerItem {
  readonly name: string;
  readonly arn: string;
  /** Endpoint, component or job status, when the list has one. */
  readonly status?: string;
}

/** The calls the teardown makes. Lists take the API's own filters; nothing is decided by an error's name. */
export interface TeardownPort {
  listEndpoints(nameContains: string): Promise<SageMakerItem[]>;
  listInferenceComponents(endpointName: string): Promise<SageMakerItem[]>;
  listEndpointConfigs(nameContains: string): Promise<SageMakerItem[]>;
  listModels(nameContains: string): Promise<SageMakerItem[]>;
  /** Jobs still running (`StatusEquals: InProgress`). */
  listRunningTrainingJobs(nameContains: string): Promise<SageMakerItem[]>;
  listRunningTransformJobs(nameContains: string): Promise<SageMakerItem[]>;
  /** Every version in the group (any approval status); none when the group does not exist. */
  listModelPackages(groupName: string): Promise<SageMakerItem[]>;
  tagsOf(arn: string): Promise<Record<string, string>>;
  /** The SageMaker scalable targets among these resource IDs. */
  listScalableTargets(resourceIds: readonly string[]): Promise<Array<{ resourceId: string; dimension: string }>>;
  /**
   * CloudWatch: alarms whose names start with the prefix, and their deletion. Absent when the caller has no
   * CloudWatch client; the step then names the loop's alarm for a deletion by hand.
   */
  readonly alarms?: {
    list(prefix: string): Promise<string[]>;
    delete(names: readonly string[]): Promise<void>;
  };
  stopTrainingJob(name: string): Promise<void>;
  stopTransformJob(name: string): Promise<void>;
  deregisterScalableTarget(resourceId: string, dimension: string): Promise<void>;
  deleteInferenceComponent(name: string): Promise<void>;
  deleteEndpoint(name: string): Promise<void>;
  deleteEndpointConfig(name: string): Promise<void>;
  deleteModel(name: string): Promise<void>;
  deleteModelPackage(arn: string): Promise<void>;
}

/** Kinds of what the loop creates, in deletion order. */
export type LoopResourceKind =
  | 'training-job'
  | 'transform-job'
  | 'scalable-target'
  | 'alarm'
  | 'inference-component'
  | 'endpoint'
  | 'endpoint-config'
  | 'model'
  | 'model-package';

/** One thing the step did (or, in a dry run, would do). */
export interface TeardownAction {
  readonly kind: LoopResourceKind;
  readonly name: string;
  readonly action: 'stop' | 'deregister' | 'delete' | 'wait' | 'skip';
  /** Why it waits or is skipped. */
  readonly note?: string;
}

/** The result of one step. */
export interface TeardownStep {
  /** Nothing of the loop's is left (skipped resources, which are not the loop's, do not count). */
  readonly done: boolean;
  readonly actions: readonly TeardownAction[];
}

/** Some actions of a step failed; the others were still attempted. The next step lists again and retries. */
export class TeardownError extends Error {
  constructor(
    readonly step: TeardownStep,
    readonly failures: readonly string[],
  ) {
    super(`teardown: ${failures.length} action(s) failed: ${failures.join('; ')}`);
    this.name = 'TeardownError';
  }
}

const IN_TRANSITION = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting', 'Stopping']);

/** Whether the tags say the loop of this scope made the resource. */
export function ownedByLoop(tags: Readonly<Record<string, string>>, scope: TeardownScope): boolean {
  const stage = tags[LOOP_TAG_KEYS.stage];
  const caseStudy = tags[LOOP_TAG_KEYS.caseStudy];
  // A stage or case-study tag that names another loop wins; otherwise the dataset-id tag (which only the loop sets)
  // with the reserved name is the loop's mark, or both stage and case-study tags.
  if (stage !== undefined && stage !== scope.stage) return false;
  if (caseStudy !== undefined && caseStudy !== scope.caseStudy) return false;
  return tags[LOOP_TAG_KEYS.datasetId] !== undefined || (stage !== undefined && caseStudy !== undefined);
}

/** Names the loop gives: the endpoint name itself or `<endpoint>-…` (NameContains also matches longer names). */
export function underLoopName(name: string, scope: TeardownScope): boolean {
  return name === scope.endpointName || name.startsWith(`${scope.endpointName}-`);
}

/**
 * One teardown step: lists what is left, acts on what can go now, and reports what it waits for. Call it until
 * `done` (the custom resource's isComplete handler and the CLI do). With `dryRun` nothing is changed and the
 * actions are what a real step would do first; dependent kinds are listed as waiting.
 */
export async function teardownStep(
  port: TeardownPort,
  scope: TeardownScope,
  options: { readonly dryRun?: boolean } = {},
): Promise<TeardownStep> {
  const dryRun = options.dryRun ?? false;
  const actions: TeardownAction[] = [];
  const failures: string[] = [];
  let remaining = 0;
  // Every action is attempted even when an earlier one fails; the failures are raised together at the end.
  const act = async (a: TeardownAction, run: () => Promise<void>) => {
    actions.push(a);
    if (a.action !== 'skip') remaining++;
    if (dryRun || a.action === 'wait' || a.action === 'skip') return;
    try {
      await run();
    } catch (e) {
      failures.push(`${a.action} ${a.kind} ${a.name}: ${(e as Error).message}`);
    }
  };
  /** The loop's items among a list (name prefix, then tags); others are reported as skipped. */
  const owned = async (kind: LoopResourceKind, items: SageMakerItem[]): Promise<SageMakerItem[]> => {
    const mine: SageMakerItem[] = [];
    for (const item of items.filter((i) => underLoopName(i.name, scope))) {
      if (ownedByLoop(await port.tagsOf(item.arn), scope)) mine.push(item);
      else actions.push({ kind, name: item.name, action: 'skip', note: 'not tagged by this loop' });
    }
    return mine;
  };
  const prefix = scope.endpointName;

  // 1. Nothing new may be produced: stop running jobs (they end on their own after a stop).
  for (const job of await owned('training-job', await port.listRunningTrainingJobs(prefix))) {
    await act({ kind: 'training-job', name: job.name, action: 'stop' }, () => port.stopTrainingJob(job.name));
  }
  for (const job of await owned('transform-job', await port.listRunningTransformJobs(prefix))) {
    await act({ kind: 'transform-job', name: job.name, action: 'stop' }, () => port.stopTransformJob(job.name));
  }

  const endpoints = await owned('endpoint', await port.listEndpoints(prefix));
  const components: SageMakerItem[] = [];
  for (const endpoint of endpoints) {
    components.push(...(await owned('inference-component', await port.listInferenceComponents(endpoint.name))));
  }

  // 2. Scaling: deregistering a target deletes its policies (and Application Auto Scaling's own alarms).
  const resourceIds = [
    ...endpoints.map((e) => `endpoint/${e.name}/variant/${scope.variantName ?? 'AllTraffic'}`),
    ...components.map((c) => `inference-component/${c.name}`),
  ];
  const targets = resourceIds.length > 0 ? await port.listScalableTargets(resourceIds) : [];
  for (const t of targets) {
    await act({ kind: 'scalable-target', name: t.resourceId, action: 'deregister' }, () =>
      port.deregisterScalableTarget(t.resourceId, t.dimension),
    );
  }
  // The loop's own alarms (scale from zero); one call deletes them all.
  const cloudwatch = port.alarms;
  if (cloudwatch) {
    const alarms = (await cloudwatch.list(`${prefix}-`)).filter((a) => underLoopName(a, scope));
    if (alarms.length > 0) {
      await act({ kind: 'alarm', name: alarms.join(', '), action: 'delete' }, () => cloudwatch.delete(alarms));
    }
  } else if (components.length > 0) {
    actions.push({
      kind: 'alarm',
      name: `${prefix}-no-capacity`,
      action: 'skip',
      note: `no CloudWatch client here: aws cloudwatch delete-alarms --alarm-names ${prefix}-no-capacity`,
    });
  }

  // 3. Inference components, then the endpoints once none is left on them.
  for (const c of components) {
    if (c.status !== undefined && IN_TRANSITION.has(c.status)) {
      await act({ kind: 'inference-component', name: c.name, action: 'wait', note: c.status }, noop);
    } else {
      await act({ kind: 'inference-component', name: c.name, action: 'delete' }, () =>
        port.deleteInferenceComponent(c.name),
      );
    }
  }
  for (const e of endpoints) {
    if (components.length > 0 || targets.length > 0) {
      await act({ kind: 'endpoint', name: e.name, action: 'wait', note: 'its components and scaling go first' }, noop);
    } else if (e.status !== undefined && IN_TRANSITION.has(e.status)) {
      await act({ kind: 'endpoint', name: e.name, action: 'wait', note: e.status }, noop);
    } else {
      await act({ kind: 'endpoint', name: e.name, action: 'delete' }, () => port.deleteEndpoint(e.name));
    }
  }

  // 4. Configs and models once no endpoint is left (an endpoint's own config must outlive it).
  const configs = await owned('endpoint-config', await port.listEndpointConfigs(prefix));
  const models = await owned('model', await port.listModels(prefix));
  const hold = endpoints.length > 0;
  for (const c of configs) {
    await act(
      hold
        ? { kind: 'endpoint-config', name: c.name, action: 'wait', note: 'endpoints go first' }
        : { kind: 'endpoint-config', name: c.name, action: 'delete' },
      () => port.deleteEndpointConfig(c.name),
    );
  }
  for (const m of models) {
    await act(
      hold
        ? { kind: 'model', name: m.name, action: 'wait', note: 'endpoints go first' }
        : { kind: 'model', name: m.name, action: 'delete' },
      () => port.deleteModel(m.name),
    );
  }

  // 5. The registry last: the group (a CloudFormation resource) can only be deleted empty.
  for (const p of await port.listModelPackages(prefix)) {
    await act(
      hold
        ? { kind: 'model-package', name: p.arn, action: 'wait', note: 'endpoints go first' }
        : { kind: 'model-package', name: p.arn, action: 'delete' },
      () => port.deleteModelPackage(p.arn),
    );
  }

  const step = { done: remaining === 0, actions };
  if (failures.length > 0) throw new TeardownError(step, failures);
  return step;
}

/**
 * Runs steps until done, pausing between them; a step whose actions partly failed is retried by the next one (the
 * failures are reported through `onStep`). Gives up after `maxSteps` with what is left; the last step's failures
 * are raised.
 */
export async function teardownAll(
  port: TeardownPort,
  scope: TeardownScope,
  options: {
    readonly maxSteps: number;
    readonly pause: () => Promise<void>;
    readonly onStep?: (s: TeardownStep, failures: readonly string[]) => void;
  },
): Promise<TeardownStep> {
  for (let i = 1; ; i++) {
    try {
      const step = await teardownStep(port, scope);
      options.onStep?.(step, []);
      if (step.done || i >= options.maxSteps) return step;
    } catch (e) {
      if (!(e instanceof TeardownError) || i >= options.maxSteps) throw e;
      options.onStep?.(e.step, e.failures);
    }
    await options.pause();
  }
}

/** A one-line summary per action, for logs and the CLI. */
export function describeActions(actions: readonly TeardownAction[]): string[] {
  return actions.map((a) => `${a.action.padEnd(10)} ${a.kind.padEnd(19)} ${a.name}${a.note ? ` (${a.note})` : ''}`);
}

const noop = async (): Promise<void> => undefined;

/** Properties of the teardown custom resource (`ResourceProperties`). */
export interface TeardownResourceProperties {
  readonly Stage: string;
  readonly CaseStudy: string;
  readonly EndpointName: string;
  readonly VariantName?: string;
}

/** The custom-resource event as the CDK provider framework passes it to the handler. */
export interface TeardownResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: TeardownResourceProperties;
  /** Set by this handler's onEvent answer: the framework passes it back to the isComplete calls. */
  readonly TeardownPhase?: 'is-complete';
}

/** What the handler answers: onEvent (`PhysicalResourceId`) or isComplete (`IsComplete`). */
export type TeardownResourceResponse =
  { readonly PhysicalResourceId: string; readonly TeardownPhase: 'is-complete' } | { readonly IsComplete: boolean };

/**
 * The teardown custom resource. One function serves as both the provider's onEvent and isComplete handler: onEvent
 * only names the resource (it never fails a stack operation); on Delete, each isComplete call is one
 * {@link teardownStep} until nothing of the loop is left (a failed step is retried by the provider until its total
 * timeout). Create and Update change nothing: the resource exists to act when the stack is deleted.
 */
export async function handleTeardownEvent(
  event: TeardownResourceEvent,
  port: TeardownPort,
  log: (message: string, details: Record<string, unknown>) => void = () => undefined,
): Promise<TeardownResourceResponse> {
  const p = event.ResourceProperties;
  if (!p?.Stage || !p.CaseStudy || !p.EndpointName) {
    throw new Error(
      `teardown resource needs Stage, CaseStudy and EndpointName; received ${JSON.stringify(p ?? null).slice(0, 300)}`,
    );
  }
  if (event.TeardownPhase !== 'is-complete') {
    // A stable ID: an update never replaces the resource (a replacement would delete the old one, i.e. tear down).
    return { PhysicalResourceId: `loop-teardown:${p.EndpointName}`, TeardownPhase: 'is-complete' };
  }
  if (event.RequestType !== 'Delete') return { IsComplete: true };
  const scope: TeardownScope = {
    stage: p.Stage,
    caseStudy: p.CaseStudy,
    endpointName: p.EndpointName,
    variantName: p.VariantName,
  };
  const step = await teardownStep(port, scope);
  log('teardown step', { done: step.done, actions: describeActions(step.actions) });
  return { IsComplete: step.done };
}
