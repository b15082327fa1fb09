/**
 * The vision system's part of the retraining loop:
 * - new data: labelled images only;
 * - dataset: the window's labels (one per image by source precedence, Athena) merged into the label memory, the
 *   fixed human-verified test set, train/validation manifests in the model's channel contract, the champion's class
 *   map extended, and the training job's channels for this run (`lambdas/vision-dataset`, `core/vision/dataset.ts`);
 * - scoring: both models answer the test set (and the candidate a sample of validation images) by batch transform;
 * - promotion: McNemar's exact test on the test set and the minimum gain (`lambdas/vision-evaluate`,
 *   `core/vision/promotion.ts`), the report registered as the package's metrics;
 * - baseline: image statistics and the deployed candidate's own answers on the held-out sample.
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { BASELINE_TIME_FIELD, datasetLabelsQuery } from '../../../core/vision/dataset';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../../../core/vision/image-stats';
import { BlueprintFunction } from '../../constructs/blueprint-function';
import { acknowledgeBucketGrants } from '../../nag';
import type { DatasetContext, DatasetStates, LoopCaseStudy } from '../../retraining/case-study';
import type { RetrainingLoopProps } from '../../retraining/props';

/** At most this many held-out images are decoded for the drift baseline (one Lambda run). */
const BASELINE_MAX_IMAGES = 2000;
/** Share of the non-test images held out for validation. */
const VALIDATION_FRACTION = 0.1;
/** The label memory, in the curated bucket. */
export const LABEL_MEMORY_KEY = 'vision/memory/labels.jsonl';

/** What the vision dataset, evaluation and baseline are built with. */
export interface VisionRetrainingSettings {
  /** Prefix of the images the events point at (in the raw bucket). @default 'images/' */
  readonly imagesPrefix?: string;
  /** Bounds of the images the baseline reads (as the image consumer's). @default DEFAULT_IMAGE_LIMITS */
  readonly imageLimits?: ImageLimits;
  /** Level of McNemar's one-sided exact test. @default 0.05 */
  readonly alpha?: number;
  /** The audit draw (share and salt) whose human labels form the test set. @default 2%, 'audit-v1' */
  readonly audit?: { readonly share: number; readonly salt: string };
  /**
   * Key (in the artifacts bucket, under `models/`, which the SageMaker role reads) of the backbone's pretrained
   * weights: the `pretrained` channel of a first model with `pretrained=channel` (network isolation). @default none
   */
  readonly pretrainedWeightsKey?: string;
}

/** The vision system's dataset, scoring, promotion and baseline. */
export function visionRetraining(settings: VisionRetrainingSettings = {}): LoopCaseStudy {
  const imagesPrefix = settings.imagesPrefix ?? 'images/';
  const limits = settings.imageLimits ?? DEFAULT_IMAGE_LIMITS;
  const audit = settings.audit ?? { share: 0.02, salt: 'audit-v1' };
  return {
    newRecordCondition: ' AND label IS NOT NULL',
    rawInputPrefixes: [imagesPrefix],
    scoring: {
      // The test set and the baseline sample, in one manifest: both models answer the same images.
      transformInput: {
        DataSource: {
          S3DataSource: { S3DataType: 'ManifestFile', 'S3Uri.$': '$.dataset.candidateScoringManifestUri' },
        },
        ContentType: 'application/x-image',
        SplitType: 'None',
      },
      accept: 'application/json',
      alwaysScoreCandidate: true,
      source: (outputUri, model) => ({
        kind: 'vision-test-set',
        outputUri,
        testUri: sfn.JsonPath.stringAt('$.dataset.testUri'),
        // Each model is read through its own class map.
        classesUri: sfn.JsonPath.stringAt(
          model === 'candidate' ? '$.dataset.classesUri' : '$.dataset.championClassesUri',
        ),
        reportUri: sfn.JsonPath.stringAt('$.dataset.reportUri'),
      }),
    },
    evaluateFunction: (endpointName) => ({
      handlerDir: 'vision-evaluate',
      description: `Decides by McNemar's test on the fixed test set whether a candidate replaces ${endpointName}`,
      timeout: Duration.minutes(10),
      memorySize: 1024,
      environment: { PROMOTION_ALPHA: String(settings.alpha ?? 0.05) },
    }),
    modelMetrics: {
      ModelQuality: { Statistics: { ContentType: 'application/json', 'S3Uri.$': '$.evaluation.reportUri' } },
    },
    // Image statistics and the deployed model's answers on the held-out sample, decoded one at a time.
    baselineFunction: (endpointName) => ({
      handlerDir: 'vision-baseline',
      description: `Refreshes the image drift baseline of ${endpointName}`,
      timeout: Duration.minutes(15),
      memorySize: 1769,
      environment: { MAX_IMAGE_BYTES: String(limits.maxBytes), MAX_IMAGE_PIXELS: String(limits.maxPixels) },
    }),
    buildDataset: (c) => buildDataset(c, { imagesPrefix, audit, pretrainedWeightsKey: settings.pretrainedWeightsKey }),
    baselinePayload: (props: RetrainingLoopProps) => ({
      sourceUri: sfn.JsonPath.stringAt('$.dataset.baselineUri'),
      imagesUri: sfn.JsonPath.stringAt('$.dataset.imagesUri'),
      outputsUri: sfn.JsonPath.format(
        `s3://${props.curatedBucket.bucketName}/datasets/{}/scores/candidate/`,
        sfn.JsonPath.stringAt('$.run.datasetId'),
      ),
      artifactsBucket: props.artifactsBucket.bucketName,
      endpointName: props.endpointName,
      datasetId: sfn.JsonPath.stringAt('$.run.datasetId'),
      maxImages: BASELINE_MAX_IMAGES,
      // The sample's capture times: the profile keeps per-hour data for seasonal comparisons.
      timeField: BASELINE_TIME_FIELD,
    }),
  };
}

/** `SelectLabelledImages` → `BuildDataset` (memory, test set, manifests, class map, channels). */
function buildDataset(
  c: DatasetContext,
  s: {
    imagesPrefix: string;
    audit: { share: number; salt: string };
    pretrainedWeightsKey?: string;
  },
): DatasetStates {
  const { props, states } = c;
  const fn = new BlueprintFunction(c.loop, 'ManifestsFunction', {
    handlerDir: 'vision-dataset',
    description: `Builds the dataset of ${props.endpointName} (label memory, test set, manifests, channels)`,
    encryptionKey: props.opsKey,
    timeout: Duration.minutes(15),
    memorySize: 3008,
  });
  props.curatedBucket.grantRead(fn, 'athena-results/*');
  props.curatedBucket.grantReadWrite(fn, 'datasets/*');
  props.curatedBucket.grantReadWrite(fn, 'vision/memory/*');
  acknowledgeBucketGrants(fn.role!.node.findChild('DefaultPolicy'), [
    { bucket: props.curatedBucket, prefixes: ['athena-results/'], encrypted: true },
    { bucket: props.curatedBucket, prefixes: ['datasets/', 'vision/memory/'], write: 'read-write', encrypted: true },
  ]);
  const select = states.athena(
    c.scope,
    'SelectLabelledImages',
    '$.labelledQuery',
    datasetLabelsQuery(c.table, c.inWindow),
    '$.run.windowStart',
    '$.run.windowStart',
    '$.run.windowEnd',
  );
  const recipe = props.recipe;
  const build = states.guard(
    new tasks.LambdaInvoke(c.scope, 'BuildManifests', {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject({
        queryResultUri: sfn.JsonPath.stringAt('$.labelledQuery.outputUri'),
        outputUri: c.datasetUri(''),
        memoryUri: `s3://${props.curatedBucket.bucketName}/${LABEL_MEMORY_KEY}`,
        imagesUri: `s3://${props.rawBucket.bucketName}/${s.imagesPrefix}`,
        validationFraction: VALIDATION_FRACTION,
        audit: s.audit,
        maxBaselineImages: BASELINE_MAX_IMAGES,
        champion: sfn.JsonPath.objectAt('$.champion'),
        curatedBucket: props.curatedBucket.bucketName,
        modelsUri: `s3://${props.artifactsBucket.bucketName}/models/`,
        hyperparameters: recipe.hyperparameters,
        ...(recipe.sourceChannel ? { code: recipe.sourceChannel } : {}),
        ...(s.pretrainedWeightsKey
          ? { pretrainedUri: `s3://${props.artifactsBucket.bucketName}/${s.pretrainedWeightsKey}` }
          : {}),
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath: '$.dataset',
    }),
  );
  select.next(build);
  return { start: select, end: build, functions: { manifests: fn } };
}
