/**
 * The recommender's training recipe: `models/recommender/` run in script mode by the AWS-published SageMaker
 * XGBoost framework container 1.7-1 (the same image as the built-in algorithm; xgboost 1.7.4, as Debian's
 * `python3-xgboost` that runs it locally), resolved offline at synth time.
 *
 * - Training: entry point `train.py` (`sagemaker_program`) from the source archive (the `code` channel, see
 *   `ScriptModeSource`; the container's sagemaker-containers extracts a local tar given as
 *   `sagemaker_submit_directory`); channels `train` and `validation` (headerless CSV `label,group_id,<features>`
 *   written by the dataset's `UNLOAD`), chosen per run by the dataset states (`$.dataset.channels`). Objective
 *   `rank:ndcg` grouped by request, early stopping on the validation channel's `ndcg@10`; `tree_method` `auto` is
 *   `gpu_hist` on GPU instances. Several instances train with the container's Rabit (`ShardedByS3Key`: each
 *   instance reads whole shard files; a request never spans shards, `sql.ts`).
 * - Serving: the model archive carries `code/inference.py`; the model sets `SAGEMAKER_PROGRAM=inference.py` and
 *   `SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code` (the container loads a user module only then).
 */
import * as path from 'node:path';
import type { Construct } from 'constructs';
import { FEATURE_VERSION, NUM_FEATURES } from '../../../core/recommender/contract';
import { instanceTypeInfo } from '../../config/instance-types';
import { PROJECT_ROOT } from '../../constructs/blueprint-function';
import { ScriptModeSource } from '../../constructs/script-mode-source';
import {
  algorithmImageUri,
  instanceFamily,
  repositoryArnOf,
  type TrainingRecipe,
} from '../../retraining/training-recipe';

/** The ranker's defaults (the model README documents each). */
export const RECOMMENDER_HYPERPARAMETERS: Readonly<Record<string, string>> = {
  objective: 'rank:ndcg',
  eval_metric: 'ndcg@10',
  num_round: '300',
  early_stopping_rounds: '20',
  max_depth: '6',
  eta: '0.1',
  subsample: '0.8',
  colsample_bytree: '0.8',
  min_child_weight: '1',
  tree_method: 'auto',
  seed: '1',
};

/** GPU families the XGBoost 1.7-1 container trains on (`gpu_hist`); CPU families train with `hist`. */
const GPU_FAMILIES = ['p2', 'p3', 'g4dn', 'g5'];

/** What the recommender recipe is resolved from. */
export interface RecommenderRecipeOptions {
  readonly region: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  /** Training (and serving) image override. @default the XGBoost 1.7-1 image of the region */
  readonly image?: string;
  /** Overrides merged over {@link RECOMMENDER_HYPERPARAMETERS}. */
  readonly hyperparameters?: Readonly<Record<string, string>>;
}

/** Resolves the recipe and adds the source archive (an asset) to `scope`. */
export function recommenderRecipe(scope: Construct, options: RecommenderRecipeOptions): TrainingRecipe {
  const info = instanceTypeInfo(options.instanceType);
  if (!info || !info.training) {
    throw new Error(`training.instanceType "${options.instanceType}" is not a known SageMaker training instance type`);
  }
  const family = instanceFamily(options.instanceType);
  if (info.gpus > 0 && !GPU_FAMILIES.includes(family)) {
    throw new Error(
      `training.instanceType "${options.instanceType}" cannot train xgboost: the image supports the GPU families ` +
        `${GPU_FAMILIES.map((f) => `ml.${f}.*`).join(', ')}; received family ${family}`,
    );
  }
  const source = new ScriptModeSource(scope, 'RecommenderModelSource', {
    directory: path.join(PROJECT_ROOT, 'models', 'recommender'),
  });
  const image = options.image ?? algorithmImageUri('xgboost', options.region);
  const number = '([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)';
  return {
    algorithm: 'xgboost',
    image,
    imageOverridden: options.image !== undefined,
    inputMode: 'File',
    channels: [],
    inputDataConfigPath: '$.dataset.channels',
    hyperparameters: {
      ...RECOMMENDER_HYPERPARAMETERS,
      ...options.hyperparameters,
      // The contract is the dataset's, not a tunable (the dataset states add the negative sampling rate).
      num_features: String(NUM_FEATURES),
      feature_version: String(FEATURE_VERSION),
      sagemaker_program: 'train.py',
      sagemaker_submit_directory: source.submitDirectory,
    },
    // train.py logs each round (`train-ndcg@10:… validation-ndcg@10:…`) and, last, the best round's value.
    metricDefinitions: [
      { name: 'validation:ndcg@10', regex: `best iteration [0-9]+, validation ndcg@10 ${number}` },
      { name: 'train:ndcg@10', regex: `train-ndcg@10:${number}` },
    ],
    modelEnvironment: { SAGEMAKER_PROGRAM: 'inference.py', SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code' },
    contentTypes: ['text/csv'],
    responseTypes: ['application/json', 'text/csv'],
    repositoryArn: repositoryArnOf(image),
    sourceChannel: { name: source.channelName, s3Url: source.s3Url },
    grantRead: (grantee) => source.grantRead(grantee),
  };
}
