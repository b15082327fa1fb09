/**
 * A SageMaker batch transform job on this machine: the model archive's inference handler, loaded once in one
 * Python process, runs over every record of every input file and writes `<input file>.out` per input file.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractModelArchive } from './archive';
import { CONTAINER_SCRIPT, containerEnv, lastLines, runPython } from './python';

/** Input of {@link runTransformJob}; names follow `CreateTransformJob`. */
export interface TransformJobInput {
  /** The model.tar.gz (with `code/<program>`). */
  readonly modelArtifact: string;
  /** Input files (output names are their base names). Give this or `inputDir`. */
  readonly inputFiles?: readonly string[];
  /** Every file under this folder, recursively, as an S3 prefix; outputs keep the relative paths. */
  readonly inputDir?: string;
  /** `TransformInput.ContentType`, sent to input_fn. */
  readonly contentType: string;
  /** `TransformOutput.Accept`. @default the container's default (application/json) */
  readonly accept?: string;
  /** `TransformInput.SplitType`: one request per line, or the whole file. */
  readonly splitType: 'Line' | 'None';
  /** `BatchStrategy`: one line per request, or as many lines as fit in `maxPayloadInMB`. @default 'SingleRecord' */
  readonly batchStrategy?: 'SingleRecord' | 'MultiRecord';
  /** `MaxPayloadInMB`. @default 6 */
  readonly maxPayloadInMB?: number;
  /** `TransformOutput.AssembleWith`: `Line` ends each record's output with a newline. @default 'None' */
  readonly assembleWith?: 'Line' | 'None';
  /** Where `<name>.out` files go (the job's `S3OutputPath`). */
  readonly outputDir: string;
  /** The model's `SAGEMAKER_PROGRAM`, inside `code/`. @default 'inference.py' */
  readonly program?: string;
  /** The model's environment. @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

/** Result of a successful {@link runTransformJob}. */
export interface TransformJobOutput {
  /** One `.out` file per input file, in input order. */
  readonly outputFiles: readonly string[];
  /** Requests sent to the handler. */
  readonly records: number;
  readonly durationMs: number;
}

/** A record the handler refused: the job fails, as batch transform does. */
export class TransformJobError extends Error {
  override readonly name = 'TransformJobError';

  constructor(
    message: string,
    /** The input file (relative name). */
    readonly file: string,
    /** The first line of the refused request (1 for SplitType None). */
    readonly line: number,
    /** The status the handler answered. */
    readonly originalStatusCode: number,
    /** The handler's reason. */
    readonly originalMessage: string,
  ) {
    super(message);
  }
}

interface InputItem {
  readonly path: string;
  readonly name: string;
}

type ShimResult =
  | { ok: true; outputs: string[]; records: number }
  | { ok: false; file: string; line: number; status: number; message: string };

/** Run a batch transform job; throws {@link TransformJobError} at the first record the handler refuses. */
export async function runTransformJob(input: TransformJobInput): Promise<TransformJobOutput> {
  const started = Date.now();
  const inputs = await listInputs(input);
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'local-transform-'));
  try {
    const modelDir = path.join(scratch, 'model');
    await extractModelArchive(input.modelArtifact, modelDir);
    const job = {
      modelDir,
      program: input.program ?? 'inference.py',
      contentType: input.contentType,
      accept: input.accept ?? null,
      splitType: input.splitType,
      batchStrategy: input.batchStrategy ?? 'SingleRecord',
      maxPayload: Math.floor((input.maxPayloadInMB ?? 6) * 1024 * 1024),
      assembleWith: input.assembleWith ?? 'None',
      outputDir: input.outputDir,
      inputs,
    };
    const jobFile = path.join(scratch, 'job.json');
    const resultFile = path.join(scratch, 'result.json');
    await fs.writeFile(jobFile, JSON.stringify(job));
    const outcome = await runPython([CONTAINER_SCRIPT, 'transform', '--job', jobFile, '--result', resultFile], {
      env: containerEnv({ ...input.env }),
    });
    if (outcome.code !== 0 || !existsSync(resultFile)) {
      throw new Error(`transform job failed (exit code ${outcome.code}): ${lastLines(outcome.stderr, 15)}`);
    }
    const result = JSON.parse(await fs.readFile(resultFile, 'utf8')) as ShimResult;
    if (!result.ok) {
      const where = input.splitType === 'Line' ? `${result.file} line ${result.line}` : result.file;
      throw new TransformJobError(
        `transform job failed: ${where}: the handler answered ${result.status}: ${result.message}`,
        result.file,
        result.line,
        result.status,
        result.message,
      );
    }
    return { outputFiles: result.outputs, records: result.records, durationMs: Date.now() - started };
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

async function listInputs(input: TransformJobInput): Promise<InputItem[]> {
  if ((input.inputFiles === undefined) === (input.inputDir === undefined)) {
    throw new Error('runTransformJob needs exactly one of inputFiles and inputDir');
  }
  if (input.inputFiles !== undefined) {
    const names = input.inputFiles.map((file) => path.basename(file));
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate) throw new Error(`two input files are named ${duplicate}; their outputs would collide`);
    return input.inputFiles.map((file, i) => ({ path: path.resolve(file), name: names[i] }));
  }
  const root = input.inputDir as string;
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name))
    .sort();
  if (files.length === 0) throw new Error(`inputDir ${root} holds no files`);
  return files.map((file) => ({ path: path.resolve(file), name: path.relative(root, file) }));
}
