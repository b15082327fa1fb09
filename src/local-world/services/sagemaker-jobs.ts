/**
 * SageMaker jobs: `CreateTrainingJob` and `CreateTransformJob` (the `.sync` integrations: the call returns when
 * the job has ended). The request is checked and answered here; what the model does is the run's
 * {@link ModelRuntime}: the local SageMaker running the project's own training and inference code
 * (`../script-mode-models.ts`, `../recommender/models.ts`) or, in tests of the loop's control flow, scripted outcomes.
 */
import { TaskError } from '../errors';
import type { CallContext, Json, ServiceHandlers, WorldContext } from '../types';

const invalid = (message: string) => new TaskError('SageMaker.ValidationException', message);

/** Training and transform jobs of one world. */
export class Jobs {
  /** Names of the training jobs started, in order. */
  readonly trainingJobs: string[] = [];
  readonly transformJobs: string[] = [];

  constructor(private readonly world: WorldContext) {}

  private job(ctx: CallContext) {
    return { ...this.world, state: ctx.state, executionName: ctx.run.executionName };
  }

  private async train(i: Json, ctx: CallContext): Promise<Json> {
    const name = String(i.TrainingJobName ?? '');
    if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(name)) throw invalid(`invalid TrainingJobName "${name}"`);
    const output = String((i.OutputDataConfig as Json | undefined)?.S3OutputPath ?? '');
    if (!output.startsWith('s3://')) throw invalid('OutputDataConfig.S3OutputPath must be an S3 URI');
    this.trainingJobs.push(name);
    const instance = (i.ResourceConfig as Json | undefined)?.InstanceType;
    this.world.log(
      'train',
      `training job ${name} started on ${String(instance)}${i.EnableManagedSpotTraining ? ' (spot)' : ''}`,
    );
    const outcome = await ctx.run.models.train(i, this.job(ctx));
    return {
      TrainingJobName: name,
      TrainingJobStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: `${output.replace(/\/?$/, '/')}${name}/output/model.tar.gz` },
      FinalMetricDataList: outcome.metrics.map((m) => ({
        MetricName: m.name,
        Value: m.value,
        Timestamp: this.world.clock.now().toISOString(),
      })),
    };
  }

  private async transform(i: Json, ctx: CallContext): Promise<Json> {
    const name = String(i.TransformJobName ?? '');
    if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(name)) throw invalid(`invalid TransformJobName "${name}"`);
    this.transformJobs.push(name);
    const { records } = await ctx.run.models.transform(i, this.job(ctx));
    this.world.log('score', `${ctx.state}: batch transform ${name} scored ${records} validation records`);
    return { TransformJobName: name, TransformJobStatus: 'Completed' };
  }

  /** The job actions. */
  handlers(): ServiceHandlers {
    return {
      createTrainingJob: (i, ctx) => this.train(i, ctx),
      createTransformJob: (i, ctx) => this.transform(i, ctx),
    };
  }
}
