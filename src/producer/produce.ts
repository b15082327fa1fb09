/**
 * The producer loop: generates synthetic events at a target rate and sends them in ticks, batched or one by one.
 * Shared by `npm run produce`, `npm run bench:produce` and the local simulation.
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListStreamsCommand,
  ListTagsForStreamCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { toRecords, type KinesisSender, type SendStats } from './kinesis-sender';
import type { SyntheticTraffic } from './synthetic';

/** Options of {@link produce}. */
export interface ProduceOptions {
  /** Target events per second; 0 sends as fast as possible (then `maxEvents` bounds the run). */
  readonly rate: number;
  /** Run length. */
  readonly seconds: number;
  /** Stop after this many events. @default rate × seconds */
  readonly maxEvents?: number;
  readonly traffic: SyntheticTraffic;
  readonly sender: KinesisSender;
  /** `batched`: PutRecords; `single`: one PutRecord per event. @default 'batched' */
  readonly mode?: 'batched' | 'single';
  /** Calls in flight. @default 8 */
  readonly concurrency?: number;
  /** Send granularity. @default 250 */
  readonly tickMs?: number;
  /** Called after each tick. */
  readonly onTick?: (progress: { events: number; elapsedMs: number; stats: SendStats }) => void;
}

/** What a run did. */
export interface ProduceResult {
  readonly events: number;
  readonly elapsedMs: number;
  /** Events the stream accepted per second. */
  readonly eventsPerSecond: number;
  readonly stats: SendStats;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Generates and sends events at the target rate (or flat out) for the given time. */
export async function produce(options: ProduceOptions): Promise<ProduceResult> {
  const tickMs = options.tickMs ?? 250;
  const concurrency = options.concurrency ?? 8;
  const limit = options.maxEvents ?? (options.rate > 0 ? Math.round(options.rate * options.seconds) : Infinity);
  const deadline = options.seconds * 1000;
  const started = Date.now();
  let events = 0;
  while (events < limit) {
    const elapsed = Date.now() - started;
    if (elapsed >= deadline) break;
    const due =
      options.rate > 0
        ? Math.min(limit, Math.floor((options.rate * Math.min(deadline, elapsed + tickMs)) / 1000))
        : // Flat out: one round of calls per tick, so the deadline is checked often in either mode.
          Math.min(limit, events + (options.mode === 'single' ? 1 : 500) * concurrency * 4);
    const n = due - events;
    if (n > 0) {
      const records = toRecords(options.traffic.take(n));
      if (options.mode === 'single') await options.sender.putEach(records, concurrency);
      else await options.sender.putAll(records, concurrency);
      events += n;
    }
    options.onTick?.({ events, elapsedMs: Date.now() - started, stats: options.sender.stats });
    if (options.rate > 0) {
      const tickEnd = Math.ceil((Date.now() - started + 1) / tickMs) * tickMs;
      await sleep(Math.max(0, tickEnd - (Date.now() - started)));
    }
  }
  const elapsedMs = Date.now() - started;
  return {
    events,
    elapsedMs,
    eventsPerSecond: (options.sender.stats.sent * 1000) / Math.max(1, elapsedMs),
    stats: { ...options.sender.stats },
  };
}

/** A Kinesis client: the default chain for AWS; HTTP/1.1, dummy credentials and the endpoint for a local stream. */
export function kinesisClient(options: { endpoint?: string; region?: string }): KinesisClient {
  if (!options.endpoint) return new KinesisClient({ region: options.region });
  return new KinesisClient({
    endpoint: options.endpoint,
    region: options.region ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // kinesalite rejects the default HTTP/2 handler.
    requestHandler: new NodeHttpHandler(),
  });
}

/** Creates a stream when it does not exist (local streams) and waits until it is active. */
export async function ensureStream(client: KinesisClient, name: string, shards = 2): Promise<void> {
  try {
    await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException) && (error as Error).name !== 'ResourceNotFoundException')
      throw error;
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  }
  for (let i = 0; i < 100; i++) {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await sleep(100);
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}

/** Finds the deployed stream of a stage and case study by the tags the blueprint puts on every resource. */
export async function findStream(client: KinesisClient, stage: string, caseStudy: string): Promise<string> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListStreamsCommand(token ? { NextToken: token } : {}));
    names.push(...(page.StreamNames ?? []));
    token = page.HasMoreStreams ? page.NextToken : undefined;
  } while (token);
  const matches: string[] = [];
  for (const name of names) {
    const tags = await client.send(new ListTagsForStreamCommand({ StreamName: name }));
    const t = new Map((tags.Tags ?? []).map((x) => [x.Key, x.Value]));
    if (t.get('ml-blueprint:stage') === stage && t.get('ml-blueprint:case-study') === caseStudy) matches.push(name);
  }
  if (matches.length !== 1) {
    throw new Error(
      `expected one stream tagged ml-blueprint:stage=${stage}, ml-blueprint:case-study=${caseStudy}; found ${matches.length} (${matches.join(', ') || 'none'}). Pass --stream <name> (the Data stack's StreamName output).`,
    );
  }
  return matches[0];
}
