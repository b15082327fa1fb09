import { decideRetraining, EMPTY_STATE, type RetrainingPolicy } from '../../../core/drift/retraining';

const policy: RetrainingPolicy = { windowsRequired: 2, windowsConsidered: 3, cooldownHours: 24 };
const at = (h: number) => new Date(Date.UTC(2026, 10, 23, h));
const w = (h: number, drifted: boolean) => ({ windowEnd: at(h).toISOString(), drifted });

describe('k of n windows and cooldown', () => {
  test('one drifted window of three is not enough; the second one requests retraining', () => {
    const first = decideRetraining(EMPTY_STATE, w(1, true), policy, at(1));
    expect(first.requestRetraining).toBe(false);
    expect(first.reason).toBe('drift in 1 of the last 1 windows; 2 required');
    const quiet = decideRetraining(first.state, w(2, false), policy, at(2));
    expect(quiet.requestRetraining).toBe(false);
    const second = decideRetraining(quiet.state, w(3, true), policy, at(3));
    expect(second.requestRetraining).toBe(true);
    expect(second.state.lastRequestAt).toBe(at(3).toISOString());
  });

  test('drift that falls out of the last n windows no longer counts', () => {
    let s = decideRetraining(EMPTY_STATE, w(1, true), policy, at(1)).state;
    s = decideRetraining(s, w(2, false), policy, at(2)).state;
    s = decideRetraining(s, w(3, false), policy, at(3)).state;
    const d = decideRetraining(s, w(4, true), policy, at(4));
    expect(d.requestRetraining).toBe(false);
    expect(d.state.windows).toHaveLength(3);
  });

  test('within the cooldown no second request is made; after it, one is', () => {
    let s = decideRetraining(EMPTY_STATE, w(1, true), policy, at(1)).state;
    const requested = decideRetraining(s, w(2, true), policy, at(2));
    expect(requested.requestRetraining).toBe(true);
    s = requested.state;
    const blocked = decideRetraining(s, w(3, true), policy, at(3));
    expect(blocked.requestRetraining).toBe(false);
    expect(blocked.reason).toMatch(/requested 1\.0 h ago; cooldown is 24 h/);
    const later = decideRetraining(blocked.state, w(27, true), policy, at(27));
    expect(later.requestRetraining).toBe(true);
  });

  test('re-processing a recorded window changes nothing (idempotent per window)', () => {
    const s = decideRetraining(
      decideRetraining(EMPTY_STATE, w(1, true), policy, at(1)).state,
      w(2, true),
      policy,
      at(2),
    ).state;
    const again = decideRetraining(s, w(2, true), policy, at(5));
    expect(again).toMatchObject({ requestRetraining: false, duplicate: true });
    expect(again.state).toBe(s);
  });

  test('1 of 1 (sandbox) requests on the first drifted window', () => {
    const d = decideRetraining(
      EMPTY_STATE,
      w(1, true),
      { windowsRequired: 1, windowsConsidered: 1, cooldownHours: 1 },
      at(1),
    );
    expect(d.requestRetraining).toBe(true);
  });
});
