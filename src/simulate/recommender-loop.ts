/**
 * The recommender's retraining loop in the simulation: the synthesized state machine run by the local world, with
 * the recommender's real engines behind its calls — DuckDB running the statements it sends (`LocalRecommender`'s
 * Athena), the local SageMaker training `models/recommender/train.py` and scoring with its inference handler, the
 * co-visitation load and the promotion rule (`core/recommender/`) as its Lambdas. The world persists across runs
 * (registry, hosting), so the second run finds the model the first one deployed as its champion; a deployed model
 * is then served by the local endpoint the `recommend` logic calls.
 */
import { loadCoVisitation } from '../../core/recommender/covisitation';
import {
  runRecommenderEvaluation,
  type LoopEvaluationRequest,
  type RecommenderEvaluation,
} from '../../core/recommender/promotion';
import { parseS3Uri } from '../../core/storage/s3-uri';
import { recommenderModels } from '../local-world/recommender/models';
import type { LocalRecommender } from '../local-world/recommender/serving';
import { loopFunctions } from '../local-world/services/lambda';
import type { Json } from '../local-world/types';
import { LocalWorld } from '../local-world/world';
import { decisionOf, type CaseContext, type Decision } from './common';

/** What one run did. */
export interface LoopRun {
  readonly decision: Decision;
  readonly states: string[];
  readonly evaluation?: RecommenderEvaluation;
  /** The model the endpoint serves after the run, when the run deployed one. */
  readonly deployedModel?: string;
}

/** The recommender's loop over one world (both runs of a simulation). */
export class RecommenderLoop {
  private readonly world: LocalWorld;
  private definition?: Json;
  /** Containers of registered packages (the registry keeps metadata only): what a champion model is built from. */
  private readonly packages = new Map<string, Json>();
  private readonly configs = new Map<string, string>();
  private lastEvaluation?: RecommenderEvaluation;

  constructor(
    private readonly ctx: CaseContext,
    private readonly recommender: LocalRecommender,
    private readonly jobsRoot: string,
    private readonly sourceDir: string,
  ) {
    const bp = ctx.blueprint;
    this.world = new LocalWorld({
      dynamo: ctx.emulators.dynamo,
      store: ctx.store,
      clock: ctx.clock,
      log: (phase, message) => ctx.timeline.log(phase, message),
      queryEngine: recommender.athena,
      athenaResultsUri: `s3://${bp.buckets.curated}/athena-results/`,
    });
    this.world.deployFunctions(loopFunctions(this.world, { caseStudy: 'recommender' }));
  }

  /** Runs one execution of the synthesized loop and serves what it deployed. */
  async run(executionName: string, trigger: Json): Promise<LoopRun> {
    const bp = this.ctx.blueprint;
    if (!this.definition) this.definition = (await this.world.deploy(bp.mlTemplate, bp.mlStack)).definition;
    this.lastEvaluation = undefined;
    const features = this.recommender.featureStore;
    const record = await this.world.run(this.definition, {
      execution: executionName,
      stateMachineName: `${bp.mlStack}-Retraining`,
      input: { trigger },
      models: recommenderModels({
        root: this.jobsRoot,
        sourceDir: this.sourceDir,
        model: (name) => this.modelRequest(name),
      }),
      rollout: { endpointPolls: { create: 2, update: 2 } },
      functions: {
        Evaluate: async (i) => {
          const evaluation = await runRecommenderEvaluation(this.world.store, i as unknown as LoopEvaluationRequest);
          this.lastEvaluation = evaluation;
          this.world.clock.advance(5_000);
          this.world.log('evaluate', `${evaluation.promote ? 'promote' : 'reject'}: ${evaluation.reason}`);
          return evaluation;
        },
        CoVisitation: async (i) => {
          const input = i as { uri: string; datasetId: string };
          const result = await loadCoVisitation(this.world.store, features, {
            uri: input.uri,
            datasetId: input.datasetId,
            expiresAt: Math.floor(this.world.clock.now().getTime() / 1000) + 7 * 24 * 3600,
          });
          this.world.log(
            'dataset',
            `co-visitation: ${result.items} items, ${result.neighbours} neighbours from ${input.uri} loaded into the feature table${result.rejected ? ` (${result.rejected} lines rejected)` : ''}`,
          );
          return result;
        },
      },
      overrides: {
        'sagemaker:createModelPackage': async (i, c) => {
          const out = (await c.fallback()) as { ModelPackageArn: string };
          const spec = i.InferenceSpecification as { Containers?: Json[] } | undefined;
          if (spec?.Containers?.[0]) this.packages.set(out.ModelPackageArn, spec.Containers[0]);
          return out;
        },
        'sagemaker:createEndpointConfig': async (i, c) => {
          const variants = (i.ProductionVariants ?? []) as Json[];
          if (variants[0]) this.configs.set(String(i.EndpointConfigName), String(variants[0].ModelName));
          return c.fallback();
        },
      },
    });
    const outcome = this.world.notifications.at(-1);
    const status = String(outcome?.status ?? '');
    this.ctx.timeline.log('retrain', `path: ${record.visited.join(' → ')}`);
    this.ctx.timeline.log(
      'retrain',
      `execution ${record.status}${record.error ? ` (${record.error.message})` : ''}; outcome ${status}`,
    );
    const decision = decisionOf(status, record);
    let deployedModel: string | undefined;
    if (decision === 'deployed') {
      const configName = this.world.hosting.endpoint?.configName;
      deployedModel = configName ? this.configs.get(configName) : undefined;
      const url = deployedModel ? this.modelRequest(deployedModel)?.PrimaryContainer : undefined;
      const dataUrl = (url as Json | undefined)?.ModelDataUrl;
      if (typeof dataUrl !== 'string') throw new Error(`the deployed model ${deployedModel} has no ModelDataUrl`);
      const { bucket, key } = parseS3Uri(dataUrl);
      const bytes = this.world.store.bytes(bucket, key);
      if (!bytes) throw new Error(`no model artifact at ${dataUrl}`);
      await this.recommender.deploy(bytes);
      this.ctx.timeline.log('deploy', `local endpoint ${bp.endpointName} now serves ${deployedModel} (${dataUrl})`);
    }
    return {
      decision,
      states: record.visited,
      ...(this.lastEvaluation ? { evaluation: this.lastEvaluation } : {}),
      ...(deployedModel ? { deployedModel } : {}),
    };
  }

  /** The `CreateModel` request of a model; a model made from a registry package gets the package's container. */
  private modelRequest(name: string): Json | undefined {
    const model = this.world.hosting.model(name);
    const container = model?.PrimaryContainer as Json | undefined;
    const packageArn = container?.ModelPackageName;
    if (typeof packageArn === 'string') {
      const packaged = this.packages.get(packageArn);
      return packaged ? { ...model, PrimaryContainer: packaged } : model;
    }
    return model;
  }
}
