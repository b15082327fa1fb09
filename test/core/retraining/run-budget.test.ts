import { minimumLockTtlHours, runBudgetHours } from '../../../core/retraining/run-budget';

describe('run budget', () => {
  test('the presets: sandbox 24 hours (spot training with its retry, scoring, three endpoint waits), production 107 with a 72-hour approval', () => {
    expect(runBudgetHours({ trainingHours: 4, approvalHours: 0, deployMinutes: 60 })).toBe(24);
    expect(runBudgetHours({ trainingHours: 8, approvalHours: 72, deployMinutes: 120 })).toBe(107);
  });

  test('every bounded wait counts: longer training (twice, with its retry), approval or deployment raise it', () => {
    const base = { trainingHours: 4, approvalHours: 0, deployMinutes: 60 };
    expect(runBudgetHours({ ...base, trainingHours: 5 })).toBe(26);
    expect(runBudgetHours({ ...base, approvalHours: 24 })).toBe(48);
    expect(runBudgetHours({ ...base, deployMinutes: 120 })).toBe(27);
  });

  test('the lock outlives the run by an hour', () => {
    expect(minimumLockTtlHours({ trainingHours: 4, approvalHours: 0, deployMinutes: 60 })).toBe(25);
  });
});
