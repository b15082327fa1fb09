import { settingsFromEnv } from '../../../core/drift/checker-settings';

const base = {
  CASE_STUDY: 'recommender',
  STAGE: 'sandbox',
  ENDPOINT_NAME: 'ep',
  CAPTURE_BUCKET: 'c',
  ARTIFACTS_BUCKET: 'a',
  WINDOW_MINUTES: '30',
  DRIFT_POLICY: JSON.stringify({
    alpha: 0.01,
    correction: 'benjamini-hochberg',
    driftedShareThreshold: 0.3,
    minWindowSize: 50,
    thresholds: { psi: 0.1, jensenShannon: 0.05, wassersteinNormalized: 0.2, cramersV: 0.1 },
    features: { age: { effect: 'wasserstein', threshold: 0.3 } },
    retraining: { windowsRequired: 2, windowsConsidered: 3, cooldownHours: 12 },
  }),
};

test('settings come from the environment with documented defaults', () => {
  const s = settingsFromEnv(base);
  expect(s).toMatchObject({
    endpointName: 'ep',
    capturePrefix: 'datacapture/',
    baselineKey: 'drift/baselines/ep/profile.json',
    windowMinutes: 30,
    retraining: { windowsRequired: 2, windowsConsidered: 3, cooldownHours: 12 },
  });
  expect(s.policy).toMatchObject({
    alpha: 0.01,
    correction: 'benjamini-hochberg',
    features: { age: { effect: 'wasserstein' } },
  });
  expect(s.policy.thresholds.mmd2).toBe(0.01);
});

test.each([
  [{ ENDPOINT_NAME: undefined }, 'environment variable ENDPOINT_NAME is required'],
  [{ WINDOW_MINUTES: 'hourly' }, 'environment variable WINDOW_MINUTES must be a positive integer; received "hourly"'],
  [{ DRIFT_POLICY: '{' }, /environment variable DRIFT_POLICY is not valid JSON/],
  [{ DRIFT_POLICY: JSON.stringify({ ...JSON.parse(base.DRIFT_POLICY), alpha: 2 }) }, /DRIFT_POLICY is invalid: alpha/],
])('bad environment %p fails naming the variable', (patch, message) => {
  expect(() => settingsFromEnv({ ...base, ...patch })).toThrow(message);
});

test('time, late-data and quality settings: defaults, and every one from DRIFT_POLICY', () => {
  const defaults = settingsFromEnv(base);
  expect(defaults).toMatchObject({
    settleMinutes: 0,
    late: { share: 0.1, horizonHours: 24 },
    quality: {
      outcomesPrefix: 'drift/outcomes/',
      settleMinutes: 60,
      referenceWindows: 24,
      policy: { alpha: 0.01, correction: 'benjamini-hochberg', relativeDrop: 0.1, minSamples: 200 },
    },
  });
  expect(defaults.policy.seasonality).toBeUndefined();
  const s = settingsFromEnv({
    ...base,
    OUTCOMES_PREFIX: 'drift/labels/',
    DRIFT_POLICY: JSON.stringify({
      ...JSON.parse(base.DRIFT_POLICY),
      seasonality: 'daily',
      seasonal: { minReferenceRecords: 300 },
      features: { 'ctr.*': { direction: 'both' }, hour_of_day: { seasonality: 'none' } },
      settleMinutes: 15,
      late: { share: 0.05, horizonHours: 48 },
      quality: { settleMinutes: 240, windowMinutes: 1440, relativeDrop: 0.2, minSamples: 500, referenceWindows: 48 },
    }),
  });
  expect(s).toMatchObject({
    settleMinutes: 15,
    late: { share: 0.05, horizonHours: 48 },
    quality: { outcomesPrefix: 'drift/labels/', settleMinutes: 240, windowMinutes: 1440, referenceWindows: 48 },
  });
  expect(defaults.quality!.windowMinutes).toBeUndefined(); // the drift window
  expect(s.quality!.policy).toMatchObject({ relativeDrop: 0.2, minSamples: 500 });
  expect(s.policy).toMatchObject({
    seasonality: 'daily',
    seasonal: { minReferenceRecords: 300, maxBandHours: 3 },
    features: { 'ctr.*': { direction: 'both' }, hour_of_day: { seasonality: 'none' } },
  });
  expect(() =>
    settingsFromEnv({
      ...base,
      DRIFT_POLICY: JSON.stringify({ ...JSON.parse(base.DRIFT_POLICY), seasonality: 'hourly' }),
    }),
  ).toThrow(/DRIFT_POLICY is invalid: seasonality/);
  expect(() =>
    settingsFromEnv({
      ...base,
      DRIFT_POLICY: JSON.stringify({ ...JSON.parse(base.DRIFT_POLICY), quality: { windowMinutes: 2 } }),
    }),
  ).toThrow(/DRIFT_POLICY is invalid: quality\.windowMinutes/);
});
