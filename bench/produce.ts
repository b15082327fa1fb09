/**
 * `npm run bench:produce`: events per second the producer sustains against kinesalite (in-process, loopback,
 * 4 shards) with batched PutRecords versus one PutRecord per event, in the same run, same generator, same number
 * of calls in flight. Prints the figures and the ratio (recorded in docs/case-studies/recommender.md).
 *
 *   npm run bench:produce                              # 10 s per mode, 8 calls in flight
 *   npm run bench:produce -- --seconds 5 --concurrency 4
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { KinesisSender } from '../src/producer/kinesis-sender';
import { ensureStream, kinesisClient, produce, type ProduceResult } from '../src/producer/produce';
import { SyntheticTraffic } from '../src/producer/synthetic';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kinesalite = require('kinesalite') as (options: { createStreamMs: number }) => Server;

async function run(mode: 'batched' | 'single', seconds: number, concurrency: number) {
  // A fresh kinesalite per mode: neither pays for the other's stored records.
  const server = kinesalite({ createStreamMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = kinesisClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  try {
    const stream = `bench-${mode}`;
    await ensureStream(client, stream, 4);
    // Warm up (JIT, connections) so neither mode pays for it.
    await produce({
      rate: 0,
      seconds: 1,
      traffic: new SyntheticTraffic({ seed: 1 }),
      sender: new KinesisSender(client, { stream }),
      mode,
      concurrency,
    });
    const result: ProduceResult = await produce({
      rate: 0,
      seconds,
      traffic: new SyntheticTraffic({ seed: 7 }),
      sender: new KinesisSender(client, { stream }),
      mode,
      concurrency,
    });
    return result;
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '8' } },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const batched = await run('batched', seconds, concurrency);
  const single = await run('single', seconds, concurrency);
  const ratio = batched.eventsPerSecond / single.eventsPerSecond;
  const line = (name: string, r: ProduceResult) =>
    `| ${name} | ${r.stats.sent} | ${r.stats.calls} | ${(r.elapsedMs / 1000).toFixed(1)} | ${r.eventsPerSecond.toFixed(0)} |`;
  console.log(`kinesalite on loopback (in-process), 4 shards, ${concurrency} calls in flight, ${seconds} s per mode`);
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}\n`);
  console.log('| mode | events accepted | calls | seconds | events/s |');
  console.log('|---|---|---|---|---|');
  console.log(line('PutRecords (≤ 500 per call)', batched));
  console.log(line('PutRecord per event', single));
  console.log(`\nbatched / single: ${ratio.toFixed(1)}×`);
  if (batched.stats.failed + single.stats.failed > 0) {
    console.log(`failed records: batched ${batched.stats.failed}, single ${single.stats.failed}`);
  }
}

main().catch((error: Error) => {
  console.error(`bench:produce: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
