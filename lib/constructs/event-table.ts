import { Aws } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { glueType, type EventSchema } from '../../core/contracts/events';

/** Properties of an {@link EventTable}. */
export interface EventTableProps {
  /** The Glue database the table belongs to. */
  readonly database: glue.CfnDatabase;
  /** Name of that database. */
  readonly databaseName: string;
  /** Bucket holding the events. */
  readonly bucket: s3.IBucket;
  /** The event schema; one column per field. */
  readonly schema: EventSchema;
  /** Key prefix of the events in the bucket, ending with `/`. @default 'events/' */
  readonly prefix?: string;
  /**
   * First day partition projection considers, relative to now.
   * @see https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html
   * @default 'NOW-3YEARS'
   */
  readonly projectionStart?: string;
}

/**
 * A Glue table over the raw events (Parquet, partitioned by `dt` = yyyy-MM-dd and `hour` = HH) with partition
 * projection, so Athena finds new partitions without crawlers or `MSCK REPAIR`. Firehose writes to
 * {@link firehosePrefix}, which produces exactly the layout the projection describes.
 */
export class EventTable extends Construct {
  /** The Glue table. */
  public readonly table: glue.CfnTable;
  /** The table name (`<schema>_events`). */
  public readonly tableName: string;
  /** Firehose `dataOutputPrefix` that matches the projection. */
  public readonly firehosePrefix: string;
  /** Key prefix of the events. */
  public readonly prefix: string;

  constructor(scope: Construct, id: string, props: EventTableProps) {
    super(scope, id);
    if (props.schema.fields.length === 0) {
      throw new Error(`schema "${props.schema.name}" has no fields; an event table needs at least one column`);
    }
    const prefix = props.prefix ?? 'events/';
    if (!prefix.endsWith('/') || prefix.startsWith('/')) {
      throw new Error(`prefix must end with "/" and not start with "/"; received "${prefix}"`);
    }
    this.prefix = prefix;
    this.tableName = `${props.schema.name}_events`;
    this.firehosePrefix = `${prefix}dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`;
    const location = props.bucket.s3UrlForObject(prefix);

    this.table = new glue.CfnTable(this, 'Resource', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: props.databaseName,
      tableInput: {
        name: this.tableName,
        description: `${props.schema.description} (schema ${props.schema.name} v${props.schema.version})`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          'parquet.compression': 'SNAPPY',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${props.projectionStart ?? 'NOW-3YEARS'},NOW`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'projection.hour.type': 'integer',
          'projection.hour.range': '0,23',
          'projection.hour.digits': '2',
          'storage.location.template': `${location}dt=\${dt}/hour=\${hour}/`,
          'ml-blueprint.schema.version': String(props.schema.version),
        },
        partitionKeys: [
          { name: 'dt', type: 'string', comment: 'Arrival date (UTC), yyyy-MM-dd' },
          { name: 'hour', type: 'string', comment: 'Arrival hour (UTC), HH' },
        ],
        storageDescriptor: {
          location,
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          columns: props.schema.fields.map((f) => ({ name: f.name, type: glueType(f), comment: f.description })),
          compressed: true,
        },
      },
    });
    this.table.addResourceDependency(props.database);
  }
}
