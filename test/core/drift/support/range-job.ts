import type { RangeJob } from '../../../../core/drift/parallel';

/** A seasonal range job over plain JSON lines timed by `event_time` (the worker-pool tests and their child script). */
export const seasonalRangeJob = (path: string): RangeJob => ({
  path,
  format: 'plain',
  sampling: { sampleSize: 500, seed: 7 },
  expectations: null,
  skip: [],
  seasonal: { timeField: 'event_time' },
  timeField: 'event_time',
});
