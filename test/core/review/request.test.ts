import { ReviewError } from '../../../core/review/errors';
import { itemIdOf, parseReviewRequest } from '../../../core/review/request';
import { request } from './fixtures';

const parse = (value: unknown) => parseReviewRequest(value, 'images/');

describe('parseReviewRequest', () => {
  test('accepts a valid request and orders topK by confidence', () => {
    const r = request();
    const parsed = parse({ ...r, topK: [r.topK[2], r.topK[0], r.topK[1]] });
    expect(parsed.topK.map((c) => c.label)).toEqual(['cat', 'dog', 'bird']);
    expect(parsed.imageKey).toBe(r.imageKey);
  });

  test.each([
    ['an unknown field', { ...request(), confidence: 0.4 }, /invalid review request: .*confidence/],
    ['a key outside the images prefix', { ...request(), imageKey: 'quarantine/x.png' }, /not under images\//],
    ['a key that climbs out', { ...request(), imageKey: 'images/../secret.png' }, /not under images\//],
    ['an unknown reason', { ...request(), reason: 'curious' }, /reason/],
    ['more than three classes', { ...request(), topK: [...request().topK, { label: 'fox', confidence: 0 }] }, /topK/],
    ['a confidence above 1', { ...request(), topK: [{ label: 'cat', confidence: 1.2 }] }, /topK\.0\.confidence/],
    ['a bad label', { ...request(), topK: [{ label: '../x', confidence: 0.5 }] }, /topK\.0\.label: must be a class/],
    ['an uncertain item without inference id', { ...request(), inferenceId: undefined }, /needs inferenceId/],
    ['an audit item without classes', { ...request('audit'), topK: [] }, /needs the model's topK/],
    ['a conflict without labels', { ...request('conflict') }, /needs the disagreeing labels/],
    ['a local time', { ...request(), predictedAt: '2026-11-23T10:00:00' }, /predictedAt/],
    ['not an object', 'cat', /invalid review request/],
  ])('refuses %s with one line', (_name, value, message) => {
    let error: unknown;
    try {
      parse(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReviewError);
    expect((error as ReviewError).code).toBe('bad-request');
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  test('a conflict item needs no prediction', () => {
    const r = parse({
      imageKey: 'images/a/b.jpg',
      contentType: 'image/jpeg',
      sizeBytes: 10,
      topK: [],
      reason: 'conflict',
      labels: [
        { label: 'cat', source: 'labels-file' },
        { label: 'dog', source: 'prefix' },
      ],
    });
    expect(r.inferenceId).toBeUndefined();
  });

  test('item ids: the same request twice is one item; another prediction or reason is another', () => {
    const a = request('uncertain', 1);
    expect(itemIdOf(a)).toMatch(/^[0-9a-f]{24}$/);
    expect(itemIdOf({ ...a })).toBe(itemIdOf(a));
    expect(itemIdOf({ ...a, inferenceId: 'inf-other' })).not.toBe(itemIdOf(a));
    expect(itemIdOf({ ...a, reason: 'audit' })).not.toBe(itemIdOf(a));
  });
});
