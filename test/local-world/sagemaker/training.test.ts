import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractModelArchive, runTrainingJob, TrainingJobError } from '../../../src/local-world/sagemaker';
import {
  labelsOf,
  ndcgAtK,
  NUM_FEATURES,
  prng,
  RECOMMENDER_SOURCE,
  TINY_JOB_HYPERPARAMETERS,
  writeChannels,
} from './ranking-fixture';
import { listTarGz } from './tar';

const HYPERPARAMETERS = TINY_JOB_HYPERPARAMETERS;
const METRICS = [
  { Name: 'validation:ndcg@10', Regex: 'validation-ndcg@10:([0-9.]+)' },
  { Name: 'train:ndcg@10', Regex: 'train-ndcg@10:([0-9.]+)' },
];

let root: string;
beforeAll(() => (root = mkdtempSync(path.join(os.tmpdir(), 'local-training-test-'))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('runTrainingJob with the recommender', () => {
  let result: Awaited<ReturnType<typeof runTrainingJob>>;
  let workDir: string;

  beforeAll(async () => {
    workDir = path.join(root, 'job');
    result = await runTrainingJob({
      sourceDir: RECOMMENDER_SOURCE,
      entryPoint: 'train.py',
      hyperparameters: HYPERPARAMETERS,
      channels: writeChannels(path.join(root, 'data')),
      workDir,
      jobName: 'recommender-job-1',
      metricDefinitions: METRICS,
    });
  });

  test('packs the model dir into model.tar.gz with the files at the archive root', () => {
    expect(result.modelArtifact).toBe(path.join(workDir, 'output', 'model.tar.gz'));
    const files = listTarGz(result.modelArtifact)
      .filter((e) => e.type === 'file')
      .map((e) => e.name)
      .sort();
    expect(files).toEqual(['code/inference.py', 'code/ranking_contract.py', 'metadata.json', 'xgboost-model']);
  });

  test('the model learnt the task: validation nDCG@10 well above a random ranking', async () => {
    const dir = path.join(root, 'extracted');
    await extractModelArchive(result.modelArtifact, dir);
    const metadata = JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8'));
    expect(metadata).toMatchObject({
      num_features: NUM_FEATURES,
      feature_version: 'fixture-v1',
      model_version: 'recommender-job-1',
      objective: 'rank:ndcg',
      channels: { train: { rows: 2000, groups: 200, files: 2 }, validation: { groups: 60 } },
    });
    const labels = labelsOf(readFileSync(path.join(root, 'data', 'validation', 'part-00000.csv'), 'utf8'));
    const random = prng(7);
    const randomNdcg = ndcgAtK(
      labels,
      labels.map(() => random()),
    );
    expect(metadata.best_validation['ndcg@10']).toBeGreaterThan(randomNdcg + 0.2);
  });

  test('reports metric definitions matched in the log, the last value as final', () => {
    const validation = result.metrics.filter((m) => m.name === 'validation:ndcg@10');
    expect(validation.length).toBeGreaterThan(1);
    expect(result.finalMetrics['validation:ndcg@10']).toBe(validation[validation.length - 1].value);
    expect(result.finalMetrics['train:ndcg@10']).toBeGreaterThan(0);
  });

  test('packs SM_OUTPUT_DATA_DIR into output.tar.gz', () => {
    expect(listTarGz(result.outputArtifact as string).map((e) => e.name)).toEqual(['evaluation.json']);
  });
});

describe('the script-mode contract', () => {
  const probe = [
    'import json, os, sys',
    'env = {k: v for k, v in os.environ.items() if k.startswith("SM_") or k == "TRAINING_JOB_NAME"}',
    'with open(os.path.join(os.environ["SM_MODEL_DIR"], "probe.json"), "w") as f:',
    '    json.dump({"argv": sys.argv[1:], "env": env, "cwd": os.getcwd()}, f)',
    '',
  ].join('\n');
  let seen: { argv: string[]; env: Record<string, string>; cwd: string };
  let workDir: string;
  let modelArtifact: string;

  beforeAll(async () => {
    const source = path.join(root, 'probe-src');
    mkdirSync(source, { recursive: true });
    writeFileSync(path.join(source, 'probe.py'), probe);
    const data = path.join(root, 'probe-data.csv');
    writeFileSync(data, '1,2\n');
    workDir = path.join(root, 'probe-job');
    const result = await runTrainingJob({
      sourceDir: source,
      entryPoint: 'probe.py',
      hyperparameters: {
        eta: 0.1,
        objective: 'rank:ndcg',
        flag: true,
        n: 3,
        sagemaker_mpi_enabled: false,
        _tuning_objective_metric: 'x',
      },
      channels: { validation: data, train: data },
      workDir,
      jobName: 'probe-job',
    });
    modelArtifact = result.modelArtifact;
    seen = JSON.parse(readFileSync(path.join(workDir, 'model', 'probe.json'), 'utf8'));
  });

  test('hyperparameters arrive as sorted --key value arguments, decoded as the toolkit does', () => {
    expect(seen.argv).toEqual(['--eta', '0.1', '--flag', 'True', '-n', '3', '--objective', 'rank:ndcg']);
  });

  test('the SM_* variables of the training toolkit are set', () => {
    const opt = (...parts: string[]) => path.join(workDir, ...parts);
    expect(seen.env).toMatchObject({
      SM_MODEL_DIR: opt('model'),
      SM_CHANNEL_TRAIN: opt('input', 'data', 'train'),
      SM_CHANNEL_VALIDATION: opt('input', 'data', 'validation'),
      SM_CHANNELS: '["train","validation"]',
      SM_OUTPUT_DATA_DIR: opt('output', 'data'),
      SM_INPUT_DIR: opt('input'),
      SM_INPUT_CONFIG_DIR: opt('input', 'config'),
      SM_HOSTS: '["algo-1"]',
      SM_CURRENT_HOST: 'algo-1',
      SM_NUM_GPUS: '0',
      SM_MODULE_NAME: 'probe',
      SM_USER_ENTRY_POINT: 'probe.py',
      SM_HPS: '{"eta":0.1,"flag":true,"n":3,"objective":"rank:ndcg"}',
      SM_HP_ETA: '0.1',
      SM_HP_OBJECTIVE: 'rank:ndcg',
      SM_FRAMEWORK_PARAMS: '{"sagemaker_mpi_enabled":false}',
      SM_USER_ARGS: '["--eta","0.1","--flag","True","-n","3","--objective","rank:ndcg"]',
      TRAINING_JOB_NAME: 'probe-job',
    });
    expect(JSON.parse(seen.env.SM_TRAINING_ENV)).toMatchObject({
      channel_input_dirs: { train: opt('input', 'data', 'train') },
      hyperparameters: { eta: 0.1 },
      current_host: 'algo-1',
    });
    expect(readFileSync(path.join(seen.env.SM_CHANNEL_TRAIN, 'probe-data.csv'), 'utf8')).toBe('1,2\n');
    expect(seen.cwd).toBe(opt('code'));
  });

  test('the config files SageMaker writes are in input/config', () => {
    const config = (name: string) => JSON.parse(readFileSync(path.join(workDir, 'input', 'config', name), 'utf8'));
    expect(config('hyperparameters.json')).toMatchObject({ eta: '0.1', flag: 'true', sagemaker_program: 'probe.py' });
    expect(Object.keys(config('inputdataconfig.json')).sort()).toEqual(['train', 'validation']);
    expect(config('resourceconfig.json')).toEqual({
      current_host: 'algo-1',
      hosts: ['algo-1'],
      network_interface_name: 'eth0',
    });
  });

  test('model.tar.gz holds what the script wrote, without a ./ prefix', () => {
    expect(listTarGz(modelArtifact)).toEqual([{ name: 'probe.json', type: 'file' }]);
  });
});

describe('a failing training job', () => {
  test('fails with the exit code and the script one-line error', async () => {
    const data = path.join(root, 'bad');
    mkdirSync(path.join(data, 'train'), { recursive: true });
    mkdirSync(path.join(data, 'validation'), { recursive: true });
    writeFileSync(path.join(data, 'train', 'part-0.csv'), '1,1,0.1,0.2\n');
    writeFileSync(path.join(data, 'validation', 'part-0.csv'), '1,2,0.1,0.2,0.3,0.4,0.5,0.6\n');
    const run = runTrainingJob({
      sourceDir: RECOMMENDER_SOURCE,
      entryPoint: 'train.py',
      hyperparameters: HYPERPARAMETERS,
      channels: { train: path.join(data, 'train'), validation: path.join(data, 'validation') },
      workDir: path.join(root, 'bad-job'),
    });
    const error = (await run.catch((e: unknown) => e)) as TrainingJobError;
    expect(error).toBeInstanceOf(TrainingJobError);
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(/^training job failed: train\.py exited with code 1\n/);
    expect(error.stderrTail.split('\n').pop()).toBe(
      'train.py: error: train/part-0.csv line 1 has 4 columns; expected 8 (label, group_id and num_features=6 features)',
    );
  });

  test('refuses a missing entry point and a used work dir before running anything', async () => {
    await expect(
      runTrainingJob({ sourceDir: RECOMMENDER_SOURCE, entryPoint: 'nope.py', channels: {}, workDir: root }),
    ).rejects.toThrow(/entryPoint nope\.py is not in sourceDir/);
    await expect(
      runTrainingJob({ sourceDir: RECOMMENDER_SOURCE, entryPoint: 'train.py', channels: {}, workDir: root }),
    ).rejects.toThrow(/is not empty; each training job needs a fresh folder/);
  });

  test('stops a job that exceeds its maximum runtime', async () => {
    const source = path.join(root, 'slow-src');
    mkdirSync(source, { recursive: true });
    writeFileSync(path.join(source, 'slow.py'), 'import time\ntime.sleep(60)\n');
    const run = runTrainingJob({
      sourceDir: source,
      entryPoint: 'slow.py',
      channels: {},
      workDir: path.join(root, 'slow-job'),
      maxRuntimeSeconds: 1,
    });
    await expect(run).rejects.toThrow(/MaxRuntimeExceeded: stopped after 1 s/);
  });
});
