/**
 * The vision system's real-time path in the local world, with the project's own code on real local engines: image
 * events put on the stream (kinesalite) by the real producer, read back and processed by the real image consumer
 * logic (`core/vision/image-consumer.ts`: validation, quarantine, statistics, prediction log), predictions from the
 * local SageMaker endpoint through the real SageMaker runtime SDK client (with `InferenceId`, data capture on), the
 * stream delivered to the lake by the local Firehose, which the local Athena (DuckDB) queries.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { IMAGE_EVENT_SCHEMA } from '../../../core/contracts/events';
import { createRng } from '../../../core/drift/stats/random';
import type { MemoryObjectStore } from '../../../core/storage/object-store';
import {
  consumeImages,
  EndpointUnavailableError,
  type ImageBatchResult,
  type ImageConsumerSettings,
} from '../../../core/vision/image-consumer';
import { parseModelAnswer } from '../../../core/vision/prediction';
import { KinesisSender, type OutgoingRecord } from '../../producer/kinesis-sender';
import { DuckDbAthena } from '../athena/engine';
import { canonicalOrder, type Emulators } from '../emulators';
import { LocalFirehose } from '../firehose';
import { LocalSageMakerRuntime, localRuntimeClient } from '../sagemaker';
import type { SimClock } from '../clock';

/** Where the vision system lives in the local world. */
export interface LocalVisionOptions {
  readonly emulators: Emulators;
  readonly store: MemoryObjectStore;
  readonly clock: SimClock;
  /** Folder of the lake mirror, the endpoint's model archives and data capture. */
  readonly root: string;
  readonly streamName: string;
  readonly shards: number;
  /** The image consumer's settings (from its function's environment). */
  readonly consumer: ImageConsumerSettings;
  /** Records per consumer batch (the event source mapping's batch size). */
  readonly batchSize: number;
  /** The lake (raw) bucket and the Glue database of its table. */
  readonly rawBucket: string;
  readonly database: string;
  readonly endpointName: string;
  /** Data capture: the bucket and prefix (`DestinationS3Uri`). */
  readonly captureBucket: string;
  readonly capturePrefix: string;
  readonly seed: number;
}

/** The lake table of image events: `<prefix>` in the raw bucket. */
export const IMAGE_LAKE_PREFIX = 'events/';

/** What one ingestion did. */
export interface VisionIngestSummary {
  readonly records: number;
  readonly accepted: number;
  readonly quarantined: number;
  readonly predicted: number;
  readonly deferred: number;
  readonly labelUpdates: number;
  readonly lakeEvents: number;
}

/** The real-time path on local engines. */
export class LocalVision {
  readonly firehose: LocalFirehose;
  private deployedVersion = 0;

  private constructor(
    private readonly o: LocalVisionOptions,
    readonly runtime: LocalSageMakerRuntime,
    readonly athena: DuckDbAthena,
    private readonly client: SageMakerRuntimeClient,
  ) {
    this.firehose = new LocalFirehose(o.store);
  }

  /** Creates the stream, starts the SageMaker runtime API and DuckDB over the image table. */
  static async start(o: LocalVisionOptions): Promise<LocalVision> {
    await o.emulators.createStream(o.streamName, o.shards);
    mkdirSync(o.root, { recursive: true });
    const runtime = await LocalSageMakerRuntime.start();
    const athena = await DuckDbAthena.create({
      root: join(o.root, 's3'),
      tables: [
        {
          database: o.database,
          name: `${IMAGE_EVENT_SCHEMA.name}_events`,
          location: `s3://${o.rawBucket}/${IMAGE_LAKE_PREFIX}`,
          schema: IMAGE_EVENT_SCHEMA,
        },
      ],
    });
    const client = localRuntimeClient(runtime.url);
    return new LocalVision(o, runtime, athena, client);
  }

  /** Whether a model serves (the endpoint exists). */
  get serving(): boolean {
    return this.runtime.endpointNames().includes(this.o.endpointName);
  }

  /**
   * Puts the events (and extra raw records) on the stream, reads them back in a canonical order, runs the image
   * consumer in batches (each batch at its first event's time) and delivers the stream to the lake.
   */
  async ingest(
    events: readonly Record<string, unknown>[],
    extra: readonly OutgoingRecord[] = [],
  ): Promise<VisionIngestSummary> {
    const records: OutgoingRecord[] = [
      ...events.map((e) => ({ data: Buffer.from(JSON.stringify(e)), partitionKey: String(e.image_key) })),
      ...extra,
    ];
    const sender = new KinesisSender(this.o.emulators.kinesis, {
      stream: this.o.streamName,
      random: createRng(this.o.seed).nextFloat,
    });
    await sender.putAll(records);
    const read = canonicalOrder(await this.o.emulators.readNew(this.o.streamName));
    const results: ImageBatchResult[] = [];
    let predicted = 0;
    for (let i = 0; i < read.length; i += this.o.batchSize) {
      // Ids in read order (sequence numbers differ between runs): they name the statistics and log objects.
      const batch = read.slice(i, i + this.o.batchSize).map((r, k) => ({
        id: `b${String(i + k).padStart(7, '0')}`,
        payload: Buffer.from(r.data).toString('utf8'),
        origin: { partitionKey: r.partitionKey, sequenceNumber: r.sequenceNumber },
      }));
      const at = timeOf(batch[0].payload) ?? this.o.clock.now();
      this.o.clock.setAtLeast(at);
      const result = await consumeImages(
        batch,
        this.o.consumer,
        {
          head: async (bucket, key) => this.o.store.head(bucket, key),
          read: async (bucket, key) => this.o.store.bytes(bucket, key) ?? new Uint8Array(),
          put: (bucket, key, body) => this.o.store.put(bucket, key, body),
          predict: async (bytes, contentType, inferenceId) => {
            predicted++;
            return this.predict(bytes, contentType, inferenceId);
          },
          review: async () => {
            throw new Error('the prediction log is on: nothing is queued one by one');
          },
          count: () => undefined,
          log: () => undefined,
        },
        this.o.clock.now(),
      );
      if (result.failures.length > 0) throw new Error(`the image consumer failed ${result.failures.length} records`);
      results.push(result);
    }
    await this.mirrorCapture();
    const delivered = read.map((r) => ({
      data: r.data,
      arrival: timeOf(Buffer.from(r.data).toString('utf8')) ?? this.o.clock.now(),
    }));
    const lake = await this.firehose.deliver(
      { name: 'events', bucket: this.o.rawBucket, prefix: IMAGE_LAKE_PREFIX, accepts: () => true },
      delivered,
    );
    const sum = (f: (r: ImageBatchResult) => number) => results.reduce((a, r) => a + f(r), 0);
    return {
      records: read.length,
      accepted: sum((r) => r.accepted),
      quarantined: sum((r) => Object.values(r.quarantined).reduce((a, b) => a + (b ?? 0), 0)),
      predicted: predicted - sum((r) => r.deferred),
      deferred: sum((r) => r.deferred),
      labelUpdates: sum((r) => r.labelUpdates),
      lakeEvents: lake.delivered,
    };
  }

  /** One prediction through the SageMaker runtime API; no endpoint yet is "not now" (the image is deferred). */
  private async predict(bytes: Uint8Array, contentType: string, inferenceId: string) {
    if (!this.serving) throw new EndpointUnavailableError(`no endpoint ${this.o.endpointName} serves yet`);
    const out = await this.client.send(
      new InvokeEndpointCommand({
        EndpointName: this.o.endpointName,
        ContentType: contentType,
        Accept: 'application/json',
        Body: bytes,
        InferenceId: inferenceId,
      }),
    );
    return parseModelAnswer(new TextDecoder().decode(out.Body));
  }

  /** Serves a trained `model.tar.gz` on the endpoint, with data capture (created, or updated to the new model). */
  async deploy(modelArtifact: Uint8Array): Promise<void> {
    const path = join(this.o.root, 'endpoint', `model-${++this.deployedVersion}.tar.gz`);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, modelArtifact);
    const config = {
      name: this.o.endpointName,
      variants: [{ variantName: 'AllTraffic', modelArtifact: path, env: { SAGEMAKER_PROGRAM: 'inference.py' } }],
      capture: {
        dir: join(this.o.root, 'capture'),
        prefix: this.o.capturePrefix.replace(/\/$/, ''),
        now: () => this.o.clock.now(),
      },
    };
    if (this.serving) await this.runtime.updateEndpoint(config);
    else await this.runtime.createEndpoint(config);
  }

  /** Copies the endpoint's data capture files into the capture bucket (the files' paths are their keys). */
  async mirrorCapture(): Promise<number> {
    const dir = join(this.o.root, 'capture');
    let files = 0;
    const walk = async (folder: string): Promise<void> => {
      let names: string[];
      try {
        names = readdirSync(folder).sort();
      } catch {
        return;
      }
      for (const name of names) {
        const path = join(folder, name);
        if (statSync(path).isDirectory()) await walk(path);
        else {
          await this.o.store.put(this.o.captureBucket, relative(dir, path).split('\\').join('/'), readFileSync(path));
          files++;
        }
      }
    };
    await walk(dir);
    return files;
  }

  /** Stops the endpoint containers, the runtime API and DuckDB. */
  async stop(): Promise<void> {
    await this.runtime.stop();
    this.athena.close();
    this.client.destroy();
  }
}

function timeOf(payload: string): Date | undefined {
  try {
    const t = (JSON.parse(payload) as { event_time?: unknown }).event_time;
    return typeof t === 'string' && !Number.isNaN(Date.parse(t)) ? new Date(t) : undefined;
  } catch {
    return undefined;
  }
}
