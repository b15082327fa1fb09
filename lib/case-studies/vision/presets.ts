import type { BlueprintConfigInput, StageName } from '../../config/schema';
import type { CaseStudySpec } from '../types';

/**
 * A first model must reach 50% accuracy (on the fixed test set, or its validation accuracy while the test set is
 * empty); a candidate must beat the champion on the test set by McNemar's test (`vision.promotion.alpha`) and by
 * half a point of accuracy.
 */
const VISION_RETRAINING = {
  metricName: 'validation:accuracy',
  metricDirection: 'maximize',
  minImprovement: 0.005,
  absoluteFloor: 0.5,
} as const;

/**
 * `models/vision/train.py` per stage: a ResNet-18 fine-tuned from torchvision's weights in the sandbox (the job
 * downloads them: no network isolation there); in production a ResNet-50 from weights uploaded to
 * `vision.pretrainedWeightsKey` (network isolation), on several GPUs with DDP.
 */
const VISION_TRAINING = {
  sandbox: { backbone: 'resnet18', pretrained: 'torchvision', epochs: '8' },
  production: { backbone: 'resnet50', pretrained: 'channel', epochs: '12' },
} as const;

/** Ingestion, review and serving of the vision system, per stage (`vision` in the config schema). */
const VISION_SETTINGS: Readonly<Record<StageName, NonNullable<BlueprintConfigInput['vision']>>> = {
  sandbox: {
    ingestion: {
      contentTypes: ['image/jpeg', 'image/png'],
      minBytes: 100,
      maxBytes: 5_242_880, // 5 MiB
      maxPixels: 25_000_000,
      knownSources: ['uploader', 'camera', 'simulator', 'ground-truth'],
      imagesPrefix: 'images/',
    },
    consumer: { batchSize: 10, maxBatchingWindowSeconds: 5, retryAttempts: 3, maxRecordAgeHours: 6 },
    review: {
      confidenceThreshold: 0.6,
      manifestBatchSize: 100,
      manifestBatchingWindowSeconds: 300,
      maxReceiveCount: 5,
      labelAttribute: 'vision-review',
    },
    activeLearning: { dailyBudget: 200, auditShare: 0.02, uncertainty: 'margin' },
    promotion: { alpha: 0.05 },
    serving: {
      scaleToZero: true,
      acceleratorsPerCopy: 1,
      memoryPerCopyMiB: 8192,
      targetConcurrentRequestsPerCopy: 4,
      idleMinutesBeforeScaleIn: 15,
      captureEmbeddings: false,
    },
  },
  production: {
    ingestion: {
      contentTypes: ['image/jpeg', 'image/png'],
      minBytes: 1024,
      maxBytes: 6_291_456, // 6 MiB: the InvokeEndpoint payload limit
      maxPixels: 50_000_000,
      knownSources: ['uploader', 'camera', 'ground-truth'],
      imagesPrefix: 'images/',
    },
    consumer: { batchSize: 50, maxBatchingWindowSeconds: 2, retryAttempts: 10, maxRecordAgeHours: 24 },
    review: {
      confidenceThreshold: 0.7,
      manifestBatchSize: 1000,
      manifestBatchingWindowSeconds: 300,
      maxReceiveCount: 5,
      labelAttribute: 'vision-review',
    },
    activeLearning: { dailyBudget: 5000, auditShare: 0.02, uncertainty: 'margin' },
    promotion: { alpha: 0.05 },
    pretrainedWeightsKey: 'models/pretrained/resnet50-imagenet.pth',
    serving: {
      scaleToZero: false,
      acceleratorsPerCopy: 1,
      memoryPerCopyMiB: 12288,
      targetConcurrentRequestsPerCopy: 8,
      idleMinutesBeforeScaleIn: 15,
      captureEmbeddings: false,
    },
  },
};

/**
 * Realised accuracy comes from audit labels: a few percent of predictions, labelled by two reviewers after the
 * daily review run. Quality is therefore judged per day, two days after the day ends, against the preceding two
 * weeks when there is no quality reference of a replaced model.
 */
const VISION_QUALITY = {
  sandbox: { windowMinutes: 1440, settleMinutes: 2880, minSamples: 50, referenceWindows: 14 },
  production: { windowMinutes: 1440, settleMinutes: 2880, minSamples: 1000, referenceWindows: 14 },
} as const;

/** The vision system's settings that differ from the stage presets. */
export const VISION_PRESETS: CaseStudySpec['presets'] = {
  sandbox: {
    ingestion: { traffic: { peakEventsPerSecond: 5, averageEventSizeBytes: 400 } },
    training: { instanceType: 'ml.g4dn.xlarge', hyperparameters: VISION_TRAINING.sandbox },
    retraining: VISION_RETRAINING,
    // Scales to zero when idle: a GPU endpoint costs nothing in a quiet sandbox.
    serving: { instanceType: 'ml.g4dn.xlarge', initialInstanceCount: 1, minCapacity: 0, maxCapacity: 1 },
    vision: VISION_SETTINGS.sandbox,
    drift: { quality: VISION_QUALITY.sandbox },
  },
  production: {
    // 2M images a day with a 3× peak hour: about 70 arrival events per second.
    ingestion: { traffic: { peakEventsPerSecond: 70, averageEventSizeBytes: 400 } },
    // Two GPU instances: train.py runs under torchrun (DDP), images streamed from S3 (FastFile).
    training: { instanceType: 'ml.g5.2xlarge', instanceCount: 2, hyperparameters: VISION_TRAINING.production },
    retraining: VISION_RETRAINING,
    serving: { instanceType: 'ml.g5.xlarge', initialInstanceCount: 1, minCapacity: 1, maxCapacity: 8 },
    vision: VISION_SETTINGS.production,
    drift: { quality: VISION_QUALITY.production },
  },
};
