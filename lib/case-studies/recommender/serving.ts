import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { BlueprintConfig } from '../../config';
import { acknowledgeBucketGrants, acknowledgeNag } from '../../nag';
import { FeatureStore } from './feature-store';
import { RecommendApi } from './recommend-api';
import { StreamConsumer } from './stream-consumer';

/**
 * Where the consumer writes served features: a folder beside the endpoint's data capture, which the drift checker
 * reads as one more variant (serverless endpoints capture nothing).
 */
export const servedFeaturesPrefix = (endpointName: string): string => `datacapture/${endpointName}/served-slates/`;

/** Relative CTR loss a blue/green canary may show before its rollback alarm fires (one-sided test at 5 %). */
export const CANARY_CTR_TOLERANCE = 0.1;

/** Construct id of the recommender's serving in its ML stack (the retraining loop finds the feature table by it). */
export const RECOMMENDER_SERVING_ID = 'RecommenderServing';

/** Properties of a {@link RecommenderServing}. */
export interface RecommenderServingProps {
  /** Validated recommender config; `realtime` and `drift.scheduleMinutes` are read. */
  readonly config: BlueprintConfig;
  /** The interaction stream (Data stack). */
  readonly stream: kinesis.IStream;
  /** The capture bucket: the consumer writes served features there for the drift checker. @default not written */
  readonly captureBucket?: s3.IBucket;
  /** Raw bucket (Data stack); invalid events are quarantined under `quarantine/`. */
  readonly rawBucket: s3.IBucket;
  /** Key of the feature table: the lake key, since the table holds user and item ids. */
  readonly dataKey: kms.IKey;
  /** Key of logs, function environments and the on-failure queue. */
  readonly opsKey: kms.IKey;
  /** Where alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** The case study's endpoint name (`endpointNameOf`). */
  readonly endpointName: string;
  /**
   * The drift checker function: gets read access to the table and the variables that make it add CTR per model
   * version as key proportion signals. @default CTR is not fed to the drift checker
   */
  readonly driftChecker?: lambda.Function;
  /** @default RemovalPolicy.RETAIN when config.retainData, else DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/** CTR reference when no baseline CTR is stored: the same model version over this many preceding windows. */
export const CTR_REFERENCE_WINDOWS = 24;

/**
 * The recommender's real-time path and serving safeguards: the feature store, the stream consumer, the `recommend`
 * API with its popularity fallback, their alarms, and the CTR feed of the drift checker.
 */
export class RecommenderServing extends Construct {
  public readonly featureStore: FeatureStore;
  public readonly consumer: StreamConsumer;
  public readonly api: RecommendApi;
  /** Fallback rate, consumer lag, failed records and API errors. */
  public readonly alarms: cloudwatch.Alarm[];
  /** The fallback-rate alarm. */
  public readonly fallbackAlarm: cloudwatch.Alarm;
  /**
   * The canary's CTR is significantly below the champion's beyond the tolerance: one of the blue/green update's
   * auto-rollback alarms (instance endpoints only).
   */
  public readonly canaryCtrAlarm?: cloudwatch.Alarm;
  /** Length of a CTR bucket of the feature table's counters (the drift window). */
  private readonly ctrWindow: Duration;

  constructor(scope: Construct, id: string, props: RecommenderServingProps) {
    super(scope, id);
    const { config } = props;
    const rt = config.realtime;
    if (!rt) {
      throw new Error(
        `config.realtime must be set for the ${config.caseStudy} case study (see lib/case-studies/recommender.ts); received undefined`,
      );
    }
    const ctrWindow = Duration.minutes(config.drift.scheduleMinutes);
    this.ctrWindow = ctrWindow;

    this.featureStore = new FeatureStore(this, 'Features', {
      encryptionKey: props.dataKey,
      removalPolicy: props.removalPolicy ?? (config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY),
    });

    this.consumer = new StreamConsumer(this, 'Consumer', {
      caseStudy: config.caseStudy,
      stage: config.stage,
      stream: props.stream,
      featureStore: this.featureStore,
      rawBucket: props.rawBucket,
      mapping: {
        batchSize: rt.consumer.batchSize,
        maxBatchingWindow: Duration.seconds(rt.consumer.maxBatchingWindowSeconds),
        retryAttempts: rt.consumer.retryAttempts,
        maxRecordAge: Duration.hours(rt.consumer.maxRecordAgeHours),
        parallelizationFactor: rt.consumer.parallelizationFactor,
      },
      features: {
        ttl: Duration.hours(rt.features.ttlHours),
        popularityBucket: Duration.minutes(rt.features.popularityBucketMinutes),
        popularityListSize: rt.features.popularityListSize,
        ctrWindow,
      },
      encryptionKey: props.opsKey,
      servedFeatures: props.captureBucket
        ? { bucket: props.captureBucket, prefix: servedFeaturesPrefix(props.endpointName) }
        : undefined,
      // Blue/green canaries exist on instance endpoints only (serverless updates in place).
      canaryCtrTolerance: config.serving.serverless ? undefined : CANARY_CTR_TOLERANCE,
    });

    this.api = new RecommendApi(this, 'Api', {
      caseStudy: config.caseStudy,
      stage: config.stage,
      endpointName: props.endpointName,
      featureStore: this.featureStore,
      invokeTimeout: Duration.millis(rt.serving.invokeTimeoutMs),
      candidates: rt.serving.candidates,
      maxK: rt.serving.maxK,
      recentItemsPerUser: rt.features.recentItemsPerUser,
      popularityBucket: Duration.minutes(rt.features.popularityBucketMinutes),
      predictionTtl: Duration.hours(rt.features.ttlHours),
      encryptionKey: props.opsKey,
      reservedConcurrentExecutions: rt.serving.reservedConcurrency,
      slateStream: props.stream,
      candidateQuotas: config.ranking?.quotas,
      freshSlots: config.ranking?.freshSlots,
    });

    for (const fn of [this.consumer.function, this.api.function]) {
      const policy = fn.role?.node.tryFindChild('DefaultPolicy');
      if (!policy) continue;
      acknowledgeNag(
        policy,
        'IAM5[Action::kms:GenerateDataKey*]',
        'Table grant with a customer-managed key: data keys of the feature table key only.',
      );
      acknowledgeNag(
        policy,
        'IAM5[Action::kms:ReEncrypt*]',
        'Part of the KMS encrypt/decrypt grant that goes with the encrypted feature table; scoped to its key.',
      );
    }
    const consumerPolicy = this.consumer.function.role?.node.tryFindChild('DefaultPolicy');
    if (consumerPolicy) {
      acknowledgeBucketGrants(consumerPolicy, [
        { bucket: props.rawBucket, prefixes: ['quarantine/'], write: 'put', encrypted: true },
        ...(props.captureBucket
          ? [
              {
                bucket: props.captureBucket,
                prefixes: [servedFeaturesPrefix(props.endpointName)],
                write: 'put' as const,
                encrypted: true,
              },
            ]
          : []),
      ]);
    }

    if (props.driftChecker) {
      props.driftChecker.addEnvironment('CTR_TABLE_NAME', this.featureStore.table.tableName);
      props.driftChecker.addEnvironment('CTR_WINDOW_MINUTES', String(ctrWindow.toMinutes()));
      props.driftChecker.addEnvironment('CTR_REFERENCE_WINDOWS', String(CTR_REFERENCE_WINDOWS));
      this.featureStore.grantReadData(props.driftChecker);
    }

    const action = new cwActions.SnsAction(props.alarmTopic);
    const period = Duration.minutes(5);
    this.fallbackAlarm = new cloudwatch.Alarm(this, 'FallbackRateAlarm', {
      alarmDescription: `More than ${Math.round(rt.serving.fallbackRateThreshold * 100)}% of recommend responses for ${props.endpointName} were the popularity fallback. Runbook: docs/runbooks/fallback-rate-high.md`,
      metric: this.api.metricFallbackRate({ period }),
      threshold: rt.serving.fallbackRateThreshold,
      evaluationPeriods: rt.serving.fallbackAlarmPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms = [
      this.fallbackAlarm,
      new cloudwatch.Alarm(this, 'ConsumerLagAlarm', {
        alarmDescription: `The stream consumer of ${config.caseStudy} is more than 5 minutes behind the stream. Runbook: docs/runbooks/stream-consumer-lag.md`,
        metric: this.consumer.metricIteratorAge({ period }),
        threshold: 5 * 60_000,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'FailedRecordsAlarm', {
        alarmDescription: `Stream records of ${config.caseStudy} exhausted their retries or aged out (on-failure queue). Runbook: docs/runbooks/stream-consumer-lag.md`,
        metric: this.consumer.failureQueue.metricApproximateNumberOfMessagesVisible({ period }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'ApiErrorsAlarm', {
        alarmDescription: `The recommend API of ${props.endpointName} failed requests (feature store unavailable?). Runbook: docs/runbooks/fallback-rate-high.md`,
        metric: this.api.metricErrors({ period }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    if (!config.serving.serverless) {
      this.canaryCtrAlarm = new cloudwatch.Alarm(this, 'CanaryCtrAlarm', {
        alarmDescription: `The blue/green canary of ${props.endpointName} has a CTR significantly below the champion's (more than ${Math.round(CANARY_CTR_TOLERANCE * 100)}% lower, one-sided test at 5%): the update rolls back. Runbook: docs/runbooks/canary-rolled-back.md`,
        metric: this.consumer.metricCanaryCtrInferior(),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.alarms.push(this.canaryCtrAlarm);
    }
    for (const alarm of this.alarms) alarm.addAlarmAction(action);

    new CfnOutput(this, 'RecommendUrl', { value: this.api.url.url, description: 'IAM-authenticated recommend API' });
    new CfnOutput(this, 'FeatureTableName', { value: this.featureStore.table.tableName });
  }

  /** Lets a principal call the `recommend` API. */
  public grantInvokeUrl(grantee: iam.IGrantable): iam.Grant {
    return this.api.grantInvokeUrl(grantee);
  }

  /**
   * The retraining loop's references writer: reads the CTR counters of the champion a deployment replaces (its
   * `ctr.json` reference), with the bucket length they are counted in.
   */
  public configureReferences(fn: lambda.Function): void {
    fn.addEnvironment('CTR_TABLE_NAME', this.featureStore.table.tableName);
    fn.addEnvironment('CTR_WINDOW_MINUTES', String(this.ctrWindow.toMinutes()));
    this.featureStore.grantReadData(fn);
  }
}
