import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag';

/** How the stream is billed and scaled. */
export type StreamCapacity =
  /** On-demand: scales itself, billed per stream-hour and GB; the sandbox default. */
  | { readonly mode: 'on-demand' }
  /** Provisioned: a fixed number of shards from the capacity plan; cheaper at steady high volume. */
  | { readonly mode: 'provisioned'; readonly shardCount: number };

/** Properties of an {@link EventStream}. */
export interface EventStreamProps {
  /** Customer-managed key for server-side encryption. */
  readonly encryptionKey: kms.IKey;
  /** Capacity mode and shard count. @default { mode: 'on-demand' } */
  readonly capacity?: StreamCapacity;
  /**
   * How long records stay readable (24 hours to 365 days).
   * @see https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html
   * @default Duration.hours(24)
   */
  readonly retention?: Duration;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The ingestion stream of a case study: a KMS-encrypted Kinesis Data Stream that producers write events to and
 * that Firehose (and the case study's own consumers, such as a feature consumer) read from.
 */
export class EventStream extends Construct {
  /** The Kinesis stream. */
  public readonly stream: kinesis.Stream;

  constructor(scope: Construct, id: string, props: EventStreamProps) {
    super(scope, id);
    const capacity = props.capacity ?? { mode: 'on-demand' };
    const retention = props.retention ?? Duration.hours(24);
    const hours = retention.toHours({ integral: false });
    if (hours < 24 || hours > 8760) {
      throw new Error(`retention must be between 24 and 8760 hours; received ${hours}`);
    }
    if (capacity.mode === 'provisioned' && (!Number.isInteger(capacity.shardCount) || capacity.shardCount < 1)) {
      throw new Error(`capacity.shardCount must be a positive integer; received ${capacity.shardCount}`);
    }
    this.stream = new kinesis.Stream(this, 'Resource', {
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: props.encryptionKey,
      streamMode: capacity.mode === 'on-demand' ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED,
      shardCount: capacity.mode === 'provisioned' ? capacity.shardCount : undefined,
      retentionPeriod: retention,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledgeNag(
      this.stream,
      'KDS3',
      'The stream is encrypted with the case study customer-managed key (rotation on, key policy we own), which is stricter than the aws/kinesis key this rule asks for.',
    );
  }

  /** Lets producers put records (and encrypt them with the stream key). */
  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.stream.grantWrite(grantee);
  }

  /** Lets consumers read records (and decrypt them). */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.stream.grantRead(grantee);
  }

  /** Age of the oldest record not yet read: consumers falling behind. */
  public metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: 'Maximum', ...props });
  }

  /** Records that producers could not write because the stream was at capacity. */
  public metricWriteThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stream.metricPutRecordsThrottledRecords({ statistic: 'Sum', ...props });
  }

  /** Records written per period. */
  public metricIncomingRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stream.metricIncomingRecords({ statistic: 'Sum', ...props });
  }
}
