import type { BackoffPolicy } from '../../core/retraining/backoff';
import type { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { EventSchema } from '../../core/contracts/events';
import type { LoopCaseStudy } from './case-study';
import type { ServingPlan } from './serving-plan';
import type { TrainingRecipe } from './training-recipe';

/** Training resources of the loop. */
export interface LoopTrainingProps {
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly maxRuntime: Duration;
  /** Managed spot training with checkpoints. */
  readonly useSpot: boolean;
  /** Spot: how long to wait for capacity plus the run (at least maxRuntime). */
  readonly maxWait: Duration;
  readonly volumeSize: Size;
  /** No network access from the training and inference containers. @default false */
  readonly networkIsolation?: boolean;
}

/** Serving settings of the endpoint the loop deploys. */
export interface LoopServingProps {
  readonly instanceType: string;
  readonly initialInstanceCount: number;
  /** Autoscaling floor (instance-based variants cannot go below 1: 0 registers 1 unless `servingPlan` scales to 0). */
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Share of requests captured for drift monitoring. */
  readonly dataCapturePercent: number;
  /** Target-tracking target: invocations per instance per minute. @default 100 */
  readonly targetInvocationsPerInstance?: number;
  /**
   * Serve with SageMaker Serverless Inference (scales to zero; no data capture, no blue/green guardrails, no
   * autoscaling to register) instead of instances. @default instances
   */
  readonly serverless?: { readonly memorySizeInMB: number; readonly maxConcurrency: number };
}

/** Champion/challenger policy. */
export interface PromotionPolicy {
  readonly metricName: string;
  readonly metricDirection: 'maximize' | 'minimize';
  /** The candidate must beat the champion by at least this much. */
  readonly minImprovement: number;
  /** The first model must reach this. */
  readonly absoluteFloor: number;
}

/** Properties of a {@link RetrainingLoop}. */
export interface RetrainingLoopProps {
  /** Name of the case study (descriptions, tags, notifications, the approve command). */
  readonly caseStudy: string;
  /**
   * The case study's dataset, scoring and baseline states.
   * @default the registered case study named `caseStudy` (lib/case-studies), with its default settings
   */
  readonly study?: LoopCaseStudy;
  readonly stage: string;
  /** The endpoint the loop creates and updates (also the model package group name). */
  readonly endpointName: string;
  /** The case study's raw events (their columns and closed value sets may shape the dataset). */
  readonly eventSchema: EventSchema;
  /** Image, channels, hyperparameters, metric definitions. */
  readonly recipe: TrainingRecipe;
  readonly training: LoopTrainingProps;
  readonly serving: LoopServingProps;
  readonly policy: PromotionPolicy;
  /** Fewer new records than this ends the run without training. */
  readonly minNewRecords: number;
  /** The dataset covers this much history. */
  readonly datasetWindow: Duration;
  /** `manual` waits for a person (task token sent through SNS). */
  readonly approval: 'auto' | 'manual';
  /** How long a manual approval may take. */
  readonly approvalTimeout: Duration;
  /** Canary share and bake time of blue/green updates. */
  readonly canaryPercent: number;
  readonly canaryBake: Duration;
  /** Bound of the endpoint wait (polling stops after this). */
  readonly deployTimeout: Duration;
  /**
   * A lock older than this is abandoned. It must outlive the run: at least the sum of the run's bounded waits
   * (`core/retraining/run-budget.ts`, the state machine's timeout) plus an hour.
   */
  readonly lockTtl: Duration;
  /**
   * Back-off of drift-triggered runs after consecutive rejections (`core/retraining/backoff.ts`).
   * @default DEFAULT_BACKOFF (6 hours, doubling, at most 4 days)
   */
  readonly backoff?: BackoffPolicy;
  /** Also retrain on this schedule. @default no schedule */
  readonly schedule?: Duration;
  /** Lake key: datasets, model artifacts, training volumes, data capture. */
  readonly dataKey: kms.IKey;
  /** Operations key: logs, lock table, Lambda environments. */
  readonly opsKey: kms.IKey;
  /** Where outcomes, approval requests and alarms go. */
  readonly topic: sns.ITopic;
  readonly rawBucket: s3.IBucket;
  /** Athena results (`athena-results/`) and datasets (`datasets/`). */
  readonly curatedBucket: s3.IBucket;
  /** Model artifacts (`models/`), checkpoints (`checkpoints/`), drift baselines (`drift/baselines/`). */
  readonly artifactsBucket: s3.IBucket;
  readonly captureBucket: s3.IBucket;
  /** @default 'datacapture/' */
  readonly capturePrefix?: string;
  /** Prefix of the raw events in the raw bucket. @default 'events/' */
  readonly eventsPrefix?: string;
  /** Glue database, table and Athena workgroup names. */
  readonly databaseName: string;
  readonly tableName: string;
  readonly workGroupName: string;
  /** Blue/green auto-rollback alarms. */
  readonly rollbackAlarms: readonly cloudwatch.IAlarm[];
  /** Endpoint status poll interval. @default Duration.minutes(1) */
  readonly pollInterval?: Duration;
  /** @default logs.RetentionDays.SIX_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Run training jobs and the endpoint's model in this VPC (reach S3 and ECR through VPC endpoints or NAT).
   * @default no VPC (SageMaker-managed network)
   */
  readonly vpc?: ec2.IVpc;
  /** Subnets of the VPC to use. @default the VPC's private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * How the model is served. In `inference-component` mode the loop deploys the model as an inference component
   * on an endpoint with managed instance scaling down to zero, and registers its scaling; otherwise (and in
   * `instances` mode) it deploys an instance-based variant with blue/green updates.
   * @default instance-based variant
   * @see https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html
   */
  readonly servingPlan?: ServingPlan;
}

/** Back-off when none is configured: 6 hours after a rejection, doubling, at most 4 days. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseHours: 6, factor: 2, maxHours: 96 };
