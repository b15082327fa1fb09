/**
 * Training recipes: which AWS-published SageMaker image trains (and serves) a built-in algorithm, on which
 * instances, with which input format, hyperparameters and metric definitions. Resolved at synth time, offline: the
 * ECR registry accounts of the built-in algorithms are public data, committed below. Each case study names its
 * algorithm (`lib/case-studies/<name>/`).
 */
import type * as iam from 'aws-cdk-lib/aws-iam';
import { instanceTypeInfo } from '../config/instance-types';

/**
 * ECR registry account of the built-in algorithm images per region.
 * Source: aws/sagemaker-python-sdk, `src/sagemaker/image_uri_config/xgboost.json` (versions 1.0-1 … 1.7-1,
 * repository `sagemaker-xgboost`) and `image-classification.json` (version 1, repository `image-classification`),
 * read 2026-11; the same accounts are listed in the SageMaker Developer Guide, "Docker Registry Paths and Example
 * Code". Add a region here to deploy there.
 */
export const ALGORITHM_REGISTRIES: Readonly<
  Record<'xgboost' | 'image-classification', Readonly<Record<string, string>>>
> = {
  xgboost: {
    'us-east-1': '683313688378',
    'us-east-2': '257758044811',
    'us-west-1': '746614075791',
    'us-west-2': '246618743249',
    'ca-central-1': '341280168497',
    'eu-west-1': '141502667606',
    'eu-west-2': '764974769150',
    'eu-west-3': '659782779980',
    'eu-central-1': '492215442770',
    'eu-north-1': '662702820516',
    'ap-northeast-1': '354813040037',
    'ap-northeast-2': '366743142698',
    'ap-south-1': '720646828776',
    'ap-southeast-1': '121021644041',
    'ap-southeast-2': '783357654285',
    'sa-east-1': '737474898029',
  },
  'image-classification': {
    'us-east-1': '811284229777',
    'us-east-2': '825641698319',
    'us-west-1': '632365934929',
    'us-west-2': '433757028032',
    'ca-central-1': '469771592824',
    'eu-west-1': '685385470294',
    'eu-west-2': '644912444149',
    'eu-west-3': '749696950732',
    'eu-central-1': '813361260812',
    'eu-north-1': '669576153137',
    'ap-northeast-1': '501404015308',
    'ap-northeast-2': '306986355934',
    'ap-south-1': '991648021394',
    'ap-southeast-1': '475088953585',
    'ap-southeast-2': '544295431143',
    'sa-east-1': '855470959533',
  },
};

/** Image versions used: XGBoost 1.7-1 (GPU training with `tree_method=gpu_hist`), image classification 1. */
export const ALGORITHM_IMAGES = {
  xgboost: { repository: 'sagemaker-xgboost', tag: '1.7-1' },
  'image-classification': { repository: 'image-classification', tag: '1' },
} as const;

/** A built-in algorithm the blueprint trains with. */
export type BuiltInAlgorithm = keyof typeof ALGORITHM_IMAGES;

/**
 * GPU instance families each algorithm can train on. Source: SageMaker Developer Guide, "EC2 Instance
 * Recommendation for the XGBoost Algorithm" (P2, P3, G4dn, G5; CPU families use `hist`) and "Image Classification
 * – MXNet", instance recommendation (P2, P3, G4dn, G5; training needs a GPU).
 */
const GPU_FAMILIES: Readonly<Record<BuiltInAlgorithm, readonly string[]>> = {
  xgboost: ['p2', 'p3', 'g4dn', 'g5'],
  'image-classification': ['p2', 'p3', 'g4dn', 'g5'],
};

/**
 * Instance families with local NVMe instance storage. SageMaker rejects a volume KMS key for them (the instance store
 * is encrypted by the hardware), so neither training `VolumeKmsKeyId` nor endpoint-config `KmsKeyId` is set there.
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/host-instance-storage.html
 */
const INSTANCE_STORE_FAMILIES = ['g4dn', 'g5', 'g6', 'p3dn', 'p4d', 'p5', 'm5d', 'c5d', 'r5d'];

/** The family of an `ml.<family>.<size>` instance type. */
export function instanceFamily(instanceType: string): string {
  return instanceType.split('.')[1] ?? '';
}

/** Whether the instance type has local instance storage (no volume KMS key allowed). */
export function hasInstanceStorage(instanceType: string): boolean {
  return INSTANCE_STORE_FAMILIES.includes(instanceFamily(instanceType));
}

/** One input channel of the training job. */
export interface RecipeChannel {
  readonly name: 'train' | 'validation';
  /** `S3Prefix` (a folder of files) or `AugmentedManifestFile` (JSON lines pointing at images). */
  readonly s3DataType: 'S3Prefix' | 'AugmentedManifestFile';
  readonly contentType: string;
  /** Attributes read from each manifest line (augmented manifests only). */
  readonly attributeNames?: readonly string[];
  /** `RecordIO` wraps each manifest record (required by image classification in Pipe mode). */
  readonly recordWrapperType?: 'RecordIO';
}

/** Everything the retraining loop needs to train and serve one model. */
export interface TrainingRecipe {
  /** The built-in algorithm, or the framework of a script-mode recipe (e.g. `pytorch`). */
  readonly algorithm: BuiltInAlgorithm | 'pytorch';
  /** Training image URI (also the inference image of the built-in algorithms). */
  readonly image: string;
  /** Inference image URI, when it is not the training image (framework containers). @default `image` */
  readonly inferenceImage?: string;
  /** Environment of the model's container (e.g. `SAGEMAKER_PROGRAM` of a script-mode model). @default none */
  readonly modelEnvironment?: Readonly<Record<string, string>>;
  /**
   * JSONPath of the training job's `InputDataConfig`, written by the dataset states (channels that depend on the
   * run, such as the champion to fine-tune from). @default the recipe's `channels` on the dataset's train and
   * validation URIs
   */
  readonly inputDataConfigPath?: string;
  /** ECR repository ARN of the inference image, when it differs from the training image's. @default none */
  readonly inferenceRepositoryArn?: string;
  /** Script mode: the source archive's input channel (`sagemaker_submit_directory` points into it). @default none */
  readonly sourceChannel?: { readonly name: string; readonly s3Url: string };
  /** Lets the SageMaker role read what the recipe brings besides datasets (e.g. the training code's asset). */
  grantRead?(grantee: iam.IGrantable): void;
  /** Whether the image comes from the config override rather than the AWS-published default. */
  readonly imageOverridden: boolean;
  readonly inputMode: 'File' | 'Pipe';
  readonly channels: readonly RecipeChannel[];
  /** Static hyperparameters (defaults merged with config overrides). */
  readonly hyperparameters: Readonly<Record<string, string>>;
  /** Regexes over the training log, so the job reports metrics evaluation can read. */
  readonly metricDefinitions: ReadonlyArray<{ readonly name: string; readonly regex: string }>;
  /** Content types the model accepts and returns (model registry). */
  readonly contentTypes: readonly string[];
  readonly responseTypes: readonly string[];
  /** ECR repository ARN of the image, for the SageMaker role's pull permissions. */
  readonly repositoryArn: string;
}

/** What a recipe is resolved from. */
export interface AlgorithmRecipeOptions {
  readonly algorithm: BuiltInAlgorithm;
  readonly region: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  /** Training image override. @default the AWS-published image of the algorithm */
  readonly image?: string;
  /** Hyperparameter overrides. @default none */
  readonly hyperparameters?: Readonly<Record<string, string>>;
}

/** The AWS-published image URI of an algorithm in a region; unknown regions fail with the supported list. */
export function algorithmImageUri(algorithm: BuiltInAlgorithm, region: string): string {
  const registries = ALGORITHM_REGISTRIES[algorithm];
  const account = registries[region];
  if (!account) {
    throw new Error(
      `no ${algorithm} training image is known for region "${region}"; supported regions: ${Object.keys(registries).join(', ')}. ` +
        'Add the region to ALGORITHM_REGISTRIES (lib/retraining/training-recipe.ts) or set training.image.',
    );
  }
  const { repository, tag } = ALGORITHM_IMAGES[algorithm];
  const suffix = region.startsWith('cn-') ? '.cn' : '';
  return `${account}.dkr.ecr.${region}.amazonaws.com${suffix}/${repository}:${tag}`;
}

/** ARN of the ECR repository of an image URI. */
export function repositoryArnOf(image: string): string {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(image);
  if (!m) throw new Error(`training image must be an ECR image URI; received "${image}"`);
  const partition = m[2].startsWith('cn-') ? 'aws-cn' : m[2].startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:ecr:${m[2]}:${m[1]}:repository/${m[3]}`;
}

/**
 * Resolves the recipe of a built-in algorithm: image for the region, compatible instance type, channels,
 * hyperparameters and metric definitions.
 * @throws when the region has no known image or the instance type cannot run the algorithm
 */
export function resolveAlgorithmRecipe(options: AlgorithmRecipeOptions): TrainingRecipe {
  const algorithm = options.algorithm;
  const info = instanceTypeInfo(options.instanceType);
  if (!info || !info.training) {
    throw new Error(`training.instanceType "${options.instanceType}" is not a known SageMaker training instance type`);
  }
  const family = instanceFamily(options.instanceType);
  const gpuFamilies = GPU_FAMILIES[algorithm];
  if (info.gpus > 0 && !gpuFamilies.includes(family)) {
    throw new Error(
      `training.instanceType "${options.instanceType}" cannot train ${algorithm}: the image supports the GPU families ` +
        `${gpuFamilies.map((f) => `ml.${f}.*`).join(', ')}; received family ${family}`,
    );
  }
  if (algorithm === 'image-classification' && info.gpus === 0 && !options.image) {
    throw new Error(
      `training.instanceType "${options.instanceType}" cannot train image-classification: it trains on GPU instances only ` +
        `(${gpuFamilies.map((f) => `ml.${f}.*`).join(', ')})`,
    );
  }
  const image = options.image ?? algorithmImageUri(algorithm, options.region);
  const overrides = options.hyperparameters ?? {};
  if (algorithm === 'xgboost') {
    const gpu = info.gpus > 0;
    return {
      algorithm,
      image,
      imageOverridden: options.image !== undefined,
      inputMode: 'File',
      channels: [
        { name: 'train', s3DataType: 'S3Prefix', contentType: 'application/x-parquet' },
        { name: 'validation', s3DataType: 'S3Prefix', contentType: 'application/x-parquet' },
      ],
      hyperparameters: {
        objective: 'binary:logistic',
        eval_metric: 'auc',
        num_round: '300',
        early_stopping_rounds: '20',
        max_depth: '8',
        eta: '0.1',
        subsample: '0.8',
        colsample_bytree: '0.8',
        // XGBoost 1.7: gpu_hist trains on the GPU; hist on CPU instances.
        tree_method: gpu ? 'gpu_hist' : 'hist',
        ...overrides,
      },
      metricDefinitions: [
        {
          name: 'validation:auc',
          regex: '.*\\[[0-9]+\\].*#011validation-auc:([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*',
        },
        { name: 'train:auc', regex: '.*\\[[0-9]+\\].*#011train-auc:([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*' },
        {
          name: 'validation:logloss',
          regex: '.*\\[[0-9]+\\].*#011validation-logloss:([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*',
        },
      ],
      contentTypes: ['text/csv'],
      responseTypes: ['text/csv'],
      repositoryArn: repositoryArnOf(image),
    };
  }
  return {
    algorithm,
    image,
    imageOverridden: options.image !== undefined,
    // Augmented manifests are streamed (Pipe mode, RecordIO-wrapped records).
    inputMode: 'Pipe',
    channels: ['train', 'validation'].map((name) => ({
      name: name as 'train' | 'validation',
      s3DataType: 'AugmentedManifestFile' as const,
      contentType: 'application/x-image',
      attributeNames: ['source-ref', 'class'],
      recordWrapperType: 'RecordIO' as const,
    })),
    hyperparameters: {
      // Transfer learning: start from ImageNet weights and fine-tune every layer.
      use_pretrained_model: '1',
      num_layers: '50',
      image_shape: '3,224,224',
      epochs: '15',
      learning_rate: '0.001',
      mini_batch_size: String(32 * Math.max(1, info.gpus) * options.instanceCount),
      augmentation_type: 'crop_color_transform',
      early_stopping: 'true',
      precision_dtype: 'float16',
      ...overrides,
    },
    metricDefinitions: [
      { name: 'validation:accuracy', regex: '.*Validation-accuracy=([0-9]*\\.?[0-9]+).*' },
      { name: 'train:accuracy', regex: '.*Train-accuracy=([0-9]*\\.?[0-9]+).*' },
    ],
    contentTypes: ['image/jpeg', 'image/png', 'application/x-image'],
    responseTypes: ['application/json'],
    repositoryArn: repositoryArnOf(image),
  };
}
