import { ReviewError } from '../../../core/review/errors';
import { rankOf, type ReviewItem } from '../../../core/review/item';
import { availability, checkLease, lease, resolveLabel, skip, vote } from '../../../core/review/queue';
import { at, CLASSES, item } from './fixtures';

/** Runs `fn`, expecting a ReviewError; returns it. */
function refusal(fn: () => unknown): ReviewError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ReviewError) return e;
    throw e;
  }
  throw new Error('expected a ReviewError');
}

const leasedTo = (reviewer: string, token = 't1', base: ReviewItem = item(), seconds = 0) =>
  lease(base, reviewer, at(seconds), 300, token);

describe('leases', () => {
  test('a leased item is not available to anyone else until the lease expires', () => {
    const held = leasedTo('alice');
    expect(held.lease).toEqual({ reviewerId: 'alice', token: 't1', expiresAt: '2026-11-23T10:05:00.000Z' });
    expect(held.version).toBe(1);
    expect(availability(held, 'bob', at(299))).toBe('leased');
    expect(() => lease(held, 'bob', at(299), 300, 't2')).toThrow(/another reviewer holds it/);
    // At expiry the item is back in the queue.
    expect(availability(held, 'bob', at(300))).toBe('available');
    expect(lease(held, 'bob', at(300), 300, 't2').lease?.reviewerId).toBe('bob');
  });

  test("the holder's own lease is renewed with a new token", () => {
    const renewed = lease(leasedTo('alice'), 'alice', at(60), 300, 't9');
    expect(renewed.lease).toEqual({ reviewerId: 'alice', token: 't9', expiresAt: '2026-11-23T10:06:00.000Z' });
  });

  test('a decided item, a voter and a skipper are not offered the item', () => {
    const { item: decided } = vote(
      leasedTo('alice'),
      { reviewerId: 'alice', leaseToken: 't1', label: 'cat' },
      CLASSES,
      at(1),
    );
    expect(availability(decided, 'bob', at(2))).toBe('decided');
    const audit = leasedTo('alice', 't1', item('audit'));
    const { item: once } = vote(audit, { reviewerId: 'alice', leaseToken: 't1', label: 'cat' }, CLASSES, at(1));
    expect(availability(once, 'alice', at(2))).toBe('voted');
    expect(availability(once, 'bob', at(2))).toBe('available');
    const skipped = skip(leasedTo('carol'), 'carol', 't1', at(1));
    expect(availability(skipped, 'carol', at(2))).toBe('skipped');
    expect(availability(skipped, 'dave', at(2))).toBe('available');
  });
});

describe('checkLease', () => {
  test.each([
    ['no lease at all', item(), 'bob', 't1', 10, 'forbidden', /is not leased to you/],
    ["someone else's lease", leasedTo('alice'), 'bob', 't1', 10, 'forbidden', /is not leased to you/],
    ["someone else's expired lease", leasedTo('alice'), 'bob', 't1', 400, 'forbidden', /is not leased to you/],
    ['an old token', leasedTo('alice'), 'alice', 't0', 10, 'conflict', /stale lease .* leased to you again/],
    ['no token', leasedTo('alice'), 'alice', undefined, 10, 'conflict', /stale lease/],
    ['an expired lease', leasedTo('alice'), 'alice', 't1', 300, 'conflict', /expired at 2026-11-23T10:05:00.000Z/],
  ] as const)('refuses %s', (_name, it, reviewer, token, seconds, code, message) => {
    const error = refusal(() => checkLease(it, reviewer, token, at(seconds)));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).toContain('nothing was changed');
  });

  test('accepts the holder with the token one millisecond before expiry', () => {
    expect(() => checkLease(leasedTo('alice'), 'alice', 't1', new Date(at(300).getTime() - 1))).not.toThrow();
  });
});

describe('resolveLabel', () => {
  test('a known class', () => {
    expect(resolveLabel('dog', undefined, CLASSES)).toEqual({ label: 'dog', newClass: false });
  });

  test('a new class; a "new" name that matches a known class ignoring case is that class', () => {
    expect(resolveLabel(' fox ', true, CLASSES)).toEqual({ label: 'fox', newClass: true });
    expect(resolveLabel('Dog', true, CLASSES)).toEqual({ label: 'dog', newClass: false });
  });

  test.each([
    ['an unknown class', 'fox', undefined, /unknown class "fox": choose one of the 3 classes \(bird, cat, dog\)/],
    ['an empty label', '  ', undefined, /label is required/],
    ['a number', 3, undefined, /label is required/],
    ['a bad new name', '../etc', true, /new class name "..\/etc" is not valid/],
    ['a non-boolean flag', 'fox', 'yes', /newClass must be true or false/],
  ])('refuses %s', (_name, label, newClass, message) => {
    const error = refusal(() => resolveLabel(label, newClass, CLASSES));
    expect(error.code).toBe('bad-request');
    expect(error.message).toMatch(message);
  });
});

describe('votes', () => {
  test('an uncertain item is decided by one vote; the lease is released', () => {
    const { item: next, outcome } = vote(
      leasedTo('alice'),
      { reviewerId: 'alice', leaseToken: 't1', label: 'dog' },
      CLASSES,
      at(10),
    );
    expect(outcome).toEqual({ kind: 'accepted', label: 'dog', votes: 1, agreement: 1 });
    expect(next.status).toBe('accepted');
    expect(next.lease).toBeUndefined();
    expect(next.decision).toEqual({
      label: 'dog',
      newClass: false,
      at: '2026-11-23T10:00:10.000Z',
      reviewers: ['alice'],
    });
    expect(next.version).toBe(2);
    expect(next.published).toBe(false);
  });

  test('an audit item needs two agreeing reviewers; their agreement and the model are scored', () => {
    const first = vote(
      leasedTo('alice', 't1', item('audit')),
      { reviewerId: 'alice', leaseToken: 't1', label: 'cat' },
      CLASSES,
      at(5),
    );
    expect(first.outcome).toEqual({ kind: 'recorded', votes: 1, agreement: 2 });
    expect(first.item.status).toBe('pending');
    const second = vote(
      lease(first.item, 'bob', at(6), 300, 't2'),
      { reviewerId: 'bob', leaseToken: 't2', label: 'cat' },
      CLASSES,
      at(9),
    );
    expect(second.outcome).toMatchObject({ kind: 'accepted', label: 'cat', auditAgreement: true, modelCorrect: true });
    expect(second.item.decision?.reviewers).toEqual(['alice', 'bob']);
  });

  test('an audit disagreement goes to a third reviewer, whose vote settles it', () => {
    const a = vote(
      leasedTo('alice', 't1', item('audit')),
      { reviewerId: 'alice', leaseToken: 't1', label: 'cat' },
      CLASSES,
      at(1),
    );
    const b = vote(
      lease(a.item, 'bob', at(2), 300, 't2'),
      { reviewerId: 'bob', leaseToken: 't2', label: 'dog' },
      CLASSES,
      at(3),
    );
    expect(b.outcome).toMatchObject({ kind: 'recorded', votes: 2, auditAgreement: false });
    expect(availability(b.item, 'alice', at(4))).toBe('voted');
    expect(availability(b.item, 'bob', at(4))).toBe('voted');
    expect(availability(b.item, 'carol', at(4))).toBe('available');
    const c = vote(
      lease(b.item, 'carol', at(5), 300, 't3'),
      { reviewerId: 'carol', leaseToken: 't3', label: 'dog' },
      CLASSES,
      at(6),
    );
    expect(c.outcome).toMatchObject({ kind: 'accepted', label: 'dog', modelCorrect: false });
    expect(c.outcome.auditAgreement).toBeUndefined();
  });

  test('three different answers dispute the item and take it out of the queue', () => {
    let it = item('conflict');
    for (const [reviewer, label] of [
      ['a', 'cat'],
      ['b', 'dog'],
      ['c', 'bird'],
    ]) {
      it = vote(
        lease(it, reviewer, at(1), 300, reviewer),
        { reviewerId: reviewer, leaseToken: reviewer, label },
        CLASSES,
        at(2),
      ).item;
    }
    expect(it.status).toBe('disputed');
    expect(availability(it, 'd', at(3))).toBe('decided');
  });

  test('a new class is reported so it joins the class list', () => {
    const { outcome } = vote(
      leasedTo('alice'),
      { reviewerId: 'alice', leaseToken: 't1', label: 'fox', newClass: true },
      CLASSES,
      at(1),
    );
    expect(outcome).toMatchObject({ kind: 'accepted', label: 'fox', newClass: 'fox' });
  });

  test('bad input changes nothing: the item is returned as it was', () => {
    const held = leasedTo('alice');
    const before = JSON.stringify(held);
    expect(() => vote(held, { reviewerId: 'alice', leaseToken: 't1', label: 'fox' }, CLASSES, at(1))).toThrow(
      /unknown class/,
    );
    expect(() => vote(held, { reviewerId: 'bob', leaseToken: 't1', label: 'cat' }, CLASSES, at(1))).toThrow(
      /not leased to you/,
    );
    expect(() => skip(held, 'alice', 'nope', at(1))).toThrow(/stale lease/);
    expect(JSON.stringify(held)).toBe(before);
  });
});

describe('rankOf', () => {
  test('items with votes first, then audit and conflicts, then uncertain ones, most uncertain first', () => {
    const uncertainLow = { ...item('uncertain', 1), request: { ...item('uncertain', 1).request, uncertainty: 0.2 } };
    const uncertainHigh = { ...item('uncertain', 2), request: { ...item('uncertain', 2).request, uncertainty: 0.9 } };
    const audit = item('audit', 3);
    const started = vote(
      leasedTo('a', 't', item('audit', 4)),
      { reviewerId: 'a', leaseToken: 't', label: 'cat' },
      CLASSES,
      at(1),
    ).item;
    const order = [uncertainLow, audit, uncertainHigh, started].sort((x, y) => (rankOf(x) < rankOf(y) ? -1 : 1));
    expect(order.map((i) => i.itemId)).toEqual([started, audit, uncertainHigh, uncertainLow].map((i) => i.itemId));
  });
});
