import { parsePlainLine, parsePlainRecord } from '../../../../core/drift/readers/plain';

describe('parsePlainLine', () => {
  it('maps numbers, strings, booleans, embeddings and nulls', () => {
    expect(
      parsePlainLine('{"age":31,"country":"DE","is_new":true,"churned":false,"embedding":[0.1,-2,3e-3],"tenure":null}'),
    ).toEqual({
      ok: true,
      record: { age: 31, country: 'DE', is_new: 'true', churned: 'false', embedding: [0.1, -2, 0.003], tenure: null },
    });
  });

  it('treats unusable values as missing and flattens nested objects', () => {
    expect(parsePlainLine('{"tags":["a","b"],"mixed":[1,"x"],"empty":[],"nested":{"a":{"b":1}},"x":1}')).toEqual({
      ok: true,
      record: { tags: null, mixed: null, empty: null, 'nested.a.b': 1, x: 1 },
    });
  });

  it('returns the parsed object itself when nothing needs converting', () => {
    const value = { a: 1, b: 'x', c: null, d: [1, 2] };
    const result = parsePlainRecord(value);
    expect(result).toEqual({ ok: true, record: value });
    expect(result.ok && result.record).toBe(value);
  });

  it('drops __proto__ keys without touching prototypes', () => {
    const result = parsePlainLine('{"__proto__":{"polluted":true},"a":1}');
    expect(result).toEqual({ ok: true, record: { a: 1 } });
    expect(result.ok && Object.getPrototypeOf(result.record)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each<[string, string]>([
    ['{"a":', 'invalid-json'],
    ['not json', 'invalid-json'],
    ['[1,2]', 'not-an-object'],
    ['42', 'not-an-object'],
    ['null', 'not-an-object'],
    ['{}', 'empty-record'],
    ['{"captureData":{}}', 'format-mismatch'],
    ['{"eventMetadata":{"eventId":"x"},"eventVersion":"0"}', 'format-mismatch'],
  ])('%s → %s', (line, reason) => {
    expect(parsePlainLine(line)).toEqual({ ok: false, reason });
  });

  it('never throws on arbitrary values', () => {
    for (const v of [undefined, Symbol('x'), () => 1, new Date(0), { a: undefined }, { a: NaN, b: Infinity }]) {
      expect(() => parsePlainRecord(v)).not.toThrow();
    }
    expect(parsePlainRecord({ a: NaN, b: Infinity, c: 1 })).toEqual({ ok: true, record: { a: null, b: null, c: 1 } });
  });
});
