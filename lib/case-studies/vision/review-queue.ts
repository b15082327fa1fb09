import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeBucketGrants } from '../../nag';
import { BlueprintFunction } from '../../constructs/blueprint-function';
import { FailureQueue } from '../../constructs/failure-queue';
import { alarmOnAny } from '../../constructs/scheduled-alarms';

/** Properties of a {@link ReviewQueue}. */
export interface ReviewQueueProps {
  /** The endpoint whose low-confidence predictions are reviewed (names the manifest folders). */
  readonly endpointName: string;
  /** Bucket of the images reviewers label (read under `imagesPrefix`). */
  readonly imagesBucket: s3.IBucket;
  readonly imagesPrefix: string;
  /** Bucket of the Ground Truth manifests: input under `review/input/`, job output under `review/output/`. */
  readonly reviewBucket: s3.IBucket;
  /** The image-arrival stream: reviewed labels are published on it as image events. */
  readonly stream: kinesis.IStream;
  /** Label attribute of the Ground Truth jobs. @see https://docs.aws.amazon.com/sagemaker/latest/dg/sms-data-output.html */
  readonly labelAttribute: string;
  /** Review items per input manifest (one SQS batch). */
  readonly manifestBatchSize: number;
  /** Wait up to this long to fill a manifest. */
  readonly manifestBatchingWindow: Duration;
  /** Receives before a message goes to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Key of the queues, the functions' logs and environments. */
  readonly encryptionKey: kms.IKey;
  /** Where alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /**
   * **For accounts that still have SageMaker Ground Truth** (closed to new customers): the queue feeds the Ground
   * Truth router (input manifests), with the labelling-job role and the label merger. Otherwise the queue feeds the
   * reviewers' page (`ReviewApp`'s intake), which any account can use.
   * @default false
   */
  readonly groundTruth?: boolean;
}

const INPUT_PREFIX = 'review/input/';
const OUTPUT_PREFIX = 'review/output/';

/**
 * Human in the loop for the vision system: the review queue (KMS, TLS-only, with a dead-letter queue) that the
 * reviewers' page takes its requests from. For accounts that still have Ground Truth (`groundTruth: true`), the
 * queue feeds instead a router that writes each batch as a Ground Truth input manifest, with the role a labelling
 * job runs with and the label merger that publishes reviewed labels back onto the stream.
 */
export class ReviewQueue extends Construct {
  /** Low-confidence predictions waiting for review. */
  public readonly queue: sqs.Queue;
  /** Messages the intake (or the Ground Truth router) could not use. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Writes Ground Truth input manifests (only with `groundTruth`). */
  public readonly router?: BlueprintFunction;
  /** Publishes reviewed labels from an output manifest (only with `groundTruth`). */
  public readonly merger?: BlueprintFunction;
  /** The role to give Ground Truth labelling jobs, `CreateLabelingJob.RoleArn` (only with `groundTruth`). */
  public readonly groundTruthRole?: iam.Role;
  /** Dead letters and stale reviews. */
  public readonly alarms: cloudwatch.Alarm[];
  /** `s3://<reviewBucket>/review/input/<endpoint>/`: where input manifests land. */
  public readonly inputPrefix: string;
  /** `review/output/`: the `S3OutputPath` prefix to give labelling jobs. */
  public readonly outputPrefix: string;

  constructor(scope: Construct, id: string, props: ReviewQueueProps) {
    super(scope, id);
    if (props.manifestBatchSize < 1 || props.manifestBatchSize > 10_000) {
      throw new Error(`manifestBatchSize must be between 1 and 10000; received ${props.manifestBatchSize}`);
    }
    if (props.manifestBatchSize > 10 && props.manifestBatchingWindow.toSeconds() === 0) {
      throw new Error(
        `manifestBatchingWindow must be at least 1 second when manifestBatchSize is above 10 (SQS event sources require it); received ${props.manifestBatchSize} items with no window`,
      );
    }
    this.inputPrefix = INPUT_PREFIX;
    this.outputPrefix = OUTPUT_PREFIX;

    this.deadLetterQueue = new FailureQueue(this, 'DeadLetters', {
      encryptionKey: props.encryptionKey,
      purpose: 'dead-letter queue of the review queue',
    });
    const routerTimeout = Duration.minutes(2);
    this.queue = new sqs.Queue(this, 'Resource', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // Lambda's guidance: at least six times the function timeout plus the batching window.
      visibilityTimeout: Duration.seconds(routerTimeout.toSeconds() * 6 + props.manifestBatchingWindow.toSeconds()),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });

    if (props.groundTruth) {
      this.router = new BlueprintFunction(this, 'Router', {
        handlerDir: 'review-router',
        description: `Writes Ground Truth input manifests of low-confidence predictions of ${props.endpointName}`,
        encryptionKey: props.encryptionKey,
        timeout: routerTimeout,
        environment: {
          ENDPOINT_NAME: props.endpointName,
          MANIFEST_BUCKET: props.reviewBucket.bucketName,
          MANIFEST_PREFIX: INPUT_PREFIX,
          POWERTOOLS_METRICS_NAMESPACE: 'MlBlueprint/Vision',
        },
      });
      this.router.addEventSource(
        new sources.SqsEventSource(this.queue, {
          batchSize: props.manifestBatchSize,
          maxBatchingWindow: props.manifestBatchingWindow.toSeconds() > 0 ? props.manifestBatchingWindow : undefined,
          reportBatchItemFailures: true,
        }),
      );
      props.reviewBucket.grantPut(this.router, `${INPUT_PREFIX}*`);
      acknowledgeBucketGrants(this.router.role!.node.findChild('DefaultPolicy'), [
        { bucket: props.reviewBucket, prefixes: [INPUT_PREFIX], write: 'put', encrypted: true },
      ]);
      // The SQS event source's grant includes the queue key (kms:Decrypt) with no wildcard; nothing to acknowledge.

      this.merger = new BlueprintFunction(this, 'Merger', {
        handlerDir: 'label-merger',
        description: `Publishes reviewed labels of ${props.endpointName} onto the image stream`,
        encryptionKey: props.encryptionKey,
        timeout: Duration.minutes(10),
        memorySize: 1024,
        environment: {
          STREAM_ARN: props.stream.streamArn,
          IMAGES_BUCKET: props.imagesBucket.bucketName,
          LABEL_ATTRIBUTE: props.labelAttribute,
          REVIEW_BUCKET: props.reviewBucket.bucketName,
          REVIEW_OUTPUT_PREFIX: OUTPUT_PREFIX,
        },
      });
      props.reviewBucket.grantRead(this.merger, `${OUTPUT_PREFIX}*`);
      props.imagesBucket.grantRead(this.merger, `${props.imagesPrefix}*`);
      props.stream.grantWrite(this.merger);
      acknowledgeBucketGrants(this.merger.role!.node.findChild('DefaultPolicy'), [
        { bucket: props.reviewBucket, prefixes: [OUTPUT_PREFIX], encrypted: true },
        { bucket: props.imagesBucket, prefixes: [props.imagesPrefix], encrypted: true },
      ]);

      this.groundTruthRole = new iam.Role(this, 'GroundTruthRole', {
        assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
        description: `Ground Truth labelling jobs reviewing ${props.endpointName}`,
      });
      props.imagesBucket.grantRead(this.groundTruthRole, `${props.imagesPrefix}*`);
      props.reviewBucket.grantRead(this.groundTruthRole, `${INPUT_PREFIX}*`);
      props.reviewBucket.grantPut(this.groundTruthRole, `${OUTPUT_PREFIX}*`);
      acknowledgeBucketGrants(this.groundTruthRole.node.findChild('DefaultPolicy'), [
        { bucket: props.imagesBucket, prefixes: [props.imagesPrefix], encrypted: true },
        { bucket: props.reviewBucket, prefixes: [INPUT_PREFIX, OUTPUT_PREFIX], write: 'put', encrypted: true },
      ]);
    }

    const action = new cwActions.SnsAction(props.alarmTopic);
    this.alarms = [
      alarmOnAny(this, 'DeadLettersAlarm', {
        description: `Review messages of ${props.endpointName} were dead-lettered. Runbook: docs/runbooks/review-queue-backlog.md`,
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      }),
      new cloudwatch.Alarm(this, 'StaleReviewsAlarm', {
        alarmDescription: `Review messages of ${props.endpointName} have waited more than an hour (${props.groundTruth ? 'router' : "reviewers' page intake"} failing?). Runbook: docs/runbooks/review-queue-backlog.md`,
        metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5) }),
        threshold: 3600,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    for (const alarm of this.alarms) alarm.addAlarmAction(action);
  }

  /** Review items waiting (the queue's visible messages). */
  public metricBacklog(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateNumberOfMessagesVisible(props);
  }

  /** Lets a principal (an operator role, a CLI) start merges (only with `groundTruth`). */
  public grantInvokeMerger(grantee: iam.IGrantable): iam.Grant {
    if (!this.merger) throw new Error('grantInvokeMerger needs groundTruth: true (the label merger exists only then)');
    return this.merger.grantInvoke(grantee);
  }
}
