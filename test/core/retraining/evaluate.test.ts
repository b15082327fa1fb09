import { evaluateCandidate } from '../../../core/retraining/evaluate';

const policy = {
  metricName: 'validation:auc',
  metricDirection: 'maximize',
  minImprovement: 0.01,
  absoluteFloor: 0.6,
} as const;
const metrics = (value: number) => [
  { MetricName: 'validation:auc', Value: value },
  { MetricName: 'train:auc', Value: 0.99 },
];
const champion = (value: string) => ({ found: true, modelPackageArn: 'arn:pkg/1', metadata: { metricValue: value } });

describe('evaluateCandidate', () => {
  test('first model: promoted when it reaches the floor, rejected below it', () => {
    expect(evaluateCandidate({ policy, candidateMetrics: metrics(0.6), champion: { found: false } })).toMatchObject({
      promote: true,
      reason: expect.stringMatching(/first model: validation:auc 0.6 passes the floor 0.6/),
    });
    expect(evaluateCandidate({ policy, candidateMetrics: metrics(0.59), champion: { found: false } }).promote).toBe(
      false,
    );
  });

  test('needs to beat the champion by the margin', () => {
    expect(evaluateCandidate({ policy, candidateMetrics: metrics(0.81), champion: champion('0.8') }).promote).toBe(
      true,
    );
    const worse = evaluateCandidate({ policy, candidateMetrics: metrics(0.805), champion: champion('0.8') });
    expect(worse).toMatchObject({ promote: false, candidateValue: 0.805, championValue: 0.8 });
    expect(worse.reason).toMatch(/does not beat the champion's recorded 0.8 by 0.01 \(difference 0.005\)/);
  });

  test('with both models re-scored on the same data, those values decide (not the recorded ones)', () => {
    const rescored = (c: number, h: number) => ({
      candidate: { metric: 'auc', value: c, records: 500 },
      champion: { metric: 'auc', value: h, records: 500 },
    });
    // The training metric says better than the recorded champion; the same-data comparison says worse.
    const e = evaluateCandidate({
      policy,
      candidateMetrics: metrics(0.9),
      champion: champion('0.8'),
      rescored: rescored(0.7, 0.75),
    });
    expect(e).toMatchObject({ promote: false, candidateValue: 0.7, championValue: 0.75 });
    expect(e.reason).toBe(
      "candidate auc on the same 500 validation records 0.7 does not beat the champion's 0.75 by 0.01 (difference -0.05)",
    );
    expect(e.metadata).toMatchObject({
      sameDataCandidate: '0.7',
      sameDataChampion: '0.75',
      sameDataRecords: '500',
      metricValue: '0.9',
    });
    expect(
      evaluateCandidate({
        policy,
        candidateMetrics: metrics(0.5),
        champion: champion('0.8'),
        rescored: rescored(0.8, 0.78),
      }).promote,
    ).toBe(true);
  });

  test('minimizing metrics compare the other way', () => {
    const p = { ...policy, metricName: 'validation:logloss', metricDirection: 'minimize' as const, absoluteFloor: 0.5 };
    const m = (v: number) => [{ MetricName: 'validation:logloss', Value: v }];
    expect(
      evaluateCandidate({
        policy: p,
        candidateMetrics: m(0.3),
        champion: { found: true, metadata: { metricValue: '0.32' } },
      }).promote,
    ).toBe(true);
    expect(
      evaluateCandidate({
        policy: p,
        candidateMetrics: m(0.315),
        champion: { found: true, metadata: { metricValue: '0.32' } },
      }).promote,
    ).toBe(false);
    expect(evaluateCandidate({ policy: p, candidateMetrics: m(0.6), champion: { found: false } }).promote).toBe(false);
  });

  test('a missing metric never promotes, and says which metrics there were', () => {
    const e = evaluateCandidate({
      policy,
      candidateMetrics: [{ MetricName: 'train:auc', Value: 1 }],
      champion: { found: false },
    });
    expect(e).toMatchObject({
      promote: false,
      reason: 'the training job reported no validation:auc (metrics: train:auc)',
    });
  });

  test('the registry metadata carries the stamp and both values as strings', () => {
    const e = evaluateCandidate({
      policy,
      candidateMetrics: metrics(0.9),
      champion: champion('0.8'),
      stamp: { datasetId: 'run-7', trainingJobName: 'job-0' },
    });
    expect(e.metadata).toEqual({
      datasetId: 'run-7',
      trainingJobName: 'job-0',
      metricName: 'validation:auc',
      metricValue: '0.9',
      championMetricValue: '0.8',
      evaluation: 'promoted',
    });
  });
});

describe('the promotion threshold is inclusive: a gain equal to minImprovement promotes, just below does not', () => {
  // Binary fractions, so that the differences are exact: 0.75 - 0.5 = 0.25 exactly.
  const exact = { ...policy, minImprovement: 0.25 };
  const justBelow = 0.75 - 2 ** -20;

  test('re-scored on the same data', () => {
    const rescored = (c: number) => ({
      candidate: { metric: 'auc', value: c, records: 100 },
      champion: { metric: 'auc', value: 0.5, records: 100 },
    });
    const at = evaluateCandidate({
      policy: exact,
      candidateMetrics: metrics(0.75),
      champion: champion('0.5'),
      rescored: rescored(0.75),
    });
    expect(at).toMatchObject({
      promote: true,
      reason: expect.stringMatching(/beats the champion's 0.5 by 0.25 \(needed 0.25\)/),
    });
    const below = evaluateCandidate({
      policy: exact,
      candidateMetrics: metrics(0.75),
      champion: champion('0.5'),
      rescored: rescored(justBelow),
    });
    expect(below.promote).toBe(false);
  });

  test("on the champion's recorded metric, in both directions", () => {
    expect(
      evaluateCandidate({ policy: exact, candidateMetrics: metrics(0.75), champion: champion('0.5') }).promote,
    ).toBe(true);
    expect(
      evaluateCandidate({ policy: exact, candidateMetrics: metrics(justBelow), champion: champion('0.5') }).promote,
    ).toBe(false);
    const minimize = { ...exact, metricName: 'validation:logloss', metricDirection: 'minimize' as const };
    const loss = (v: number) => [{ MetricName: 'validation:logloss', Value: v }];
    expect(
      evaluateCandidate({ policy: minimize, candidateMetrics: loss(0.25), champion: champion('0.5') }).promote,
    ).toBe(true);
    expect(
      evaluateCandidate({ policy: minimize, candidateMetrics: loss(0.25 + 2 ** -20), champion: champion('0.5') })
        .promote,
    ).toBe(false);
  });

  test('the first model: the floor itself passes, just below it does not', () => {
    const floor = { ...policy, absoluteFloor: 0.5 };
    expect(
      evaluateCandidate({ policy: floor, candidateMetrics: metrics(0.5), champion: { found: false } }).promote,
    ).toBe(true);
    expect(
      evaluateCandidate({ policy: floor, candidateMetrics: metrics(0.5 - 2 ** -20), champion: { found: false } })
        .promote,
    ).toBe(false);
  });
});
