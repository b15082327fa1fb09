/**
 * Reading a file in byte ranges: every line is read once whatever the range size, the parts merge into the same
 * statistics as one pass, and the result does not depend on the number of worker threads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accumulateRanges, accumulatorOptions, byteRanges, type RangeJob } from '../../../core/drift/parallel';
import { ProfileAccumulator, toBaselineProfile, type NumericalProfile } from '../../../core/drift/profile';
import { mergeSamples, SeededRandom } from '../../../core/drift/reservoir';
import { createRng } from '../../../core/drift/stats';
import { seasonalRangeJob } from './support/range-job';

let dir: string;
let path: string;
const LINES = 3_000;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drift-ranges-'));
  path = join(dir, 'data.jsonl');
  const rng = createRng(3);
  const lines: string[] = [];
  for (let i = 0; i < LINES; i++) {
    // Lines of very different lengths, so range boundaries fall anywhere in them.
    lines.push(
      JSON.stringify({
        event_time: new Date(Date.UTC(2026, 10, 2) + i * 600_000).toISOString(),
        x: rng.nextNormal() * 10,
        c: ['a', 'b', 'c'][rng.nextInt(3)],
        pad: 'p'.repeat(rng.nextInt(400)),
      }),
    );
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const job = (): RangeJob => seasonalRangeJob(path);

async function profileWith(rangeBytes: number) {
  const acc = new ProfileAccumulator(accumulatorOptions(job()));
  const counters = await accumulateRanges(acc, job(), { workers: 0, rangeBytes });
  return { counters, profile: toBaselineProfile(acc, { createdAt: new Date(0) }) };
}

test('byte ranges cover the file', () => {
  expect(byteRanges(10, 4)).toEqual([
    { index: 0, start: 0, end: 4 },
    { index: 1, start: 4, end: 8 },
    { index: 2, start: 8, end: 10 },
  ]);
});

test('every line is read exactly once, whatever the range size', async () => {
  for (const rangeBytes of [997, 4_096, 65_536, 10_000_000]) {
    const { counters, profile } = await profileWith(rangeBytes);
    expect({ rangeBytes, records: profile.records, lines: counters.lines, invalid: counters.invalid }).toEqual({
      rangeBytes,
      records: LINES,
      lines: LINES,
      invalid: 0,
    });
    expect(profile.seasonal!.records.reduce((a, b) => a + b, 0)).toBe(LINES);
  }
});

test('a line crossing a range end and the reader chunks of 1 MiB is read once, by its range', async () => {
  const long = join(dir, 'long.jsonl');
  const lines = Array.from({ length: 12 }, (_, i) => JSON.stringify({ x: i, pad: 'q'.repeat(300_000 + i * 1_000) }));
  writeFileSync(long, `${lines.join('\n')}\n`);
  for (const rangeBytes of [500_000, 1_000_000, 1_048_576, 1_500_000]) {
    const plain: RangeJob = { path: long, format: 'plain', sampling: {}, expectations: null, skip: [] };
    const acc = new ProfileAccumulator(accumulatorOptions(plain));
    const counters = await accumulateRanges(acc, plain, { workers: 0, rangeBytes });
    expect({ rangeBytes, records: acc.records, invalid: counters.invalid }).toEqual({
      rangeBytes,
      records: 12,
      invalid: 0,
    });
  }
});

test('merged parts give the statistics of one pass: counts, categories, mean and spread; samples of the data', async () => {
  const whole = (await profileWith(10_000_000)).profile;
  const parts = (await profileWith(4_096)).profile;
  const x = (p: typeof whole) => p.features.x as NumericalProfile;
  expect(x(parts)).toMatchObject({ count: LINES, min: x(whole).min, max: x(whole).max });
  expect(x(parts).mean).toBeCloseTo(x(whole).mean, 10);
  expect(x(parts).std).toBeCloseTo(x(whole).std, 10);
  expect(x(parts).sample).toHaveLength(500);
  // The merged sample holds values of the data, each at most as often as it occurs.
  const data = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { x: number }).x);
  const counts = new Map<number, number>();
  for (const v of data) counts.set(v, (counts.get(v) ?? 0) + 1);
  for (const v of x(parts).sample) {
    expect(counts.get(v)).toBeGreaterThan(0);
    counts.set(v, counts.get(v)! - 1);
  }
  expect(parts.features.c).toEqual(whole.features.c);
  expect(parts.timeFields).toEqual(['event_time']);
  expect(parts.features.pad.kind).toBe('categorical');
});

test('merging two samples keeps each side in proportion to its stream', () => {
  const a = Float64Array.from({ length: 100 }, () => 0);
  const b = Float64Array.from({ length: 100 }, () => 1);
  let fromB = 0;
  for (let seed = 0; seed < 200; seed++) {
    const merged = mergeSamples(a, 1_000, b, 3_000, 100, new SeededRandom(seed));
    expect(merged).toHaveLength(100);
    fromB += merged.reduce((s, v) => s + v, 0);
  }
  // 3,000 of 4,000 items are from b: three quarters of the merged samples, on average.
  expect(fromB / 20_000).toBeGreaterThan(0.73);
  expect(fromB / 20_000).toBeLessThan(0.77);
});

test('worker threads give the same profile as one thread (run under tsx)', () => {
  const run = (workers: number) => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'support', 'accumulate-ranges.ts'), 'ranges', path, String(workers), '4096'],
      { encoding: 'utf8', cwd: join(__dirname, '..', '..', '..'), timeout: 120_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout);
  };
  const one = run(0);
  const two = run(2);
  expect(two).toEqual(one);
  expect(one.profile.records).toBe(LINES);
});

test('checker objects in batches: the same window and late counts with worker threads and without (under tsx)', () => {
  const run = (workers: number, batchBytes: number) => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, 'support', 'accumulate-ranges.ts'),
        'objects',
        String(workers),
        String(batchBytes),
      ],
      { encoding: 'utf8', cwd: join(__dirname, '..', '..', '..'), timeout: 120_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout);
  };
  const inThread = run(0, 100_000);
  expect(run(2, 100_000)).toEqual(inThread);
  // 20 objects of 300 records; in objects 0, 5, 10, 15 every third record is from the watched hour before.
  expect(inThread.records).toBe(20 * 300 - 4 * 100);
  // Late: only objects 05 and later count for the watched window (its check had read the others).
  expect(inThread.late).toEqual([300]);
  expect(inThread.ownRecords).toBe(10 * 300);
  expect(inThread.features.x.count).toBe(5_600);
});
