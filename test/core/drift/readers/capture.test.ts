import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CaptureParser,
  type CaptureParseResult,
  classifyContentType,
  csvValue,
  decodeBase64Strict,
  decodeBase64Text,
  parseCaptureLine,
  parseCaptureRecord,
  parseCsvRows,
  parseDecimal,
  toFeatureRecord,
} from '../../../../core/drift/readers/capture';
import { SeededRandom } from '../../../../core/drift/reservoir';

const FIXTURES = join(__dirname, '../../../fixtures/capture');
const fixtureLines = (name: string) => readFileSync(join(FIXTURES, name), 'utf8').split('\n').filter(Boolean);
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

interface SideSpec {
  ct?: string;
  data?: unknown;
  enc?: unknown;
}

function side(spec: SideSpec, mode: string): Record<string, unknown> {
  const out: Record<string, unknown> = { mode };
  if (spec.ct !== undefined) out.observedContentType = spec.ct;
  if (spec.data !== undefined) out.data = spec.data;
  if (spec.enc !== undefined) out.encoding = spec.enc;
  return out;
}

function capture(input?: SideSpec, output?: SideSpec, meta: Record<string, unknown> = {}): string {
  const captureData: Record<string, unknown> = {};
  if (input) captureData.endpointInput = side(input, 'INPUT');
  if (output) captureData.endpointOutput = side(output, 'OUTPUT');
  return JSON.stringify({ captureData, eventMetadata: { eventId: 'e', ...meta }, eventVersion: '0' });
}

const csvIn = (data: string): SideSpec => ({ ct: 'text/csv', data, enc: 'CSV' });
const jsonIn = (data: unknown): SideSpec => ({ ct: 'application/json', data: JSON.stringify(data), enc: 'JSON' });
const jsonOut = (data: unknown): SideSpec => ({
  ct: 'application/json',
  data: typeof data === 'string' ? data : JSON.stringify(data),
  enc: 'JSON',
});

/** Cheap deep equality for hot test loops (expect() per iteration is slow); Object.is for numbers (-0). */
function equals(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => equals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function ok(result: CaptureParseResult) {
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}`);
  return result;
}
const records = (result: CaptureParseResult) => {
  const r = ok(result);
  return r.instances ?? [r.record];
};

describe('capture fixtures', () => {
  it('csv-input-json-output.jsonl', () => {
    const [a, b, c] = fixtureLines('csv-input-json-output.jsonl').map((l) => parseCaptureLine(l));
    expect(a).toEqual({
      ok: true,
      record: { f0: 1, f1: 2, f2: 'abc', 'output.score': 0.9 },
      instances: undefined,
      eventTime: '2026-11-23T10:00:00Z',
      inferenceId: 'req-1',
    });
    expect(ok(b).record).toEqual({ f0: 3.5, f1: -1, f2: 'def', 'output.score': 0.25 });
    expect(ok(b).inferenceId).toBeUndefined();
    expect(ok(b).eventTime).toBe('2026-11-23T10:05:00.250Z');
    // quoted field with a comma, empty field → null, \r\n row terminator, CSV output
    expect(ok(c).record).toEqual({ f0: 0, f1: null, f2: 'x, y', 'output.score': 0.5 });
  });

  it('csv-input-json-output.jsonl with schema columns', () => {
    const parser = new CaptureParser({ csvColumns: ['price', 'qty', 'colour'] });
    const [a] = fixtureLines('csv-input-json-output.jsonl').map((l) => parser.parseLine(l));
    expect(ok(a).record).toEqual({ price: 1, qty: 2, colour: 'abc', 'output.score': 0.9 });
    const short = new CaptureParser({ csvColumns: ['price', 'qty'] });
    expect(short.parseLine(fixtureLines('csv-input-json-output.jsonl')[0])).toEqual({
      ok: false,
      reason: 'input:column-mismatch',
    });
  });

  it('json-input.jsonl', () => {
    const [a, b, c, d] = fixtureLines('json-input.jsonl').map((l) => parseCaptureLine(l));
    expect(ok(a).record).toEqual({
      age: 31,
      country: 'DE',
      is_new: 'true',
      embedding: [0.1, 0.2, 0.3],
      tenure: null,
      'output.predicted_label': 'cat',
      'output.probability': 0.8,
    });
    expect(ok(a).instances).toBeUndefined();
    expect(records(b)).toEqual([
      { age: 20, country: 'FR', 'output.score': 0.3 },
      { age: 40, country: 'US', 'output.score': 0.6 },
    ]);
    expect(ok(b).record).toBe(ok(b).instances![0]);
    expect(records(c)).toEqual([{ f0: 1.5, f1: 2.5, f2: 'red', 'output.score': 0.42 }]);
    expect(records(d)).toEqual([
      { age: 50, country: 'IT', 'output.score': 0.1 },
      { age: 60, country: 'ES', 'output.score': 0.2 },
    ]);
  });

  it('base64.jsonl (CSV and UTF-8 JSON inside base64)', () => {
    const [a, b] = fixtureLines('base64.jsonl').map((l) => parseCaptureLine(l));
    expect(ok(a).record).toEqual({ f0: 4, f1: 5, f2: 'ghi', 'output.score': 0.75 });
    expect(ok(b).record).toEqual({ city: 'München', price: 9.99, 'output.score': 1 });
  });

  it('image-classifier.jsonl: no input features, argmax class and confidence', () => {
    const [a, b, c] = fixtureLines('image-classifier.jsonl').map((l) => parseCaptureLine(l));
    expect(ok(a).record).toEqual({ 'output.predicted_class': '1', 'output.confidence': 0.7 });
    expect(ok(b).record).toEqual({ 'output.predicted_class': '2', 'output.confidence': 0.8 });
    expect(ok(c).record).toEqual({ 'output.predicted_class': '0', 'output.confidence': 0.6 });
  });
});

describe('input payloads', () => {
  it.each<[string, unknown, Array<Record<string, unknown>>]>([
    ['flat object', { a: 1, b: 'x' }, [{ a: 1, b: 'x' }]],
    ['nested object → dotted names', { user: { age: 3, geo: { cc: 'DE' } } }, [{ 'user.age': 3, 'user.geo.cc': 'DE' }]],
    ['booleans → strings, null kept', { t: true, f: false, n: null }, [{ t: 'true', f: 'false', n: null }]],
    [
      'number array → embedding, others → null',
      { e: [1, 2], s: ['a'], m: [1, 'a'], z: [] },
      [{ e: [1, 2], s: null, m: null, z: null }],
    ],
    ['instances of objects', { instances: [{ a: 1 }, { a: 2 }] }, [{ a: 1 }, { a: 2 }]],
    [
      'instances of rows',
      {
        instances: [
          [1, 'x'],
          [2, 'y'],
        ],
      },
      [
        { f0: 1, f1: 'x' },
        { f0: 2, f1: 'y' },
      ],
    ],
    ['inputs (TF serving)', { inputs: [{ a: 1 }] }, [{ a: 1 }]],
    [
      'instances with features arrays',
      { instances: [{ features: [1, 2] }, { features: [3, 4] }] },
      [
        { f0: 1, f1: 2 },
        { f0: 3, f1: 4 },
      ],
    ],
    ['top-level features array', { features: [0.5, 'k', true, null] }, [{ f0: 0.5, f1: 'k', f2: 'true', f3: null }]],
    [
      'features as an embedding next to other fields',
      { id: 'u1', features: [0.1, 0.2] },
      [{ id: 'u1', features: [0.1, 0.2] }],
    ],
    ['array row', [1, 2, 3], [{ f0: 1, f1: 2, f2: 3 }]],
    ['array of rows', [[1], [2]], [{ f0: 1 }, { f0: 2 }]],
    ['array of objects', [{ a: 1 }, { b: 2 }], [{ a: 1 }, { b: 2 }]],
    ['scalar', 42, [{ f0: 42 }]],
    ['escaped strings (slow path)', { 'k"q': 'a\\b\n' }, [{ 'k"q': 'a\\b\n' }]],
    ['__proto__ key dropped', JSON.parse('{"__proto__":{"x":1},"a":1}'), [{ a: 1 }]],
  ])('%s', (_name, payload, expected) => {
    expect(records(parseCaptureLine(capture(jsonIn(payload))))).toEqual(expected);
  });

  it('does not pollute prototypes through __proto__ keys', () => {
    const r = ok(
      parseCaptureLine(capture({ ct: 'application/json', data: '{"__proto__":{"polluted":1},"a":1}', enc: 'JSON' })),
    );
    expect(Object.getPrototypeOf(r.record)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(r.record)).toEqual(['a']);
  });

  it('maps JSON arrays to schema columns and rejects a length mismatch', () => {
    const parser = new CaptureParser({ csvColumns: ['x', 'y'] });
    expect(parser.parseLine(capture(jsonIn({ instances: [[1, 2]] })))).toMatchObject({
      ok: true,
      record: { x: 1, y: 2 },
    });
    expect(parser.parseLine(capture(jsonIn([1, 2, 3])))).toEqual({ ok: false, reason: 'input:column-mismatch' });
    expect(parser.parseLine(capture(csvIn('1,2,3')))).toEqual({ ok: false, reason: 'input:column-mismatch' });
    expect(parser.parseLine(capture(csvIn('1')))).toEqual({ ok: false, reason: 'input:column-mismatch' });
  });

  it('parses multi-row CSV as a batch and skips blank rows', () => {
    expect(records(parseCaptureLine(capture(csvIn('1,a\r\n\r\n2,b\n'))))).toEqual([
      { f0: 1, f1: 'a' },
      { f0: 2, f1: 'b' },
    ]);
    expect(records(parseCaptureLine(capture(csvIn('"1","a"\n"2","b ""q"""'))))).toEqual([
      { f0: 1, f1: 'a' },
      { f0: 2, f1: 'b "q"' },
    ]);
  });

  it('honours content-type parameters and case, and falls back to the encoding', () => {
    expect(ok(parseCaptureLine(capture({ ct: 'Text/CSV; charset=UTF-8', data: '1', enc: 'CSV' }))).record).toEqual({
      f0: 1,
    });
    expect(ok(parseCaptureLine(capture({ data: '{"a":1}', enc: 'JSON' }))).record).toEqual({ a: 1 });
    expect(ok(parseCaptureLine(capture({ ct: 'application/octet-stream', data: '1,2', enc: 'CSV' }))).record).toEqual({
      f0: 1,
      f1: 2,
    });
    expect(
      ok(parseCaptureLine(capture({ ct: 'application/vnd.api+json', data: '{"a":1}', enc: 'JSON' }))).record,
    ).toEqual({
      a: 1,
    });
    expect(ok(parseCaptureLine(capture({ ct: 'text/csv', data: '7', enc: 'csv' }))).record).toEqual({ f0: 7 });
  });

  it('rejects JSON embedded as a value rather than a string', () => {
    const line = JSON.stringify({
      captureData: { endpointInput: { observedContentType: 'application/json', data: { a: 1 }, encoding: 'JSON' } },
    });
    expect(parseCaptureLine(line)).toEqual({ ok: false, reason: 'input:invalid' });
  });

  it('skips image input without decoding it (even invalid base64 is not an error)', () => {
    const r = parseCaptureLine(
      capture({ ct: 'image/jpeg', data: '!!not base64!!', enc: 'BASE64' }, jsonOut([0.2, 0.8])),
    );
    expect(ok(r).record).toEqual({ 'output.predicted_class': '1', 'output.confidence': 0.8 });
    expect(ok(parseCaptureLine(capture({ ct: 'image/png', data: 'AAAA', enc: 'BASE64' }))).record).toEqual({});
  });

  it('returns input-only and output-only captures', () => {
    expect(ok(parseCaptureLine(capture(csvIn('1,2')))).record).toEqual({ f0: 1, f1: 2 });
    expect(ok(parseCaptureLine(capture(undefined, jsonOut({ score: 1 })))).record).toEqual({ 'output.score': 1 });
  });
});

describe('output payloads', () => {
  it.each<[string, SideSpec, Array<Record<string, unknown>>]>([
    ['bare JSON number', jsonOut('0.93'), [{ 'output.score': 0.93 }]],
    ['bare JSON number with whitespace', jsonOut(' -1e-3\n'), [{ 'output.score': -0.001 }]],
    ['bare JSON string', jsonOut('"cat"'), [{ 'output.predicted_label': 'cat' }]],
    ['bare JSON boolean', jsonOut('true'), [{ 'output.predicted_label': 'true' }]],
    ['{"score":…}', jsonOut({ score: 0.9 }), [{ 'output.score': 0.9 }]],
    [
      'label + probability',
      jsonOut({ predicted_label: 'cat', probability: 0.8 }),
      [{ 'output.predicted_label': 'cat', 'output.probability': 0.8 }],
    ],
    ['predictions list of objects', jsonOut({ predictions: [{ score: 0.3 }] }), [{ 'output.score': 0.3 }]],
    ['predictions list of numbers', jsonOut({ predictions: [0.3] }), [{ 'output.score': 0.3 }]],
    [
      'predictions list of probability vectors',
      jsonOut({ predictions: [[0.1, 0.9]] }),
      [{ 'output.predicted_class': '1', 'output.confidence': 0.9 }],
    ],
    [
      'nested object output',
      jsonOut({ result: { label: 'x', p: 0.5 } }),
      [{ 'output.result.label': 'x', 'output.result.p': 0.5 }],
    ],
    [
      'probability vector output kept alongside',
      jsonOut({ label: 'b', probabilities: [0.2, 0.8] }),
      [
        {
          'output.label': 'b',
          'output.probabilities': [0.2, 0.8],
          'output.predicted_class': '1',
          'output.confidence': 0.8,
        },
      ],
    ],
    ['class probabilities', jsonOut([0.1, 0.7, 0.2]), [{ 'output.predicted_class': '1', 'output.confidence': 0.7 }]],
    [
      'first maximum wins ties',
      jsonOut([0.4, 0.4, 0.2]),
      [{ 'output.predicted_class': '0', 'output.confidence': 0.4 }],
    ],
    ['single-element array is a score', jsonOut([0.7]), [{ 'output.score': 0.7 }]],
    ['nested single-element arrays', jsonOut([[0.7]]), [{ 'output.score': 0.7 }]],
    ['CSV score', { ct: 'text/csv', data: '0.5\n', enc: 'CSV' }, [{ 'output.score': 0.5 }]],
    ['CSV label', { ct: 'text/csv', data: 'dog', enc: 'CSV' }, [{ 'output.predicted_label': 'dog' }]],
    [
      'CSV probabilities',
      { ct: 'text/csv', data: '0.2,0.8', enc: 'CSV' },
      [{ 'output.predicted_class': '1', 'output.confidence': 0.8 }],
    ],
    ['CSV mixed columns', { ct: 'text/csv', data: 'dog,0.8', enc: 'CSV' }, [{ 'output.f0': 'dog', 'output.f1': 0.8 }]],
    ['base64 JSON', { ct: 'application/json', data: b64('{"score":0.25}'), enc: 'BASE64' }, [{ 'output.score': 0.25 }]],
    [
      'JSON Lines',
      { ct: 'application/jsonlines', data: '{"score":1}\n{"score":2}', enc: 'JSON' },
      [{ 'output.score': 1 }, { 'output.score': 2 }],
    ],
    ['JSON null', jsonOut('null'), [{}]],
  ])('%s', (_name, output, expected) => {
    expect(records(parseCaptureLine(capture(undefined, output)))).toEqual(expected);
  });

  it('pairs per-instance outputs with batched inputs', () => {
    expect(records(parseCaptureLine(capture(csvIn('1\n2\n3'), jsonOut([0.1, 0.2, 0.3]))))).toEqual([
      { f0: 1, 'output.score': 0.1 },
      { f0: 2, 'output.score': 0.2 },
      { f0: 3, 'output.score': 0.3 },
    ]);
    expect(records(parseCaptureLine(capture(csvIn('1\n2'), { ct: 'text/csv', data: '0.1,0.9', enc: 'CSV' })))).toEqual([
      { f0: 1, 'output.score': 0.1 },
      { f0: 2, 'output.score': 0.9 },
    ]);
    expect(records(parseCaptureLine(capture(csvIn('1\n2'), { ct: 'text/csv', data: 'a,b', enc: 'CSV' })))).toEqual([
      { f0: 1, 'output.predicted_label': 'a' },
      { f0: 2, 'output.predicted_label': 'b' },
    ]);
    expect(
      records(parseCaptureLine(capture(csvIn('1\n2'), { ct: 'text/csv', data: '0.3\n0.6,0.4', enc: 'CSV' }))),
    ).toEqual([
      { f0: 1, 'output.score': 0.3 },
      { f0: 2, 'output.predicted_class': '0', 'output.confidence': 0.6 },
    ]);
    // more outputs than inputs: extra instances carry outputs only
    expect(records(parseCaptureLine(capture(csvIn('1'), jsonOut({ predictions: [1, 2] }))))).toEqual([
      { f0: 1, 'output.score': 1 },
      { 'output.score': 2 },
    ]);
  });
});

describe('invalid records', () => {
  it.each<[string, string, string]>([
    ['truncated line', capture(csvIn('1')).slice(0, 30), 'invalid-json'],
    ['array', '[1,2]', 'not-an-object'],
    ['string', '"x"', 'not-an-object'],
    ['null', 'null', 'not-an-object'],
    ['no captureData', JSON.stringify({ eventMetadata: {} }), 'missing-capture-data'],
    ['captureData not an object', JSON.stringify({ captureData: [1] }), 'missing-capture-data'],
    ['empty captureData', JSON.stringify({ captureData: {} }), 'missing-capture-data'],
    [
      'null sides',
      JSON.stringify({ captureData: { endpointInput: null, endpointOutput: null } }),
      'missing-capture-data',
    ],
    ['input not an object', JSON.stringify({ captureData: { endpointInput: 'x' } }), 'input:invalid'],
    ['data not a string', capture({ ct: 'text/csv', data: 5, enc: 'CSV' }), 'input:invalid'],
    ['missing data', capture({ ct: 'text/csv', enc: 'CSV' }), 'input:invalid'],
    ['unknown encoding', capture({ ct: 'text/csv', data: '1', enc: 'XML' }), 'input:unsupported-encoding'],
    ['encoding not a string', capture({ ct: 'text/csv', data: '1', enc: 7 }), 'input:unsupported-encoding'],
    [
      'protobuf',
      capture({ ct: 'application/x-recordio-protobuf', data: 'AAAA', enc: 'BASE64' }),
      'input:unsupported-content-type',
    ],
    ['base64 without content type', capture({ data: 'AAAA', enc: 'BASE64' }), 'input:unsupported-content-type'],
    ['bad base64 characters', capture({ ct: 'text/csv', data: 'MSwy!Mw==', enc: 'BASE64' }), 'input:invalid-base64'],
    ['bad base64 length', capture({ ct: 'text/csv', data: 'MSwyM', enc: 'BASE64' }), 'input:invalid-base64'],
    ['empty base64', capture({ ct: 'text/csv', data: '', enc: 'BASE64' }), 'input:empty'],
    ['empty CSV', capture(csvIn('')), 'input:empty'],
    ['blank CSV', capture(csvIn(' \r\n')), 'input:empty'],
    ['unterminated quote', capture(csvIn('"abc,1')), 'input:invalid-csv'],
    ['invalid JSON payload', capture({ ct: 'application/json', data: '{"a":', enc: 'JSON' }), 'input:invalid-json'],
    [
      'base64 of invalid JSON',
      capture({ ct: 'application/json', data: b64('{"a'), enc: 'BASE64' }),
      'input:invalid-json',
    ],
    ['empty JSON payload', capture({ ct: 'application/json', data: '  ', enc: 'JSON' }), 'input:empty'],
    ['JSON null input', capture(jsonIn(null)), 'input:unsupported-shape'],
    ['empty JSON array', capture(jsonIn([])), 'input:empty'],
    ['empty instances', capture(jsonIn({ instances: [] })), 'input:empty'],
    ['null instance', capture(jsonIn({ instances: [null] })), 'input:unsupported-shape'],
    [
      'invalid JSON line',
      capture({ ct: 'application/jsonlines', data: '{"a":1}\n{', enc: 'JSON' }),
      'input:invalid-json',
    ],
    ['empty JSON lines', capture({ ct: 'application/jsonlines', data: '\n', enc: 'JSON' }), 'input:empty'],
    ['output: invalid JSON', capture(csvIn('1'), jsonOut('{"score":')), 'output:invalid-json'],
    ['output: hex is not a JSON number', capture(csvIn('1'), jsonOut('0x10')), 'output:invalid-json'],
    ['output: leading zero', capture(csvIn('1'), jsonOut('01')), 'output:invalid-json'],
    ['output: empty', capture(csvIn('1'), jsonOut('')), 'output:empty'],
    ['output: empty array', capture(csvIn('1'), jsonOut([])), 'output:empty'],
    ['output: empty predictions', capture(csvIn('1'), jsonOut({ predictions: [] })), 'output:empty'],
    ['output: list of string lists', capture(csvIn('1'), jsonOut([['a', 'b']])), 'output:unsupported-shape'],
    ['output: empty inner array', capture(csvIn('1'), jsonOut([[]])), 'output:empty'],
    [
      'output: unterminated CSV quote',
      capture(csvIn('1'), { ct: 'text/csv', data: '"x', enc: 'CSV' }),
      'output:invalid-csv',
    ],
    [
      'output: bad encoding',
      capture(csvIn('1'), { ct: 'text/csv', data: '1', enc: 'GZIP' }),
      'output:unsupported-encoding',
    ],
    ['output: not an object', JSON.stringify({ captureData: { endpointOutput: [] } }), 'output:invalid'],
  ])('%s → %s', (_name, line, reason) => {
    expect(parseCaptureLine(line)).toEqual({ ok: false, reason });
  });

  it('never throws, whatever the shape of the values', () => {
    const weird: unknown[] = [null, 0, -1, 1.5, '', 'x', true, [], [null], {}, { a: {} }, [[[]]], { data: null }];
    const rnd = new SeededRandom(7);
    const pick = () => weird[rnd.nextInt(weird.length)];
    for (let i = 0; i < 2000; i++) {
      const value = {
        captureData: rnd.next() < 0.1 ? pick() : { endpointInput: pick(), endpointOutput: pick() },
        eventMetadata: rnd.next() < 0.5 ? pick() : { inferenceTime: pick(), inferenceId: pick() },
      };
      const sideValue = { observedContentType: pick(), data: pick(), encoding: pick() };
      const other = { captureData: { endpointInput: sideValue, endpointOutput: { ...sideValue, data: pick() } } };
      for (const v of [value, other, pick()]) {
        const result = parseCaptureRecord(v);
        expect(typeof result.ok).toBe('boolean');
      }
    }
  });

  it('ignores eventMetadata fields of the wrong type', () => {
    const line = capture(csvIn('1'), undefined, { inferenceTime: 5, inferenceId: ['x'] });
    expect(ok(parseCaptureLine(line))).toMatchObject({ eventTime: undefined, inferenceId: undefined });
  });
});

describe('helpers', () => {
  it('classifyContentType', () => {
    expect(classifyContentType('text/csv')).toBe('csv');
    expect(classifyContentType(' TEXT/CSV ; header=absent')).toBe('csv');
    expect(classifyContentType('text/plain')).toBe('csv');
    expect(classifyContentType('application/json; charset=utf-8')).toBe('json');
    expect(classifyContentType('application/jsonlines')).toBe('jsonlines');
    expect(classifyContentType('application/x-ndjson')).toBe('jsonlines');
    expect(classifyContentType('image/webp')).toBe('image');
    expect(classifyContentType('application/x-image')).toBe('image');
    expect(classifyContentType('application/x-npy')).toBe('unknown');
    expect(classifyContentType('')).toBe('unknown');
  });

  it.each<[string, unknown]>([
    ['', null],
    ['  ', null],
    ['1', 1],
    ['-2.5', -2.5],
    ['+3', 3],
    ['.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    [' 7 ', 7],
    ['NaN', null],
    ['nan', null],
    ['Infinity', null],
    ['-Infinity', null],
    ['1e999', null],
    ['0x1F', '0x1F'],
    ['0b1', '0b1'],
    ['1_000', '1_000'],
    ['abc', 'abc'],
    [' abc ', 'abc'],
    ['N/A', 'N/A'],
    ['-', '-'],
  ])('csvValue(%j) → %j', (field, expected) => {
    expect(csvValue(field)).toEqual(expected);
    // the in-place CSV path agrees with csvValue
    expect(ok(parseCaptureLine(capture(csvIn(`${field},z`)))).record.f0).toEqual(expected);
  });

  it('parseCsvRows', () => {
    expect(parseCsvRows('a,b\nc,d')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(parseCsvRows('"a,b",c\r\n"x\ny",""""')).toEqual([
      ['a,b', 'c'],
      ['x\ny', '"'],
    ]);
    expect(parseCsvRows('a,')).toEqual([['a', '']]);
    expect(parseCsvRows('"a"b,c')).toEqual([['ab', 'c']]);
    expect(parseCsvRows('"a"\n\n"b"\n')).toEqual([['a'], ['b']]);
    expect(parseCsvRows('"a')).toBeNull();
    expect(parseCsvRows('')).toEqual([]);
  });

  it('decodeBase64Strict / decodeBase64Text', () => {
    expect(decodeBase64Strict(b64('hello'))?.toString()).toBe('hello');
    expect(decodeBase64Strict('aGVsbG8')?.toString()).toBe('hello'); // unpadded
    expect(decodeBase64Strict('aGV sbG8=')).toBeNull();
    expect(decodeBase64Strict('aGV*sbG8=')).toBeNull();
    expect(decodeBase64Strict('a')).toBeNull();
    expect(decodeBase64Strict('aG=VsbG8')).toBeNull();
    expect(decodeBase64Text(b64('Grüße 🙂'))).toBe('Grüße 🙂');
    expect(decodeBase64Text(Buffer.from('??>>').toString('base64url'))).toBe('??>>');
    expect(decodeBase64Text('%%%%')).toBeNull();
  });

  it('parseDecimal agrees with Number() on random and edge-case decimals', () => {
    const rnd = new SeededRandom(42);
    const samples = [
      '0',
      '-0',
      '1',
      '10',
      '0.1',
      '0.30000000000000004',
      '123456789012345678',
      '9007199254740993',
      '9007199254740992',
      '4.35',
      '1e22',
      '1e23',
      '1e-22',
      '1.7976931348623157e308',
      '5e-324',
      '2.2250738585072014e-308',
      '100e-2',
      '0.000001',
      '123.456e-7',
      '1E+2',
      '00012',
      '-0.0e0',
    ];
    for (let i = 0; i < 20000; i++) {
      const x = (rnd.next() - 0.5) * 10 ** Math.floor(rnd.next() * 40 - 20);
      samples.push(String(x), x.toFixed(Math.floor(rnd.next() * 10)), x.toPrecision(1 + Math.floor(rnd.next() * 20)));
      samples.push(String(Math.floor(rnd.next() * 1e6)), x.toExponential(Math.floor(rnd.next() * 16)));
    }
    const mismatches: unknown[] = [];
    for (const s of samples) {
      if (!Object.is(parseDecimal(s, 0, s.length, false), Number(s))) mismatches.push([s, 'number']);
      let json = NaN;
      try {
        json = JSON.parse(s) as number;
      } catch {
        // not JSON: parseDecimal must say NaN
      }
      if (!Object.is(parseDecimal(s, 0, s.length, true), json)) mismatches.push([s, 'json']);
    }
    expect(mismatches).toEqual([]);
    expect(samples.length).toBeGreaterThan(100000);
    for (const bad of ['', '-', '+', '.', 'e5', '1e', '1e+', '1.2.3', '--1', '1x', ' 1']) {
      expect(parseDecimal(bad, 0, bad.length, false)).toBeNaN();
    }
    for (const notJson of ['+1', '.5', '5.', '01', '-.5'])
      expect(parseDecimal(notJson, 0, notJson.length, true)).toBeNaN();
  });

  it('the flat-JSON fast path agrees with JSON.parse (differential)', () => {
    const rnd = new SeededRandom(99);
    const atoms = [
      '{',
      '}',
      '"a"',
      '"b"',
      ':',
      ',',
      ' ',
      '1',
      '-0.5',
      '2e3',
      '01',
      'true',
      'false',
      'null',
      'nul',
      '"x\\"y"',
      '"\t"',
      '[1]',
      '{}',
      '"é"',
      '\n',
    ];
    const reference = (text: string) => {
      const line = capture({ ct: 'application/json', data: text, enc: 'JSON' });
      if (text.trim() === '') return { line, expected: { ok: false, reason: 'input:empty' } };
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return { line, expected: { ok: false, reason: 'input:invalid-json' } };
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { line, expected: undefined };
      // Reference: the general (JSON.parse) mapping of an object payload.
      const record = toFeatureRecord(parsed as Record<string, unknown>);
      return {
        line,
        expected: { ok: true, record, instances: undefined, eventTime: undefined, inferenceId: undefined },
      };
    };
    let checked = 0;
    for (let i = 0; i < 20000; i++) {
      let text = rnd.next() < 0.5 ? '{' : '';
      const n = 1 + rnd.nextInt(10);
      for (let k = 0; k < n; k++) text += atoms[rnd.nextInt(atoms.length)];
      if (rnd.next() < 0.5) text += '}';
      const { line, expected } = reference(text);
      if (expected === undefined) continue;
      const actual = parseCaptureLine(line);
      if (!equals(actual, expected)) expect([text, actual]).toEqual([text, expected]);
      checked++;
    }
    // well-formed flat objects, with random whitespace
    for (let i = 0; i < 3000; i++) {
      const obj: Record<string, unknown> = {};
      const n = rnd.nextInt(5);
      for (let k = 0; k < n; k++) {
        const r = rnd.next();
        obj[`k${rnd.nextInt(4)}`] =
          r < 0.3 ? (rnd.next() - 0.5) * 10 ** rnd.nextInt(30) : r < 0.6 ? `s${k}` : r < 0.8 ? rnd.next() < 0.5 : null;
      }
      const text = JSON.stringify(obj, null, rnd.next() < 0.5 ? undefined : 1);
      const { line, expected } = reference(text);
      const actual = parseCaptureLine(line);
      if (!equals(actual, expected)) expect([text, actual]).toEqual([text, expected]);
      checked++;
    }
    expect(checked).toBeGreaterThan(5000);
  });
});
