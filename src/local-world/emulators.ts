/**
 * Local AWS emulators started in-process on loopback (127.0.0.1, ephemeral ports): kinesalite for Kinesis and
 * dynalite for DynamoDB, with SDK v3 clients pointed at them. {@link Emulators.close} stops both (call it in a
 * `finally`). S3 is the in-memory {@link LocalObjectStore}.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ensureStream, kinesisClient } from '../producer/produce';

type ServerFactory = (options: Record<string, number>) => Server;

function loadServer(name: 'kinesalite' | 'dynalite'): ServerFactory {
  // Neither package ships types: narrow the export to the one call used.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod: unknown = require(name);
  if (typeof mod !== 'function') throw new Error(`${name} does not export a server factory`);
  return mod as ServerFactory;
}

const listen = (server: Server) =>
  new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  });

/** A Kinesis record as read back from a shard. */
export interface ShardRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly arrival: Date;
}

/** The running emulators and their clients. */
export class Emulators {
  private constructor(
    private readonly servers: Server[],
    readonly kinesisEndpoint: string,
    readonly dynamoEndpoint: string,
    readonly kinesis: KinesisClient,
    readonly dynamo: DynamoDBClient,
  ) {}

  /** Starts kinesalite and dynalite on ephemeral loopback ports. */
  static async start(): Promise<Emulators> {
    const servers: Server[] = [];
    try {
      const kinesis = loadServer('kinesalite')({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
      servers.push(kinesis);
      const dynamo = loadServer('dynalite')({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
      servers.push(dynamo);
      const [kinesisEndpoint, dynamoEndpoint] = await Promise.all([listen(kinesis), listen(dynamo)]);
      const dynamoClient = new DynamoDBClient({
        endpoint: dynamoEndpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        requestHandler: new NodeHttpHandler(),
      });
      return new Emulators(
        servers,
        kinesisEndpoint,
        dynamoEndpoint,
        kinesisClient({ endpoint: kinesisEndpoint }),
        dynamoClient,
      );
    } catch (error) {
      await Promise.all(servers.map(close));
      throw error;
    }
  }

  /** Creates a stream and waits until it is active. */
  async createStream(name: string, shards: number): Promise<void> {
    await ensureStream(this.kinesis, name, shards);
  }

  /** Creates a pay-per-request table with string keys. */
  async createTable(name: string, keys: ReadonlyArray<{ name: string; type: 'HASH' | 'RANGE' }>): Promise<void> {
    await this.dynamo.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: 'S' })),
        KeySchema: keys.map((k): KeySchemaElement => ({ AttributeName: k.name, KeyType: k.type })),
      }),
    );
  }

  /** Reads every record of every shard added since the last call (per shard iterators are kept). */
  async readNew(stream: string): Promise<ShardRecord[]> {
    const shards = (await this.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
    const out: ShardRecord[] = [];
    for (const shard of shards) {
      const shardId = String(shard.ShardId);
      const key = `${stream}/${shardId}`;
      let iterator = this.iterators.get(key);
      if (!iterator) {
        iterator = (
          await this.kinesis.send(
            new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
          )
        ).ShardIterator;
      }
      for (;;) {
        const page = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        const records = page.Records ?? [];
        for (const r of records) {
          out.push({
            shardId,
            sequenceNumber: String(r.SequenceNumber),
            partitionKey: String(r.PartitionKey),
            data: r.Data ?? new Uint8Array(),
            arrival: r.ApproximateArrivalTimestamp ?? new Date(0),
          });
        }
        iterator = page.NextShardIterator;
        if (records.length === 0 || !iterator) break;
      }
      if (iterator) this.iterators.set(key, iterator);
    }
    return out;
  }

  private readonly iterators = new Map<string, string>();

  /** Destroys the clients and stops both servers. */
  async close(): Promise<void> {
    this.kinesis.destroy();
    this.dynamo.destroy();
    await Promise.all(this.servers.map(close));
  }
}

/**
 * Records read back from the shards (`Emulators.readNew`) in a canonical order (event time, then payload): with several PutRecords calls
 * in flight, arrival order within a shard differs between runs, and the simulation must not.
 */
export function canonicalOrder<T extends { readonly data: Uint8Array }>(records: readonly T[]): T[] {
  const keyed = records.map((r) => {
    const text = Buffer.from(r.data).toString('utf8');
    let time = '';
    try {
      const parsed = JSON.parse(text) as { event_time?: unknown };
      if (typeof parsed.event_time === 'string') time = parsed.event_time;
    } catch {
      // not JSON: sorts first, by its text
    }
    return { r, key: `${time}\u0000${text}` };
  });
  return keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((k) => k.r);
}
