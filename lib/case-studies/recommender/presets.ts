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

/**
 * The ranker is judged on nDCG@10 of the time-based holdout: promoted only when the paired bootstrap interval of its
 * gain over the champion (popularity for a first model) lies above `minImprovement` (`core/recommender/promotion.ts`).
 * `absoluteFloor` is not used by that rule; `metricName` is what the training job reports.
 */
const RECOMMENDER_RETRAINING = {
  sandbox: { metricName: 'validation:ndcg@10', metricDirection: 'maximize', minImprovement: 0, absoluteFloor: 0 },
  production: {
    metricName: 'validation:ndcg@10',
    metricDirection: 'maximize',
    minImprovement: 0.005,
    absoluteFloor: 0,
  },
} as const;

/**
 * Training data and candidates (`core/recommender/sql.ts`, `candidates.ts`). Production: a 30-minute attribution
 * window, half the negatives kept, 64 shards over 4 instances (about 16 files each, see
 * docs/case-studies/recommender.md, "Scale"), a week of co-visitation with at least 3 users per pair. Slate
 * outcomes (the drift checker's realised quality) are written every 15 minutes, once an hour's attribution window
 * and Firehose's buffering (sandbox 60 s, production 300 s) have passed, with a margin.
 */
const RECOMMENDER_RANKING = {
  sandbox: {
    attributionMinutes: 10,
    validationFraction: 0.2,
    negativeSamplingRate: 1,
    shards: 1,
    coVisitation: { minutes: 60, days: 7, neighbours: 30, itemsPerUser: 100, minUsers: 1 },
    quotas: { covisit: 0.4, fresh: 0.2 },
    freshSlots: 1,
    outcomes: { scheduleMinutes: 15, deliveryAllowanceMinutes: 5, catchUpHours: 24 },
  },
  production: {
    attributionMinutes: 30,
    validationFraction: 0.1,
    negativeSamplingRate: 0.5,
    shards: 64,
    coVisitation: { minutes: 60, days: 7, neighbours: 50, itemsPerUser: 100, minUsers: 3 },
    quotas: { covisit: 0.4, fresh: 0.1 },
    freshSlots: 1,
    outcomes: { scheduleMinutes: 15, deliveryAllowanceMinutes: 10, catchUpHours: 24 },
  },
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
    // Small datasets: shallow trees with heavier leaves generalize (tried on the simulation's bootstrap data).
    training: { instanceType: 'ml.g4dn.xlarge', hyperparameters: { max_depth: '4', min_child_weight: '10' } },
    retraining: RECOMMENDER_RETRAINING.sandbox,
    realtime: RECOMMENDER_REALTIME.sandbox,
    ranking: RECOMMENDER_RANKING.sandbox,
    // Serverless: scales to zero, idle costs nothing; the API logs the served features (no data capture needed).
    serving: {
      instanceType: 'ml.m5.large',
      initialInstanceCount: 1,
      minCapacity: 0,
      maxCapacity: 2,
      serverless: { memorySizeInMB: 2048, maxConcurrency: 10 },
    },
  },
  production: {
    ingestion: {
      traffic: {
        peakEventsPerSecond: peakEventsPerSecond(RECOMMENDER_PRODUCTION_TRAFFIC),
        averageEventSizeBytes: 600,
      },
    },
    // Distributed XGBoost (Rabit) over shards of whole requests, one GPU each.
    training: { instanceType: 'ml.g5.2xlarge', instanceCount: 4 },
    retraining: RECOMMENDER_RETRAINING.production,
    realtime: RECOMMENDER_REALTIME.production,
    ranking: RECOMMENDER_RANKING.production,
    serving: { instanceType: 'ml.c5.xlarge', initialInstanceCount: 2, minCapacity: 2, maxCapacity: 10 },
  },
};
