import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeBucketGrants, acknowledgeNag } from '../nag';
import type { EventTable } from './event-table';

/** Properties of a {@link LakeDelivery}. */
export interface LakeDeliveryProps {
  /** Stream to read events from. */
  readonly source: kinesis.IStream;
  /** Bucket to deliver to. */
  readonly destination: s3.IBucket;
  /** Table whose schema the JSON events are converted to Parquet with, and whose layout the prefix follows. */
  readonly table: EventTable;
  /** Key for the delivered objects and the delivery log group. */
  readonly encryptionKey: kms.IKey;
  /**
   * Deliver at least this often (0 to 900 seconds).
   * @see https://docs.aws.amazon.com/firehose/latest/dev/buffering-hints.html
   * @default Duration.seconds(300)
   */
  readonly bufferingInterval?: Duration;
  /** Deliver when this much has arrived; Parquet conversion needs 64 to 128 MiB. @default Size.mebibytes(128) */
  readonly bufferingSize?: Size;
  /** Key prefix of records that failed conversion or delivery. @default 'errors/' */
  readonly errorPrefix?: string;
  /** Retention of the delivery error log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Kinesis Data Firehose from the event stream into the raw zone: JSON events converted to Snappy Parquet with the
 * Glue table's schema, written under date/hour partitions; records that fail conversion or delivery land under a
 * separate error prefix (typed by failure), so no event is lost silently.
 */
export class LakeDelivery extends Construct {
  /** The delivery stream. */
  public readonly deliveryStream: firehose.DeliveryStream;
  /** Log group of delivery errors. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: LakeDeliveryProps) {
    super(scope, id);
    const interval = props.bufferingInterval ?? Duration.seconds(300);
    const size = props.bufferingSize ?? Size.mebibytes(128);
    if (interval.toSeconds() > 900) {
      throw new Error(`bufferingInterval must be between 0 and 900 seconds; received ${interval.toSeconds()}`);
    }
    const mib = size.toMebibytes();
    if (mib < 64 || mib > 128) {
      throw new Error(`bufferingSize must be between 64 and 128 MiB when converting to Parquet; received ${mib} MiB`);
    }
    const errorPrefix = props.errorPrefix ?? 'errors/';

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.deliveryStream = new firehose.DeliveryStream(this, 'Resource', {
      source: new firehose.KinesisStreamSource(props.source),
      destination: new firehose.S3Bucket(props.destination, {
        dataOutputPrefix: props.table.firehosePrefix,
        errorOutputPrefix: `${errorPrefix}!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
        bufferingInterval: interval,
        bufferingSize: size,
        encryptionKey: props.encryptionKey,
        loggingConfig: new firehose.EnableLogging(this.logGroup),
        dataFormatConversion: {
          schemaConfiguration: firehose.SchemaConfiguration.fromCfnTable(props.table.table),
          inputFormat: new firehose.HiveJsonInputFormat({
            timestampParsers: [
              firehose.TimestampParser.fromFormatString("yyyy-MM-dd'T'HH:mm:ss.SSSZZ"),
              firehose.TimestampParser.fromFormatString("yyyy-MM-dd'T'HH:mm:ssZZ"),
              firehose.TimestampParser.EPOCH_MILLIS,
            ],
          }),
          outputFormat: new firehose.ParquetOutputFormat({ compression: firehose.ParquetCompression.SNAPPY }),
        },
      }),
    });
    acknowledgeDestinationGrants(this.deliveryStream, props.destination);
    acknowledgeNag(
      this.deliveryStream,
      'KDF1',
      'Server-side encryption of a delivery stream applies only to Direct PUT sources; this one reads from a Kinesis stream encrypted with the lake CMK, and delivered objects are SSE-KMS with the same key.',
    );
  }

  /** Records delivered to S3 per period. */
  public metricDeliveredRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryStream.metric('DeliveryToS3.Records', { statistic: 'Sum', ...props });
  }

  /** Age of the oldest record not yet delivered to S3: delivery falling behind. */
  public metricDataFreshness(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryStream.metric('DeliveryToS3.DataFreshness', { statistic: 'Maximum', ...props });
  }
}

/**
 * The Firehose L2 gives its S3 destination role `bucket.grantReadWrite` (Firehose lists, reads back and aborts
 * multipart uploads during delivery), the key grant that goes with SSE-KMS, and `glue:GetSchemaVersion` on `*`
 * for the Glue Schema Registry. They are acknowledged one by one on that policy alone.
 */
function acknowledgeDestinationGrants(deliveryStream: firehose.DeliveryStream, destination: s3.IBucket): void {
  const policy = deliveryStream.node.tryFindChild('S3 Destination Role')?.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  acknowledgeBucketGrants(policy, [{ bucket: destination, prefixes: [''], write: 'read-write', encrypted: true }]);
  acknowledgeNag(
    policy,
    'IAM5[Resource::*]',
    'glue:GetSchemaVersion (read-only, Glue Schema Registry) is added by the Firehose L2 Parquet conversion; table reads are scoped to the event table.',
  );
}
