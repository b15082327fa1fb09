/**
 * Run by test/core/drift/parallel.test.ts under tsx (worker threads need a loader for TypeScript, which Jest's
 * transform does not give them). Prints the resulting profile as JSON.
 *   node --import tsx test/core/drift/support/accumulate-ranges.ts ranges <file> <workers> <rangeBytes>
 *   node --import tsx test/core/drift/support/accumulate-ranges.ts objects <workers> <batchBytes>
 */
import { objectBatches } from '../../../../core/drift/checker-io';
import {
  accumulateRanges,
  accumulatorOptions,
  orderedPool,
  readObjectsBatch,
  type ObjectsJob,
  type ObjectsResult,
  type ObjectsTask,
} from '../../../../core/drift/parallel';
import { ProfileAccumulator, toBaselineProfile } from '../../../../core/drift/profile';
import { createRng } from '../../../../core/drift/stats';
import { MemoryObjectStore } from '../../../../core/storage/object-store';
import { seasonalRangeJob } from './range-job';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 23, 10);

async function ranges(path: string, workers: number, rangeBytes: number): Promise<unknown> {
  const job = seasonalRangeJob(path);
  const acc = new ProfileAccumulator(accumulatorOptions(job));
  const counters = await accumulateRanges(acc, job, { workers, rangeBytes });
  return { counters, profile: toBaselineProfile(acc, { createdAt: new Date(0) }) };
}

/** Twenty capture objects: records of the window 10:00–11:00, and late ones of the watched 09:00–10:00. */
async function objects(workers: number, batchBytes: number): Promise<unknown> {
  const store = new MemoryObjectStore();
  const rng = createRng(5);
  const keys: string[] = [];
  for (let k = 0; k < 20; k++) {
    const lines = Array.from({ length: 300 }, (_, i) => {
      const time = new Date(k % 5 === 0 && i % 3 === 0 ? T0 - HOUR / 2 : T0 + ((i * 11_000) % HOUR));
      const input = JSON.stringify({ x: rng.nextNormal(), c: ['a', 'b'][rng.nextInt(2)] });
      return JSON.stringify({
        captureData: {
          endpointInput: { observedContentType: 'application/json', mode: 'INPUT', data: input, encoding: 'JSON' },
        },
        eventMetadata: { eventId: `${k}-${i}`, inferenceTime: time.toISOString() },
        eventVersion: '0',
      });
    });
    const key = `capture/${String(k).padStart(2, '0')}.jsonl`;
    await store.put('b', key, lines.join('\n'));
    keys.push(key);
  }
  const options = {
    sampling: { sampleSize: 400, seed: 3 },
    expectations: [
      ['x', { kind: 'numerical', edges: [-1, 0, 1] }],
      ['c', { kind: 'categorical' }],
    ] as ObjectsJob['expectations'],
    skip: ['inferenceTime'],
    trackPhases: true,
  };
  const job: ObjectsJob = { ...options, from: T0, to: T0 + HOUR, watched: [{ from: T0 - HOUR, to: T0 }] };
  const acc = new ProfileAccumulator({ ...options, expectations: new Map(options.expectations) });
  const late = [0];
  let records = 0;
  await orderedPool<ObjectsTask, ObjectsResult>(
    objectBatches(store, 'b', keys, (key) => ({ own: key < 'capture/10', lateFor: [key >= 'capture/05'] }), batchBytes),
    workers,
    (task) => ({ kind: 'objects', job, task }),
    (task) => readObjectsBatch(job, task),
    (r) => {
      acc.absorb(r.snapshot, r.index);
      late[0] += r.late[0];
      records += r.counters.records;
    },
  );
  return { features: acc.features(), records: acc.records, ownRecords: records, late };
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  const out =
    mode === 'ranges'
      ? await ranges(args[0], Number(args[1]), Number(args[2]))
      : await objects(Number(args[0]), Number(args[1]));
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

void main();
