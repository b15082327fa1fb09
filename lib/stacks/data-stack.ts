import { CfnOutput, Duration, RemovalPolicy, Size, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CaseStudySpec } from '../case-studies';
import type { BlueprintConfig } from '../config';
import { DataLake } from '../constructs/data-lake';
import { EventStream } from '../constructs/event-stream';
import { EventTable } from '../constructs/event-table';
import { LakeDelivery } from '../constructs/lake-delivery';

/** Export names of the values other stacks of the case study import (see `importDataPlane`). */
export interface DataPlaneExports {
  readonly lakeKeyArn: string;
  readonly rawBucketArn: string;
  readonly curatedBucketArn: string;
  readonly artifactsBucketArn: string;
  readonly captureBucketArn: string;
  readonly streamArn: string;
}

/** Properties of a {@link DataStack}. */
export interface DataStackProps extends StackProps {
  /** Validated configuration of this case study and stage. */
  readonly config: BlueprintConfig;
  /** The case study. */
  readonly spec: CaseStudySpec;
}

/**
 * The stateful data plane of one case study: encrypted lake, event stream, Firehose delivery and the Glue table.
 * Retained (and termination-protected) in production; destroyed with its objects in the sandbox.
 */
export class DataStack extends Stack {
  /** Key, buckets, Glue database, Athena workgroup. */
  public readonly lake: DataLake;
  /** The Kinesis stream producers write to. */
  public readonly events: EventStream;
  /** The Glue table over the raw events. */
  public readonly table: EventTable;
  /** Firehose from the stream to the raw zone. */
  public readonly delivery: LakeDelivery;
  /** Tables and deliveries of the other record kinds on the stream (the case study's `extraEventSchemas`). */
  public readonly extraTables: ReadonlyArray<{ readonly table: EventTable; readonly delivery: LakeDelivery }>;
  /**
   * Named exports of the data plane. Consumers import by these names instead of implicit cross-stack references, so
   * export names are stable across refactors and IAM findings name them readably.
   */
  public readonly exportNames: DataPlaneExports;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    const { config } = props;
    super(scope, id, {
      description: `ml-blueprint ${config.stage} ${config.caseStudy}: data plane (lake, stream, delivery, catalog)`,
      terminationProtection: config.terminationProtection,
      ...props,
    });
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const name = `ml_blueprint_${config.stage}_${config.caseStudy}`;

    this.lake = new DataLake(this, 'DataLake', {
      databaseName: name,
      workGroupName: name.replace(/_/g, '-'),
      removalPolicy,
      lifecycle: {
        rawInfrequentAccessAfter: Duration.days(config.lake.rawInfrequentAccessAfterDays),
        rawExpireAfter: Duration.days(config.lake.rawExpireAfterDays),
        curatedExpireAfter: Duration.days(config.lake.curatedExpireAfterDays),
        captureExpireAfter: Duration.days(config.lake.captureExpireAfterDays),
        noncurrentVersionExpireAfter: Duration.days(config.lake.noncurrentVersionExpireAfterDays),
        accessLogsExpireAfter: Duration.days(config.lake.accessLogsExpireAfterDays),
      },
    });

    this.events = new EventStream(this, 'Events', {
      encryptionKey: this.lake.key,
      capacity: config.shardPlan
        ? { mode: 'provisioned', shardCount: config.shardPlan.shardCount }
        : { mode: 'on-demand' },
      retention: Duration.hours(config.ingestion.retentionHours),
      removalPolicy,
    });

    this.table = new EventTable(this, 'EventTable', {
      database: this.lake.database,
      databaseName: this.lake.databaseName,
      bucket: this.lake.raw,
      schema: props.spec.eventSchema,
    });

    this.delivery = new LakeDelivery(this, 'Delivery', {
      source: this.events.stream,
      destination: this.lake.raw,
      table: this.table,
      encryptionKey: this.lake.key,
      bufferingInterval: Duration.seconds(config.ingestion.firehose.bufferIntervalSeconds),
      bufferingSize: Size.mebibytes(config.ingestion.firehose.bufferSizeMiB),
      removalPolicy,
    });

    this.extraTables = (props.spec.extraEventSchemas ?? []).map(({ schema, prefix }) => {
      const id = schema.name.replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase());
      const table = new EventTable(this, `${id}Table`, {
        database: this.lake.database,
        databaseName: this.lake.databaseName,
        bucket: this.lake.raw,
        schema,
        prefix,
      });
      const delivery = new LakeDelivery(this, `${id}Delivery`, {
        source: this.events.stream,
        destination: this.lake.raw,
        table,
        encryptionKey: this.lake.key,
        bufferingInterval: Duration.seconds(config.ingestion.firehose.bufferIntervalSeconds),
        bufferingSize: Size.mebibytes(config.ingestion.firehose.bufferSizeMiB),
        errorPrefix: `errors/${schema.name}/`,
        removalPolicy,
      });
      return { table, delivery };
    });

    const share = (name: string, value: string) => {
      const exportName = `${this.stackName}-${name}`;
      this.exportValue(value, { name: exportName });
      return exportName;
    };
    this.exportNames = {
      lakeKeyArn: share('LakeKeyArn', this.lake.key.keyArn),
      rawBucketArn: share('RawBucketArn', this.lake.raw.bucketArn),
      curatedBucketArn: share('CuratedBucketArn', this.lake.curated.bucketArn),
      artifactsBucketArn: share('ArtifactsBucketArn', this.lake.artifacts.bucketArn),
      captureBucketArn: share('CaptureBucketArn', this.lake.capture.bucketArn),
      streamArn: share('StreamArn', this.events.stream.streamArn),
    };

    new CfnOutput(this, 'StreamName', { value: this.events.stream.streamName, description: 'Producers write here' });
    new CfnOutput(this, 'RawBucketName', { value: this.lake.raw.bucketName });
    new CfnOutput(this, 'CaptureBucketName', { value: this.lake.capture.bucketName });
    new CfnOutput(this, 'GlueDatabase', { value: this.lake.databaseName });
    new CfnOutput(this, 'GlueTable', { value: this.table.tableName });
    new CfnOutput(this, 'AthenaWorkGroup', { value: this.lake.workGroup.ref });
  }
}
