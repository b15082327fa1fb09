import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { IngestPolicy } from '../../../core/vision/ingest';
import { acknowledgeBucketGrants } from '../../nag';
import { BlueprintFunction } from '../../constructs/blueprint-function';
import { FailureQueue } from '../../constructs/failure-queue';

/** Event source mapping settings of an {@link ImageIngestion}. */
export interface ImageIngestionMapping {
  /** @see https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html */
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  /** Retries of a failed batch (bisected) before its records go to the on-failure queue. */
  readonly retryAttempts: number;
  readonly maxRecordAge: Duration;
}

/** Where the consumer logs predictions: `s3://{bucket}/{predictionsPrefix|deferredPrefix}{endpoint}/dt=…/…`. */
export interface PredictionLogLocation {
  readonly bucket: s3.IBucket;
  /** @default 'vision/predictions/' */
  readonly predictionsPrefix?: string;
  /** @default 'vision/deferred/' */
  readonly deferredPrefix?: string;
}

/** Default prefixes of the prediction log. */
export const PREDICTION_LOG_PREFIXES = { predictions: 'vision/predictions/', deferred: 'vision/deferred/' } as const;

/** Properties of an {@link ImageIngestion}. */
export interface ImageIngestionProps {
  readonly caseStudy: string;
  readonly stage: string;
  /** The endpoint that classifies images (and whose drift the statistics feed). */
  readonly endpointName: string;
  /** The image-arrival stream. */
  readonly stream: kinesis.IStream;
  /** Bucket holding the images (read under `policy.imagesPrefix`) and the quarantine. */
  readonly imagesBucket: s3.IBucket;
  /** Where quarantined events go in the images bucket. @default 'quarantine/images/' */
  readonly quarantinePrefix?: string;
  /** Bucket of the image statistics (the capture bucket, so the drift checker reads them with capture). */
  readonly statsBucket: s3.IBucket;
  /**
   * Prefix of the image statistics. Under the capture prefix by default, so they share its lifecycle and the drift
   * checker's read grant (`_` cannot start an endpoint name, so it never collides with a capture folder).
   * @default 'datacapture/_image-stats/'
   */
  readonly statsPrefix?: string;
  /** What is accepted (content types, sizes, known sources, prefix). */
  readonly policy: IngestPolicy;
  /** Without a prediction log: predictions with a lower confidence go to review one by one. */
  readonly confidenceThreshold: number;
  /** Without a prediction log: where low-confidence predictions go. @default none */
  readonly reviewQueue?: sqs.IQueue;
  /**
   * Where every prediction (and every prediction deferred while the endpoint is at zero) is logged for the daily
   * active learning and backfill (`DailyReview`); replaces review one by one. @default none
   */
  readonly predictionLog?: PredictionLogLocation;
  /** Inference component to invoke (scale-to-zero serving). @default none (a classic variant) */
  readonly inferenceComponentName?: string;
  /** Accept header of invocations (`application/json;verbose` asks a model for its embedding). @default 'application/json' */
  readonly predictionAccept?: string;
  readonly mapping: ImageIngestionMapping;
  /** Key of the function's logs and environment and of the on-failure queue. */
  readonly encryptionKey: kms.IKey;
  /** Where alarms notify. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * The vision image consumer: a Lambda on the image-arrival stream (bisect on error, bounded retries, maximum record
 * age, partial batch responses, KMS-encrypted on-failure queue) that validates events and images, quarantines the
 * rejects with their reason, computes image statistics for drift, classifies each image on the endpoint and sends
 * low-confidence predictions to human review.
 */
export class ImageIngestion extends Construct {
  /** The consumer function. */
  public readonly function: BlueprintFunction;
  /** Records that exhausted their retries or aged out. */
  public readonly failureQueue: sqs.Queue;
  /** The event source mapping. */
  public readonly eventSource: sources.KinesisEventSource;
  /** Failed records and a consumer falling behind. */
  public readonly alarms: cloudwatch.Alarm[];
  /** Prefix of the image statistics in the stats bucket. */
  public readonly statsPrefix: string;
  private readonly props: ImageIngestionProps;

  constructor(scope: Construct, id: string, props: ImageIngestionProps) {
    super(scope, id);
    this.props = props;
    const m = props.mapping;
    if (m.batchSize < 1 || m.batchSize > 1000) {
      throw new Error(`mapping.batchSize must be between 1 and 1000; received ${m.batchSize}`);
    }
    if (!(props.confidenceThreshold >= 0 && props.confidenceThreshold <= 1)) {
      throw new Error(`confidenceThreshold must be between 0 and 1; received ${props.confidenceThreshold}`);
    }
    if (props.policy.knownSources.length === 0) {
      throw new Error('policy.knownSources must list at least one source; received []');
    }
    const quarantinePrefix = props.quarantinePrefix ?? 'quarantine/images/';
    this.statsPrefix = props.statsPrefix ?? 'datacapture/_image-stats/';

    this.failureQueue = new FailureQueue(this, 'FailedRecords', {
      encryptionKey: props.encryptionKey,
      purpose: 'on-failure destination of the image consumer (records that exhausted retries)',
    });

    this.function = new BlueprintFunction(this, 'Function', {
      handlerDir: 'image-consumer',
      description: `Validates, measures and classifies arriving images for ${props.endpointName}`,
      encryptionKey: props.encryptionKey,
      // Decoding is CPU-bound and one image may be up to maxBytes: 2 GB gives more than a vCPU and room for one image.
      timeout: Duration.minutes(5),
      memorySize: 2048,
      environment: {
        CASE_STUDY: props.caseStudy,
        STAGE: props.stage,
        ENDPOINT_NAME: props.endpointName,
        IMAGES_BUCKET: props.imagesBucket.bucketName,
        QUARANTINE_PREFIX: quarantinePrefix,
        STATS_BUCKET: props.statsBucket.bucketName,
        STATS_PREFIX: this.statsPrefix,
        INGEST_POLICY: JSON.stringify(props.policy),
        CONFIDENCE_THRESHOLD: String(props.confidenceThreshold),
        ...(props.reviewQueue ? { REVIEW_QUEUE_URL: props.reviewQueue.queueUrl } : {}),
        ...(props.predictionLog
          ? {
              PREDICTION_LOG_BUCKET: props.predictionLog.bucket.bucketName,
              PREDICTIONS_PREFIX: props.predictionLog.predictionsPrefix ?? PREDICTION_LOG_PREFIXES.predictions,
              DEFERRED_PREFIX: props.predictionLog.deferredPrefix ?? PREDICTION_LOG_PREFIXES.deferred,
            }
          : {}),
        PREDICTION_ACCEPT: props.predictionAccept ?? 'application/json',
        ...(props.inferenceComponentName ? { INFERENCE_COMPONENT_NAME: props.inferenceComponentName } : {}),
        POWERTOOLS_METRICS_NAMESPACE: 'MlBlueprint/Vision',
      },
    });
    this.eventSource = new sources.KinesisEventSource(props.stream, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: m.batchSize,
      maxBatchingWindow: m.maxBatchingWindow,
      bisectBatchOnError: true,
      retryAttempts: m.retryAttempts,
      maxRecordAge: m.maxRecordAge,
      reportBatchItemFailures: true,
      onFailure: new sources.SqsDlq(this.failureQueue),
    });
    this.function.addEventSource(this.eventSource);

    props.imagesBucket.grantRead(this.function, `${props.policy.imagesPrefix}*`);
    props.imagesBucket.grantPut(this.function, `${quarantinePrefix}*`);
    props.statsBucket.grantPut(this.function, `${this.statsPrefix}*`);
    props.reviewQueue?.grantSendMessages(this.function);
    if (props.predictionLog) {
      const log = props.predictionLog;
      for (const prefix of [
        log.predictionsPrefix ?? PREDICTION_LOG_PREFIXES.predictions,
        log.deferredPrefix ?? PREDICTION_LOG_PREFIXES.deferred,
      ]) {
        log.bucket.grantPut(this.function, `${prefix}*`);
      }
    }
    const stack = Stack.of(this);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InvokeTheVisionEndpoint',
        actions: ['sagemaker:InvokeEndpoint'],
        resources: [
          stack.formatArn({
            service: 'sagemaker',
            resource: 'endpoint',
            resourceName: props.endpointName.toLowerCase(),
          }),
          ...(props.inferenceComponentName
            ? [
                stack.formatArn({
                  service: 'sagemaker',
                  resource: 'inference-component',
                  resourceName: props.inferenceComponentName.toLowerCase(),
                }),
              ]
            : []),
        ],
      }),
    );
    const policy = this.function.role?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      const sameBucket = props.imagesBucket === props.statsBucket;
      acknowledgeBucketGrants(policy, [
        {
          bucket: props.imagesBucket,
          prefixes: sameBucket
            ? [props.policy.imagesPrefix, quarantinePrefix, this.statsPrefix]
            : [props.policy.imagesPrefix, quarantinePrefix],
          write: 'put',
          encrypted: true,
        },
        ...(sameBucket
          ? []
          : [{ bucket: props.statsBucket, prefixes: [this.statsPrefix], write: 'put' as const, encrypted: true }]),
        ...(props.predictionLog
          ? [
              {
                bucket: props.predictionLog.bucket,
                prefixes: [
                  props.predictionLog.predictionsPrefix ?? PREDICTION_LOG_PREFIXES.predictions,
                  props.predictionLog.deferredPrefix ?? PREDICTION_LOG_PREFIXES.deferred,
                ],
                write: 'put' as const,
                encrypted: true,
              },
            ]
          : []),
      ]);
    }

    const action = new cwActions.SnsAction(props.alarmTopic);
    this.alarms = [
      new cloudwatch.Alarm(this, 'FailedRecordsAlarm', {
        alarmDescription: `Image events for ${props.endpointName} exhausted their retries (see the on-failure queue). Runbook: docs/runbooks/stream-consumer-lag.md`,
        metric: this.failureQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'IteratorAgeAlarm', {
        alarmDescription: `The image consumer of ${props.endpointName} is more than 10 minutes behind the stream. Runbook: docs/runbooks/stream-consumer-lag.md`,
        metric: this.metricIteratorAge(),
        threshold: 600_000,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    for (const alarm of this.alarms) alarm.addAlarmAction(action);
  }

  /**
   * Lets the drift checker read the image statistics: sets its `EXTRA_CAPTURE_PREFIX` and grants read on the
   * prefix unless it is under `capturePrefix`, which the checker already reads.
   */
  public connectDriftChecker(checker: lambda.Function, capturePrefix = 'datacapture/'): void {
    checker.addEnvironment('EXTRA_CAPTURE_PREFIX', this.statsPrefix);
    if (this.statsPrefix.startsWith(capturePrefix)) return;
    this.props.statsBucket.grantRead(checker, `${this.statsPrefix}*`);
    const policy = checker.role?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      acknowledgeBucketGrants(policy, [
        { bucket: this.props.statsBucket, prefixes: [this.statsPrefix], encrypted: true },
      ]);
    }
  }

  /** Events quarantined (any reason). */
  public metricQuarantined(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ImagesQuarantined', props);
  }

  /** Images accepted and measured. */
  public metricAccepted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ImagesAccepted', props);
  }

  /** Predictions skipped because the endpoint had no capacity (scaling from zero) or no model yet. */
  public metricPredictionsDeferred(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('PredictionsDeferred', props);
  }

  /** Predictions sent to human review. */
  public metricReviewRequested(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ReviewRequested', props);
  }

  /** How far behind the stream the consumer is (Lambda's IteratorAge). */
  public metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(5), ...props });
  }

  private metric(name: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'MlBlueprint/Vision',
      metricName: name,
      // Powertools adds the `service` dimension (the handler folder) to every metric.
      dimensionsMap: { service: 'image-consumer' },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }
}
