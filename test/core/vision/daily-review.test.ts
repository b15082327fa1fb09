/**
 * The daily review job's settings (its function's environment) and the day a run reviews: the day before its
 * start, or the one its input names (an operator's re-run). The steps themselves run on the synthesized workflow in
 * test/lib/case-studies/vision/daily-review.test.ts.
 */
import { MemoryObjectStore } from '../../../core/storage/object-store';
import {
  dailyReviewSettingsFromEnv,
  dayOfRun,
  reviewedDay,
  runDailyReviewStep,
} from '../../../core/vision/daily-review';

const ENV = {
  LOG_BUCKET: 'artifacts',
  PREDICTIONS_PREFIX: 'vision/predictions/',
  DEFERRED_PREFIX: 'vision/deferred/',
  BACKFILL_PREFIX: 'vision/backfill/',
  ENDPOINT_NAME: 'ep',
  IMAGES_URI: 's3://raw/images/',
  REVIEW_POLICY: JSON.stringify({ dailyBudget: 10, auditShare: 0.1, auditSalt: 's', method: 'entropy' }),
};

describe('daily review settings', () => {
  test('parsed from the environment, the policy validated', () => {
    expect(dailyReviewSettingsFromEnv(ENV)).toEqual({
      bucket: 'artifacts',
      predictionsPrefix: 'vision/predictions/',
      deferredPrefix: 'vision/deferred/',
      backfillPrefix: 'vision/backfill/',
      endpointName: 'ep',
      imagesUri: 's3://raw/images/',
      policy: { dailyBudget: 10, auditShare: 0.1, auditSalt: 's', method: 'entropy' },
    });
  });

  test('a missing variable or a bad policy fails in one line naming it', () => {
    expect(() => dailyReviewSettingsFromEnv({ ...ENV, IMAGES_URI: undefined })).toThrow(
      'environment variable IMAGES_URI is required',
    );
    expect(() => dailyReviewSettingsFromEnv({ ...ENV, REVIEW_POLICY: '{' })).toThrow(
      /^environment variable REVIEW_POLICY is not valid JSON/,
    );
    expect(() =>
      dailyReviewSettingsFromEnv({ ...ENV, REVIEW_POLICY: JSON.stringify({ dailyBudget: 10, auditShare: 2 }) }),
    ).toThrow(/auditShare/);
  });
});

describe('the day a run reviews', () => {
  test('the UTC day before the start, whatever the hour', () => {
    expect(reviewedDay('2026-11-24T02:00:00.000Z')).toBe('2026-11-23');
    expect(reviewedDay('2026-11-24T00:00:00Z')).toBe('2026-11-23');
    expect(reviewedDay('2026-03-01T23:59:59Z')).toBe('2026-02-28');
    expect(() => reviewedDay('yesterday')).toThrow('time must be an ISO-8601 time; received "yesterday"');
  });

  test("the input's day when it names one (a re-run); the scheduled event's input names none", () => {
    const scheduled = { version: '0', 'detail-type': 'Scheduled Event', time: '2026-11-24T02:00:00Z' };
    expect(dayOfRun('2026-11-24T02:00:00Z', scheduled)).toBe('2026-11-23');
    expect(dayOfRun('2026-11-24T02:00:00Z', { day: '2026-11-01' })).toBe('2026-11-01');
    expect(dayOfRun('2026-11-24T02:00:00Z', undefined)).toBe('2026-11-23');
    expect(() => dayOfRun('2026-11-24T02:00:00Z', { day: '2026-13-45' })).toThrow(
      `the input's day must be a date yyyy-mm-dd; received "2026-13-45"`,
    );
    expect(() => dayOfRun('2026-11-24T02:00:00Z', { day: 20261101 })).toThrow(/received 20261101/);
  });

  test('an unknown step fails naming the steps', async () => {
    await expect(
      runDailyReviewStep(new MemoryObjectStore(), dailyReviewSettingsFromEnv(ENV), { action: 'purge' } as never, () =>
        Promise.resolve(),
      ),
    ).rejects.toThrow('unknown step "purge"; expected plan, record or select');
  });

  test('a day without predictions selects nothing and sends nothing', async () => {
    const sent: unknown[] = [];
    const out = await runDailyReviewStep(
      new MemoryObjectStore(),
      dailyReviewSettingsFromEnv(ENV),
      { action: 'select', day: '2026-11-23' },
      async (r) => {
        sent.push(...r);
      },
    );
    expect(out).toMatchObject({ day: '2026-11-23', considered: 0, audit: 0, uncertain: 0 });
    expect(sent).toEqual([]);
  });
});
