/**
 * Real models for the local world: a {@link ModelRuntime} that serves `CreateTrainingJob` and `CreateTransformJob`
 * with the local SageMaker (`./sagemaker/`), running the project's own script-mode code on this machine. The
 * request is read as SageMaker reads it: the channels' S3 data (prefixes or single objects) are copied from the
 * world's store into the job's folders, hyperparameters and metric definitions are the request's, the trained
 * `model.tar.gz` goes back to `<S3OutputPath><job>/output/model.tar.gz`; a transform reads its model from the
 * world's `CreateModel` request, its input from an S3 prefix or a SageMaker manifest file, and writes
 * `<S3OutputPath><key under the input prefix>.out` per input object, as batch transform names its outputs.
 *
 * `sagemaker_submit_directory` is a CDK asset in AWS; here it is the asset's source folder (`sourceDir`).
 * Nothing is scripted: the metrics are those the script printed, the outputs those its handlers returned.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readBytes } from '../../core/storage/object-store';
import { parseS3Uri } from '../../core/storage/s3-uri';
import { TaskError } from './errors';
import {
  runTrainingJob,
  runTransformJob,
  TrainingJobError,
  TransformJobError,
  type MetricDefinition,
} from './sagemaker';
import type { JobContext, Json, ModelRuntime, TrainingOutcome } from './types';

/** Options of {@link scriptModeModels}. */
export interface ScriptModeModelsOptions {
  /** The folder `sagemaker_submit_directory` stands for (the CDK asset's source), e.g. `models/vision`. */
  readonly sourceDir: string;
  /** The world's `CreateModel` request of a model, by name (`LocalWorld.hosting.model`). */
  readonly model: (name: string) => Json | undefined;
  /** Where job folders go (one per job, kept: model archives, logs, outputs). */
  readonly workRoot: string;
  /**
   * The input channel that carries the source archive (`sagemaker_submit_directory` points into it): `sourceDir`
   * stands for it, so it is not downloaded. @default 'code'
   */
  readonly sourceChannel?: string;
  /** Environment of every job's process on this machine (e.g. `OMP_NUM_THREADS=1`). @default none */
  readonly env?: Readonly<Record<string, string>>;
  /** Simulated minutes a training job takes (the world's clock moves on by them). @default 0 */
  readonly trainingMinutes?: number;
  /** Simulated minutes a transform job takes. @default 0 */
  readonly transformMinutes?: number;
}

/** What a real job did, for reports and tests. */
export interface JobRecord {
  readonly kind: 'training' | 'transform';
  readonly name: string;
  /** `s3://` of the trained model (training) or the output prefix (transform). */
  readonly uri: string;
  /** Final metrics (training) or records scored (transform). */
  readonly metrics?: Readonly<Record<string, number>>;
  readonly records?: number;
  /** Wall-clock duration on this machine. */
  readonly durationMs: number;
}

/** A {@link ModelRuntime} running the project's script-mode code, and the record of its jobs. */
export interface ScriptModeModels extends ModelRuntime {
  readonly jobs: readonly JobRecord[];
}

const failed = (message: string) => new TaskError('States.TaskFailed', message);
const slash = (uri: string) => (uri.endsWith('/') ? uri : `${uri}/`);

/** Copies an S3 prefix (or one object) of the store into a folder; returns the number of objects. */
async function download(job: JobContext, uri: string, dir: string): Promise<number> {
  const { bucket, key } = parseS3Uri(uri);
  await fs.mkdir(dir, { recursive: true });
  if (!key.endsWith('/') && (await job.store.exists(bucket, key))) {
    await fs.writeFile(path.join(dir, path.basename(key)), await readBytes(job.store, bucket, key));
    return 1;
  }
  let n = 0;
  for await (const k of job.store.list(bucket, key)) {
    const relative = k.slice(key.length).replace(/^\/+/, '');
    if (!relative || relative.endsWith('/')) continue;
    const target = path.join(dir, relative);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, job.store.bytes(bucket, k) ?? Buffer.alloc(0));
    n++;
  }
  return n;
}

/** The objects a manifest file lists, as `[relative name, s3 URI]` (`[{"prefix": …}, "key", …]`). */
async function manifestEntries(job: JobContext, uri: string): Promise<Array<[string, string]>> {
  const { bucket, key } = parseS3Uri(uri);
  const json = JSON.parse((await readBytes(job.store, bucket, key)).toString('utf8')) as unknown;
  if (!Array.isArray(json) || typeof (json[0] as { prefix?: unknown })?.prefix !== 'string') {
    throw failed(`${uri} is not a SageMaker manifest file ([{"prefix": "s3://…/"}, "key", …])`);
  }
  const prefix = (json[0] as { prefix: string }).prefix;
  return json.slice(1).map((k) => [String(k), `${prefix}${String(k)}`]);
}

/** Real training and batch transform for the world's SageMaker jobs. */
export function scriptModeModels(options: ScriptModeModelsOptions): ScriptModeModels {
  const jobs: JobRecord[] = [];
  const artifacts = new Map<string, string>();

  async function modelArchive(name: string, job: JobContext): Promise<{ file: string; env: Record<string, string> }> {
    const request = options.model(name);
    const container = (request?.PrimaryContainer ?? (request?.Containers as Json[] | undefined)?.[0]) as
      Json | undefined;
    const url = container?.ModelDataUrl;
    if (typeof url !== 'string') throw failed(`model ${name} was not created with a ModelDataUrl in this world`);
    let file = artifacts.get(url);
    if (!file) {
      const dir = path.join(options.workRoot, 'models', name);
      if ((await download(job, url, dir)) !== 1) throw failed(`model ${name}: ${url} is not one object`);
      file = path.join(dir, path.basename(parseS3Uri(url).key));
      artifacts.set(url, file);
    }
    return { file, env: (container?.Environment as Record<string, string> | undefined) ?? {} };
  }

  return {
    jobs,

    async train(i: Json, job: JobContext): Promise<TrainingOutcome> {
      const name = String(i.TrainingJobName);
      const all = (i.HyperParameters as Record<string, string> | undefined) ?? {};
      const program = all.sagemaker_program;
      if (!program) throw failed(`training job ${name}: HyperParameters.sagemaker_program is missing (script mode)`);
      const hyperparameters = Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith('sagemaker_')));
      const spec = (i.AlgorithmSpecification as Json | undefined) ?? {};
      const work = path.join(options.workRoot, 'training', name);
      const channels: Record<string, string> = {};
      for (const channel of (i.InputDataConfig as Json[] | undefined) ?? []) {
        if (channel.ChannelName === (options.sourceChannel ?? 'code')) continue;
        const source = ((channel.DataSource as Json).S3DataSource as Json) ?? {};
        const dir = path.join(options.workRoot, 'channels', name, String(channel.ChannelName));
        const n = await download(job, String(source.S3Uri), dir);
        if (n === 0) throw failed(`training job ${name}: channel ${String(channel.ChannelName)} is empty`);
        channels[String(channel.ChannelName)] = dir;
      }
      const started = Date.now();
      let result: Awaited<ReturnType<typeof runTrainingJob>>;
      try {
        result = await runTrainingJob({
          sourceDir: options.sourceDir,
          entryPoint: program,
          hyperparameters,
          channels,
          workDir: work,
          jobName: name,
          env: { ...options.env, ...((i.Environment as Record<string, string> | undefined) ?? {}) },
          metricDefinitions: (spec.MetricDefinitions as MetricDefinition[] | undefined) ?? [],
          maxRuntimeSeconds: (i.StoppingCondition as Json | undefined)?.MaxRuntimeInSeconds as number | undefined,
        });
      } catch (e) {
        if (e instanceof TrainingJobError) {
          throw failed(`AlgorithmError: ${e.stderrTail.split('\n').filter(Boolean).pop() ?? e.message}`);
        }
        throw e;
      }
      for (const line of result.logs.split('\n')) {
        if (/^(epoch|best_epoch)=/.test(line)) job.log('train', `${name}: ${line.replace(/ seconds=[0-9.]+/, '')}`);
      }
      if (options.trainingMinutes) job.clock.advance(options.trainingMinutes * 60_000);
      job.log('train', `training job ${name} Completed after ${options.trainingMinutes ?? 0} min`);
      const output = `${slash(String((i.OutputDataConfig as Json).S3OutputPath))}${name}/output/model.tar.gz`;
      const { bucket, key } = parseS3Uri(output);
      await job.store.put(bucket, key, await fs.readFile(result.modelArtifact));
      jobs.push({
        kind: 'training',
        name,
        uri: output,
        metrics: result.finalMetrics,
        durationMs: Date.now() - started,
      });
      return { metrics: Object.entries(result.finalMetrics).map(([n, value]) => ({ name: n, value })) };
    },

    async transform(i: Json, job: JobContext): Promise<{ records: number }> {
      const name = String(i.TransformJobName);
      const input = (i.TransformInput as Json | undefined) ?? {};
      const source = ((input.DataSource as Json | undefined)?.S3DataSource as Json | undefined) ?? {};
      if (i.DataProcessing !== undefined) {
        throw failed(`transform job ${name}: DataProcessing (input/output filters, join) is not supported locally`);
      }
      const model = await modelArchive(String(i.ModelName), job);
      const work = path.join(options.workRoot, 'transform', name);
      const inputDir = path.join(work, 'input');
      if (existsSync(work)) await fs.rm(work, { recursive: true, force: true });
      if (source.S3DataType === 'ManifestFile') {
        for (const [relative, uri] of await manifestEntries(job, String(source.S3Uri))) {
          const target = path.join(inputDir, relative);
          await fs.mkdir(path.dirname(target), { recursive: true });
          const { bucket, key } = parseS3Uri(uri);
          await fs.writeFile(target, await readBytes(job.store, bucket, key));
        }
      } else {
        await download(job, String(source.S3Uri), inputDir);
      }
      const outputDir = path.join(work, 'output');
      await fs.mkdir(outputDir, { recursive: true });
      const output = (i.TransformOutput as Json | undefined) ?? {};
      const started = Date.now();
      let result: Awaited<ReturnType<typeof runTransformJob>>;
      try {
        result = await runTransformJob({
          modelArtifact: model.file,
          inputDir,
          contentType: String(input.ContentType ?? 'application/json'),
          accept: output.Accept as string | undefined,
          splitType: (input.SplitType as 'Line' | 'None' | undefined) ?? 'None',
          batchStrategy: i.BatchStrategy as 'SingleRecord' | 'MultiRecord' | undefined,
          maxPayloadInMB: i.MaxPayloadInMB as number | undefined,
          assembleWith: output.AssembleWith as 'Line' | 'None' | undefined,
          outputDir,
          program: model.env.SAGEMAKER_PROGRAM,
          env: { ...options.env, ...model.env, ...((i.Environment as Record<string, string> | undefined) ?? {}) },
        });
      } catch (e) {
        if (e instanceof TransformJobError || (e as Error).message?.startsWith('transform job failed')) {
          throw failed((e as Error).message);
        }
        throw e;
      }
      if (options.transformMinutes) job.clock.advance(options.transformMinutes * 60_000);
      const target = parseS3Uri(slash(String(output.S3OutputPath)));
      for (const file of result.outputFiles) {
        const relative = path.relative(outputDir, file).split(path.sep).join('/');
        await job.store.put(target.bucket, `${target.key}${relative}`, await fs.readFile(file));
      }
      jobs.push({
        kind: 'transform',
        name,
        uri: slash(String(output.S3OutputPath)),
        records: result.records,
        durationMs: Date.now() - started,
      });
      return { records: result.records };
    },
  };
}
