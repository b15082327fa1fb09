/**
 * A SageMaker training job on this machine: the entry point runs under the framework containers' script-mode
 * contract in a folder that plays `/opt/ml`, and the model dir becomes `output/model.tar.gz`.
 *
 * Layout of `workDir` (as in the container): `code/` (the source dir), `input/config/{hyperparameters,
 * inputdataconfig,resourceconfig}.json`, `input/data/<channel>/`, `model/`, `output/{data,failure,success,
 * model.tar.gz,output.tar.gz}`.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CONTAINER_SCRIPT, containerEnv, lastLines, runPython } from './python';

/** A hyperparameter value; SageMaker's API takes strings, other values are turned into their text. */
export type HyperparameterValue = string | number | boolean;

/** `AlgorithmSpecification.MetricDefinitions`: a named regex whose first group is the value. */
export interface MetricDefinition {
  readonly Name: string;
  readonly Regex: string;
}

/** Input of {@link runTrainingJob}. */
export interface TrainingJobInput {
  /** The folder uploaded as `sagemaker_submit_directory` (e.g. `models/recommender`). */
  readonly sourceDir: string;
  /** `sagemaker_program`: the entry file inside `sourceDir`, e.g. `train.py`. */
  readonly entryPoint: string;
  /** The job's hyperparameters (without `sagemaker_*`, which are derived). @default {} */
  readonly hyperparameters?: Readonly<Record<string, HyperparameterValue>>;
  /** Channel name → local folder (or single file) holding what SageMaker would download from S3. */
  readonly channels: Readonly<Record<string, string>>;
  /** The folder that plays `/opt/ml`; must be empty or absent. */
  readonly workDir: string;
  /** `TrainingJobName`, exported as `TRAINING_JOB_NAME`. @default 'local-training-job' */
  readonly jobName?: string;
  /** `CreateTrainingJob.Environment`. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** Regexes applied to every log line, as SageMaker does to the job's logs. @default [] */
  readonly metricDefinitions?: readonly MetricDefinition[];
  /** `StoppingCondition.MaxRuntimeInSeconds`. @default no limit */
  readonly maxRuntimeSeconds?: number;
}

/** One value a metric definition matched. */
export interface TrainingMetric {
  readonly name: string;
  readonly value: number;
  /** 1-based line of the job's log. */
  readonly logLine: number;
}

/** Result of a successful {@link runTrainingJob}. */
export interface TrainingJobOutput {
  /** `output/model.tar.gz` (SageMaker's `ModelArtifacts.S3ModelArtifacts`). */
  readonly modelArtifact: string;
  /** `output/output.tar.gz` when the script wrote to `SM_OUTPUT_DATA_DIR`. */
  readonly outputArtifact?: string;
  /** Every match of the metric definitions, in log order. */
  readonly metrics: readonly TrainingMetric[];
  /** The last value of each metric (SageMaker's `FinalMetricDataList`). */
  readonly finalMetrics: Readonly<Record<string, number>>;
  /** stdout and stderr interleaved. */
  readonly logs: string;
  readonly durationMs: number;
}

/** A training job that failed: the script's exit code and the end of its stderr. */
export class TrainingJobError extends Error {
  override readonly name = 'TrainingJobError';

  constructor(
    message: string,
    /** The entry point's exit code (null when killed). */
    readonly exitCode: number | null,
    /** The last lines of stderr (the local `FailureReason`). */
    readonly stderrTail: string,
    readonly logs: string,
  ) {
    super(message);
  }
}

const CHANNEL_NAME = /^[A-Za-z0-9.\-_]+$/;
const DEFAULT_JOB_NAME = 'local-training-job';
const HOST = 'algo-1';
const STDERR_LINES = 15;

/** Run a training job to completion; throws {@link TrainingJobError} when the script fails. */
export async function runTrainingJob(input: TrainingJobInput): Promise<TrainingJobOutput> {
  const started = Date.now();
  await validate(input);
  await layOut(input);
  const outcome = await runPython([CONTAINER_SCRIPT, 'train', '--opt-ml', input.workDir], {
    env: containerEnv({ ...input.env, TRAINING_JOB_NAME: input.jobName ?? DEFAULT_JOB_NAME }),
    timeoutMs: input.maxRuntimeSeconds === undefined ? undefined : input.maxRuntimeSeconds * 1000,
  });
  if (outcome.code !== 0) {
    const tail = lastLines(outcome.stderr, STDERR_LINES);
    const why = outcome.timedOut
      ? `MaxRuntimeExceeded: stopped after ${input.maxRuntimeSeconds} s`
      : `${input.entryPoint} exited with code ${outcome.code}`;
    throw new TrainingJobError(`training job failed: ${why}\n${tail}`, outcome.code, tail, outcome.log);
  }
  const metrics = extractMetrics(outcome.log, input.metricDefinitions ?? []);
  const outputArtifact = path.join(input.workDir, 'output', 'output.tar.gz');
  return {
    modelArtifact: path.join(input.workDir, 'output', 'model.tar.gz'),
    outputArtifact: existsSync(outputArtifact) ? outputArtifact : undefined,
    metrics,
    finalMetrics: Object.fromEntries(metrics.map((m) => [m.name, m.value])),
    logs: outcome.log,
    durationMs: Date.now() - started,
  };
}

async function validate(input: TrainingJobInput): Promise<void> {
  const entry = path.join(input.sourceDir, input.entryPoint);
  if (!existsSync(entry)) {
    throw new Error(`entryPoint ${input.entryPoint} is not in sourceDir ${input.sourceDir}; expected a file ${entry}`);
  }
  for (const [name, location] of Object.entries(input.channels)) {
    if (!CHANNEL_NAME.test(name)) {
      throw new Error(`channel name ${JSON.stringify(name)} is not allowed; use letters, digits, '.', '-' and '_'`);
    }
    if (!existsSync(location)) throw new Error(`channel ${name}: ${location} does not exist`);
  }
  if (existsSync(input.workDir) && (await fs.readdir(input.workDir)).length > 0) {
    throw new Error(`workDir ${input.workDir} is not empty; each training job needs a fresh folder (it plays /opt/ml)`);
  }
}

async function layOut(input: TrainingJobInput): Promise<void> {
  const dir = (...parts: string[]) => path.join(input.workDir, ...parts);
  await fs.mkdir(dir('input', 'config'), { recursive: true });
  await fs.cp(input.sourceDir, dir('code'), {
    recursive: true,
    filter: (source) => !/(^|[\\/])(__pycache__|\.pytest_cache)$/.test(source),
  });
  for (const [name, location] of Object.entries(input.channels)) {
    const target = dir('input', 'data', name);
    if ((await fs.stat(location)).isDirectory()) {
      await fs.cp(location, target, { recursive: true });
    } else {
      await fs.mkdir(target, { recursive: true });
      await fs.copyFile(location, path.join(target, path.basename(location)));
    }
  }
  const config = renderConfig(input);
  for (const [file, content] of Object.entries(config)) {
    await fs.writeFile(dir('input', 'config', file), JSON.stringify(content, null, 2));
  }
}

/** The three files SageMaker writes to `/opt/ml/input/config`. */
export function renderConfig(input: TrainingJobInput): Record<string, unknown> {
  const hyperparameters: Record<string, string> = {
    sagemaker_program: input.entryPoint,
    sagemaker_submit_directory: path.join(input.workDir, 'code'),
  };
  for (const [key, value] of Object.entries(input.hyperparameters ?? {})) hyperparameters[key] = String(value);
  const dataConfig = Object.fromEntries(
    Object.keys(input.channels).map((name) => [
      name,
      { TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
    ]),
  );
  return {
    'hyperparameters.json': hyperparameters,
    'inputdataconfig.json': dataConfig,
    'resourceconfig.json': { current_host: HOST, hosts: [HOST], network_interface_name: 'eth0' },
  };
}

/** Every match of the definitions in the log (first capture group as a number), in log order. */
export function extractMetrics(log: string, definitions: readonly MetricDefinition[]): TrainingMetric[] {
  const compiled = definitions.map((d) => ({ name: d.Name, regex: new RegExp(d.Regex) }));
  const metrics: TrainingMetric[] = [];
  log.split('\n').forEach((line, index) => {
    for (const { name, regex } of compiled) {
      const match = regex.exec(line);
      const value = match?.[1] === undefined ? NaN : Number(match[1]);
      if (Number.isFinite(value)) metrics.push({ name, value, logLine: index + 1 });
    }
  });
  return metrics;
}
