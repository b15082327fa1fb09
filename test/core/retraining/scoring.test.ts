import { MemoryObjectStore } from '../../../core/storage/object-store';
import { rocAuc, scoreModel } from '../../../core/retraining/scoring';

describe('rocAuc', () => {
  test('matches hand-computed values, ties counted half', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    expect(rocAuc([0, 1], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([1, 1, 0], [0.9, 0.8, 0.1])).toBe(1);
    expect(rocAuc([1, 0, 0], [0.1, 0.8, 0.9])).toBe(0);
  });

  test('needs both classes', () => {
    expect(() => rocAuc([1, 1], [0.2, 0.3])).toThrow(/both positive and negative labels/);
  });
});

describe('scoreModel', () => {
  test('recommender: reads label,prediction lines from every transform output file', async () => {
    const store = new MemoryObjectStore();
    await store.put('c', 'datasets/r/scores/candidate/a.csv.out', '0,0.1\n1,0.35\n');
    await store.put('c', 'datasets/r/scores/candidate/b.csv.out', '0,0.4\n1,0.8\n');
    await expect(
      scoreModel(store, { kind: 'recommender', outputUri: 's3://c/datasets/r/scores/candidate/' }),
    ).resolves.toEqual({
      metric: 'auc',
      value: 0.75,
      records: 4,
    });
  });

  test('vision: joins outputs to the manifest by image key and counts top-1 hits', async () => {
    const store = new MemoryObjectStore();
    await store.put(
      'c',
      'datasets/v/validation.manifest',
      ['a.jpg', 'b.jpg', 'c.jpg']
        .map((k, i) => JSON.stringify({ 'source-ref': `s3://raw/images/${k}`, class: i % 2 }))
        .join('\n'),
    );
    await store.put('c', 'datasets/v/scores/champion/images/a.jpg.out', '[0.7, 0.3]');
    await store.put('c', 'datasets/v/scores/champion/images/b.jpg.out', '[0.6, 0.4]');
    await store.put('c', 'datasets/v/scores/champion/images/c.jpg.out', '[0.9, 0.1]');
    const score = await scoreModel(store, {
      kind: 'vision',
      outputUri: 's3://c/datasets/v/scores/champion/',
      manifestUri: 's3://c/datasets/v/validation.manifest',
      imagePrefixUri: 's3://raw/',
    });
    expect(score).toEqual({ metric: 'accuracy', value: 2 / 3, records: 3 });
  });

  test('a malformed output line fails naming the object', async () => {
    const store = new MemoryObjectStore();
    await store.put('c', 'o/x.out', 'label,prediction\n');
    await expect(scoreModel(store, { kind: 'recommender', outputUri: 's3://c/o/' })).rejects.toThrow(
      /unreadable score line in s3:\/\/c\/o\/x.out/,
    );
  });
});
