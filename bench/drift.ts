/**
 * `npm run bench:drift`: the drift check on 1,000,000 data-capture records (20 numerical + 5 categorical input
 * features in CSV, a JSON score as output) against a 100,000-record baseline, exactly as `npm run drift` runs it
 * (byte ranges on every available core), compared with the floor: reading and JSON-parsing the same files on one
 * core. The check also runs on one thread (`--workers 0`) for reference. Each phase runs in its own process, so
 * peak RSS is its own (worker threads included).
 *
 *   npm run bench:drift                       # generate data if missing, run the phases three times
 *   npm run bench:drift -- --records 200000   # a smaller run
 *   npm run bench:drift -- --runs 5           # more runs (figures per run and medians)
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { accumulateWindowFile, loadBaselineFile, reportWindow } from '../core/drift/check';
import { workerCount } from '../core/drift/parallel';
import { DEFAULT_POLICY } from '../core/drift/engine';
import { parseFeatureSchema } from '../core/drift/features';
import { readLines } from '../core/drift/readers';
import { createRng } from '../core/drift/stats';

const NUMERICAL = 20;
const CATEGORICAL = 5;
const dir = join(__dirname, '..', '.bench');
const columns = [
  ...Array.from({ length: NUMERICAL }, (_, i) => `num_${i}`),
  ...Array.from({ length: CATEGORICAL }, (_, i) => `cat_${i}`),
];
const schema = parseFeatureSchema({
  csvColumns: columns,
  features: [
    ...columns.map((name) => ({ name, kind: name.startsWith('num') ? 'numerical' : 'categorical' })),
    { name: 'output.score', kind: 'numerical' },
  ],
});

async function generate(path: string, records: number, seed: number, shift: number): Promise<void> {
  const rng = createRng(seed);
  const out = createWriteStream(path, { highWaterMark: 1 << 22 });
  const time = Date.UTC(2026, 10, 23, 10);
  const categories = Array.from({ length: 30 }, (_, i) => `c${i}`);
  for (let i = 0; i < records; i++) {
    const values: string[] = [];
    for (let j = 0; j < NUMERICAL; j++) values.push((j * 3 + (j < 5 ? shift : 0) + rng.nextNormal()).toFixed(4));
    for (let j = 0; j < CATEGORICAL; j++)
      values.push(categories[Math.min(29, Math.floor(-Math.log(rng.nextFloat() + 1e-12) * (3 + j)))]);
    const score = Buffer.from(
      JSON.stringify({ score: Number((0.3 + shift * 0.05 + 0.1 * rng.nextNormal()).toFixed(4)) }),
    ).toString('base64');
    const line = `{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"${values.join(',')}","encoding":"CSV"},"endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"${score}","encoding":"BASE64"}},"eventMetadata":{"eventId":"e-${seed}-${i}","inferenceId":"i-${i}","inferenceTime":"${new Date(time + (i % 3_600_000)).toISOString()}"},"eventVersion":"0"}\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

async function parsePhase(files: string[]): Promise<number> {
  let n = 0;
  for (const f of files) {
    for await (const line of readLines(createReadStream(f, { highWaterMark: 1 << 20 }))) {
      JSON.parse(line);
      n++;
    }
  }
  return n;
}

async function checkPhase(
  baselineFile: string,
  currentFile: string,
  workers: number | 'auto',
): Promise<Record<string, unknown>> {
  const baseline = await loadBaselineFile(baselineFile, { schema, sampling: { sampleSize: 100_000 }, workers });
  const { acc, counters } = await accumulateWindowFile(baseline.profile, currentFile, { schema, workers });
  const report = reportWindow(baseline.profile, acc, counters, DEFAULT_POLICY);
  return {
    workers: workerCount(workers),
    records: acc.records + baseline.profile.records,
    drifted: report.drifted,
    driftedFeatures: report.features.filter((f) => f.drifted).length,
    invalid: counters.invalid,
  };
}

function child(
  phase: string,
  records: number,
): { seconds: number; cpuSeconds: number; maxRssMiB: number; result: Record<string, unknown> } {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', __filename, '--phase', phase, '--records', String(records)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    },
  );
  if (r.status !== 0) throw new Error(`phase ${phase} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      phase: { type: 'string' },
      records: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '3' },
    },
  });
  const records = Number(values.records);
  const baselineRecords = Math.round(records / 10);
  const currentFile = join(dir, `current-${records}.jsonl`);
  const baselineFile = join(dir, `baseline-${baselineRecords}.jsonl`);

  if (values.phase) {
    const start = process.hrtime.bigint();
    const result =
      values.phase === 'parse'
        ? { lines: await parsePhase([baselineFile, currentFile]) }
        : await checkPhase(baselineFile, currentFile, values.phase === 'check-1' ? 0 : 'auto');
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const usage = process.resourceUsage();
    const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
    process.stdout.write(`${JSON.stringify({ seconds, cpuSeconds, maxRssMiB: usage.maxRSS / 1024, result })}\n`);
    return;
  }

  mkdirSync(dir, { recursive: true });
  if (!existsSync(baselineFile)) await generate(baselineFile, baselineRecords, 1, 0);
  if (!existsSync(currentFile)) await generate(currentFile, records, 2, 0.2);
  const bytes = statSync(currentFile).size + statSync(baselineFile).size;

  // Warm the page cache so every phase reads from memory.
  await parsePhase([baselineFile, currentFile]);
  const total = records + baselineRecords;
  const runs: Array<Record<string, unknown>> = [];
  for (let run = 0; run < Number(values.runs); run++) {
    const parse = child('parse', records);
    const check = child('check', records);
    const single = child('check-1', records);
    const phase = (p: typeof parse) => ({
      seconds: round(p.seconds),
      cpuSeconds: round(p.cpuSeconds),
      maxRssMiB: Math.round(p.maxRssMiB),
    });
    runs.push({
      loadAverage: round(loadavg()[0]),
      parse: phase(parse),
      check: { ...phase(check), ...check.result },
      checkOneThread: phase(single),
      ratio: round(check.seconds / parse.seconds),
      ratioOneThread: round(single.seconds / parse.seconds),
    });
    console.error(`run ${run + 1}: ${JSON.stringify(runs[runs.length - 1])}`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const pick = (f: (r: Record<string, unknown>) => number) => runs.map(f);
  type Run = { parse: { seconds: number }; check: { seconds: number; maxRssMiB: number }; ratio: number };
  const figures = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage: loadavg().map((l) => round(l)),
    records: { current: records, baseline: baselineRecords, features: NUMERICAL + CATEGORICAL + 1 },
    inputMiB: Number((bytes / 1048576).toFixed(1)),
    runs,
    median: {
      parseSeconds: median(pick((r) => (r as Run).parse.seconds)),
      checkSeconds: median(pick((r) => (r as Run).check.seconds)),
      ratio: median(pick((r) => (r as Run).ratio)),
      maxRssMiB: Math.max(...pick((r) => (r as Run).check.maxRssMiB)),
      recordsPerSecond: Math.round(total / median(pick((r) => (r as Run).check.seconds))),
    },
    targets: { ratio: 2, aim: 1.3, maxRssMiB: 1024 },
  };
  writeFileSync(join(dir, 'drift-results.json'), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(JSON.stringify(figures, null, 2));
  const ok = figures.median.ratio <= 2 && figures.median.maxRssMiB <= 1024;
  console.log(ok ? 'targets met' : 'TARGETS MISSED');
}

const round = (x: number) => Number(x.toFixed(2));

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
