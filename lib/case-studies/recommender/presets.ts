import { peakEventsPerSecond } from '../../config/capacity';
import type { CaseStudySpec } from '../types';

/**
 * Production traffic assumption: 1M daily active users, 40 interactions each per day (impressions included),
 * with a peak hour at 3× the daily average. See docs/capacity-planning.md.
 */
const RECOMMENDER_PRODUCTION_TRAFFIC = {
  dailyActiveUsers: 1_000_000,
  eventsPerUserPerDay: 40,
  peakToAverage: 3,
};

/** Click-through ranking is judged on validation AUC; a first model must be clearly better than chance. */
const RECOMMENDER_RETRAINING = {
  metricName: 'validation:auc',
  metricDirection: 'maximize',
  minImprovement: 0.002,
  absoluteFloor: 0.6,
} as const;

/**
 * Real-time path. Sandbox: small batches and a short window for fast feedback while exploring. Production: batches
 * sized for ~1,400 events/s at peak (docs/capacity-planning.md), a 1 s window, two batches per shard.
 */
const RECOMMENDER_REALTIME = {
  sandbox: {
    consumer: {
      batchSize: 100,
      maxBatchingWindowSeconds: 1,
      retryAttempts: 3,
      maxRecordAgeHours: 6,
      parallelizationFactor: 1,
    },
    features: { ttlHours: 48, recentItemsPerUser: 20, popularityBucketMinutes: 15, popularityListSize: 500 },
    serving: {
      invokeTimeoutMs: 300,
      candidates: 50,
      maxK: 20,
      fallbackRateThreshold: 0.2,
      fallbackAlarmPeriods: 3,
    },
  },
  production: {
    consumer: {
      batchSize: 500,
      maxBatchingWindowSeconds: 1,
      retryAttempts: 5,
      maxRecordAgeHours: 24,
      parallelizationFactor: 2,
    },
    features: { ttlHours: 168, recentItemsPerUser: 50, popularityBucketMinutes: 60, popularityListSize: 1000 },
    serving: {
      invokeTimeoutMs: 150,
      candidates: 50,
      maxK: 20,
      fallbackRateThreshold: 0.05,
      fallbackAlarmPeriods: 3,
      reservedConcurrency: 200,
    },
  },
} as const;

/** The recommender's settings that differ from the stage presets. */
export const RECOMMENDER_PRESETS: CaseStudySpec['presets'] = {
  sandbox: {
    ingestion: { traffic: { peakEventsPerSecond: 50, averageEventSizeBytes: 600 } },
    training: { instanceType: 'ml.g4dn.xlarge' },
    retraining: RECOMMENDER_RETRAINING,
    realtime: RECOMMENDER_REALTIME.sandbox,
    serving: { instanceType: 'ml.m5.large', initialInstanceCount: 1, minCapacity: 1, maxCapacity: 2 },
  },
  production: {
    ingestion: {
      traffic: {
        peakEventsPerSecond: peakEventsPerSecond(RECOMMENDER_PRODUCTION_TRAFFIC),
        averageEventSizeBytes: 600,
      },
    },
    training: { instanceType: 'ml.g5.4xlarge', instanceCount: 1 },
    retraining: RECOMMENDER_RETRAINING,
    realtime: RECOMMENDER_REALTIME.production,
    serving: { instanceType: 'ml.c5.xlarge', initialInstanceCount: 2, minCapacity: 2, maxCapacity: 10 },
  },
};
