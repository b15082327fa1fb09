import type { DeepPartial } from '../case-studies/types';
import type { BlueprintConfigInput, StageName } from './schema';

/**
 * Stage presets. `sandbox` is for learning and experiments in a personal account: cheap, fast feedback,
 * destroyed with its data. `production` keeps data, is sized from a capacity plan and gates deployments.
 * Case studies override parts of these in `lib/case-studies/`; users override with `-c overrides=…`.
 */
export const STAGE_PRESETS: Readonly<Record<StageName, DeepPartial<BlueprintConfigInput>>> = {
  sandbox: {
    region: 'us-east-1',
    retainData: false,
    terminationProtection: false,
    ingestion: {
      // One provisioned shard (from the case studies' sandbox traffic) costs about a third of an on-demand stream's
      // hourly charge and runs the mode production runs; see docs/cost/sandbox.md.
      capacityMode: 'provisioned',
      traffic: { headroom: 1.5 },
      retentionHours: 24,
      firehose: { bufferIntervalSeconds: 60, bufferSizeMiB: 64 },
    },
    lake: {
      rawInfrequentAccessAfterDays: 30,
      rawExpireAfterDays: 90,
      curatedExpireAfterDays: 90,
      captureExpireAfterDays: 30,
      noncurrentVersionExpireAfterDays: 7,
      accessLogsExpireAfterDays: 30,
    },
    training: { instanceCount: 1, maxRuntimeHours: 2, useSpot: true, maxWaitHours: 4, volumeSizeGiB: 50 },
    serving: { dataCapturePercent: 100 },
    retraining: {
      minNewRecords: 1000,
      datasetDays: 30,
      approval: 'auto',
      approvalTimeoutHours: 24,
      canaryPercent: 50,
      canaryBakeMinutes: 5,
      deployTimeoutMinutes: 60,
      // Above the run's bounded waits (24 hours: spot training and its retry, scoring, three endpoint waits).
      lockTtlHours: 26,
      backoff: { baseHours: 6, factor: 2, maxHours: 96 },
    },
    drift: {
      scheduleMinutes: 60,
      minWindowSize: 200,
      alpha: 0.05,
      correction: 'bonferroni',
      driftedShareThreshold: 0.5,
      thresholds: { psi: 0.2, jensenShannon: 0.1, wassersteinNormalized: 0.1, cramersV: 0.1 },
      windowsRequired: 1,
      windowsConsidered: 1,
      cooldownHours: 1,
      settleMinutes: 5,
      seasonality: 'daily',
      late: { share: 0.1, horizonHours: 24 },
      quality: { settleMinutes: 60, relativeDrop: 0.1, minSamples: 200, referenceWindows: 24 },
      checkerMemoryMiB: 1769,
    },
  },
  production: {
    region: 'us-east-1',
    retainData: true,
    terminationProtection: true,
    ingestion: {
      capacityMode: 'provisioned',
      traffic: { headroom: 1.5 },
      retentionHours: 168,
      firehose: { bufferIntervalSeconds: 300, bufferSizeMiB: 128 },
    },
    lake: {
      rawInfrequentAccessAfterDays: 30,
      rawExpireAfterDays: 730,
      curatedExpireAfterDays: 365,
      captureExpireAfterDays: 180,
      noncurrentVersionExpireAfterDays: 30,
      accessLogsExpireAfterDays: 365,
    },
    training: {
      instanceCount: 1,
      maxRuntimeHours: 8,
      useSpot: false,
      maxWaitHours: 8,
      volumeSizeGiB: 200,
      networkIsolation: true,
    },
    serving: { dataCapturePercent: 20 },
    retraining: {
      minNewRecords: 100_000,
      datasetDays: 90,
      scheduleHours: 168,
      approval: 'manual',
      approvalTimeoutHours: 72,
      canaryPercent: 10,
      canaryBakeMinutes: 15,
      deployTimeoutMinutes: 120,
      // Above the run's bounded waits (107 hours, the 72-hour approval wait included).
      lockTtlHours: 120,
      backoff: { baseHours: 24, factor: 2, maxHours: 336 },
    },
    drift: {
      scheduleMinutes: 60,
      minWindowSize: 5000,
      alpha: 0.05,
      correction: 'bonferroni',
      driftedShareThreshold: 0.5,
      thresholds: { psi: 0.2, jensenShannon: 0.1, wassersteinNormalized: 0.1, cramersV: 0.1 },
      windowsRequired: 2,
      windowsConsidered: 3,
      cooldownHours: 24,
      settleMinutes: 30,
      seasonality: 'daily',
      late: { share: 0.05, horizonHours: 48 },
      quality: { settleMinutes: 240, relativeDrop: 0.1, minSamples: 1000, referenceWindows: 168 },
      checkerMemoryMiB: 3538,
    },
  },
};
