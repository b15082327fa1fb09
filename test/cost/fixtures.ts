/** Small hand-written templates and usage for the pricing-rule tests. */
import type { CfnResource, StackTemplate } from '../../src/synth/assembly';
import type { CaseUsage, UsageProfile } from '../../src/cost/usage';

/** Usage with every figure at zero, to be overridden per test. */
export function zeroUsage(): CaseUsage {
  return {
    ingestion: { eventsPerSecond: 0, eventSizeBytes: 0, activeHoursPerMonth: 0, parquetRatio: 0 },
    serving: {
      modelDeployed: true,
      activeHoursPerMonth: 0,
      averageInstances: 0,
      requestsPerMonth: 0,
      requestBytes: 0,
      responseBytes: 0,
      serverlessMsPerRequest: 0,
    },
    training: { retrainsPerMonth: 0, hoursPerRun: 0, spotSavings: 0, datasetGBPerRetrain: 0, modelGBPerRetrain: 0 },
    retraining: {
      executionsPerMonth: 0,
      stateTransitionsPerExecution: 0,
      athenaScannedGBPerExecution: 0,
      lockRequestsPerExecution: 0,
    },
    lambda: { averageDurationMs: 0, logBytesPerInvocation: 0, eventSourceBatchSize: 100, functions: {} },
    other: {
      logBytesPerStateTransition: 0,
      otherLogGroupGBPerMonth: 0,
      customMetrics: 0,
      kmsRequestsPerKeyPerMonth: 0,
      snsPublishesPerMonth: 0,
      snsEmailDeliveriesPerMonth: 0,
      sqsRequestsPerQueuePerMonth: 0,
      customEventsPerRulePerMonth: 0,
      dynamoRequestsPerOtherTablePerMonth: 0,
      dynamoStorageGBPerTable: 0,
      s3GetRequestsPerBucketPerMonth: 0,
      s3PutRequestsPerOtherBucketPerMonth: 0,
      accessLogGBPerMonth: 0,
      unexpiredRetentionDays: 365,
      athenaAdHocScannedGBPerMonth: 0,
      athenaScheduledScannedGBPerMonth: 0,
      apiRequestsPerMonth: 0,
    },
  };
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** A profile for one stage where both case studies use `zeroUsage()` with `changes` merged in. */
export function profile(stage: 'sandbox' | 'production', changes: DeepPartial<CaseUsage> = {}): UsageProfile {
  const usage = zeroUsage() as unknown as Record<string, Record<string, unknown>>;
  for (const [section, values] of Object.entries(changes))
    usage[section] = { ...usage[section], ...(values as object) };
  return {
    description: 'test',
    stage,
    caseStudies: { recommender: usage as unknown as CaseUsage, vision: zeroUsage() },
  };
}

/** A recommender stack of the sandbox stage with the given resources. */
export function stack(resources: Record<string, CfnResource>, name = 'Sandbox-Recommender-Data'): StackTemplate {
  return { stackName: name, stage: 'sandbox', caseStudy: 'recommender', region: 'us-east-1', resources };
}

function variant(o: Parameters<typeof stateMachineResource>[0]): string {
  if (o.serverless) {
    const pc = o.serverless.provisionedConcurrency;
    return `{"VariantName":"AllTraffic","ServerlessConfig":{"MemorySizeInMB":${o.serverless.memorySizeMB},"MaxConcurrency":${o.serverless.maxConcurrency}${pc ? `,"ProvisionedConcurrency":${pc}` : ''}}}`;
  }
  const managed =
    o.scaleToZeroMaxInstances !== undefined
      ? `,"ManagedInstanceScaling":{"Status":"ENABLED","MinInstanceCount":0,"MaxInstanceCount":${o.scaleToZeroMaxInstances}}`
      : '';
  return `{"VariantName":"AllTraffic","InstanceType":"${o.endpointInstance ?? 'ml.c5.xlarge'}","InitialInstanceCount":1${managed}}`;
}

/** A retraining state machine whose definition is an `Fn::Join` with tokens, as CDK synthesizes it. */
export function stateMachineResource(options: {
  trainingInstance?: string;
  trainingCount?: number;
  spot?: boolean;
  volumeGB?: number;
  maxRuntimeSeconds?: number;
  endpointInstance?: string;
  minCapacity?: number;
  maxCapacity?: number;
  capturePercent?: number;
  lambdaId?: string;
  /** A serverless variant (`ServerlessConfig`) instead of an instance type. */
  serverless?: { memorySizeMB: number; maxConcurrency: number; provisionedConcurrency?: number };
  /** Managed instance scaling down to 0 instances (an inference component endpoint) up to this many. */
  scaleToZeroMaxInstances?: number;
}): CfnResource {
  const o = options;
  const parts: unknown[] = ['{"StartAt":"Plan","States":{'];
  if (o.lambdaId) {
    parts.push('"Plan":{"Type":"Task","Resource":"', { 'Fn::GetAtt': [o.lambdaId, 'Arn'] }, '","Next":"Train"},');
  } else {
    parts.push('"Plan":{"Type":"Pass","Next":"Train"},');
  }
  parts.push(
    '"Train":{"Type":"Task","Resource":"arn:',
    { Ref: 'AWS::Partition' },
    `:states:::sagemaker:createTrainingJob.sync","Parameters":{"RoleArn":"`,
    { 'Fn::GetAtt': ['Role', 'Arn'] },
    `","ResourceConfig":{"InstanceType":"${o.trainingInstance ?? 'ml.g5.2xlarge'}","InstanceCount":${o.trainingCount ?? 1},"VolumeSizeInGB":${o.volumeGB ?? 50}},"StoppingCondition":{"MaxRuntimeInSeconds":${o.maxRuntimeSeconds ?? 7200}${o.spot ? ',"MaxWaitTimeInSeconds":14400' : ''}},"EnableManagedSpotTraining":${o.spot ? 'true' : 'false'}},"Next":"Config"},`,
    '"Config":{"Type":"Task","Resource":"arn:',
    { Ref: 'AWS::Partition' },
    `:states:::aws-sdk:sagemaker:createEndpointConfig","Parameters":{"ProductionVariants":[${variant(o)}],"DataCaptureConfig":{"EnableCapture":true,"InitialSamplingPercentage":${o.capturePercent ?? 20},"DestinationS3Uri":"s3://`,
    { 'Fn::ImportValue': 'Sandbox-Recommender-Data-CaptureBucketArn' },
    '/datacapture"}},"Next":"Scale"},',
    '"Scale":{"Type":"Task","Resource":"arn:',
    { Ref: 'AWS::Partition' },
    `:states:::aws-sdk:applicationautoscaling:registerScalableTarget","Parameters":{"ServiceNamespace":"sagemaker","MinCapacity":${o.minCapacity ?? 1},"MaxCapacity":${o.maxCapacity ?? 4}},"End":true}`,
    '}}',
  );
  return {
    Type: 'AWS::StepFunctions::StateMachine',
    Properties: { DefinitionString: { 'Fn::Join': ['', parts] }, StateMachineType: 'STANDARD' },
  };
}
