/**
 * The vision model's training recipe: `models/vision/` run in script mode by the AWS-published SageMaker PyTorch
 * framework containers (Deep Learning Containers), training and inference images per region, resolved offline at
 * synth time from committed registry data.
 *
 * - Training: `pytorch-training:<version>-<gpu|cpu>-<py>`, entry point `train.py` from the source archive (the `code`
 *   channel, see `ScriptModeSource`); channels `images` (FastFile: images are streamed from S3 by key, not copied),
 *   `manifests`, and, when there is one, `champion` (fine-tuning) or `pretrained` (weights for network isolation),
 *   chosen per run by the dataset step (`$.dataset.channels`). Several GPUs (or instances) train with PyTorch DDP
 *   through the container's `torch_distributed` launcher (torchrun).
 * - Serving: `pytorch-inference:<version>-<gpu|cpu>-<py>`; the model archive carries `code/inference.py`
 *   (`SAGEMAKER_PROGRAM`).
 *
 * Versions: PyTorch 2.6.0, Python 3.12: the newest version with both a training and an inference image in the
 * SageMaker Python SDK's `image_uri_config/pytorch.json` (read 2026-08 from aws/sagemaker-python-sdk,
 * `sagemaker-core/src/sagemaker/core/image_uri_config/pytorch.json`; training goes up to 2.8.0, inference to 2.6.0).
 * The tag is the SDK's `image_uris.retrieve` format, `<version>-<processor>-<py>` (`_format_tag`). Not verified
 * here (no AWS account): that the tag resolves in each region's ECR; the SDK lists the same account for both images.
 */
import { instanceTypeInfo } from '../../config/instance-types';
import { ScriptModeSource } from '../../constructs/script-mode-source';
import { PROJECT_ROOT } from '../../constructs/blueprint-function';
import { repositoryArnOf, type TrainingRecipe } from '../../retraining/training-recipe';
import * as path from 'node:path';
import type { Construct } from 'constructs';

/** The framework containers used. */
export const PYTORCH_CONTAINERS = { version: '2.6.0', python: 'py312' } as const;

/**
 * ECR registry account of the PyTorch training and inference images (2.6.0) per region.
 * Source: aws/sagemaker-python-sdk `image_uri_config/pytorch.json` (`training` and `inference`, version 2.6.0, the
 * same accounts), read 2026-08.
 */
export const PYTORCH_REGISTRIES: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-east-2': '975050140332',
  'ap-northeast-1': '763104351884',
  'ap-northeast-2': '763104351884',
  'ap-northeast-3': '364406365360',
  'ap-south-1': '763104351884',
  'ap-south-2': '772153158452',
  'ap-southeast-1': '763104351884',
  'ap-southeast-2': '763104351884',
  'ap-southeast-3': '907027046896',
  'ap-southeast-4': '457447274322',
  'ap-southeast-5': '550225433462',
  'ap-southeast-6': '633930458069',
  'ap-southeast-7': '590183813437',
  'ca-central-1': '763104351884',
  'ca-west-1': '204538143572',
  'cn-north-1': '727897471807',
  'cn-northwest-1': '727897471807',
  'eu-central-1': '763104351884',
  'eu-central-2': '380420809688',
  'eu-north-1': '763104351884',
  'eu-south-1': '692866216735',
  'eu-south-2': '503227376785',
  'eu-west-1': '763104351884',
  'eu-west-2': '763104351884',
  'eu-west-3': '763104351884',
  'il-central-1': '780543022126',
  'me-central-1': '914824155844',
  'me-south-1': '217643126080',
  'mx-central-1': '637423239942',
  'sa-east-1': '763104351884',
  'us-east-1': '763104351884',
  'us-east-2': '763104351884',
  'us-gov-east-1': '446045086412',
  'us-gov-west-1': '442386744353',
  'us-west-1': '763104351884',
  'us-west-2': '763104351884',
};

/** The AWS-published PyTorch image of a scope for an instance type (GPU or CPU build) in a region. */
export function pytorchImageUri(scope: 'training' | 'inference', region: string, instanceType: string): string {
  const account = PYTORCH_REGISTRIES[region];
  if (!account) {
    throw new Error(
      `no PyTorch ${scope} image is known for region "${region}"; supported regions: ${Object.keys(PYTORCH_REGISTRIES).join(', ')}. ` +
        'Add the region to PYTORCH_REGISTRIES (lib/case-studies/vision/recipe.ts) or set training.image and training.inferenceImage.',
    );
  }
  const gpus = instanceTypeInfo(instanceType)?.gpus ?? 0;
  const { version, python } = PYTORCH_CONTAINERS;
  const suffix = region.startsWith('cn-') ? '.cn' : '';
  return `${account}.dkr.ecr.${region}.amazonaws.com${suffix}/pytorch-${scope}:${version}-${gpus > 0 ? 'gpu' : 'cpu'}-${python}`;
}

/**
 * Hyperparameters of `models/vision/train.py` (see its README) when the stage sets none: ResNet-50 fine-tuned from
 * torchvision's ImageNet weights, a 128-float embedding (a fixed projection: small enough for MMD, recorded with the
 * model), the top 3 classes in each answer (what the reviewers' page shows).
 */
export const VISION_HYPERPARAMETERS: Readonly<Record<string, string>> = {
  backbone: 'resnet50',
  pretrained: 'torchvision',
  image_size: '224',
  epochs: '10',
  batch_size: '32',
  lr: '0.0003',
  patience: '3',
  embedding_dim: '128',
  top_k: '3',
  seed: '42',
};

/** What the vision recipe is resolved from. */
export interface VisionRecipeOptions {
  readonly region: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  /** Instance type of the endpoint and of batch transform (the inference image's build). */
  readonly servingInstanceType: string;
  /** Training image override. @default the PyTorch training image of the region */
  readonly image?: string;
  /** Inference image override. @default the PyTorch inference image of the region */
  readonly inferenceImage?: string;
  /** Overrides merged over {@link VISION_HYPERPARAMETERS}. */
  readonly hyperparameters?: Readonly<Record<string, string>>;
}

/** Resolves the recipe and adds the source archive (an asset) to `scope`. */
export function visionRecipe(scope: Construct, options: VisionRecipeOptions): TrainingRecipe {
  const info = instanceTypeInfo(options.instanceType);
  if (!info || !info.training) {
    throw new Error(`training.instanceType "${options.instanceType}" is not a known SageMaker training instance type`);
  }
  const source = new ScriptModeSource(scope, 'VisionModelSource', {
    directory: path.join(PROJECT_ROOT, 'models', 'vision'),
  });
  const image = options.image ?? pytorchImageUri('training', options.region, options.instanceType);
  const inferenceImage =
    options.inferenceImage ?? pytorchImageUri('inference', options.region, options.servingInstanceType);
  const processes = Math.max(1, info.gpus) * options.instanceCount;
  const hyperparameters: Record<string, string> = {
    ...VISION_HYPERPARAMETERS,
    ...options.hyperparameters,
    sagemaker_program: 'train.py',
    sagemaker_submit_directory: source.submitDirectory,
    sagemaker_region: options.region,
    // More than one GPU in the job: the toolkit launches train.py with torchrun, one process per GPU (DDP).
    ...(processes > 1
      ? { sagemaker_torch_distributed_enabled: 'true', sagemaker_instance_type: options.instanceType }
      : {}),
  };
  return {
    algorithm: 'pytorch',
    image,
    inferenceImage,
    imageOverridden: options.image !== undefined,
    inputMode: 'File',
    channels: [],
    inputDataConfigPath: '$.dataset.channels',
    hyperparameters,
    // train.py logs `epoch=… val_accuracy=…` per epoch and `best_epoch=… val_accuracy=…` last: the final value is
    // the best epoch's.
    metricDefinitions: [
      { name: 'validation:accuracy', regex: 'val_accuracy=([0-9.]+)' },
      { name: 'validation:loss', regex: 'val_loss=([0-9.]+)' },
      { name: 'train:loss', regex: 'train_loss=([0-9.]+)' },
    ],
    modelEnvironment: { SAGEMAKER_PROGRAM: 'inference.py' },
    contentTypes: ['application/x-image', 'image/jpeg', 'image/png'],
    responseTypes: ['application/json'],
    repositoryArn: repositoryArnOf(image),
    inferenceRepositoryArn: repositoryArnOf(inferenceImage),
    sourceChannel: { name: source.channelName, s3Url: source.s3Url },
    grantRead: (grantee) => source.grantRead(grantee),
  };
}
