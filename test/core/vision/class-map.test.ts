import { extendClassMap, remapIndex } from '../../../core/vision/class-map';

describe('class map', () => {
  test('a new class is appended and every old class keeps its index', () => {
    const champion = ['dog', 'cat', 'bird'];
    const next = extendClassMap(champion, ['cat', 'zebra', 'ant', 'dog', 'ant']);
    expect(next).toEqual(['dog', 'cat', 'bird', 'ant', 'zebra']);
    champion.forEach((name, i) => expect(next[i]).toBe(name));
  });

  test('the first map is the sorted labels', () => {
    expect(extendClassMap([], ['b', 'a', 'b'])).toEqual(['a', 'b']);
  });

  test('remapping between maps goes by name; unknown classes map to -1', () => {
    const old = ['dog', 'cat'];
    const next = ['dog', 'cat', 'ant'];
    expect(remapIndex(1, old, next)).toBe(1);
    expect(remapIndex(2, next, old)).toBe(-1);
    expect(() => remapIndex(5, old, next)).toThrow(/class index 5 is outside the map of 2 classes/);
  });

  test('invalid or repeated names are refused', () => {
    expect(() => extendClassMap(['a', 'a'], [])).toThrow(/lists "a" twice/);
    expect(() => extendClassMap([], ['bad/name'])).toThrow(/invalid class name "bad\/name"/);
  });
});

describe('buildManifests (the loop’s current manifest step) keeps the champion’s indices', () => {
  test('a new class appearing between two runs is appended; every old class keeps its index', async () => {
    const { MemoryObjectStore } = await import('../../../core/storage/object-store');
    const { buildManifests } = await import('../../../core/retraining/manifests');
    const store = new MemoryObjectStore();
    const csv = (labels: string[]) =>
      [
        '"image_key","label"',
        ...labels.flatMap((l) => Array.from({ length: 30 }, (_, i) => `"images/${l}/${i}.png","${l}"`)),
      ].join('\n');
    const input = { outputUri: 's3://c/d1/', imageBucket: 'raw', validationFraction: 0.2, hyperparameters: {} };
    await store.put('c', 'q1.csv', csv(['square', 'circle']));
    const first = await buildManifests(store, { ...input, queryResultUri: 's3://c/q1.csv' });
    expect(first.classes).toEqual(['circle', 'square']);
    // "aardvark" sorts first: re-sorting would move every old class.
    await store.put('c', 'q2.csv', csv(['square', 'circle', 'aardvark']));
    const second = await buildManifests(store, {
      ...input,
      outputUri: 's3://c/d2/',
      queryResultUri: 's3://c/q2.csv',
      championClassesUri: 's3://c/d1/classes.json',
    });
    expect(second.classes).toEqual(['circle', 'square', 'aardvark']);
    const square = (text: string | undefined) =>
      new Set(
        text!
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { 'source-ref': string; class: number })
          .filter((l) => l['source-ref'].includes('/square/'))
          .map((l) => l.class),
      );
    expect(square(store.text('c', 'd1/train.manifest'))).toEqual(new Set([1]));
    expect(square(store.text('c', 'd2/train.manifest'))).toEqual(new Set([1]));
    await store.put('c', 'bad.json', '{"names": []}');
    await expect(
      buildManifests(store, { ...input, queryResultUri: 's3://c/q2.csv', championClassesUri: 's3://c/bad.json' }),
    ).rejects.toThrow(`s3://c/bad.json must hold the champion's class names ({"classes": [...]})`);
  });
});
