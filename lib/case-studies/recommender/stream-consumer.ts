import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BlueprintFunction } from '../../constructs/blueprint-function';
import { FailureQueue } from '../../constructs/failure-queue';
import type { FeatureStore } from './feature-store';

/** Event source mapping settings of a {@link StreamConsumer}. */
export interface StreamConsumerMapping {
  /** @see https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html */
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  /** Retries of a failed batch (bisected) before its records go to the on-failure queue. */
  readonly retryAttempts: number;
  /** Older records go to the on-failure queue unprocessed. */
  readonly maxRecordAge: Duration;
  /** @default 1 */
  readonly parallelizationFactor?: number;
}

/** Properties of a {@link StreamConsumer}. */
export interface StreamConsumerProps {
  readonly caseStudy: string;
  readonly stage: string;
  /** The interaction stream. */
  readonly stream: kinesis.IStream;
  /** Where features are kept. */
  readonly featureStore: FeatureStore;
  /** Raw bucket; invalid records go under `quarantinePrefix`. */
  readonly rawBucket: s3.IBucket;
  /** @default 'quarantine/' */
  readonly quarantinePrefix?: string;
  readonly mapping: StreamConsumerMapping;
  /** Feature-store settings written to the function's environment. */
  readonly features: {
    readonly ttl: Duration;
    readonly popularityBucket: Duration;
    readonly popularityListSize: number;
    /** Bucket of the CTR counters: the drift checker's window. */
    readonly ctrWindow: Duration;
  };
  /** Key of the function's logs and environment and of the on-failure queue. */
  readonly encryptionKey: kms.IKey;
  /**
   * Where the served features of model-ranked slates go for the drift checker (a folder beside data capture,
   * `<prefix>yyyy/mm/dd/hh/`). @default not written
   */
  readonly servedFeatures?: { readonly bucket: s3.IBucket; readonly prefix: string };
  /**
   * Check a blue/green canary's CTR against the champion's after each batch (one-sided, `core/recommender/canary.ts`)
   * and publish `CanaryCtrInferior`, with this relative tolerance. @default no check
   */
  readonly canaryCtrTolerance?: number;
}

/**
 * The recommender's stream consumer: a Lambda on the Kinesis stream (bisect on error, bounded retries, maximum
 * record age, partial batch responses, on-failure destination to a KMS-encrypted queue) that validates events,
 * quarantines invalid ones in the raw bucket with the reason, keeps real-time features and joins feedback to
 * predictions.
 */
export class StreamConsumer extends Construct {
  /** The consumer function. */
  public readonly function: BlueprintFunction;
  /** Records that exhausted their retries or aged out (metadata: shard, sequence range). */
  public readonly failureQueue: sqs.Queue;
  /** The event source mapping. */
  public readonly eventSource: sources.KinesisEventSource;
  private readonly caseStudy: string;
  private readonly stage: string;

  constructor(scope: Construct, id: string, props: StreamConsumerProps) {
    super(scope, id);
    this.caseStudy = props.caseStudy;
    this.stage = props.stage;
    const m = props.mapping;
    if (m.batchSize < 1 || m.batchSize > 10_000) {
      throw new Error(`mapping.batchSize must be between 1 and 10000; received ${m.batchSize}`);
    }
    if (m.maxBatchingWindow.toSeconds() > 300) {
      throw new Error(
        `mapping.maxBatchingWindow must be at most 300 seconds; received ${m.maxBatchingWindow.toSeconds()}`,
      );
    }
    const maxAge = m.maxRecordAge.toSeconds();
    if (maxAge < 60 || maxAge > 604_800) {
      throw new Error(`mapping.maxRecordAge must be between 60 and 604800 seconds; received ${maxAge}`);
    }
    const quarantinePrefix = props.quarantinePrefix ?? 'quarantine/';

    this.failureQueue = new FailureQueue(this, 'FailedRecords', {
      encryptionKey: props.encryptionKey,
      purpose: 'on-failure destination of the stream consumer (records that exhausted retries)',
    });

    this.function = new BlueprintFunction(this, 'Function', {
      handlerDir: 'stream-consumer',
      description: `Keeps real-time features of ${props.caseStudy} (${props.stage}) from the interaction stream`,
      encryptionKey: props.encryptionKey,
      timeout: Duration.minutes(1),
      memorySize: 1024,
      environment: {
        CASE_STUDY: props.caseStudy,
        STAGE: props.stage,
        TABLE_NAME: props.featureStore.table.tableName,
        RAW_BUCKET: props.rawBucket.bucketName,
        QUARANTINE_PREFIX: quarantinePrefix,
        FEATURE_TTL_HOURS: String(props.features.ttl.toHours()),
        POPULARITY_BUCKET_MINUTES: String(props.features.popularityBucket.toMinutes()),
        POPULARITY_LIST_SIZE: String(props.features.popularityListSize),
        CTR_WINDOW_MINUTES: String(props.features.ctrWindow.toMinutes()),
        POWERTOOLS_METRICS_NAMESPACE: 'MlBlueprint/Recommender',
        ...(props.canaryCtrTolerance !== undefined ? { CANARY_CTR_TOLERANCE: String(props.canaryCtrTolerance) } : {}),
        ...(props.servedFeatures
          ? {
              SERVED_FEATURES_BUCKET: props.servedFeatures.bucket.bucketName,
              SERVED_FEATURES_PREFIX: props.servedFeatures.prefix,
            }
          : {}),
      },
    });
    this.eventSource = new sources.KinesisEventSource(props.stream, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: m.batchSize,
      maxBatchingWindow: m.maxBatchingWindow,
      bisectBatchOnError: true,
      retryAttempts: m.retryAttempts,
      maxRecordAge: m.maxRecordAge,
      parallelizationFactor: m.parallelizationFactor ?? 1,
      reportBatchItemFailures: true,
      onFailure: new sources.SqsDlq(this.failureQueue),
    });
    this.function.addEventSource(this.eventSource);

    props.featureStore.grantReadWriteData(this.function);
    props.rawBucket.grantPut(this.function, `${quarantinePrefix}*`);
    props.servedFeatures?.bucket.grantPut(this.function, `${props.servedFeatures.prefix}*`);
  }

  /** Events quarantined (not JSON, schema, rejected). */
  public metricQuarantined(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('EventsQuarantined', { statistic: 'Sum', ...props });
  }

  /** Events written as features. */
  public metricProcessed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('EventsProcessed', { statistic: 'Sum', ...props });
  }

  /** 1 when the canary's CTR is significantly below the champion's beyond the tolerance (per batch). */
  public metricCanaryCtrInferior(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('CanaryCtrInferior', { statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  /** Feedback events joined to a prediction by inference id. */
  public metricFeedbackJoined(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('FeedbackJoined', { statistic: 'Sum', ...props });
  }

  /** How far behind the stream the consumer is (Lambda's IteratorAge). */
  public metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(5), ...props });
  }

  private metric(name: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'MlBlueprint/Recommender',
      metricName: name,
      // Powertools adds the `service` dimension (the handler folder) to every metric.
      dimensionsMap: { service: 'stream-consumer', CaseStudy: this.caseStudy, Stage: this.stage },
      period: Duration.minutes(5),
      ...props,
    });
  }
}
