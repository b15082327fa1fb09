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
}

const arn = (resource: string) => `arn:aws:sagemaker:${FIXED.region}:${FIXED.account}:${resource}`;
const notFound = (what: string) => new TaskError('SageMaker.ValidationException', `Could not find ${what}`);

/** The endpoint and inference component of one world, and their actions. */
export class Hosting {
  private current?: Endpoint;
  private ic?: Component;
  private readonly models = new Map<string, Json>();

  constructor(private readonly world: WorldContext) {}

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

  /** An endpoint in service before the run (serving the champion). */
  addEndpoint(name: string, configName: string): void {
    this.current = { name, configName, polls: 0, rollback: false };
  }

  /** An inference component in service before the run. */
  addInferenceComponent(name: string, endpointName: string, modelName: string): void {
    this.ic = { name, endpointName, modelName, copies: 1, polls: 0, rollback: false };
  }

  private deployEndpoint(action: string, i: Json, ctx: CallContext): Json {
    const config = String(i.EndpointConfigName);
    const { endpointPolls = { create: 1, update: 1 }, endpointRollback = false } = ctx.run.rollout;
    if (action === 'createEndpoint') {
      const name = String(i.EndpointName);
      this.current = { name, configName: config, pending: config, polls: endpointPolls.create, rollback: false };
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
    if (e.pending) {
      if (e.polls > 0) {
        e.polls--;
        status = e.previous ? 'Updating' : 'Creating';
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
    return { EndpointName: e.name, EndpointStatus: status, EndpointConfigName: e.configName };
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

  /** The hosting actions. */
  handlers(): ServiceHandlers {
    return {
      createModel: (i) => {
        this.models.set(String(i.ModelName), i);
        return { ModelArn: arn(`model/${String(i.ModelName)}`) };
      },
      createEndpointConfig: (i) => ({ EndpointConfigArn: arn(`endpoint-config/${String(i.EndpointConfigName)}`) }),
      listEndpoints: (i) => {
        const contains = String(i.NameContains ?? '');
        const e = this.current;
        return {
          Endpoints:
            e && e.name.includes(contains)
              ? [{ EndpointName: e.name, EndpointStatus: e.pending ? 'Updating' : 'InService' }]
              : [],
        };
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
