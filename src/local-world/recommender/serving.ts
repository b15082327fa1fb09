/**
 * The recommender's real-time path in the local world, with the project's own code on real local engines: the
 * serving logic (`core/recommender/recommend.ts`) with the real SageMaker runtime SDK client calling the local
 * SageMaker endpoint (`../sagemaker/`), the feature table on dynalite, served slates and interactions put on the
 * stream (kinesalite) by the real producer, read back and processed by the real consumer logic, and delivered to
 * the lake by the local Firehose (`../firehose.ts`), which the local Athena (`../athena/`) queries.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { INTERACTION_EVENT_SCHEMA, SERVED_SLATE_SCHEMA } from '../../../core/contracts/events';
import { createRng } from '../../../core/drift/stats/random';
import {
  processBatch,
  type BatchSummary,
  type ConsumerSettings,
  type StreamRecord,
} from '../../../core/recommender/consume';
import {
  recommend,
  type RecommendRequest,
  type ServingOutcome,
  type ServingSettings,
} from '../../../core/recommender/recommend';
import { SLATE_RECORD_TYPE, type ServedSlate } from '../../../core/recommender/slate';
import type { MemoryObjectStore } from '../../../core/storage/object-store';
import { DynamoFeatureStore } from '../../../lambdas/shared/aws/dynamo-feature-store';
import { sageMakerScorer } from '../../../lambdas/shared/aws/sagemaker-scorer';
import { KinesisSender, toRecords, type OutgoingRecord } from '../../producer/kinesis-sender';
import { DuckDbAthena } from '../athena/engine';
import { canonicalOrder, type Emulators } from '../emulators';
import { LocalFirehose } from '../firehose';
import { LocalSageMakerRuntime, localRuntimeClient } from '../sagemaker';

/** Where the recommender lives in the local world. */
export interface LocalRecommenderOptions {
  readonly emulators: Emulators;
  readonly store: MemoryObjectStore;
  /** Folder of the lake mirror, model artifacts and jobs. */
  readonly root: string;
  readonly streamName: string;
  readonly shards: number;
  readonly tableName: string;
  readonly tableKeys: ReadonlyArray<{ name: string; type: 'HASH' | 'RANGE' }>;
  readonly rawBucket: string;
  /** Where the consumer writes served features (with `consumer.servedFeaturesPrefix`). @default not written */
  readonly captureBucket?: string;
  /** The Glue database of the lake tables. */
  readonly database: string;
  readonly endpointName: string;
  readonly consumer: ConsumerSettings;
  readonly serving: ServingSettings;
  /** Records per consumer batch (the event source mapping's batch size). */
  readonly batchSize: number;
  readonly seed: number;
}

/** What one ingestion did. */
export interface IngestSummary {
  readonly records: number;
  readonly valid: number;
  readonly quarantined: number;
  readonly slates: number;
  readonly feedbackJoined: number;
  readonly lakeEvents: number;
  readonly lakeSlates: number;
}

/** Lake tables: `<prefix>` in the raw bucket. */
export const LAKE_PREFIXES = { events: 'events/', slates: 'slates/' } as const;

/** The real-time path on local engines. */
export class LocalRecommender {
  readonly featureStore: DynamoFeatureStore;
  readonly firehose: LocalFirehose;
  private pendingSlates: ServedSlate[] = [];
  private inferences = 0;
  private readonly ids = createRng(0);
  private deployedVersion = 0;

  private constructor(
    private readonly o: LocalRecommenderOptions,
    readonly runtime: LocalSageMakerRuntime,
    readonly athena: DuckDbAthena,
    private readonly client: SageMakerRuntimeClient,
  ) {
    this.featureStore = new DynamoFeatureStore(DynamoDBDocumentClient.from(o.emulators.dynamo), o.tableName);
    this.firehose = new LocalFirehose(o.store);
    this.ids = createRng(o.seed * 613 + 5);
  }

  /** Creates the stream and the feature table, starts the SageMaker runtime API and DuckDB. */
  static async start(o: LocalRecommenderOptions): Promise<LocalRecommender> {
    await o.emulators.createStream(o.streamName, o.shards);
    await o.emulators.createTable(o.tableName, o.tableKeys);
    mkdirSync(o.root, { recursive: true });
    const runtime = await LocalSageMakerRuntime.start();
    const athena = await DuckDbAthena.create({
      root: join(o.root, 's3'),
      tables: [
        {
          database: o.database,
          name: `${INTERACTION_EVENT_SCHEMA.name}_events`,
          location: `s3://${o.rawBucket}/${LAKE_PREFIXES.events}`,
          schema: INTERACTION_EVENT_SCHEMA,
        },
        {
          database: o.database,
          name: `${SERVED_SLATE_SCHEMA.name}_events`,
          location: `s3://${o.rawBucket}/${LAKE_PREFIXES.slates}`,
          schema: SERVED_SLATE_SCHEMA,
        },
      ],
    });
    const client = localRuntimeClient(runtime.url);
    return new LocalRecommender(o, runtime, athena, client);
  }

  /** Whether a model serves (an endpoint exists). */
  get serving(): boolean {
    return this.runtime.endpointNames().includes(this.o.endpointName);
  }

  /** Serves requests as the `recommend` API does (concurrently, deterministic ids); slates wait for {@link ingest}. */
  async serve(requests: readonly RecommendRequest[], now: Date): Promise<ServingOutcome[]> {
    const ids = requests.map(() => this.nextInferenceId());
    const score = sageMakerScorer(this.client, this.o.endpointName, { get: async () => 'unknown' });
    const outcomes = await Promise.all(
      requests.map((request, i) =>
        recommend(request, this.o.serving, {
          store: this.featureStore,
          score,
          newInferenceId: () => ids[i],
          now: () => now,
          log: () => undefined,
          logSlate: async (slate) => {
            this.pendingSlates.push(slate);
          },
        }),
      ),
    );
    return outcomes;
  }

  /**
   * Puts the served slates and the given events (and extra raw records, e.g. malformed ones) on the stream, reads
   * them back per shard, runs the consumer in batches and delivers them to the lake.
   */
  async ingest(
    events: readonly Record<string, unknown>[],
    arrival: Date,
    extra: readonly OutgoingRecord[] = [],
  ): Promise<IngestSummary & { summaries: BatchSummary[] }> {
    const slates = this.pendingSlates.sort((a, b) => (a.inference_id < b.inference_id ? -1 : 1));
    this.pendingSlates = [];
    const records: OutgoingRecord[] = [
      ...slates.map((s) => ({ data: Buffer.from(JSON.stringify(s)), partitionKey: s.user_id })),
      ...toRecords(events as Record<string, string | number>[]),
      ...extra,
    ];
    const sender = new KinesisSender(this.o.emulators.kinesis, {
      stream: this.o.streamName,
      random: createRng(this.o.seed).nextFloat,
    });
    await sender.putAll(records);
    const read = canonicalOrder(await this.o.emulators.readNew(this.o.streamName));
    const summaries: BatchSummary[] = [];
    for (let i = 0; i < read.length; i += this.o.batchSize) {
      const batch: StreamRecord[] = read.slice(i, i + this.o.batchSize).map((r) => ({
        id: `${r.shardId}:${r.sequenceNumber}`,
        sequenceNumber: r.sequenceNumber,
        partitionKey: r.partitionKey,
        data: Buffer.from(r.data).toString('base64'),
        approximateArrivalTimestamp: arrival.getTime() / 1000,
      }));
      const { summary, batchItemFailures } = await processBatch(
        batch,
        this.o.consumer,
        {
          store: this.featureStore,
          quarantine: (key, document) => this.o.store.put(this.o.rawBucket, key, JSON.stringify(document)),
          log: () => undefined,
          ...(this.o.captureBucket
            ? {
                writeServedFeatures: (key: string, body: string) =>
                  this.o.store.put(this.o.captureBucket as string, key, body),
              }
            : {}),
        },
        arrival,
      );
      if (batchItemFailures.length > 0) throw new Error(`the consumer failed ${batchItemFailures.length} records`);
      summaries.push(summary);
    }
    // As in AWS, each delivery stream converts every record of the stream with its own table's columns: each table
    // also holds the other kind as rows without its columns, which the SQL filters out.
    const delivered = read.map((r) => ({ data: r.data, arrival }));
    const lakeEvents = await this.firehose.deliver(
      { name: 'events', bucket: this.o.rawBucket, prefix: LAKE_PREFIXES.events, accepts: () => true },
      delivered,
    );
    const lakeSlates = await this.firehose.deliver(
      {
        name: 'slates',
        bucket: this.o.rawBucket,
        prefix: LAKE_PREFIXES.slates,
        accepts: () => true,
        errorPrefix: 'errors/served_slate/',
      },
      delivered,
    );
    const slateCount = read.filter((r) => Buffer.from(r.data).includes(`"record_type":"${SLATE_RECORD_TYPE}"`)).length;
    const sum = (f: (s: BatchSummary) => number) => summaries.reduce((a, s) => a + f(s), 0);
    return {
      records: read.length,
      valid: sum((s) => s.valid),
      quarantined: sum((s) => Object.values(s.quarantined).reduce((a, b) => a + b, 0)),
      slates: sum((s) => s.slates),
      feedbackJoined: sum((s) => s.feedbackJoined),
      lakeEvents: lakeEvents.delivered - slateCount,
      lakeSlates: Math.min(lakeSlates.delivered, slateCount),
      summaries,
    };
  }

  /** Serves a trained `model.tar.gz` on the endpoint (created, or updated to the new model). */
  async deploy(modelArtifact: Uint8Array): Promise<void> {
    const path = join(this.o.root, 'endpoint', `model-${++this.deployedVersion}.tar.gz`);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, modelArtifact);
    const config = {
      name: this.o.endpointName,
      variants: [
        {
          variantName: 'AllTraffic',
          modelArtifact: path,
          env: { SAGEMAKER_PROGRAM: 'inference.py', SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code' },
        },
      ],
    };
    if (this.serving) await this.runtime.updateEndpoint(config);
    else await this.runtime.createEndpoint(config);
  }

  /** Stops the endpoint containers, the runtime API and DuckDB. */
  async stop(): Promise<void> {
    await this.runtime.stop();
    this.athena.close();
    this.client.destroy();
  }

  private nextInferenceId(): string {
    const hex = Array.from({ length: 4 }, () => this.ids.nextUint32().toString(16).padStart(8, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${String(++this.inferences).padStart(12, '0')}`;
  }
}
