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
