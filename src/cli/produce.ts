/**
 * `npm run produce -- --case recommender --rate <events/s> --seconds <n> [--endpoint <url>] [...]`
 *
 * Sends synthetic interaction events (Zipf item popularity) to the case study's Kinesis stream with batched
 * PutRecords, retrying only failed records with backoff. `--help` describes every flag.
 */
import { CliError, describeAwsError, parseFlags, runCli } from './common';
import { KinesisSender } from '../producer/kinesis-sender';
import { ensureStream, findStream, kinesisClient, produce } from '../producer/produce';
import { SyntheticTraffic } from '../producer/synthetic';

const USAGE =
  'usage: npm run produce -- --case recommender --rate <events/s> --seconds <n> [--endpoint <url>] [--stream <name>] [--stage <stage>] [--region <region>] [--drift] [--single] [--seed <n>]';

/** The flags of `produce`, with what `--help` says about each. */
export const PRODUCE_FLAGS = {
  case: {
    type: 'string',
    placeholder: '<case>',
    description: 'case study whose stream receives the events: recommender (the vision producer is not built yet)',
  },
  rate: { type: 'string', placeholder: '<events/s>', description: 'target events per second (a positive number)' },
  seconds: { type: 'string', placeholder: '<n>', description: 'how long to send, in seconds' },
  endpoint: {
    type: 'string',
    placeholder: '<url>',
    description: 'a local Kinesis such as kinesalite (http://localhost:4567); the stream is created when missing',
  },
  stream: {
    type: 'string',
    placeholder: '<name|arn>',
    description:
      'stream name or ARN (default: the deployed stream tagged with --stage and --case, or mlbp-local-<case> with --endpoint)',
  },
  stage: {
    type: 'string',
    default: 'sandbox',
    placeholder: '<stage>',
    description: 'stage whose deployed stream to find (default sandbox)',
  },
  region: {
    type: 'string',
    placeholder: '<region>',
    description: "AWS region (default: AWS_REGION or the profile's region)",
  },
  drift: {
    type: 'boolean',
    default: false,
    description: 'shift the distribution: popular items change, clicks halve, devices move to mobile',
  },
  single: { type: 'boolean', default: false, description: 'one PutRecord per event instead of batches (to compare)' },
  seed: { type: 'string', default: '42', placeholder: '<n>', description: 'generator seed, an integer (default 42)' },
} as const;

/** Parses and checks the arguments; throws a message naming the problem. */
export function parseProduceArgs(argv: readonly string[]) {
  const values = parseFlags(argv, PRODUCE_FLAGS, USAGE);
  if (values.case !== 'recommender') {
    throw new CliError(
      `--case must be recommender (the vision producer is not built yet); received ${JSON.stringify(values.case ?? null)}`,
    );
  }
  const rate = Number(values.rate);
  if (!(rate > 0) || !Number.isFinite(rate))
    throw new CliError(
      `--rate must be a positive number of events per second; received ${JSON.stringify(values.rate ?? null)}`,
    );
  const seconds = Number(values.seconds);
  if (!(seconds > 0) || !Number.isFinite(seconds))
    throw new CliError(`--seconds must be a positive number; received ${JSON.stringify(values.seconds ?? null)}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new CliError(`--seed must be an integer; received ${JSON.stringify(values.seed)}`);
  return { ...values, caseStudy: values.case, rate, seconds, seed };
}

/** Runs `produce` with these arguments, printing progress; AWS and network problems become one-line errors. */
export async function main(argv: readonly string[], print: (line: string) => void = console.log): Promise<void> {
  const args = parseProduceArgs(argv);
  const client = kinesisClient({ endpoint: args.endpoint, region: args.region });
  try {
    let stream = args.stream;
    if (args.endpoint) {
      stream ??= `mlbp-local-${args.caseStudy}`;
      await ensureStream(client, stream);
    }
    stream ??= await findStream(client, args.stage, args.caseStudy);
    const sender = new KinesisSender(client, { stream });
    print(
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
        print(
          `  ${(elapsedMs / 1000).toFixed(0)} s: ${events} generated, ${stats.sent} accepted, ${stats.retried} retried, ${stats.failed} failed`,
        );
      },
    });
    print(
      `done: ${result.stats.sent} events accepted in ${(result.elapsedMs / 1000).toFixed(1)} s (${result.eventsPerSecond.toFixed(0)}/s), ${result.stats.calls} calls, ${result.stats.retried} records retried, ${result.stats.failed} failed`,
    );
    if (result.stats.failed > 0) process.exitCode = 1;
  } catch (e) {
    throw e instanceof CliError ? e : new CliError(describeAwsError(e, { endpoint: args.endpoint }));
  } finally {
    client.destroy();
  }
}

if (require.main === module) void runCli('produce', () => main(process.argv.slice(2)));
