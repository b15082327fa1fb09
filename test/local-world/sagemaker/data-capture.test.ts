import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataCaptureWriter, type CapturedInvocation } from '../../../src/local-world/sagemaker';

const invocation: CapturedInvocation = {
  endpointName: 'ep',
  variantName: 'AllTraffic',
  inferenceId: 'id-1',
  requestContentType: 'text/csv',
  requestBody: Buffer.from('1,2,3'),
  responseContentType: 'application/json',
  responseBody: Buffer.from('{"scores":[0.5]}'),
};

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'capture-test-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const clock = (iso: string) => () => new Date(iso);

test('without content-type lists the data is base64, as the API default', () => {
  const record = new DataCaptureWriter({ dir }).record(invocation, new Date('2026-01-02T03:04:05.678Z'));
  expect(record).toEqual({
    captureData: {
      endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: 'MSwyLDM=', encoding: 'BASE64' },
      endpointOutput: {
        observedContentType: 'application/json',
        mode: 'OUTPUT',
        data: Buffer.from('{"scores":[0.5]}').toString('base64'),
        encoding: 'BASE64',
      },
    },
    eventMetadata: {
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      inferenceTime: '2026-01-02T03:04:05Z',
      inferenceId: 'id-1',
    },
    eventVersion: '0',
  });
});

test('listed content types are kept as text; capture modes choose the sides; no inference id, no field', () => {
  const writer = new DataCaptureWriter({ dir, csvContentTypes: ['text/csv'], captureModes: ['Input'] });
  const record = writer.record(
    { ...invocation, inferenceId: undefined, requestContentType: 'text/csv; charset=utf-8' },
    new Date(),
  );
  expect(record.captureData).toEqual({
    endpointInput: { observedContentType: 'text/csv; charset=utf-8', mode: 'INPUT', data: '1,2,3', encoding: 'CSV' },
  });
  expect(record.eventMetadata).not.toHaveProperty('inferenceId');
});

test('files follow {prefix}/{endpoint}/{variant}/yyyy/mm/dd/hh/mm-ss-SSS-uuid.jsonl, one per hour', async () => {
  let now = new Date('2026-01-02T03:04:05.678Z');
  const writer = new DataCaptureWriter({ dir, prefix: 'capture', now: () => now });
  const first = await writer.capture(invocation);
  const second = await writer.capture(invocation);
  now = new Date('2026-01-02T04:00:00.000Z');
  const third = await writer.capture(invocation);
  const hourDir = path.join(dir, 'capture', 'ep', 'AllTraffic', '2026', '01', '02', '03');
  expect(path.dirname(first as string)).toBe(hourDir);
  expect(path.basename(first as string)).toMatch(/^04-05-678-[0-9a-f-]{36}\.jsonl$/);
  expect(second).toBe(first);
  expect(path.dirname(third as string)).toBe(path.join(dir, 'capture', 'ep', 'AllTraffic', '2026', '01', '02', '04'));
  expect(
    readFileSync(first as string, 'utf8')
      .trim()
      .split('\n'),
  ).toHaveLength(2);
});

test('sampling keeps the given percentage of requests, deterministically', async () => {
  const writer = new DataCaptureWriter({ dir, samplingPercent: 25, now: clock('2026-01-02T03:00:00Z') });
  const written = [];
  for (let i = 0; i < 8; i++) written.push(await writer.capture(invocation));
  expect(written.map((w) => w !== undefined)).toEqual([false, false, false, true, false, false, false, true]);
  const files = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.jsonl'));
  expect(readFileSync(path.join(dir, files[0]), 'utf8').trim().split('\n')).toHaveLength(2);
});

test('a sampling percentage outside 0-100 is refused', () => {
  expect(() => new DataCaptureWriter({ dir, samplingPercent: 120 })).toThrow(
    'samplingPercent must be between 0 and 100; received 120',
  );
});
