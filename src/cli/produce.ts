/**
 * `npm run produce -- --case recommender --rate <events/s> --seconds <n> [--endpoint <url>]`
 *
 * Sends synthetic interaction events (Zipf item popularity) to the case study's Kinesis stream with batched
 * PutRecords, retrying only failed records with backoff.
 *
 *   --endpoint <url>   a local Kinesis (kinesalite); the stream is created when missing
 *   --stream <name>    stream name or ARN; default: the stream tagged with --stage and --case (deployed), or
 *                      mlbp-local-<case> (local)
 *   --stage <name>     stage whose stream to find (default sandbox)
 *   --region <name>    AWS region (default: the SDK's chain)
 *   --drift            shift the distribution (popular items change, clicks halve, devices move to mobile)
 *   --single           one PutRecord per event instead of batches (for comparison)
 *   --seed <n>         generator seed (default 42)
 */
import { CliError, parseFlags, runCli } from './common';
import { KinesisSender } from '../producer/kinesis-sender';
import { ensureStream, findStream, kinesisClient, produce } from '../producer/produce';
import { SyntheticTraffic } from '../producer/synthetic';

const USAGE =
  'usage: npm run produce -- --case recommender --rate <events/s> --seconds <n> [--endpoint <url>] [--stream <name>] [--stage <stage>] [--region <region>] [--drift] [--single] [--seed <n>]';

/** Parses and checks the arguments; throws a message naming the problem. */
export function parseProduceArgs(argv: readonly string[]) {
  const values = parseFlags(
    argv,
    {
      case: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      endpoint: { type: 'string' },
      stream: { type: 'string' },
      stage: { type: 'string', default: 'sandbox' },
      region: { type: 'string' },
      drift: { type: 'boolean', default: false },
      single: { type: 'boolean', default: false },
      seed: { type: 'string', default: '42' },
    },
    USAGE,
  );
  if (values.case !== 'recommender') {
    throw new CliError(
      `--case must be recommender (the vision producer is not built yet); received ${JSON.stringify(values.case)}`,
    );
  }
  const rate = Number(values.rate);
  if (!(rate > 0) || !Number.isFinite(rate))
    throw new CliError(
      `--rate must be a positive number of events per second; received ${JSON.stringify(values.rate)}`,
    );
  const seconds = Number(values.seconds);
  if (!(seconds > 0) || !Number.isFinite(seconds))
    throw new CliError(`--seconds must be a positive number; received ${JSON.stringify(values.seconds)}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new CliError(`--seed must be an integer; received ${JSON.stringify(values.seed)}`);
  return { ...values, caseStudy: values.case, rate, seconds, seed };
}

async function main(): Promise<void> {
  const args = parseProduceArgs(process.argv.slice(2));
  const client = kinesisClient({ endpoint: args.endpoint, region: args.region });
  let stream = args.stream;
  if (!stream && args.endpoint) {
    stream = `mlbp-local-${args.caseStudy}`;
    await ensureStream(client, stream);
  } else if (args.endpoint && stream) {
    await ensureStream(client, stream);
  }
  try {
    stream ??= await findStream(client, args.stage, args.caseStudy);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const sender = new KinesisSender(client, { stream });
  console.log(
    `producing ${args.rate} events/s for ${args.seconds} s to ${stream}${args.endpoint ? ` at ${args.endpoint}` : ''}${args.drift ? ' (drifted distribution)' : ''}`,
  );
  let lastPrint = 0;
  const result = await produce({
    rate: args.rate,
    seconds: args.seconds,
    traffic: new SyntheticTraffic({ drift: args.drift, seed: args.seed }),
    sender,
    mode: args.single ? 'single' : 'batched',
    onTick: ({ events, elapsedMs, stats }) => {
      if (elapsedMs - lastPrint < 1000) return;
      lastPrint = elapsedMs;
      console.log(
        `  ${(elapsedMs / 1000).toFixed(0)} s: ${events} generated, ${stats.sent} accepted, ${stats.retried} retried, ${stats.failed} failed`,
      );
    },
  });
  console.log(
    `done: ${result.stats.sent} events accepted in ${(result.elapsedMs / 1000).toFixed(1)} s (${result.eventsPerSecond.toFixed(0)}/s), ${result.stats.calls} calls, ${result.stats.retried} records retried, ${result.stats.failed} failed`,
  );
  client.destroy();
  if (result.stats.failed > 0) process.exitCode = 1;
}

if (require.main === module) runCli('produce', main);
