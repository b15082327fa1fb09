import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { OUTCOMES_PREFIX } from '../../../core/review/outcome';
import { REVIEW_ENV } from '../../../lambdas/review-api/settings';
import type { BlueprintConfig } from '../../config';
import { ReviewApp } from '../../constructs/review-app';
import { acknowledgeBucketGrants } from '../../nag';
import { AUDIT_SALT, DailyReview } from './daily-review';
import { ImageIngestion } from './image-ingestion';
import { ReviewQueue } from './review-queue';
import { VisionServing } from './serving';

/** Properties of a {@link VisionSystem}. */
export interface VisionSystemProps {
  /** The vision configuration of the stage (`config.vision` must be set). */
  readonly config: BlueprintConfig;
  readonly endpointName: string;
  /** The image-arrival stream. */
  readonly stream: kinesis.IStream;
  /** Bucket of the images (under `vision.ingestion.imagesPrefix`) and their quarantine: the lake's raw bucket. */
  readonly imagesBucket: s3.IBucket;
  /** Bucket of data capture: the image statistics go next to it. */
  readonly captureBucket: s3.IBucket;
  /**
   * The artifacts bucket: Ground Truth manifests (`review/`), the prediction log, and the outcome records of
   * accepted audit items (`drift/outcomes/<endpoint>/`, where the drift checker reads realised accuracy).
   */
  readonly reviewBucket: s3.IBucket;
  /** Operations key: queues, logs, environments. */
  readonly encryptionKey: kms.IKey;
  /** Lake key: images, model archives and the daily backfill's outputs. */
  readonly dataKey: kms.IKey;
  readonly alarmTopic: sns.ITopic;
  /** The drift checker, which then also reads the image statistics. @default not connected */
  readonly driftChecker?: lambda.Function;
  /** Alarms that roll back a model update. @default none */
  readonly rollbackAlarms?: readonly cloudwatch.IAlarm[];
}

/**
 * Everything the vision case study adds to its ML stack: the serving plan (scale to zero in the sandbox), the
 * human-review queue and the reviewers' page (`ReviewApp`), and the image consumer that validates,
 * quarantines, measures and classifies arriving images. See docs/case-studies/vision.md.
 */
export class VisionSystem extends Construct {
  public readonly serving: VisionServing;
  public readonly review: ReviewQueue;
  /** The reviewers' page, its API and queue, fed by the review queue. */
  public readonly reviewApp: ReviewApp;
  public readonly ingestion: ImageIngestion;
  /** Daily: backfill of deferred predictions, active learning into the review queue. */
  public readonly dailyReview: DailyReview;

  constructor(scope: Construct, id: string, props: VisionSystemProps) {
    super(scope, id);
    const { config } = props;
    const v = config.vision;
    if (!v) {
      throw new Error(`VisionSystem needs config.vision; received none for case study "${config.caseStudy}"`);
    }
    this.serving = new VisionServing(this, 'Serving', {
      endpointName: props.endpointName,
      ...config.serving,
      ...v.serving,
      rollbackAlarmNames: (props.rollbackAlarms ?? []).map((a) => a.alarmName),
    });
    this.review = new ReviewQueue(this, 'Review', {
      endpointName: props.endpointName,
      imagesBucket: props.imagesBucket,
      imagesPrefix: v.ingestion.imagesPrefix,
      reviewBucket: props.reviewBucket,
      stream: props.stream,
      labelAttribute: v.review.labelAttribute,
      manifestBatchSize: v.review.manifestBatchSize,
      manifestBatchingWindow: Duration.seconds(v.review.manifestBatchingWindowSeconds),
      maxReceiveCount: v.review.maxReceiveCount,
      encryptionKey: props.encryptionKey,
      alarmTopic: props.alarmTopic,
    });
    this.reviewApp = new ReviewApp(this, 'ReviewApp', {
      imagesBucket: props.imagesBucket,
      imagesPrefix: v.ingestion.imagesPrefix,
      stream: props.stream,
      encryptionKey: props.encryptionKey,
      requests: this.review.queue,
      // TOTP MFA is required in production; optional in the sandbox so a new account can try the page at once.
      mfaRequired: config.stage === 'production',
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      alarmTopic: props.alarmTopic,
    });
    this.connectAuditOutcomes(props.reviewBucket, props.endpointName);
    new CfnOutput(this, 'ReviewPageUrl', {
      description: "The reviewers' page (sign in with a user created in the ReviewUserPoolId user pool)",
      value: this.reviewApp.pageUrl,
    });
    new CfnOutput(this, 'ReviewUserPoolId', {
      description: 'Add reviewers: aws cognito-idp admin-create-user --user-pool-id <this> --username <name>',
      value: this.reviewApp.signIn.userPool.userPoolId,
    });
    this.ingestion = new ImageIngestion(this, 'Ingestion', {
      caseStudy: config.caseStudy,
      stage: config.stage,
      endpointName: props.endpointName,
      stream: props.stream,
      imagesBucket: props.imagesBucket,
      statsBucket: props.captureBucket,
      policy: v.ingestion,
      confidenceThreshold: v.review.confidenceThreshold,
      // Every prediction is logged; the daily active learning (budget + audit) feeds the review queue.
      predictionLog: { bucket: props.reviewBucket },
      inferenceComponentName: this.serving.plan.inferenceComponentName,
      predictionAccept: v.serving.captureEmbeddings ? 'application/json;verbose' : 'application/json',
      mapping: {
        batchSize: v.consumer.batchSize,
        maxBatchingWindow: Duration.seconds(v.consumer.maxBatchingWindowSeconds),
        retryAttempts: v.consumer.retryAttempts,
        maxRecordAge: Duration.hours(v.consumer.maxRecordAgeHours),
      },
      encryptionKey: props.encryptionKey,
      alarmTopic: props.alarmTopic,
    });
    if (props.driftChecker) this.ingestion.connectDriftChecker(props.driftChecker);
    this.dailyReview = new DailyReview(this, 'DailyReview', {
      endpointName: props.endpointName,
      logBucket: props.reviewBucket,
      imagesBucket: props.imagesBucket,
      imagesPrefix: v.ingestion.imagesPrefix,
      reviewQueue: this.review.queue,
      policy: {
        dailyBudget: v.activeLearning.dailyBudget,
        auditShare: v.activeLearning.auditShare,
        auditSalt: AUDIT_SALT,
        method: v.activeLearning.uncertainty,
      },
      transformInstanceType: config.serving.instanceType,
      inferenceComponentName: this.serving.plan.inferenceComponentName,
      dataKey: props.dataKey,
      encryptionKey: props.encryptionKey,
      alarmTopic: props.alarmTopic,
    });
  }

  /**
   * Accepted audit items become outcome records where the drift checker reads this endpoint's realised accuracy:
   * the reviewers' API (also the keeper) may put objects under `drift/outcomes/<endpoint>/` of the artifacts bucket,
   * and nothing else there (the grant includes encrypting with the bucket's key).
   */
  private connectAuditOutcomes(bucket: s3.IBucket, endpointName: string): void {
    const api = this.reviewApp.apiFunction;
    const prefix = `${OUTCOMES_PREFIX}${endpointName}/`;
    api.addEnvironment(REVIEW_ENV.outcomesBucket, bucket.bucketName);
    api.addEnvironment(REVIEW_ENV.outcomesPrefix, OUTCOMES_PREFIX);
    api.addEnvironment(REVIEW_ENV.outcomesEndpoint, endpointName);
    bucket.grantPut(api, `${prefix}*`);
    acknowledgeBucketGrants(api.role!.node.findChild('DefaultPolicy'), [
      { bucket, prefixes: [prefix], write: 'put', encrypted: true },
    ]);
  }
}
