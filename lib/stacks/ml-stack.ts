import { CfnOutput, Duration, RemovalPolicy, Size, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { PolicyDocument } from '../../core/drift/checker-settings';
import type { CaseStudy } from '../case-studies';
import { endpointNameOf, instanceTypeInfo, type BlueprintConfig } from '../config';
import { DriftMonitor } from '../constructs/drift-monitor';
import { EndpointAlarms } from '../constructs/endpoint-alarms';
import { allowCloudWatchLogs, allowServicePublishers } from '../constructs/key-policies';
import { MlDashboard } from '../constructs/ml-dashboard';
import { LoopTeardown } from '../retraining/loop-teardown';
import { RetrainingLoop } from '../retraining/loop';
import { resolveAlgorithmRecipe } from '../retraining/training-recipe';
import { ImportedDataPlane } from './data-plane-import';
import type { DataStack } from './data-stack';

/** Properties of an {@link MlStack}. */
export interface MlStackProps extends StackProps {
  readonly config: BlueprintConfig;
  /** The case study: its constructs and its part of the retraining loop. */
  readonly caseStudy: CaseStudy;
  /** The case study's data plane. */
  readonly data: DataStack;
  /**
   * Email addresses subscribed to the notification topic (alarms, run outcomes, approval requests); each gets a
   * confirmation email from AWS first.
   * @default none: nothing subscribes
   */
  readonly notifyEmails?: readonly string[];
}

/** The drift and retraining policy the checker runs with, from the stage config. */
export function driftPolicyDocument(config: BlueprintConfig): PolicyDocument {
  const d = config.drift;
  return {
    alpha: d.alpha,
    correction: d.correction,
    driftedShareThreshold: d.driftedShareThreshold,
    minWindowSize: d.minWindowSize,
    thresholds: d.thresholds,
    retraining: {
      windowsRequired: d.windowsRequired,
      windowsConsidered: d.windowsConsidered,
      cooldownHours: d.cooldownHours,
    },
    settleMinutes: d.settleMinutes,
    seasonality: d.seasonality,
    ...(d.features ? { features: d.features } : {}),
    late: d.late,
    quality: d.quality,
  };
}

/**
 * The ML control plane of one case study: operations key, notification topic, the drift monitor, endpoint alarms,
 * the case study's own constructs (ingestion, serving path, review), the retraining loop (which owns the endpoint's
 * lifecycle) and one dashboard.
 */
export class MlStack extends Stack {
  /** Key of the stack's logs, queues and topic. */
  public readonly opsKey: kms.Key;
  /** Alarm and pipeline notifications. */
  public readonly topic: sns.Topic;
  /** The scheduled drift checker. */
  public readonly driftMonitor: DriftMonitor;
  /** Name of the endpoint the retraining loop deploys. */
  public readonly endpointName: string;
  /** The case study's data plane, imported by export name. */
  public readonly dataPlane: ImportedDataPlane;
  /** Endpoint alarms (the blue/green rollback alarms among them). */
  public readonly endpointAlarms: EndpointAlarms;
  /** The retraining workflow. */
  public readonly retraining: RetrainingLoop;
  /** Sandbox: deletes what the loop created when the stack is deleted (production keeps it). */
  public readonly teardown?: LoopTeardown;
  /** Loop, endpoint and drift on one page. */
  public readonly dashboard: MlDashboard;

  constructor(scope: Construct, id: string, props: MlStackProps) {
    const { config, data } = props;
    super(scope, id, {
      description: `ml-blueprint ${config.stage} ${config.caseStudy}: ML control plane (monitoring, retraining)`,
      terminationProtection: config.terminationProtection,
      ...props,
    });
    this.endpointName = endpointNameOf(config.stage, config.caseStudy);
    this.addStackDependency(data);
    this.dataPlane = new ImportedDataPlane(this, 'DataPlane', data.exportNames);

    this.opsKey = new kms.Key(this, 'OpsKey', {
      description: `ml-blueprint ${config.stage} ${config.caseStudy} operations key (logs, queues, notifications)`,
      enableKeyRotation: true,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(config.retainData ? 30 : 7),
    });
    allowCloudWatchLogs(this.opsKey);
    allowServicePublishers(this.opsKey, ['cloudwatch.amazonaws.com', 'events.amazonaws.com']);

    this.topic = new sns.Topic(this, 'Notifications', {
      displayName: `ml-blueprint ${config.stage} ${config.caseStudy}`,
      masterKey: this.opsKey,
      enforceSSL: true,
    });
    for (const email of props.notifyEmails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );

    this.driftMonitor = new DriftMonitor(this, 'DriftMonitor', {
      caseStudy: config.caseStudy,
      stage: config.stage,
      endpointName: this.endpointName,
      captureBucket: this.dataPlane.capture,
      artifactsBucket: this.dataPlane.artifacts,
      schedule: Duration.minutes(config.drift.scheduleMinutes),
      policy: driftPolicyDocument(config),
      encryptionKey: this.opsKey,
      alarmTopic: this.topic,
      memorySize: Size.mebibytes(config.drift.checkerMemoryMiB),
    });

    const servingGpu = (instanceTypeInfo(config.serving.instanceType)?.gpus ?? 0) > 0;
    const targetInvocationsPerInstance = 100;
    this.endpointAlarms = new EndpointAlarms(this, 'EndpointAlarms', {
      endpointName: this.endpointName,
      alarmTopic: this.topic,
      invocationsCeiling: Math.ceil(config.serving.maxCapacity * targetInvocationsPerInstance * 1.5),
      gpu: servingGpu,
    });

    const serving = props.caseStudy.addToMlStack(this, {
      config,
      endpointName: this.endpointName,
      dataPlane: this.dataPlane,
      opsKey: this.opsKey,
      topic: this.topic,
      driftChecker: this.driftMonitor.function,
      rollbackAlarms: this.endpointAlarms.rollbackAlarms,
    });

    const t = config.training;
    const r = config.retraining;
    const recipeOptions = {
      region: config.region,
      instanceType: t.instanceType,
      instanceCount: t.instanceCount,
      image: t.image,
      hyperparameters: t.hyperparameters,
    };
    const study = props.caseStudy;
    const recipe = study.trainingRecipe
      ? study.trainingRecipe(this, {
          ...recipeOptions,
          inferenceImage: t.inferenceImage,
          servingInstanceType: config.serving.instanceType,
        })
      : study.algorithm === 'pytorch'
        ? (() => {
            throw new Error(`case study ${config.caseStudy} names the pytorch framework but no training recipe`);
          })()
        : resolveAlgorithmRecipe({ ...recipeOptions, algorithm: study.algorithm });
    this.retraining = new RetrainingLoop(this, 'Retraining', {
      caseStudy: config.caseStudy,
      study: props.caseStudy.retraining(config),
      stage: config.stage,
      endpointName: this.endpointName,
      eventSchema: props.caseStudy.eventSchema,
      recipe,
      training: {
        instanceType: t.instanceType,
        instanceCount: t.instanceCount,
        maxRuntime: Duration.hours(t.maxRuntimeHours),
        useSpot: t.useSpot,
        maxWait: Duration.hours(t.maxWaitHours),
        volumeSize: Size.gibibytes(t.volumeSizeGiB),
        networkIsolation: t.networkIsolation,
      },
      serving: { ...config.serving, targetInvocationsPerInstance },
      policy: {
        metricName: r.metricName,
        metricDirection: r.metricDirection,
        minImprovement: r.minImprovement,
        absoluteFloor: r.absoluteFloor,
      },
      minNewRecords: r.minNewRecords,
      datasetWindow: Duration.days(r.datasetDays),
      approval: r.approval,
      approvalTimeout: Duration.hours(r.approvalTimeoutHours),
      canaryPercent: r.canaryPercent,
      canaryBake: Duration.minutes(r.canaryBakeMinutes),
      deployTimeout: Duration.minutes(r.deployTimeoutMinutes),
      lockTtl: Duration.hours(r.lockTtlHours),
      backoff: r.backoff,
      schedule: r.scheduleHours ? Duration.hours(r.scheduleHours) : undefined,
      dataKey: this.dataPlane.key,
      opsKey: this.opsKey,
      topic: this.topic,
      rawBucket: this.dataPlane.raw,
      curatedBucket: this.dataPlane.curated,
      artifactsBucket: this.dataPlane.artifacts,
      captureBucket: this.dataPlane.capture,
      databaseName: data.lake.databaseName,
      tableName: data.table.tableName,
      workGroupName: data.lake.workGroupName,
      rollbackAlarms: [...this.endpointAlarms.rollbackAlarms, ...(serving.rollbackAlarms ?? [])],
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      servingPlan: serving.servingPlan,
    });
    serving.grantDeploy?.(this.retraining.stateMachine);
    serving.grantModelRole?.(this.retraining.sageMakerRole);
    serving.configureReferences?.(this.retraining.functions.references);
    // What the loop created at run time goes with a sandbox stack; production keeps it (`npm run teardown`).
    if (!config.retainData) {
      this.teardown = new LoopTeardown(this, 'LoopTeardown', {
        stage: config.stage,
        caseStudy: config.caseStudy,
        endpointName: this.endpointName,
        encryptionKey: this.opsKey,
        modelPackageGroup: this.retraining.modelPackageGroup,
        stateMachine: this.retraining.stateMachine,
      });
    }

    this.dashboard = new MlDashboard(this, 'Dashboard', {
      title: `ml-blueprint ${config.stage} ${config.caseStudy}`,
      loop: this.retraining,
      endpoint: this.endpointAlarms,
      drift: this.driftMonitor,
      gpu: servingGpu,
    });

    new CfnOutput(this, 'NotificationTopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'RetrainingStateMachineArn', { value: this.retraining.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ModelPackageGroupName', { value: this.endpointName });
    new CfnOutput(this, 'EndpointName', { value: this.endpointName });
    new CfnOutput(this, 'DriftCheckerFunctionName', { value: this.driftMonitor.function.functionName });
  }
}
