/**
 * Deterministic fuzzing of the drift record readers, shared by the jest sample
 * (`test/core/drift/readers/fuzz.test.ts`) and the large seedable run (`npm run fuzz -- --seed N --size M`,
 * `scripts/fuzz-readers.ts`): valid capture lines (several payload shapes) mixed with truncated, garbage,
 * structurally damaged and overlong lines, CRLF/LF endings and blank lines, fed whole and in random chunk sizes.
 * The readers must never throw, must count every bad line as invalid (with the expected reason) and must return
 * exactly the records of the valid lines, in order. Each check throws an AssertionError with a diff when not.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { FeatureRecord } from '../../core/drift/features';
import { consumeRecords, type ReadOptions, type ReadRecord } from '../../core/drift/readers';
import { SeededRandom } from '../../core/drift/reservoir';

export const COLUMNS = ['price', 'qty', 'colour'];
export const MAX_LINE = 2048;
export const DAY = Date.parse('2026-11-23T00:00:00Z');

type Json = Record<string, unknown>;

/** One line of a corpus: its text and what the readers must make of it. */
export interface Entry {
  text: string;
  /** Records when valid; undefined for a bad line. */
  records?: FeatureRecord[];
  /** Expected invalid reason for a bad line. */
  reason?: string;
  time?: number;
}

/** The corpus generator's random choices. */
export class Gen {
  constructor(readonly rnd: SeededRandom) {}
  int(n: number) {
    return this.rnd.nextInt(n);
  }
  chance(p: number) {
    return this.rnd.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  double() {
    const r = this.rnd.next();
    let x: number;
    if (r < 0.3)
      x = Math.round((this.rnd.next() - 0.5) * 2000) / 100; // 2 decimals
    else if (r < 0.5) x = this.int(1000);
    else x = (this.rnd.next() - 0.3) * 10 ** (this.int(12) - 6); // full precision, sometimes exponent notation
    return x === 0 ? 0 : x; // no -0: it does not survive JSON.stringify / String()
  }
  word() {
    const letters = 'abcdefxyzéüßñ日本語🙂';
    const chars = [...letters];
    let w = this.pick(['a', 'b', 'k', 'z', 'é', '日']);
    for (let i = this.int(8); i > 0; i--) w += this.pick(chars);
    return w;
  }
  probabilities(n: number) {
    const raw = Array.from({ length: n }, () => this.rnd.next() + 0.01);
    const sum = raw.reduce((a, b) => a + b, 0);
    return raw.map((x) => x / sum);
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function envelope(g: Gen, input: Json | undefined, output: Json | undefined) {
  const time = DAY + g.int(86_400_000);
  const metadata: Json = { eventId: `ev-${g.int(1e9)}`, inferenceTime: new Date(time).toISOString() };
  if (g.chance(0.5)) metadata.inferenceId = `inf-${g.int(1e6)}`;
  const captureData: Json = {};
  if (input) captureData.endpointInput = { mode: 'INPUT', ...input };
  if (output) captureData.endpointOutput = { mode: 'OUTPUT', ...output };
  return { obj: { captureData, eventMetadata: metadata, eventVersion: '0' } as Json, time };
}

function csvRow(g: Gen) {
  const price = g.double();
  const qty = g.int(50);
  let colour = g.word();
  let field = colour;
  if (g.chance(0.2)) {
    colour = `${colour}, "${g.word()}"`;
    field = `"${colour.replace(/"/g, '""')}"`;
  }
  return { text: `${price},${qty},${field}`, record: { price, qty, colour } as FeatureRecord };
}

/** A valid capture record with its expected feature records. */
function validCapture(g: Gen): { obj: Json; records: FeatureRecord[]; time: number; template: string } {
  const template = g.pick(['csv', 'csv64', 'json', 'batch', 'image', 'jsonl']);
  switch (template) {
    case 'csv': {
      const row = csvRow(g);
      const score = g.double();
      const e = envelope(
        g,
        { observedContentType: 'text/csv', data: row.text, encoding: 'CSV' },
        { observedContentType: 'application/json', data: JSON.stringify({ score }), encoding: 'JSON' },
      );
      return { ...e, template, records: [{ ...row.record, 'output.score': score }] };
    }
    case 'csv64': {
      const row = csvRow(g);
      const label = g.word();
      const probability = g.rnd.next();
      const e = envelope(
        g,
        { observedContentType: 'text/csv', data: b64(row.text), encoding: 'BASE64' },
        {
          observedContentType: 'application/json',
          data: b64(JSON.stringify({ predicted_label: label, probability })),
          encoding: 'BASE64',
        },
      );
      return {
        ...e,
        template,
        records: [{ ...row.record, 'output.predicted_label': label, 'output.probability': probability }],
      };
    }
    case 'json': {
      const input = {
        age: g.int(100),
        country: g.word(),
        is_new: g.chance(0.5),
        emb: [g.double(), g.double(), g.double()],
      };
      const score = g.double();
      const e = envelope(
        g,
        { observedContentType: 'application/json', data: JSON.stringify(input), encoding: 'JSON' },
        { observedContentType: 'text/csv', data: `${score}\n`, encoding: 'CSV' },
      );
      return {
        ...e,
        template,
        records: [{ ...input, is_new: String(input.is_new), 'output.score': score }],
      };
    }
    case 'batch': {
      const n = 2 + g.int(3);
      const instances = Array.from({ length: n }, () => ({ age: g.int(100), country: g.word() }));
      const scores = instances.map(() => g.double());
      const e = envelope(
        g,
        { observedContentType: 'application/json', data: JSON.stringify({ instances }), encoding: 'JSON' },
        {
          observedContentType: 'application/json',
          data: JSON.stringify({ predictions: scores.map((score) => ({ score })) }),
          encoding: 'JSON',
        },
      );
      return { ...e, template, records: instances.map((x, i) => ({ ...x, 'output.score': scores[i] })) };
    }
    case 'image': {
      const bytes = Buffer.from(Array.from({ length: 20 + g.int(200) }, () => g.int(256)));
      const probs = g.probabilities(2 + g.int(8));
      const max = Math.max(...probs);
      const e = envelope(
        g,
        {
          observedContentType: g.pick(['image/jpeg', 'image/png', 'application/x-image']),
          data: bytes.toString('base64'),
          encoding: 'BASE64',
        },
        { observedContentType: 'application/json', data: JSON.stringify(probs), encoding: 'JSON' },
      );
      return {
        ...e,
        template,
        records: [{ 'output.predicted_class': String(probs.indexOf(max)), 'output.confidence': max }],
      };
    }
    default: {
      const rows = [
        { age: g.int(100), country: g.word() },
        { age: g.int(100), country: g.word() },
      ];
      const scores = [g.double(), g.double()];
      const e = envelope(
        g,
        {
          observedContentType: 'application/jsonlines',
          data: rows.map((r) => JSON.stringify(r)).join('\n'),
          encoding: 'JSON',
        },
        {
          observedContentType: 'application/jsonlines',
          data: scores.map((score) => JSON.stringify({ score })).join('\n') + '\n',
          encoding: 'JSON',
        },
      );
      return { ...e, template, records: rows.map((r, i) => ({ ...r, 'output.score': scores[i] })) };
    }
  }
}

export function garbage(g: Gen): { text: string; reason: string } {
  for (;;) {
    const pool = ' !"#$%&\'()*+,-./0123456789:;<=>?@AZaz[\\]^_`{|}~\t\u0000\u0007é日🙂\u2028';
    const chars = [...pool];
    let text = g.pick(['{', '[', '"', 'n', 't', '1', '-', 'x', '}', '\u0001', '🙂']);
    for (let i = g.int(120); i > 0; i--) text += g.pick(chars);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { text, reason: 'invalid-json' };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { text, reason: 'not-an-object' };
    // a JSON object: regenerate (practically never happens)
  }
}

/** Applies a damaging mutation to a valid record; returns the line and the expected reason. */
function damage(g: Gen, valid: ReturnType<typeof validCapture>): { text: string; reason: string } {
  const line = JSON.stringify(valid.obj);
  const obj = JSON.parse(line) as Json;
  const cd = obj.captureData as Json;
  const input = cd.endpointInput as Json;
  const output = cd.endpointOutput as Json;
  for (;;) {
    switch (g.int(12)) {
      case 0:
        return { text: line.slice(0, 1 + g.int(line.length - 1)), reason: 'invalid-json' };
      case 1:
        return garbage(g);
      case 2:
        delete obj.captureData;
        return { text: JSON.stringify(obj), reason: 'missing-capture-data' };
      case 3:
        obj.captureData = g.pick([42, [], 'x', null, {}]);
        return { text: JSON.stringify(obj), reason: 'missing-capture-data' };
      case 4:
        input.encoding = g.pick(['XML', 'gzip', 3, true]);
        return { text: JSON.stringify(obj), reason: 'input:unsupported-encoding' };
      case 5:
        output.data = g.pick([12345, true, ['a']]);
        return { text: JSON.stringify(obj), reason: 'output:invalid' };
      case 6:
        return { text: JSON.stringify([obj]), reason: 'not-an-object' };
      case 7: {
        const meta = obj.eventMetadata as Json;
        meta.padding = 'p'.repeat(MAX_LINE + g.int(3000));
        return { text: JSON.stringify(obj), reason: 'line-too-long' };
      }
      case 8:
        if (input.encoding === 'BASE64' && valid.template === 'csv64') {
          const data = input.data as string;
          const at = g.int(data.length + 1);
          input.data = `${data.slice(0, at)}${g.pick(['!', '*', '%', '.'])}${data.slice(at)}`;
          return { text: JSON.stringify(obj), reason: 'input:invalid-base64' };
        }
        break;
      case 9:
        if (input.encoding === 'BASE64') {
          input.observedContentType = 'application/x-recordio-protobuf';
          return { text: JSON.stringify(obj), reason: 'input:unsupported-content-type' };
        }
        break;
      case 10:
        if (valid.template === 'json' || valid.template === 'batch') {
          const data = input.data as string;
          input.data = data.slice(0, 1 + g.int(data.length - 1));
          return { text: JSON.stringify(obj), reason: 'input:invalid-json' };
        }
        break;
      default:
        if (valid.template === 'csv') {
          input.data = `${input.data as string},${g.int(9)}`;
          return { text: JSON.stringify(obj), reason: 'input:column-mismatch' };
        }
        break;
    }
  }
}

/** Changes that keep the record valid and its features identical. */
function benign(g: Gen, obj: Json): string {
  const cd = obj.captureData as Json;
  const input = cd.endpointInput as Json;
  switch (g.int(4)) {
    case 0:
      input.encoding = (input.encoding as string).toLowerCase();
      break;
    case 1:
      if (input.observedContentType === 'text/csv') input.observedContentType = 'text/csv; charset=utf-8';
      break;
    case 2:
      (obj as Json).extra = { nested: [1, 2, { a: null }] };
      break;
    default:
      return JSON.stringify(obj, null, 0).replace(/^\{/, '{ ');
  }
  return JSON.stringify(obj);
}

export function buildCaptureCorpus(seed: number, count: number) {
  const g = new Gen(new SeededRandom(seed));
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const valid = validCapture(g);
    if (g.chance(0.45)) {
      const bad = damage(g, valid);
      entries.push({ text: bad.text, reason: bad.reason });
    } else {
      const text = g.chance(0.2) ? benign(g, valid.obj) : JSON.stringify(valid.obj);
      assert.ok(text.length <= MAX_LINE, `a valid line of ${text.length} characters exceeds ${MAX_LINE}`);
      entries.push({ text, records: valid.records, time: valid.time });
    }
  }
  return { g, entries };
}

export function serialize(g: Gen, entries: Entry[]): Buffer {
  let out = '';
  for (const e of entries) {
    if (g.chance(0.05)) out += g.pick(['\n', '\r\n', '   \n', '\t\r\n']);
    out += e.text + (g.chance(0.3) ? '\r\n' : '\n');
  }
  if (g.chance(0.5)) out = out.replace(/\r?\n$/, ''); // final line without terminator
  return Buffer.from(out, 'utf8');
}

export function randomChunks(g: Gen, buffer: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < buffer.length;) {
    const size = 1 + g.int(g.chance(0.3) ? 16 : 5000);
    chunks.push(buffer.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

export function expectedReasons(entries: Entry[]) {
  const reasons: Record<string, number> = {};
  for (const e of entries) if (e.reason) reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
  return reasons;
}

export async function run(source: Parameters<typeof consumeRecords>[0], options: ReadOptions) {
  const records: ReadRecord[] = [];
  const summary = await consumeRecords(source, options, (r) => {
    records.push(r);
  });
  return { records, summary };
}

/** A capture corpus of `size` lines from `seed`, with what the readers must return. */
export function captureCase(seed: number, size: number) {
  const { g, entries } = buildCaptureCorpus(seed, size);
  const buffer = serialize(g, entries);
  const options: ReadOptions = { csvColumns: COLUMNS, maxLineLength: MAX_LINE };
  const bad = entries.filter((e) => e.reason).length;
  const expectedRecords = entries.flatMap((e) => e.records ?? []);
  return { g, entries, buffer, options, bad, expectedRecords, size };
}

/** A capture case. */
export type CaptureCase = ReturnType<typeof captureCase>;

/** The corpus mixes enough bad lines of enough kinds to mean something. */
export function checkMix(c: CaptureCase): void {
  assert.equal(c.entries.length, c.size);
  assert.ok(c.bad > c.size * 0.375, `only ${c.bad} bad lines of ${c.size}`);
  const kinds = Object.keys(expectedReasons(c.entries)).length;
  assert.ok(kinds >= 10, `only ${kinds} kinds of bad lines`);
}

/** Read whole: every bad line counted with its reason, every valid record returned, in order. */
export async function checkWhole(c: CaptureCase): Promise<void> {
  const { records, summary } = await run(c.buffer, c.options);
  assert.equal(summary.format, 'capture');
  assert.equal(summary.counters.invalid, c.bad);
  assert.deepEqual(summary.counters.invalidReasons, expectedReasons(c.entries));
  assert.equal(summary.counters.lines, c.entries.length);
  assert.equal(summary.counters.records, c.expectedRecords.length);
  assert.deepEqual(
    records.map((r) => r.record),
    c.expectedRecords,
  );
}

/** Random chunkings of a stream give the same result as the whole buffer. */
export async function checkChunkings(c: CaptureCase, rounds: number): Promise<void> {
  const whole = await run(c.buffer, c.options);
  for (let round = 0; round < rounds; round++) {
    const chunked = await run(Readable.from(randomChunks(c.g, c.buffer)), c.options);
    assert.deepEqual(chunked.summary, whole.summary);
    assert.deepEqual(chunked.records, whole.records);
  }
}

/** The time window applies to valid lines only. */
export async function checkWindow(c: CaptureCase): Promise<void> {
  const from = DAY + 6 * 3_600_000;
  const to = DAY + 18 * 3_600_000;
  const { records, summary } = await run(c.buffer, { ...c.options, window: { from, to } });
  const inWindow = c.entries.filter((e) => e.records && e.time! >= from && e.time! < to);
  assert.deepEqual(
    records.map((r) => r.record),
    inWindow.flatMap((e) => e.records!),
  );
  assert.equal(summary.counters.invalid, c.bad);
  assert.equal(summary.counters.outOfWindow, c.entries.filter((e) => e.records).length - inWindow.length);
}

/** Plain JSON lines: every bad line counted, every valid record returned, the same when chunked. */
export async function checkPlain(seed: number, size: number): Promise<void> {
  const g = new Gen(new SeededRandom(seed));
  const entries: Entry[] = [];
  for (let i = 0; i < size; i++) {
    const record: Record<string, unknown> = { id: `u${i}`, age: g.int(90), score: g.double(), flag: g.chance(0.5) };
    if (g.chance(0.3)) record.embedding = [g.double(), g.double()];
    if (g.chance(0.1)) record.missing = null;
    const text = JSON.stringify(record);
    if (i > 0 && g.chance(0.4)) {
      const r = g.int(5);
      if (r === 0) entries.push({ text: text.slice(0, 1 + g.int(text.length - 1)), reason: 'invalid-json' });
      else if (r === 1) entries.push(garbage(g));
      else if (r === 2) entries.push({ text: '{}', reason: 'empty-record' });
      else if (r === 3)
        entries.push({ text: JSON.stringify({ ...record, eventMetadata: {} }), reason: 'format-mismatch' });
      else entries.push({ text: JSON.stringify([record]), reason: 'not-an-object' });
    } else {
      entries.push({ text, records: [{ ...record, flag: String(record.flag) } as FeatureRecord] });
    }
  }
  const buffer = serialize(g, entries);
  const whole = await run(buffer, {});
  assert.equal(whole.summary.format, 'plain');
  assert.equal(whole.summary.counters.invalid, entries.filter((e) => e.reason).length);
  assert.deepEqual(whole.summary.counters.invalidReasons, expectedReasons(entries));
  assert.deepEqual(
    whole.records.map((r) => r.record),
    entries.flatMap((e) => e.records ?? []),
  );
  const chunked = await run(Readable.from(randomChunks(g, buffer)), {});
  assert.deepEqual(chunked.summary, whole.summary);
}
