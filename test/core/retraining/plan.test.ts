import { parseTrigger, planRun, sageMakerName } from '../../../core/retraining/plan';

const base = {
  executionName: '0b6c3e2a-1f9d-4c1e-9a55-7d0e1c2b3a4f',
  startTime: '2026-11-23T10:00:00.000Z',
  namePrefix: 'mlbp-production-recommender',
  datasetDays: 30,
  lockTtlHours: 12,
};

describe('planRun', () => {
  test('derives names from the execution name, the dataset window and the lock expiry', () => {
    const plan = planRun({ ...base, input: { trigger: { kind: 'drift', reason: 'psi on item_id' } } });
    expect(plan.datasetId).toBe(base.executionName);
    expect(plan.trigger).toEqual({ kind: 'drift', reason: 'psi on item_id' });
    expect(plan.windowStart).toBe('2026-10-24T10:00:00.000Z');
    expect(plan.windowEnd).toBe('2026-11-23T10:00:00.000Z');
    expect(Number(plan.lockExpiresAt) - Number(plan.lockNow)).toBe(12 * 3600);
    expect(plan.lockNow).toBe(String(Date.parse(base.startTime) / 1000));
    // SageMaker names: ≤ 63 characters, letters, digits and hyphens; training leaves room for "-<retry>".
    for (const name of [plan.modelName, plan.endpointConfigName]) {
      expect(name).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
      expect(name.startsWith('mlbp-production-recommender-0b6c3e2a')).toBe(true);
    }
    expect(plan.trainingJobName.length).toBeLessThanOrEqual(60);
  });

  test('an input without a trigger is a manual run', () => {
    expect(planRun({ ...base, input: {} }).trigger).toEqual({ kind: 'manual', reason: 'started without a trigger' });
  });

  test('a malformed trigger fails naming the problem', () => {
    expect(() => parseTrigger({ kind: 'cron', reason: 'x' })).toThrow(
      /execution input trigger is invalid \(kind: .*received/,
    );
  });

  test('an invalid start time fails', () => {
    expect(() => planRun({ ...base, startTime: 'yesterday' })).toThrow(/startTime is not a valid time: yesterday/);
  });

  test('sageMakerName cleans and truncates', () => {
    expect(sageMakerName('mlbp', 'manual_2026:11--x!')).toBe('mlbp-manual-2026-11-x');
    expect(sageMakerName('p', 'a'.repeat(100))).toHaveLength(63);
  });
});
