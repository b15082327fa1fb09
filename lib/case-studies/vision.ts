import { IMAGE_EVENT_SCHEMA } from '../../lambdas/shared/events';
import type { CaseStudySpec } from './types';

/** The vision system: classifies a large, changing stream of images. */
export const VISION: CaseStudySpec = {
  name: 'vision',
  displayName: 'Vision',
  summary: 'Classifies arriving images; low-confidence predictions go to human review.',
  eventSchema: IMAGE_EVENT_SCHEMA,
  presets: {
    sandbox: {
      ingestion: { traffic: { peakEventsPerSecond: 5, averageEventSizeBytes: 400 } },
      training: { instanceType: 'ml.g4dn.xlarge' },
      // Scales to zero when idle: a GPU endpoint costs nothing in a quiet sandbox.
      serving: { instanceType: 'ml.g4dn.xlarge', initialInstanceCount: 1, minCapacity: 0, maxCapacity: 1 },
    },
    production: {
      // 2M images a day with a 3× peak hour: about 70 arrival events per second.
      ingestion: { traffic: { peakEventsPerSecond: 70, averageEventSizeBytes: 400 } },
      training: { instanceType: 'ml.g5.2xlarge', instanceCount: 2 },
      serving: { instanceType: 'ml.g5.xlarge', initialInstanceCount: 1, minCapacity: 1, maxCapacity: 8 },
    },
  },
};
