/**
 * FABRICATED models, the only ones in the local world: a training job that takes simulated time and reports a
 * scripted metric, and batch transforms whose scores reach a scripted quality on the validation data (the
 * evaluation Lambda then computes the real AUC or accuracy from them). Used by `npm run simulate` until the local
 * SageMaker (`src/local-world/sagemaker/`) trains and scores the project's real models; swap this module there.
 */
import { parseS3Uri } from '../../core/storage/s3-uri';
import { createRng } from '../../core/drift/stats/random';
import type { Json, JobContext, ModelRuntime, TrainingOutcome } from './types';

/** The script: how good the candidate and the champion are, and how long training takes. */
export interface FabricatedScript {
  /** Quality the champion's batch transform reaches on the validation data (AUC or accuracy). */
  readonly championQuality: number;
  /** Quality the candidate's batch transform reaches. */
  readonly candidateQuality: number;
  /** The candidate's final training metric. */
  readonly candidateMetric: number;
  /** Simulated training time, minutes. */
  readonly trainingMinutes: number;
  readonly seed: number;
}

/** Models that behave as scripted (deterministic per seed). */
export function fabricatedModels(s: FabricatedScript): ModelRuntime {
  return {
    train(i: Json, job: JobContext): TrainingOutcome {
      const name = String(i.TrainingJobName);
      const metric = ((i.AlgorithmSpecification as Json).MetricDefinitions as Array<{ Name: string }>)[0].Name;
      const rng = createRng(s.seed * 31 + 7);
      const steps = 4;
      for (let k = 1; k <= steps; k++) {
        job.clock.advance((s.trainingMinutes * 60_000) / steps);
        const value =
          k === steps ? s.candidateMetric : s.candidateMetric - (0.08 * (steps - k)) / steps + rng.nextFloat() * 0.005;
        job.log('train', `${name}: epoch ${k}/${steps} ${metric}=${value.toFixed(4)}`);
      }
      job.log('train', `training job ${name} Completed after ${s.trainingMinutes} min`);
      return { metrics: [{ name: metric, value: s.candidateMetric }] };
    },

    async transform(i: Json, job: JobContext): Promise<{ records: number }> {
      const champion = /champion/i.test(job.state) || String(i.TransformJobName).endsWith('-chmp');
      const quality = champion ? s.championQuality : s.candidateQuality;
      const rng = createRng(s.seed * 131 + (champion ? 1 : 2));
      const out = parseS3Uri(String((i.TransformOutput as Json).S3OutputPath));
      const source = ((i.TransformInput as Json).DataSource as Json).S3DataSource as {
        S3DataType: string;
        S3Uri: string;
      };
      const input = parseS3Uri(source.S3Uri);
      let records = 0;
      if (source.S3DataType === 'S3Prefix') {
        // label-first CSV in, `label,score` out; scores separated so that the expected AUC is `quality`.
        const shift = Math.SQRT2 * inverseNormal(quality);
        for await (const key of job.store.list(input.bucket, input.key)) {
          const text = job.store.bytes(input.bucket, key)?.toString('utf8') ?? '';
          const lines = text
            .split('\n')
            .filter((l) => l.trim())
            .map((l) => {
              const label = Number(l.split(',')[0]);
              const z = rng.nextNormal() + (label === 1 ? shift : 0);
              return `${label},${(1 / (1 + Math.exp(-z))).toFixed(6)}`;
            });
          records += lines.length;
          await job.store.put(out.bucket, `${out.key}${key.slice(input.key.length)}.out`, lines.join('\n') + '\n');
        }
      } else {
        // A SageMaker manifest file ([{prefix}, key, …]) of validation images; one probability vector per image.
        const manifest = JSON.parse(job.store.bytes(input.bucket, input.key)?.toString('utf8') ?? '[]') as [
          { prefix: string },
          ...string[],
        ];
        const [, ...keys] = manifest;
        const lake = job.lake();
        const classes = [...new Set(lake.map((e) => e.label).filter((l): l is string => typeof l === 'string'))].sort();
        const truth = new Map(
          lake
            .filter((e) => typeof e.label === 'string')
            .map((e) => [String(e.image_key), classes.indexOf(String(e.label))]),
        );
        for (const key of keys) {
          const right = truth.get(key) ?? 0;
          const predicted =
            rng.nextFloat() < quality
              ? right
              : (right + 1 + rng.nextInt(Math.max(1, classes.length - 1))) % Math.max(2, classes.length);
          const p = classes.map((_, c) => (c === predicted ? 0.9 : 0.1 / Math.max(1, classes.length - 1)));
          await job.store.put(out.bucket, `${out.key}${key}.out`, JSON.stringify(p));
        }
        records = keys.length;
      }
      job.clock.advance(8 * 60_000);
      return { records };
    },
  };
}

/** Inverse of the standard normal CDF (Acklam's rational approximation; |error| < 1.2e-9). */
export function inverseNormal(p: number): number {
  const q = Math.min(Math.max(p, 1e-9), 1 - 1e-9);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (q < lo) {
    const r = Math.sqrt(-2 * Math.log(q));
    return (
      (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) /
      ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
    );
  }
  if (q > 1 - lo) return -inverseNormal(1 - q);
  const r = q - 0.5;
  const s = r * r;
  return (
    ((((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r) /
    (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1)
  );
}
