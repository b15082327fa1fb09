/**
 * The vision system's part of the retraining loop: only labelled images count as new data; the dataset is one
 * label per image (by source precedence) selected with Athena, turned into augmented manifests by a Lambda; both
 * models are scored on the validation images by batch transform; the drift baseline is the image statistics of the
 * validation images.
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../../../core/vision/image-stats';
import { labelledImagesQuery } from '../../../core/vision/sql';
import { BlueprintFunction } from '../../constructs/blueprint-function';
import { acknowledgeBucketGrants } from '../../nag';
import type { DatasetContext, DatasetStates, LoopCaseStudy } from '../../retraining/case-study';
import type { RetrainingLoopProps } from '../../retraining/props';

/** At most this many validation images are decoded for the drift baseline (one Lambda run). */
const BASELINE_MAX_IMAGES = 5000;

/** Where the images are and which of them the baseline reads. */
export interface VisionRetrainingSettings {
  /** Prefix of the images the events point at (in the raw bucket). @default 'images/' */
  readonly imagesPrefix?: string;
  /** Bounds of the images the baseline reads (as the image consumer's). @default DEFAULT_IMAGE_LIMITS */
  readonly imageLimits?: ImageLimits;
}

/** The vision system's dataset, scoring and baseline. */
export function visionRetraining(settings: VisionRetrainingSettings = {}): LoopCaseStudy {
  const imagesPrefix = settings.imagesPrefix ?? 'images/';
  const limits = settings.imageLimits ?? DEFAULT_IMAGE_LIMITS;
  return {
    newRecordCondition: ' AND label IS NOT NULL',
    rawInputPrefixes: [imagesPrefix],
    scoring: {
      transformInput: {
        DataSource: { S3DataSource: { S3DataType: 'ManifestFile', 'S3Uri.$': '$.dataset.scoringManifestUri' } },
        ContentType: 'application/x-image',
        SplitType: 'None',
      },
      accept: 'application/json',
      source: (outputUri) => ({
        kind: 'vision',
        outputUri,
        manifestUri: sfn.JsonPath.stringAt('$.dataset.validationUri'),
        imagePrefixUri: sfn.JsonPath.stringAt('$.dataset.imagePrefixUri'),
      }),
    },
    // Image statistics of the validation images, decoded one at a time.
    baselineFunction: (endpointName) => ({
      handlerDir: 'vision-baseline',
      description: `Refreshes the image drift baseline of ${endpointName}`,
      timeout: Duration.minutes(15),
      memorySize: 1769,
      environment: { MAX_IMAGE_BYTES: String(limits.maxBytes), MAX_IMAGE_PIXELS: String(limits.maxPixels) },
    }),
    buildDataset,
    baselinePayload: (props: RetrainingLoopProps) => ({
      sourceUri: sfn.JsonPath.stringAt('$.dataset.validationUri'),
      artifactsBucket: props.artifactsBucket.bucketName,
      endpointName: props.endpointName,
      datasetId: sfn.JsonPath.stringAt('$.run.datasetId'),
      // Each image is fetched and decoded: bounded so the refresh fits the 15-minute Lambda limit.
      maxImages: BASELINE_MAX_IMAGES,
    }),
  };
}

/** `SelectLabelledImages` → `BuildManifests` (train/validation augmented manifests and the class count). */
function buildDataset(c: DatasetContext): DatasetStates {
  const { props, states } = c;
  const manifestsFn = new BlueprintFunction(c.loop, 'ManifestsFunction', {
    handlerDir: 'retraining-manifests',
    description: `Builds training manifests for ${props.endpointName}`,
    encryptionKey: props.opsKey,
    timeout: Duration.minutes(5),
    memorySize: 1024,
  });
  props.curatedBucket.grantRead(manifestsFn, 'athena-results/*');
  props.curatedBucket.grantPut(manifestsFn, 'datasets/*');
  acknowledgeBucketGrants(manifestsFn.role!.node.findChild('DefaultPolicy'), [
    { bucket: props.curatedBucket, prefixes: ['athena-results/', 'datasets/'], write: 'put', encrypted: true },
  ]);
  const select = states.athena(
    c.scope,
    'SelectLabelledImages',
    '$.labelledQuery',
    labelledImagesQuery(c.table, c.inWindow),
    '$.run.windowStart',
    '$.run.windowStart',
    '$.run.windowEnd',
  );
  const manifests = states.guard(
    new tasks.LambdaInvoke(c.scope, 'BuildManifests', {
      lambdaFunction: manifestsFn,
      payload: sfn.TaskInput.fromObject({
        queryResultUri: sfn.JsonPath.stringAt('$.labelledQuery.outputUri'),
        outputUri: c.datasetUri(''),
        imageBucket: props.rawBucket.bucketName,
        validationFraction: 0.1,
        hyperparameters: props.recipe.hyperparameters,
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath: '$.dataset',
    }),
  );
  select.next(manifests);
  return { start: select, end: manifests, functions: { manifests: manifestsFn } };
}
