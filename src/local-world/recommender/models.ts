/**
 * The recommender's models in the local world, for real: `CreateTrainingJob` is the world's script-mode training
 * (`../script-mode-models.ts`: `models/recommender/train.py` under the container contract, `model.tar.gz` where
 * SageMaker puts it), in simulated time; `CreateTransformJob` runs the model's inference handler over the input
 * files and applies the request's `DataProcessing` (input filter, join with the input, output filter) as batch
 * transform does for CSV, which the shared transform does not. Nothing is scripted: the scores are the model's.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readBytes } from '../../../core/storage/object-store';
import { parseS3Uri } from '../../../core/storage/s3-uri';
import { TaskError } from '../errors';
import { runTransformJob, TransformJobError } from '../sagemaker';
import { scriptModeModels } from '../script-mode-models';
import type { Json, JobContext, ModelRuntime, TrainingOutcome } from '../types';

/** Options of {@link recommenderModels}. */
export interface RecommenderModelsOptions {
  /** Scratch folder of the jobs (kept with `--out`). */
  readonly root: string;
  /** The `sagemaker_submit_directory` (the CDK asset of `models/recommender/`) as a local folder. */
  readonly sourceDir: string;
  /** The `CreateModel` request of a model name (the world's hosting keeps them). */
  readonly model: (name: string) => Json | undefined;
  /** Simulated minutes a training job takes. @default 12 */
  readonly trainingMinutes?: number;
  /** Simulated minutes a transform job takes. @default 6 */
  readonly transformMinutes?: number;
  /** Training jobs and transform jobs run, with their real outputs (for reports). */
  readonly onJob?: (job: { kind: 'training' | 'transform'; name: string; detail: Json }) => void;
}

const safe = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '_');

/** Copies the objects under an S3 prefix into a folder (gzip kept as stored); returns the files. */
async function download(job: JobContext, uri: string, folder: string, gunzip = false): Promise<string[]> {
  const { bucket, key } = parseS3Uri(uri);
  const files: string[] = [];
  for await (const k of job.store.list(bucket, key)) {
    const rest = k.slice(key.length).replace(/^\//, '');
    if (rest === '' || /(^|\/)[._]/.test(rest)) continue;
    const bytes = gunzip ? await readBytes(job.store, bucket, k) : (job.store.bytes(bucket, k) ?? Buffer.alloc(0));
    const path = join(folder, gunzip ? rest.replace(/\.gz$/, '') : rest);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, bytes);
    files.push(path);
  }
  return files.sort();
}

/** Applies a batch-transform JSONPath filter (`$`, `$[a:b]`, `$[i,j,-1]`) to the cells of a CSV line. */
export function applyCsvFilter(cells: readonly string[], filter: string | undefined): string[] {
  if (!filter || filter === '$') return [...cells];
  const m = /^\$\[(.*)\]$/.exec(filter.trim());
  if (!m) throw new Error(`unsupported CSV filter ${filter}; expected $[a:b] or $[i,j,…]`);
  const at = (i: number) => (i < 0 ? cells.length + i : i);
  if (m[1].includes(':')) {
    const [a, b] = m[1].split(':').map((x) => x.trim());
    return cells.slice(a === '' ? 0 : at(Number(a)), b === '' ? cells.length : at(Number(b)));
  }
  return m[1].split(',').map((x) => {
    const cell = cells[at(Number(x.trim()))];
    if (cell === undefined)
      throw new Error(`filter ${filter} selects column ${x.trim()} of a ${cells.length}-column line`);
    return cell;
  });
}

/** Real training and batch transform of the recommender's script-mode model. */
export function recommenderModels(o: RecommenderModelsOptions): ModelRuntime {
  const shared = scriptModeModels({ sourceDir: o.sourceDir, model: o.model, workRoot: o.root });
  return {
    async train(i: Json, job: JobContext): Promise<TrainingOutcome> {
      const outcome = await shared.train(i, job);
      const record = shared.jobs.at(-1);
      job.clock.advance((o.trainingMinutes ?? 12) * 60_000);
      const name = String(i.TrainingJobName);
      const figures = outcome.metrics.map((m) => `${m.name}=${m.value.toFixed(4)}`).join(', ') || 'no metrics';
      job.log('train', `${name}: train.py trained (${figures}); model.tar.gz → ${record?.uri ?? '?'}`);
      o.onJob?.({ kind: 'training', name, detail: { metrics: outcome.metrics, artifact: record?.uri ?? '' } });
      return outcome;
    },

    async transform(i: Json, job: JobContext): Promise<{ records: number }> {
      const name = String(i.TransformJobName);
      const folder = join(o.root, 'transform', safe(name));
      const model = o.model(String(i.ModelName));
      const container = (model?.PrimaryContainer ?? {}) as Json;
      if (!container.ModelDataUrl)
        throw new TaskError('SageMaker.ValidationException', `Could not find model "${String(i.ModelName)}"`);
      const artifact = parseS3Uri(String(container.ModelDataUrl));
      const artifactPath = join(folder, 'model.tar.gz');
      mkdirSync(folder, { recursive: true });
      const bytes = job.store.bytes(artifact.bucket, artifact.key);
      if (!bytes)
        throw new TaskError('SageMaker.ValidationException', `no model artifact at ${String(container.ModelDataUrl)}`);
      writeFileSync(artifactPath, bytes);
      const input = i.TransformInput as Json;
      const source = String(((input.DataSource as Json).S3DataSource as Json).S3Uri);
      const processing = (i.DataProcessing ?? {}) as Json;
      const output = i.TransformOutput as Json;
      const env = (container.Environment ?? {}) as Record<string, string>;
      const files = await download(job, source, join(folder, 'input'), input.CompressionType === 'Gzip');
      const outUri = String(output.S3OutputPath).replace(/\/?$/, '/');
      let records = 0;
      for (const file of files) {
        const lines = readFileSync(file, 'utf8')
          .split(/\r?\n/)
          .filter((l) => l.trim() !== '');
        if (lines.length === 0) continue;
        const filtered = join(folder, 'filtered', basename(file));
        mkdirSync(join(filtered, '..'), { recursive: true });
        writeFileSync(
          filtered,
          lines.map((l) => applyCsvFilter(l.split(','), processing.InputFilter as string).join(',')).join('\n') + '\n',
        );
        let scored: string[];
        try {
          const result = await runTransformJob({
            modelArtifact: artifactPath,
            inputFiles: [filtered],
            contentType: String(input.ContentType ?? 'text/csv'),
            accept: String(output.Accept ?? 'text/csv'),
            splitType: (input.SplitType as 'Line' | 'None' | undefined) ?? 'Line',
            batchStrategy: (i.BatchStrategy as 'SingleRecord' | 'MultiRecord' | undefined) ?? 'MultiRecord',
            assembleWith: (output.AssembleWith as 'Line' | 'None' | undefined) ?? 'Line',
            outputDir: join(folder, 'output'),
            program: env.SAGEMAKER_PROGRAM ?? 'inference.py',
            env,
          });
          scored = readFileSync(result.outputFiles[0], 'utf8')
            .split(/\r?\n/)
            .filter((l) => l.trim() !== '');
        } catch (e) {
          if (e instanceof TransformJobError)
            throw new TaskError('SageMaker.TransformJobFailed', e.message.split('\n')[0]);
          throw e;
        }
        if (scored.length !== lines.length) {
          throw new TaskError(
            'SageMaker.TransformJobFailed',
            `${basename(file)}: ${lines.length} records in, ${scored.length} out`,
          );
        }
        const joined = lines.map((line, k) => {
          const cells =
            processing.JoinSource === 'Input' ? [...line.split(','), ...scored[k].split(',')] : scored[k].split(',');
          return applyCsvFilter(cells, processing.OutputFilter as string).join(',');
        });
        const rel = file.slice(join(folder, 'input').length + 1);
        const { bucket, key } = parseS3Uri(`${outUri}${rel}.out`);
        await job.store.put(bucket, key, joined.join('\n') + '\n');
        records += lines.length;
      }
      job.clock.advance((o.transformMinutes ?? 6) * 60_000);
      o.onJob?.({ kind: 'transform', name, detail: { records, source, output: outUri } });
      return { records };
    },
  };
}
