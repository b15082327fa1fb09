import type { BlueprintConfigInput, StageName } from '../../config/schema';
import type { CaseStudySpec } from '../types';

/** Classification is judged on validation accuracy (top-1) as the built-in algorithm reports it. */
const VISION_RETRAINING = {
  metricName: 'validation:accuracy',
  metricDirection: 'maximize',
  minImprovement: 0.005,
  absoluteFloor: 0.5,
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

/** The vision system's settings that differ from the stage presets. */
export const VISION_PRESETS: CaseStudySpec['presets'] = {
  sandbox: {
    ingestion: { traffic: { peakEventsPerSecond: 5, averageEventSizeBytes: 400 } },
    training: { instanceType: 'ml.g4dn.xlarge' },
    retraining: VISION_RETRAINING,
    // Scales to zero when idle: a GPU endpoint costs nothing in a quiet sandbox.
    serving: { instanceType: 'ml.g4dn.xlarge', initialInstanceCount: 1, minCapacity: 0, maxCapacity: 1 },
    vision: VISION_SETTINGS.sandbox,
  },
  production: {
    // 2M images a day with a 3× peak hour: about 70 arrival events per second.
    ingestion: { traffic: { peakEventsPerSecond: 70, averageEventSizeBytes: 400 } },
    training: { instanceType: 'ml.g5.2xlarge', instanceCount: 2 },
    retraining: VISION_RETRAINING,
    serving: { instanceType: 'ml.g5.xlarge', initialInstanceCount: 1, minCapacity: 1, maxCapacity: 8 },
    vision: VISION_SETTINGS.production,
  },
};
