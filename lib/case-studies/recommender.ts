import { INTERACTION_EVENT_SCHEMA } from '../../lambdas/shared/events';
import { peakEventsPerSecond } from '../config/capacity';
import type { CaseStudySpec } from './types';

/**
 * Production traffic assumption: 1M daily active users, 40 interactions each per day (impressions included),
 * with a peak hour at 3× the daily average. See docs/capacity-planning.md.
 */
export const RECOMMENDER_PRODUCTION_TRAFFIC = {
  dailyActiveUsers: 1_000_000,
  eventsPerUserPerDay: 40,
  peakToAverage: 3,
};

/** The recommender: ranks items for a user from interaction history and real-time features. */
export const RECOMMENDER: CaseStudySpec = {
  name: 'recommender',
  displayName: 'Recommender',
  summary: 'Ranks catalogue items for a user from interaction events (click-through prediction).',
  eventSchema: INTERACTION_EVENT_SCHEMA,
  presets: {
    sandbox: {
      ingestion: { traffic: { peakEventsPerSecond: 50, averageEventSizeBytes: 600 } },
      training: { instanceType: 'ml.g4dn.xlarge' },
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
      serving: { instanceType: 'ml.c5.xlarge', initialInstanceCount: 2, minCapacity: 2, maxCapacity: 10 },
    },
  },
};
