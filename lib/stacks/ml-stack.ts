import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { PolicyDocument } from '../../lambdas/drift-checker/settings';
import type { CaseStudySpec } from '../case-studies';
import { endpointNameOf, type BlueprintConfig } from '../config';
import { DriftMonitor } from '../constructs/drift-monitor';
import { allowCloudWatchLogs, allowServicePublishers } from '../constructs/key-policies';
import { ImportedDataPlane } from './data-plane-import';
import type { DataStack } from './data-stack';

/** Properties of an {@link MlStack}. */
export interface MlStackProps extends StackProps {
  readonly config: BlueprintConfig;
  readonly spec: CaseStudySpec;
  /** The case study's data plane. */
  readonly data: DataStack;
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
  };
}

/**
 * The ML control plane of one case study: operations key, notification topic and the drift monitor (the
 * retraining loop, serving safeguards and dashboard join it as they are built).
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

  constructor(scope: Construct, id: string, props: MlStackProps) {
    const { config, data } = props;
    super(scope, id, {
      description: `ml-blueprint ${config.stage} ${config.caseStudy}: ML control plane (monitoring, retraining)`,
      terminationProtection: config.terminationProtection,
      ...props,
    });
    this.endpointName = endpointNameOf(config.stage, config.caseStudy);
    this.addDependency(data);
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
    });

    new CfnOutput(this, 'NotificationTopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'EndpointName', { value: this.endpointName });
    new CfnOutput(this, 'DriftCheckerFunctionName', { value: this.driftMonitor.function.functionName });
  }
}
