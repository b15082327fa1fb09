import {
  BASELINE_PROFILE_KIND,
  classifyDocument,
  detectFormat,
  type DetectorSink,
  FormatDetector,
} from '../../../../core/drift/readers/detect';
import { consumeRecords } from '../../../../core/drift/readers';

const CAPTURE =
  '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"1,2","encoding":"CSV"}},"eventMetadata":{"eventId":"e","inferenceTime":"2026-11-23T10:00:00Z"},"eventVersion":"0"}';
const PROFILE = {
  kind: BASELINE_PROFILE_KIND,
  version: 1,
  features: [
    { name: 'a', kind: 'numerical', histogram: [1, 2, 3] },
    { name: 'b', kind: 'categorical', counts: { x: 1 } },
  ],
};

async function readAll(text: string, options: Parameters<typeof consumeRecords>[1] = {}) {
  const records: unknown[] = [];
  const summary = await consumeRecords(text, options, ({ record }) => {
    records.push(record);
  });
  return { records, ...summary };
}

describe('classifyDocument', () => {
  it.each<[unknown, string | null]>([
    [{ captureData: {} }, 'capture'],
    [{ eventMetadata: {} }, 'capture'],
    [{ kind: BASELINE_PROFILE_KIND }, 'profile'],
    [{ kind: 'other' }, 'plain'],
    [{ a: 1 }, 'plain'],
    [[{ a: 1 }], null],
    [null, null],
    ['x', null],
  ])('%j → %s', (value, expected) => {
    expect(classifyDocument(value)).toBe(expected);
  });
});

describe('detectFormat', () => {
  it('detects capture, plain and unknown', async () => {
    expect(await detectFormat(`${CAPTURE}\n${CAPTURE}\n`)).toEqual({ format: 'capture', invalidBefore: 0 });
    expect(await detectFormat('garbage\n[1]\n{}\n{"a":1}\n')).toEqual({ format: 'plain', invalidBefore: 3 });
    expect(await detectFormat('garbage\n\n')).toEqual({ format: 'unknown', invalidBefore: 1 });
    expect(await detectFormat('')).toEqual({ format: 'unknown', invalidBefore: 0 });
  });

  it('detects a single-line and a pretty-printed profile and returns it parsed', async () => {
    expect(await detectFormat(JSON.stringify(PROFILE))).toEqual({
      format: 'profile',
      profile: PROFILE,
      invalidBefore: 0,
    });
    const pretty = JSON.stringify(PROFILE, null, 2);
    expect(await detectFormat(pretty)).toEqual({ format: 'profile', profile: PROFILE, invalidBefore: 0 });
    expect(await detectFormat(pretty.replace(/\n/g, '\r\n') + '\r\n')).toMatchObject({ format: 'profile' });
    expect(await detectFormat(`\n\n${JSON.stringify(PROFILE, null, 4)}\n\n`)).toMatchObject({ format: 'profile' });
  });

  it('stops reading a line format after the first valid line', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield `${CAPTURE}\n`;
      }
    }
    expect(await detectFormat(source())).toMatchObject({ format: 'capture' });
    expect(pulled).toBe(1);
  });
});

describe('profile documents through consumeRecords', () => {
  it('returns the profile and no records; trailing content is invalid', async () => {
    const pretty = JSON.stringify(PROFILE, null, 2);
    const lineCount = pretty.split('\n').length;
    const result = await readAll(`${pretty}\n{"a":1}\ntrailing garbage\n`);
    expect(result.format).toBe('profile');
    expect(result.profile).toEqual(PROFILE);
    expect(result.records).toEqual([]);
    expect(result.counters).toMatchObject({
      lines: lineCount + 2,
      records: 0,
      invalid: 2,
      invalidReasons: { 'trailing-content': 2 },
    });
  });

  it('replays a "{"-starting first line that turns out to be JSONL (no record lost or double counted)', async () => {
    const result = await readAll(`{"captureData": truncated\n${CAPTURE}\n${CAPTURE}\n`);
    expect(result.format).toBe('capture');
    expect(result.records).toEqual([
      { f0: 1, f1: 2 },
      { f0: 1, f1: 2 },
    ]);
    expect(result.counters).toMatchObject({ lines: 3, records: 2, invalid: 1, invalidReasons: { 'invalid-json': 1 } });
    expect(result.counters.invalidExamples).toEqual([{ lineNumber: 1, reason: 'invalid-json' }]);
  });

  it('replays a pretty-printed document that is not a profile', async () => {
    const result = await readAll(`${JSON.stringify({ a: 1, b: { c: 2 } }, null, 2)}\n{"a":3}\n`);
    expect(result.format).toBe('plain');
    expect(result.records).toEqual([{ a: 3 }]);
    expect(result.counters.invalid).toBe(6);
    expect(result.counters.records).toBe(1);
  });

  it('gives up buffering beyond maxDocumentLength and replays', async () => {
    const pretty = JSON.stringify({ ...PROFILE, padding: 'x'.repeat(500) }, null, 2);
    const result = await readAll(pretty, { maxDocumentLength: 100 });
    expect(result.format).toBe('unknown');
    expect(result.profile).toBeUndefined();
    expect(result.counters.invalid).toBe(pretty.split('\n').length);
  });

  it('replays an unterminated document at the end of input', async () => {
    const result = await readAll('{\n  "kind": "ml-blueprint/baseline-profile",\n');
    expect(result.format).toBe('unknown');
    expect(result.counters).toMatchObject({ lines: 2, invalid: 2 });
  });

  it('an overlong line inside a document aborts it', async () => {
    const result = await readAll(`{\n  "x": "${'y'.repeat(50)}"\n}\n{"a":1}\n`, { maxLineLength: 20 });
    expect(result.format).toBe('plain');
    expect(result.records).toEqual([{ a: 1 }]);
    expect(result.counters.invalidReasons).toEqual({ 'invalid-json': 2, 'line-too-long': 1 });
  });
});

describe('FormatDetector', () => {
  function sink() {
    const events: unknown[] = [];
    const s: DetectorSink = {
      decided: (format, profile) => events.push(['decided', format, profile]),
      line: (text, n, parsed) => events.push(['line', n, text, parsed]),
      invalid: (reason, n) => events.push(['invalid', n, reason]),
    };
    return { s, events };
  }

  it('hands over the already-parsed first line and passes later lines through unparsed', () => {
    const { s, events } = sink();
    const d = new FormatDetector(s);
    d.line('oops', 1);
    d.line('{"a":1}', 2);
    d.line('{"a":2}', 3);
    d.overlong(4);
    d.end();
    expect(events).toEqual([
      ['invalid', 1, 'invalid-json'],
      ['decided', 'plain', undefined],
      ['line', 2, '{"a":1}', { a: 1 }],
      ['line', 3, '{"a":2}', undefined],
      ['invalid', 4, 'line-too-long'],
    ]);
    expect(d.format).toBe('plain');
  });

  it('honours a forced format', () => {
    const { s, events } = sink();
    const d = new FormatDetector(s, { format: 'capture' });
    d.line('{"a":1}', 1);
    expect(events).toEqual([
      ['decided', 'capture', undefined],
      ['line', 1, '{"a":1}', undefined],
    ]);
  });
});
