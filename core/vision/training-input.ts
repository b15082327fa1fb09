/**
 * The retraining loop's vision dataset step: builds the dataset that remembers (`dataset.ts`) and says how this
 * run trains on it: the training job's input channels (`images` streamed with FastFile, `manifests`, the source
 * archive, and the champion to fine-tune from, or pretrained weights for a first model) and its hyperparameters,
 * plus where evaluation reads each model's class map and writes its report. Pure logic over the object store port.
 */
import type { ObjectStore } from '../storage/object-store';
import { buildVisionDataset, type VisionDataset, type VisionDatasetInput } from './dataset';

/** The champion as the loop found it (`$.champion`). */
export interface ChampionRef {
  readonly found: boolean;
  /** The package's metadata: the loop stamps `datasetId` and `trainingJobName` on every package. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What the dataset step receives. */
export interface VisionTrainingInputRequest extends Omit<VisionDatasetInput, 'championClassesUri'> {
  readonly champion: ChampionRef;
  /** The curated bucket (datasets, where the champion's `classes.json` is). */
  readonly curatedBucket: string;
  /** `s3://<artifacts>/models/`: where training jobs write `<job>/output/model.tar.gz`. */
  readonly modelsUri: string;
  /** The recipe's hyperparameters (with the `sagemaker_*` entries of script mode). */
  readonly hyperparameters: Readonly<Record<string, string>>;
  /** The source archive's channel (script mode). */
  readonly code?: { readonly name: string; readonly s3Url: string };
  /** Pretrained backbone weights for a first model (`pretrained=channel`). */
  readonly pretrainedUri?: string;
}

/** One `InputDataConfig` entry of `CreateTrainingJob`. */
export interface TrainingChannel {
  readonly ChannelName: string;
  readonly InputMode: 'File' | 'FastFile';
  readonly ContentType?: string;
  readonly DataSource: {
    readonly S3DataSource: {
      readonly S3DataType: 'S3Prefix';
      readonly S3Uri: string;
      readonly S3DataDistributionType: 'FullyReplicated';
    };
  };
}

/** `$.dataset`: the dataset, its channels and hyperparameters, and evaluation's inputs. */
export interface VisionTrainingInput extends VisionDataset {
  readonly channels: TrainingChannel[];
  readonly hyperparameters: Record<string, string>;
  /** The champion's class map (null without a champion). */
  readonly championClassesUri: string | null;
  /** The champion's model archive, fine-tuned from (null without a champion). */
  readonly championModelUri: string | null;
  /** Where the evaluation report goes. */
  readonly reportUri: string;
}

const channel = (
  name: string,
  uri: string,
  mode: 'File' | 'FastFile' = 'File',
  contentType?: string,
): TrainingChannel => ({
  ChannelName: name,
  InputMode: mode,
  ...(contentType ? { ContentType: contentType } : {}),
  DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uri, S3DataDistributionType: 'FullyReplicated' } },
});

/** The champion's class map and model archive, from the metadata the loop stamps on its packages. */
export function championInputs(
  request: Pick<VisionTrainingInputRequest, 'champion' | 'curatedBucket' | 'modelsUri'>,
): { classesUri: string; modelUri: string } | undefined {
  if (!request.champion.found) return undefined;
  const m = request.champion.metadata ?? {};
  if (!m.datasetId || !m.trainingJobName) {
    throw new Error(
      `the champion's package has no datasetId or trainingJobName in its metadata (received ${JSON.stringify(Object.keys(m))}); the loop stamps both on every package it registers`,
    );
  }
  const models = request.modelsUri.endsWith('/') ? request.modelsUri : `${request.modelsUri}/`;
  return {
    classesUri: `s3://${request.curatedBucket}/datasets/${m.datasetId}/manifests/classes.json`,
    modelUri: `${models}${m.trainingJobName}/output/model.tar.gz`,
  };
}

/** Builds the dataset and this run's training inputs. */
export async function prepareVisionTraining(
  store: ObjectStore,
  request: VisionTrainingInputRequest,
): Promise<VisionTrainingInput> {
  const champion = championInputs(request);
  const { champion: _c, curatedBucket: _b, modelsUri: _m, hyperparameters, code, pretrainedUri, ...rest } = request;
  const dataset = await buildVisionDataset(store, {
    ...rest,
    ...(champion ? { championClassesUri: champion.classesUri } : {}),
  });
  const usesPretrainedChannel = hyperparameters.pretrained === 'channel';
  if (!champion && usesPretrainedChannel && !pretrainedUri) {
    throw new Error(
      'hyperparameter pretrained=channel needs pretrained weights (vision.pretrainedWeightsKey) for the first model',
    );
  }
  const channels = [
    // Opened by key from the manifests: streamed from S3 (FastFile), never copied or listed whole.
    channel('images', dataset.imagesUri, 'FastFile'),
    channel('manifests', dataset.manifestsUri, 'File', 'application/jsonlines'),
    ...(code ? [channel(code.name, code.s3Url)] : []),
    ...(champion ? [channel('champion', champion.modelUri)] : []),
    ...(!champion && usesPretrainedChannel && pretrainedUri ? [channel('pretrained', pretrainedUri)] : []),
  ];
  return {
    ...dataset,
    channels,
    hyperparameters: { ...hyperparameters },
    championClassesUri: champion?.classesUri ?? null,
    championModelUri: champion?.modelUri ?? null,
    reportUri: `${request.outputUri}evaluation.json`,
  };
}
