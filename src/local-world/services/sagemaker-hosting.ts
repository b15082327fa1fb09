/**
 * SageMaker hosting: models, endpoint configs, the endpoint and its inference component. Deployments go through
 * Creating/Updating polls and then come up, roll back or fail as the run's {@link RolloutBehaviour} says; an
 * endpoint or component the run did not touch is simply in service. Each Describe moves simulated time on.
 */
import { FIXED } from '../intrinsics';
import { TaskError } from '../errors';
import type { CallContext, Json, ServiceHandlers, WorldContext } from '../types';

interface Endpoint {
  name: string;
  configName: string;
  /** Set when it failed (only DeleteEndpoint is allowed then), or while it is deleted. */
  status?: 'Failed' | 'Deleting';
  failure?: string;
  /** Lists and describes that still answer `Updating` for a change the run did not make (e.g. autoscaling). */
  busyFor?: number;
  previous?: string;
  pending?: string;
  polls: number;
  rollback: boolean;
}

interface Component {
  name: string;
  endpointName: string;
  modelName: string;
  copies: number;
  previous?: string;
  pending?: string;
  polls: number;
  rollback: boolean;
  failure?: string;
  /** Being deleted: the next list shows it `Deleting`, then it is gone. */
  deleting?: boolean;
}

const arn = (resource: string) => `arn:aws:sagemaker:${FIXED.region}:${FIXED.account}:${resource}`;
const notFound = (what: string) => new TaskError('SageMaker.ValidationException', `Could not find ${what}`);

/** The endpoint and inference component of one world, and their actions. */
export class Hosting {
  private current?: Endpoint;
  private ic?: Component;
  private readonly models = new Map<string, Json>();
  private readonly configs = new Map<string, Json>();
  private readonly tags = new Map<string, Array<{ Key: string; Value: string }>>();

  constructor(
    private readonly world: WorldContext,
    /** Whether Application Auto Scaling has a scalable target of this resource ID. */
    private readonly scaled: (resourceId: string) => boolean = () => false,
  ) {}

  /** The endpoint: its name and the config it serves. */
  get endpoint(): { name: string; configName: string } | undefined {
    return this.current && { name: this.current.name, configName: this.current.configName };
  }

  /** The inference component on the endpoint (scale-to-zero serving). */
  get inferenceComponent(): { name: string; endpointName: string; modelName: string; copies: number } | undefined {
    const c = this.ic;
    return c && { name: c.name, endpointName: c.endpointName, modelName: c.modelName, copies: c.copies };
  }

  /** The `CreateModel` request of a model (what a batch transform or an endpoint of it runs). */
  model(name: string): Json | undefined {
    return this.models.get(name);
  }

  /**
   * An endpoint in service before the run, serving `modelName` (by default a model named like the config) from
   * `configName`; the model carries the loop's tag naming its registry package when one is given.
   */
  addEndpoint(
    name: string,
    configName: string,
    served: { modelName?: string; packageArn?: string; instanceType?: string } = {},
  ): void {
    this.current = { name, configName, polls: 0, rollback: false };
    const modelName = served.modelName ?? configName;
    this.configs.set(configName, {
      EndpointConfigName: configName,
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: modelName,
          ...(served.instanceType ? { InstanceType: served.instanceType } : {}),
        },
      ],
    });
    this.addModel(modelName, served.packageArn);
  }

  /** A model made before the run, tagged with its registry package when one is given. */
  addModel(modelName: string, packageArn?: string): void {
    if (!this.models.has(modelName)) this.models.set(modelName, { ModelName: modelName });
    if (packageArn)
      this.tags.set(arn(`model/${modelName}`), [{ Key: 'ml-blueprint:model-package-arn', Value: packageArn }]);
  }

  /** Scripts the endpoint: `Failed` (a failed deployment before the run), or busy for that many looks. */
  setEndpoint(state: { failed?: string; busyFor?: number }): void {
    if (!this.current) throw new Error('no endpoint to script');
    if (state.failed) Object.assign(this.current, { status: 'Failed', failure: state.failed });
    if (state.busyFor !== undefined) this.current.busyFor = state.busyFor;
  }

  /** The endpoint's status as List and Describe calls report it. */
  private statusOf(e: Endpoint): string {
    if (e.status) return e.status;
    if (e.busyFor && e.busyFor > 0) return 'Updating';
    return e.pending ? (e.previous ? 'Updating' : 'Creating') : 'InService';
  }

  /** An inference component in service before the run (or `Failed`, with the reason). */
  addInferenceComponent(name: string, endpointName: string, modelName: string, failed?: string): void {
    this.ic = { name, endpointName, modelName, copies: 1, polls: 0, rollback: false };
    if (failed) Object.assign(this.ic, { pending: modelName, failure: failed });
  }

  private deployEndpoint(action: string, i: Json, ctx: CallContext): Json {
    const config = String(i.EndpointConfigName);
    const { endpointPolls = { create: 1, update: 1 }, endpointRollback = false, endpointFailure } = ctx.run.rollout;
    this.tag(arn(`endpoint/${String(i.EndpointName)}`), i.Tags);
    if (this.current && action === 'updateEndpoint' && this.statusOf(this.current) !== 'InService') {
      // SageMaker refuses an update of an endpoint that is not InService (a Failed one accepts only a delete).
      throw new TaskError(
        'SageMaker.ValidationException',
        `Cannot update endpoint ${this.current.name} in status ${this.statusOf(this.current)}`,
      );
    }
    if (this.current && action === 'updateEndpoint') {
      // AWS: an update that changes the instance type of a variant registered for autoscaling fails.
      const types = (name: string) =>
        ((this.configs.get(name)?.ProductionVariants ?? []) as Json[]).map(
          (v) => [String(v.VariantName), v.InstanceType === undefined ? undefined : String(v.InstanceType)] as const,
        );
      const before = new Map(types(this.current.configName));
      for (const [variant, type] of types(config)) {
        const was = before.get(variant);
        if (was && type && was !== type && this.scaled(`endpoint/${this.current.name}/variant/${String(variant)}`)) {
          throw new TaskError(
            'SageMaker.ValidationException',
            `The instance type of variant ${String(variant)} cannot change while it is registered for autoscaling; deregister it first`,
          );
        }
      }
    }
    if (action === 'createEndpoint') {
      const name = String(i.EndpointName);
      if (this.current && this.current.name === name) {
        throw new TaskError('SageMaker.ValidationException', `Cannot create already existing endpoint "${name}".`);
      }
      this.current = {
        name,
        configName: config,
        pending: config,
        polls: endpointPolls.create,
        rollback: false,
        failure: endpointFailure,
      };
      this.world.log('deploy', `creating endpoint ${name} with ${config}`);
    } else {
      if (!this.current || this.current.name !== i.EndpointName) throw notFound(`endpoint ${String(i.EndpointName)}`);
      const canary = (i.DeploymentConfig as Json | undefined)?.BlueGreenUpdatePolicy ? 'blue/green canary' : 'update';
      this.current = {
        ...this.current,
        previous: this.current.configName,
        pending: config,
        polls: endpointPolls.update,
        rollback: endpointRollback,
        failure: endpointFailure,
      };
      this.world.log(
        'deploy',
        `updating endpoint ${this.current.name} to ${config} (${canary}, auto-rollback on alarms)`,
      );
    }
    return { EndpointArn: arn(`endpoint/${this.current.name}`) };
  }

  private describeEndpoint(i: Json): Json {
    const e = this.current;
    if (!e || (i.EndpointName !== undefined && e.name !== i.EndpointName)) {
      throw notFound(`endpoint ${String(i.EndpointName)}`);
    }
    this.world.clock.advance(60_000);
    let status = 'InService';
    if (e.status) {
      status = e.status;
    } else if (e.busyFor && e.busyFor > 0) {
      e.busyFor--;
      status = 'Updating';
    } else if (e.pending) {
      if (e.polls > 0) {
        e.polls--;
        status = e.previous ? 'Updating' : 'Creating';
      } else if (e.failure) {
        this.world.log('deploy', `endpoint ${e.name} Failed: ${e.failure}`);
        e.status = 'Failed';
        e.pending = undefined;
        status = 'Failed';
      } else if (e.previous && e.rollback) {
        this.world.log('deploy', `canary alarm fired (p90 ModelLatency): rolled back to ${e.previous}`);
        e.configName = e.previous;
        e.pending = undefined;
      } else {
        e.configName = e.pending;
        e.pending = undefined;
        this.world.log('deploy', `endpoint ${e.name} InService with ${e.configName}`);
      }
    }
    return {
      EndpointName: e.name,
      EndpointStatus: status,
      EndpointConfigName: e.configName,
      ...(status === 'Failed' ? { FailureReason: e.failure } : {}),
    };
  }

  private deployComponent(action: string, i: Json, ctx: CallContext): Json {
    const name = String(i.InferenceComponentName);
    const model = String((i.Specification as Json | undefined)?.ModelName);
    const { componentPolls = { create: 1, update: 1 }, componentRollback = false, componentFailure } = ctx.run.rollout;
    if (action === 'createInferenceComponent' || !this.ic) {
      this.ic = {
        name,
        endpointName: String(i.EndpointName ?? this.current?.name),
        modelName: model,
        copies: Number((i.RuntimeConfig as Json | undefined)?.CopyCount ?? 1),
        pending: model,
        polls: componentPolls.create,
        rollback: false,
        failure: componentFailure,
      };
      this.world.log('deploy', `creating inference component ${name} with ${model}`);
    } else {
      if (this.ic.name !== name) throw notFound(`inference component ${name}`);
      this.ic = {
        ...this.ic,
        previous: this.ic.modelName,
        pending: model,
        polls: componentPolls.update,
        rollback: componentRollback,
        failure: componentFailure,
      };
      this.world.log('deploy', `rolling update of inference component ${name} to ${model} (auto-rollback on alarms)`);
    }
    return { InferenceComponentArn: arn(`inference-component/${name}`) };
  }

  private describeComponent(i: Json): Json {
    const c = this.ic;
    if (!c || c.name !== i.InferenceComponentName) {
      throw notFound(`inference component "${String(i.InferenceComponentName)}".`);
    }
    let status = 'InService';
    if (c.pending) {
      this.world.clock.advance(60_000);
      if (c.polls > 0) {
        c.polls--;
        status = c.previous ? 'Updating' : 'Creating';
      } else if (c.failure) {
        status = 'Failed';
      } else if (c.previous && c.rollback) {
        this.world.log('deploy', `rollout alarm fired (p90 ModelLatency): ${c.name} rolled back to ${c.previous}`);
        c.modelName = c.previous;
        c.pending = undefined;
      } else {
        c.modelName = c.pending;
        c.pending = undefined;
        this.world.log('deploy', `inference component ${c.name} InService with ${c.modelName}`);
      }
    }
    return {
      InferenceComponentName: c.name,
      EndpointName: c.endpointName,
      InferenceComponentStatus: status,
      Specification: { ModelName: c.modelName },
      RuntimeConfig: { DesiredCopyCount: c.copies, CurrentCopyCount: status === 'Failed' ? 0 : c.copies },
      ...(status === 'Failed' ? { FailureReason: c.failure } : {}),
    };
  }

  private tag(resourceArn: string, tags: unknown): void {
    if (!Array.isArray(tags)) return;
    const merged = new Map((this.tags.get(resourceArn) ?? []).map((t) => [t.Key, t.Value]));
    for (const t of tags as Array<{ Key: string; Value: string }>) merged.set(t.Key, t.Value);
    this.tags.set(
      resourceArn,
      [...merged].map(([Key, Value]) => ({ Key, Value })),
    );
  }

  /** The hosting actions. */
  handlers(): ServiceHandlers {
    return {
      createModel: (i) => {
        this.models.set(String(i.ModelName), i);
        this.tag(arn(`model/${String(i.ModelName)}`), i.Tags);
        return { ModelArn: arn(`model/${String(i.ModelName)}`) };
      },
      describeModel: (i) => {
        const m = this.models.get(String(i.ModelName));
        if (!m) throw notFound(`model "${String(i.ModelName)}"`);
        return {
          ModelName: i.ModelName,
          ModelArn: arn(`model/${String(i.ModelName)}`),
          PrimaryContainer: m.PrimaryContainer,
        };
      },
      createEndpointConfig: (i) => {
        this.configs.set(String(i.EndpointConfigName), i);
        this.tag(arn(`endpoint-config/${String(i.EndpointConfigName)}`), i.Tags);
        return { EndpointConfigArn: arn(`endpoint-config/${String(i.EndpointConfigName)}`) };
      },
      describeEndpointConfig: (i) => {
        const c = this.configs.get(String(i.EndpointConfigName));
        if (!c) throw notFound(`endpoint configuration "${String(i.EndpointConfigName)}"`);
        return { ...c, EndpointConfigArn: arn(`endpoint-config/${String(i.EndpointConfigName)}`) };
      },
      addTags: (i) => {
        this.tag(String(i.ResourceArn), i.Tags);
        return { Tags: i.Tags };
      },
      listTags: (i) => ({ Tags: this.tags.get(String(i.ResourceArn)) ?? [] }),
      listEndpoints: (i) => {
        const e = this.current;
        if (e?.status === 'Deleting') {
          // Deleting takes one look; then it is gone.
          this.current = undefined;
          return { Endpoints: [{ EndpointName: e.name, EndpointStatus: 'Deleting' }] };
        }
        const match =
          e &&
          e.name.includes(String(i.NameContains ?? '')) &&
          (!i.StatusEquals || this.statusOf(e) === i.StatusEquals);
        const status = e && this.statusOf(e);
        if (e?.busyFor && e.busyFor > 0) e.busyFor--;
        return { Endpoints: match ? [{ EndpointName: e.name, EndpointStatus: status }] : [] };
      },
      deleteEndpoint: (i) => {
        const e = this.current;
        if (!e || e.name !== i.EndpointName) throw notFound(`endpoint "${String(i.EndpointName)}"`);
        this.world.log('deploy', `deleting endpoint ${e.name} (${this.statusOf(e)})`);
        e.status = 'Deleting';
        return {};
      },
      listInferenceComponents: (i) => {
        const c = this.ic;
        if (c?.deleting) {
          this.ic = undefined;
          return { InferenceComponents: [{ InferenceComponentName: c.name, InferenceComponentStatus: 'Deleting' }] };
        }
        const match =
          c &&
          (!i.EndpointNameEquals || c.endpointName === i.EndpointNameEquals) &&
          c.name.includes(String(i.NameContains ?? ''));
        const status = !c?.pending ? 'InService' : c.failure && c.polls <= 0 ? 'Failed' : 'Updating';
        return {
          InferenceComponents: match
            ? [{ InferenceComponentName: c.name, EndpointName: c.endpointName, InferenceComponentStatus: status }]
            : [],
        };
      },
      deleteInferenceComponent: (i) => {
        const c = this.ic;
        if (!c || c.name !== i.InferenceComponentName) {
          throw notFound(`inference component "${String(i.InferenceComponentName)}"`);
        }
        this.world.log('deploy', `deleting inference component ${c.name}`);
        c.deleting = true;
        return {};
      },
      createEndpoint: (i, ctx) => this.deployEndpoint('createEndpoint', i, ctx),
      updateEndpoint: (i, ctx) => this.deployEndpoint('updateEndpoint', i, ctx),
      describeEndpoint: (i) => this.describeEndpoint(i),
      createInferenceComponent: (i, ctx) => this.deployComponent('createInferenceComponent', i, ctx),
      updateInferenceComponent: (i, ctx) => this.deployComponent('updateInferenceComponent', i, ctx),
      describeInferenceComponent: (i) => this.describeComponent(i),
    };
  }
}
