import { DEFAULT_REVIEW_POLICY, validatePolicy } from '../../../core/review/policy';

describe('validatePolicy', () => {
  test('the defaults: one vote for uncertain items, two agreeing of at most three for audit and conflicts', () => {
    expect(validatePolicy(DEFAULT_REVIEW_POLICY)).toEqual({
      leaseSeconds: 300,
      agreement: { uncertain: 1, audit: 2, conflict: 2 },
      maxVotes: 3,
    });
  });

  test.each([
    [{ leaseSeconds: 29 }, /leaseSeconds must be an integer between 30 and 3600; received 29/],
    [{ leaseSeconds: 3601 }, /leaseSeconds must be .* received 3601/],
    [{ agreement: { uncertain: 0, audit: 2, conflict: 2 } }, /agreement.uncertain must be .* received 0/],
    [{ maxVotes: 1 }, /maxVotes must be an integer between 2 and 9; received 1/],
    [{ maxVotes: 2.5 }, /maxVotes/],
  ])('refuses %j', (patch, message) => {
    expect(() => validatePolicy({ ...DEFAULT_REVIEW_POLICY, ...patch })).toThrow(message);
  });

  test('the boundaries are allowed', () => {
    expect(() => validatePolicy({ ...DEFAULT_REVIEW_POLICY, leaseSeconds: 30, maxVotes: 2 })).not.toThrow();
    expect(() => validatePolicy({ ...DEFAULT_REVIEW_POLICY, leaseSeconds: 3600, maxVotes: 9 })).not.toThrow();
  });
});
