import {
  backoffIntervalSeconds,
  backoffSchedule,
  decideBackoff,
  recordRejection,
  validateBackoffPolicy,
  type BackoffPolicy,
} from '../../../core/retraining/backoff';

const HOUR = 3600;
const policy: BackoffPolicy = { baseHours: 6, factor: 2, maxHours: 48 };

describe('back-off interval', () => {
  test('no rejection, no wait; then base × factor^(n−1), capped', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((n) => backoffIntervalSeconds(policy, n) / HOUR)).toEqual([
      0, 6, 12, 24, 48, 48, 48,
    ]);
  });

  test('a factor of 1 keeps the base interval', () => {
    expect(backoffIntervalSeconds({ baseHours: 2, factor: 1, maxHours: 2 }, 7)).toBe(2 * HOUR);
  });

  test('the schedule stops at the first capped step, which repeats for later rejections', () => {
    expect(backoffSchedule(policy).map((s) => s / HOUR)).toEqual([6, 12, 24, 48]);
    expect(backoffSchedule({ baseHours: 6, factor: 2, maxHours: 30 }).map((s) => s / HOUR)).toEqual([6, 12, 24, 30]);
    expect(backoffSchedule({ baseHours: 1, factor: 1, maxHours: 1 })).toEqual([HOUR]);
  });

  test.each([
    [{ baseHours: 0, factor: 2, maxHours: 4 }, /baseHours must be positive; received 0/],
    [{ baseHours: 1, factor: 0.5, maxHours: 4 }, /factor must be at least 1; received 0.5/],
    [{ baseHours: 8, factor: 2, maxHours: 4 }, /maxHours must be at least baseHours \(8\); received 4/],
  ])('an invalid policy is refused: %o', (bad, message) => {
    expect(() => validateBackoffPolicy(bad)).toThrow(message);
  });

  test('a negative or fractional rejection count is refused', () => {
    expect(() => backoffIntervalSeconds(policy, -1)).toThrow(/non-negative integer; received -1/);
    expect(() => backoffIntervalSeconds(policy, 1.5)).toThrow(/received 1.5/);
  });
});

describe('back-off record', () => {
  test('each consecutive rejection doubles the wait and resets the data bound to twice the current count', () => {
    const first = recordRejection(undefined, 1_000, 5_000, policy);
    expect(first).toEqual({
      rejections: 1,
      rejectedAt: 1_000,
      newRecordsAtRejection: 5_000,
      notBefore: 1_000 + 6 * HOUR,
      waiveAtRecords: 10_000,
    });
    const second = recordRejection(first, 50_000, 7_000, policy);
    expect(second).toMatchObject({ rejections: 2, notBefore: 50_000 + 12 * HOUR, waiveAtRecords: 14_000 });
  });
});

describe('back-off gate', () => {
  const record = recordRejection(undefined, 1_000_000, 5_000, policy); // notBefore = 1_021_600, waive at 10_000
  const gate = (over: Partial<Parameters<typeof decideBackoff>[0]>) =>
    decideBackoff({ trigger: 'drift', now: 1_010_000, newRecords: 6_000, record, ...over });

  test('a drift-triggered run inside the interval with less than twice the data is held back, saying until when', () => {
    const d = gate({});
    expect(d.proceed).toBe(false);
    expect(d.reason).toBe(
      'back-off after 1 consecutive rejection(s): drift-triggered runs resume at 1970-01-12T19:46:40.000Z or once 10000 new records have arrived (now 6000)',
    );
  });

  test('time bound: one second before is held back, exactly at notBefore proceeds', () => {
    expect(gate({ now: record.notBefore - 1 }).proceed).toBe(false);
    expect(gate({ now: record.notBefore })).toEqual({
      proceed: true,
      reason: 'back-off after 1 rejection(s) has elapsed',
    });
  });

  test('data bound: one record short of double is held back, exactly double proceeds', () => {
    expect(gate({ newRecords: 9_999 }).proceed).toBe(false);
    expect(gate({ newRecords: 10_000 })).toEqual({
      proceed: true,
      reason: 'new data doubled since the last rejection (10000 ≥ 10000 records): back-off waived',
    });
  });

  test('a person or the schedule is never held back', () => {
    expect(gate({ trigger: 'manual' })).toEqual({ proceed: true, reason: 'started by manual: no back-off' });
    expect(gate({ trigger: 'schedule' }).proceed).toBe(true);
  });

  test('without a record (no rejection since the last deployment) every run proceeds', () => {
    expect(gate({ record: undefined })).toEqual({
      proceed: true,
      reason: 'no rejected candidate since the last deployment',
    });
  });
});
