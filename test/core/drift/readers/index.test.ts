import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  type ChunkSource,
  consumeRecords,
  parseTimestamp,
  type ReadOptions,
  type ReadRecord,
  readRecords,
  RecordPipeline,
} from '../../../../core/drift/readers';

const FIXTURES = join(__dirname, '../../../fixtures/capture');
const FIXTURE_FILES = ['csv-input-json-output.jsonl', 'json-input.jsonl', 'base64.jsonl', 'image-classifier.jsonl'];

async function collect(source: ChunkSource, options: ReadOptions = {}) {
  const records: ReadRecord[] = [];
  const summary = await consumeRecords(source, options, (r) => {
    records.push(r);
  });
  return { records, ...summary };
}

const line = (time: string | undefined, data: string, id?: string) =>
  JSON.stringify({
    captureData: { endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data, encoding: 'CSV' } },
    eventMetadata: { eventId: 'e', ...(time !== undefined && { inferenceTime: time }), ...(id && { inferenceId: id }) },
    eventVersion: '0',
  });

describe('consumeRecords on the fixtures', () => {
  it.each(FIXTURE_FILES)('%s: every line valid, records with provenance', async (name) => {
    const path = join(FIXTURES, name);
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
    const result = await collect(createReadStream(path, { highWaterMark: 64 }));
    expect(result.format).toBe('capture');
    expect(result.counters).toMatchObject({ lines, invalid: 0, invalidReasons: {}, outOfWindow: 0, noEventTime: 0 });
    expect(result.counters.records).toBe(result.records.length);
    expect(result.records.length).toBeGreaterThanOrEqual(lines);
    for (const r of result.records) {
      expect(r.lineNumber).toBeGreaterThanOrEqual(1);
      expect(r.eventTime).toMatch(/^2026-11-23T/);
    }
  });

  it('expands batched requests into one record per instance', async () => {
    const result = await collect(createReadStream(join(FIXTURES, 'json-input.jsonl')));
    expect(result.records.map((r) => [r.lineNumber, r.inferenceId, r.record['output.score'] ?? null])).toEqual([
      [1, 'j-1', null],
      [2, 'j-2', 0.3],
      [2, 'j-2', 0.6],
      [3, undefined, 0.42],
      [4, 'j-4', 0.1],
      [4, 'j-4', 0.2],
    ]);
  });
});

describe('options', () => {
  it('names CSV columns from the schema (input features only) or csvColumns', async () => {
    const schema = {
      features: [
        { name: 'x', kind: 'numerical' as const },
        { name: 'output.score', kind: 'numerical' as const },
        { name: 'y', kind: 'numerical' as const },
      ],
    };
    expect((await collect(line(undefined, '1,2'), { schema })).records[0].record).toEqual({ x: 1, y: 2 });
    const withColumns = await collect(line(undefined, '1,2'), { schema, csvColumns: ['p', 'q'] });
    expect(withColumns.records[0].record).toEqual({ p: 1, q: 2 });
    const mismatch = await collect(line(undefined, '1,2,3'), { schema });
    expect(mismatch.counters).toMatchObject({ records: 0, invalid: 1, invalidReasons: { 'input:column-mismatch': 1 } });
  });

  it('filters on the half-open time window [from, to)', async () => {
    const text = [
      line('2026-11-23T09:59:59.999Z', '1'),
      line('2026-11-23T10:00:00Z', '2'),
      line('2026-11-23T10:30:00.5Z', '3'),
      line('2026-11-23T11:00:00Z', '4'),
      line(undefined, '5'),
      line('yesterday-ish', '6'),
      line('2026-11-23T11:30:00+01:00', '7'),
    ].join('\n');
    const result = await collect(text, {
      window: { from: '2026-11-23T10:00:00Z', to: new Date('2026-11-23T11:00:00Z') },
    });
    expect(result.records.map((r) => r.record.f0)).toEqual([2, 3, 7]);
    expect(result.counters).toMatchObject({ records: 3, outOfWindow: 2, noEventTime: 2, invalid: 0 });

    const openEnded = await collect(text, { window: { from: Date.parse('2026-11-23T10:30:00Z') } });
    expect(openEnded.records.map((r) => r.record.f0)).toEqual([3, 4, 7]);
    const all = await collect(text);
    expect(all.records).toHaveLength(7);
  });

  it('does not filter plain records by time', async () => {
    const result = await collect('{"a":1}\n{"a":2}\n', { window: { from: 0, to: 1 } });
    expect(result.records).toHaveLength(2);
  });

  it('rejects an unparseable window bound', () => {
    expect(() => new RecordPipeline({ window: { from: 'not a date' } })).toThrow(/window.from/);
  });

  it('forces a format', async () => {
    const result = await collect('{"a":1}\n', { format: 'capture' });
    expect(result.format).toBe('capture');
    expect(result.counters.invalidReasons).toEqual({ 'missing-capture-data': 1 });
    const plain = await collect(`${line(undefined, '1')}\n`, { format: 'plain' });
    expect(plain.counters.invalidReasons).toEqual({ 'format-mismatch': 1 });
  });

  it('caps the invalid examples', async () => {
    const result = await collect('x\n'.repeat(30), { maxInvalidExamples: 3 });
    expect(result.counters.invalid).toBe(30);
    expect(result.counters.invalidExamples).toEqual([
      { lineNumber: 1, reason: 'invalid-json' },
      { lineNumber: 2, reason: 'invalid-json' },
      { lineNumber: 3, reason: 'invalid-json' },
    ]);
  });
});

describe('consumeRecords', () => {
  it('awaits an async callback before reading on (back-pressure), in order', async () => {
    const seen: number[] = [];
    let inFlight = 0;
    const text = Array.from({ length: 20 }, (_, i) => `{"i":${i}}`).join('\n');
    await consumeRecords(Readable.from([text.slice(0, 50), text.slice(50)]), {}, async ({ record }) => {
      inFlight++;
      expect(inFlight).toBe(1);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(record.i as number);
      inFlight--;
    });
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('propagates callback errors and source errors', async () => {
    await expect(
      consumeRecords('{"a":1}', {}, () => {
        throw new Error('sink failed');
      }),
    ).rejects.toThrow('sink failed');
    const broken = new Readable({
      read() {
        this.destroy(new Error('socket hang up'));
      },
    });
    await expect(consumeRecords(broken, {}, () => undefined)).rejects.toThrow('socket hang up');
  });
});

describe('readRecords', () => {
  it('iterates records with live counters and summary', async () => {
    const stream = readRecords(Readable.from([Buffer.from('{"a":1}\nbad\n{"a":'), Buffer.from('2}')]));
    const out: unknown[] = [];
    for await (const r of stream) out.push(r.record);
    expect(out).toEqual([{ a: 1 }, { a: 2 }]);
    expect(stream.format).toBe('plain');
    expect(stream.profile).toBeUndefined();
    expect(stream.counters).toMatchObject({ lines: 3, records: 2, invalid: 1 });
    expect(stream.summary()).toMatchObject({ format: 'plain', counters: stream.counters });
    expect(() => stream[Symbol.asyncIterator]()).toThrow(/once/);
  });

  it('exposes a profile', async () => {
    const stream = readRecords(JSON.stringify({ kind: 'ml-blueprint/baseline-profile', x: 1 }, null, 2));
    for await (const _ of stream) throw new Error('no records expected');
    expect(stream.format).toBe('profile');
    expect(stream.profile).toEqual({ kind: 'ml-blueprint/baseline-profile', x: 1 });
  });
});

describe('chunk boundaries', () => {
  // A small file mixing multi-byte UTF-8, CRLF, blank lines, an invalid line, an overlong line and base64.
  const content = Buffer.from(
    [
      line('2026-11-23T10:00:00Z', 'München,1.5,"a, b"', 'ü-1'),
      '',
      JSON.stringify({
        captureData: {
          endpointInput: {
            observedContentType: 'application/json',
            data: Buffer.from('{"city":"Zürich","emoji":"🙂","n":[1,2]}').toString('base64'),
            encoding: 'BASE64',
          },
          endpointOutput: { observedContentType: 'application/json', data: '[0.1,0.9]', encoding: 'JSON' },
        },
        eventMetadata: { eventId: 'x', inferenceTime: '2026-11-23T10:00:01Z' },
      }),
      'not json ✗',
      line('2026-11-23T10:00:02Z', '长'.repeat(300)),
      line('2026-11-23T10:00:03Z', '日本,2'),
    ].join('\r\n'),
    'utf8',
  );
  const options: ReadOptions = { maxLineLength: 400 };

  it('gives identical results for every split offset and for 1-byte chunks', async () => {
    const whole = await collect(content, options);
    expect(whole.records.map((r) => r.record)).toEqual([
      { f0: 'München', f1: 1.5, f2: 'a, b' },
      { city: 'Zürich', emoji: '🙂', n: [1, 2], 'output.predicted_class': '1', 'output.confidence': 0.9 },
      { f0: '日本', f1: 2 },
    ]);
    expect(whole.counters).toMatchObject({
      lines: 5,
      records: 3,
      invalid: 2,
      invalidReasons: { 'invalid-json': 1, 'line-too-long': 1 },
    });
    for (let i = 0; i <= content.length; i++) {
      const split = await collect([content.subarray(0, i), content.subarray(i)], options);
      if (JSON.stringify(split) !== JSON.stringify(whole)) expect([i, split]).toEqual([i, whole]);
    }
    const bytes = await collect(
      Array.from(content, (b) => Uint8Array.of(b)),
      options,
    );
    expect(bytes).toEqual(whole);
  });
});

describe('parseTimestamp', () => {
  it.each([
    '2026-11-23T10:00:00Z',
    '2026-11-23T10:00:00.5Z',
    '2026-11-23T10:00:00.123456789Z',
    '2024-02-29T23:59:59Z',
    '2023-02-29T00:00:00Z',
    '2026-11-23T10:00:00+02:00',
    '2026-11-23',
    '0099-01-01T00:00:00Z',
    '2026-11-23T10:00:00.Z',
    '2026-11-23T25:00:00Z',
    'garbage',
    '',
  ])('%s agrees with Date.parse', (s) => {
    expect(parseTimestamp(s)).toEqual(Date.parse(s));
  });
});
