import { decide } from '../../../core/review/consensus';
import type { Vote } from '../../../core/review/item';

const v = (reviewerId: string, label: string, newClass = false): Vote => ({
  reviewerId,
  label,
  newClass,
  at: '2026-11-23T10:00:00.000Z',
});

describe('decide', () => {
  test('one vote decides when one is enough', () => {
    expect(decide([v('a', 'cat')], 1, 3)).toEqual({
      kind: 'accepted',
      label: 'cat',
      newClass: false,
      reviewers: ['a'],
    });
  });

  test('two agreeing votes decide an item that needs two; the reviewers are listed sorted', () => {
    expect(decide([v('b', 'cat'), v('a', 'cat')], 2, 3)).toEqual({
      kind: 'accepted',
      label: 'cat',
      newClass: false,
      reviewers: ['a', 'b'],
    });
  });

  test('one vote is not enough when two must agree', () => {
    expect(decide([v('a', 'cat')], 2, 3)).toEqual({ kind: 'open', leading: 'cat' });
  });

  test('a disagreement stays open for a third reviewer, who settles it', () => {
    expect(decide([v('a', 'cat'), v('b', 'dog')], 2, 3).kind).toBe('open');
    expect(decide([v('a', 'cat'), v('b', 'dog'), v('c', 'dog')], 2, 3)).toMatchObject({
      kind: 'accepted',
      label: 'dog',
      reviewers: ['b', 'c'],
    });
  });

  test('three different answers are disputed', () => {
    expect(decide([v('a', 'cat'), v('b', 'dog'), v('c', 'bird')], 2, 3)).toEqual({ kind: 'disputed' });
  });

  test('a new class agreed by two is accepted as new', () => {
    expect(decide([v('a', 'fox', true), v('b', 'fox')], 2, 3)).toMatchObject({ label: 'fox', newClass: true });
  });
});
