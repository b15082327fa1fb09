/**
 * The vision constructs (image ingestion, review queue, serving plan), built in a test stack the way the ML stack
 * wires them (data plane imported by ARN), synthesized once per stage with cdk-nag AwsSolutions checks on.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { endpointNameOf, resolveConfig, type StageName } from '../../../../lib/config';
import { BlueprintFunction } from '../../../../lib/constructs/blueprint-function';
import { ImageIngestion } from '../../../../lib/case-studies/vision/image-ingestion';
import { ReviewQueue } from '../../../../lib/case-studies/vision/review-queue';
import {
  inferenceComponentNameOf,
  VisionServing,
  visionServingPlan,
} from '../../../../lib/case-studies/vision/serving';
import { CDK_JSON_CONTEXT, TEST_ACCOUNT } from '../../../support/synth';

const arn = (service: string, rest: string) => `arn:aws:${service}:us-east-1:${TEST_ACCOUNT}:${rest}`;

/** The vision constructs of a stage in a test stack, synthesized with the checks on; `extra` adds to the stack. */
function build(stage: StageName, extra?: (stack: Stack) => void) {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Vision', { env: { account: TEST_ACCOUNT, region: 'us-east-1' } });
  const config = resolveConfig(stage, 'vision');
  const v = config.vision!;
  const endpointName = endpointNameOf(stage, 'vision');
  const dataKey = kms.Key.fromKeyArn(stack, 'LakeKey', arn('kms', 'key/11111111-2222-3333-4444-555555555555'));
  const opsKey = new kms.Key(stack, 'OpsKey', { enableKeyRotation: true });
  const bucket = (id: string, name: string) =>
    s3.Bucket.fromBucketAttributes(stack, id, { bucketArn: `arn:aws:s3:::${name}`, encryptionKey: dataKey });
  const raw = bucket('Raw', 'raw-bucket');
  const capture = bucket('Capture', 'capture-bucket');
  const artifacts = bucket('Artifacts', 'artifacts-bucket');
  const stream = kinesis.Stream.fromStreamAttributes(stack, 'Stream', {
    streamArn: arn('kinesis', 'stream/events'),
    encryptionKey: dataKey,
  });
  const topic = sns.Topic.fromTopicArn(stack, 'Topic', arn('sns', 'notifications'));
  const serving = new VisionServing(stack, 'VisionServing', {
    endpointName,
    ...config.serving,
    ...v.serving,
    rollbackAlarmNames: ['rollback-alarm'],
  });
  const review = new ReviewQueue(stack, 'Review', {
    endpointName,
    imagesBucket: raw,
    imagesPrefix: v.ingestion.imagesPrefix,
    reviewBucket: artifacts,
    stream,
    labelAttribute: v.review.labelAttribute,
    manifestBatchSize: v.review.manifestBatchSize,
    manifestBatchingWindow: Duration.seconds(v.review.manifestBatchingWindowSeconds),
    maxReceiveCount: v.review.maxReceiveCount,
    encryptionKey: opsKey,
    alarmTopic: topic,
    groundTruth: true,
  });
  const ingestion = new ImageIngestion(stack, 'ImageIngestion', {
    caseStudy: 'vision',
    stage,
    endpointName,
    stream,
    imagesBucket: raw,
    statsBucket: capture,
    policy: v.ingestion,
    confidenceThreshold: v.review.confidenceThreshold,
    reviewQueue: review.queue,
    inferenceComponentName: serving.plan.inferenceComponentName,
    mapping: {
      batchSize: v.consumer.batchSize,
      maxBatchingWindow: Duration.seconds(v.consumer.maxBatchingWindowSeconds),
      retryAttempts: v.consumer.retryAttempts,
      maxRecordAge: Duration.hours(v.consumer.maxRecordAgeHours),
    },
    encryptionKey: opsKey,
    alarmTopic: topic,
  });
  const checker = new BlueprintFunction(stack, 'DriftChecker', {
    handlerDir: 'drift-checker',
    description: 'stand-in for the drift monitor function',
    encryptionKey: opsKey,
  });
  ingestion.connectDriftChecker(checker);
  const loopRole = new iam.Role(stack, 'LoopRole', { assumedBy: new iam.ServicePrincipal('states.amazonaws.com') });
  serving.grantDeploy(loopRole);
  extra?.(stack);
  app.synth();
  return { app, stack, config, endpointName, template: Template.fromStack(stack) };
}

let sbx: ReturnType<typeof build>;
let prd: ReturnType<typeof build>;
beforeAll(() => {
  sbx = build('sandbox');
  prd = build('production');
});

describe('image ingestion', () => {
  test('the consumer reads the stream with bisection, partial failures, bounded retries and an encrypted on-failure queue', () => {
    sbx.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arn('kinesis', 'stream/events'),
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 6 * 3600,
      BatchSize: 10,
      StartingPosition: 'LATEST',
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    for (const t of [sbx.template, prd.template]) {
      t.allResourcesProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue() });
    }
  });

  test('policy, threshold and targets are in the environment', () => {
    sbx.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Validates, measures and classifies'),
      Environment: {
        Variables: Match.objectLike({
          ENDPOINT_NAME: 'mlbp-sandbox-vision',
          CONFIDENCE_THRESHOLD: '0.6',
          STATS_PREFIX: 'datacapture/_image-stats/',
          QUARANTINE_PREFIX: 'quarantine/images/',
          INFERENCE_COMPONENT_NAME: 'mlbp-sandbox-vision-ic',
          INGEST_POLICY: JSON.stringify(sbx.config.vision!.ingestion),
        }),
      },
    });
    prd.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Validates, measures and classifies'),
      Environment: {
        Variables: Match.objectLike({ CONFIDENCE_THRESHOLD: '0.7', INFERENCE_COMPONENT_NAME: Match.absent() }),
      },
    });
  });

  test('least privilege: invoke only its endpoint (and component), read images, put only quarantine and statistics', () => {
    const policies = sbx.template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('^ImageIngestionFunctionRole') },
    });
    const doc = JSON.stringify(Object.values(policies)[0]);
    expect(doc).toContain('"sagemaker:InvokeEndpoint"');
    expect(doc).toContain('endpoint/mlbp-sandbox-vision"');
    expect(doc).toContain('inference-component/mlbp-sandbox-vision-ic"');
    expect(doc).toContain('arn:aws:s3:::raw-bucket/images/*');
    expect(doc).toContain('arn:aws:s3:::raw-bucket/quarantine/images/*');
    expect(doc).toContain('arn:aws:s3:::capture-bucket/datacapture/_image-stats/*');
    expect(doc).not.toMatch(/"Action":"\*"|"[a-z0-9-]+:\*"/);
    expect(doc).not.toContain('s3:DeleteObject');
  });

  test('the drift checker reads the statistics through its capture grant and the extra prefix', () => {
    sbx.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'stand-in for the drift monitor function',
      Environment: { Variables: Match.objectLike({ EXTRA_CAPTURE_PREFIX: 'datacapture/_image-stats/' }) },
    });
  });

  test('alarms on failed records and iterator age notify the topic', () => {
    sbx.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('exhausted their retries'),
      AlarmActions: [arn('sns', 'notifications')],
    });
    sbx.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Threshold: 600000,
    });
  });
});

describe('review queue', () => {
  test('SQS with a dead-letter queue, KMS and TLS only', () => {
    sbx.template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: Match.anyValue(),
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
      VisibilityTimeout: 6 * 120 + 300,
    });
    const policies = sbx.template.findResources('AWS::SQS::QueuePolicy');
    expect(Object.keys(policies).length).toBeGreaterThanOrEqual(3);
    for (const p of Object.values(policies)) {
      expect(JSON.stringify(p)).toContain('"aws:SecureTransport":"false"');
    }
  });

  test('the router batches messages into manifests; the Ground Truth role reads images and writes review output', () => {
    sbx.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 300,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    sbx.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ MANIFEST_PREFIX: 'review/input/', MANIFEST_BUCKET: 'artifacts-bucket' }),
      },
    });
    sbx.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } })],
      },
      Description: Match.stringLikeRegexp('^Ground Truth labelling jobs'),
    });
    const gt = sbx.template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('^ReviewGroundTruthRole') },
    });
    const doc = JSON.stringify(Object.values(gt)[0]);
    expect(doc).toContain('arn:aws:s3:::raw-bucket/images/*');
    expect(doc).toContain('arn:aws:s3:::artifacts-bucket/review/output/*');
  });

  test('the merger writes reviewed labels onto the stream', () => {
    const merger = sbx.template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('^ReviewMergerRole') },
    });
    const doc = JSON.stringify(Object.values(merger)[0]);
    expect(doc).toContain('kinesis:PutRecords');
    expect(doc).toContain('arn:aws:s3:::artifacts-bucket/review/output/*');
  });
});

describe('serving plan', () => {
  test('sandbox: an inference component with managed instance scaling from 0, scale-out from zero on no capacity', () => {
    const plan = visionServingPlan({
      endpointName: 'mlbp-sandbox-vision',
      ...sbx.config.serving,
      ...sbx.config.vision!.serving,
    });
    expect(plan.mode).toBe('inference-component');
    expect(plan.endpointConfig).toMatchObject({
      ProductionVariants: [
        {
          InstanceType: 'ml.g4dn.xlarge',
          ManagedInstanceScaling: { Status: 'ENABLED', MinInstanceCount: 0, MaxInstanceCount: 1 },
        },
      ],
    });
    expect(plan.createInferenceComponent).toMatchObject({
      InferenceComponentName: inferenceComponentNameOf('mlbp-sandbox-vision'),
      Specification: {
        ComputeResourceRequirements: { NumberOfAcceleratorDevicesRequired: 1, MinMemoryRequiredInMb: 8192 },
      },
      RuntimeConfig: { CopyCount: 1 },
    });
    expect(plan.scalableTarget).toEqual({
      ServiceNamespace: 'sagemaker',
      ResourceId: 'inference-component/mlbp-sandbox-vision-ic',
      ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
      MinCapacity: 0,
      MaxCapacity: 1,
    });
    expect(plan.targetTracking).toMatchObject({
      TargetTrackingScalingPolicyConfiguration: { ScaleInCooldown: 900, TargetValue: 4 },
    });
    expect(plan.scaleFromZeroAlarm).toMatchObject({
      MetricName: 'NoCapacityInvocationFailures',
      Dimensions: [{ Name: 'InferenceComponentName', Value: 'mlbp-sandbox-vision-ic' }],
      'AlarmActions.$': 'States.Array($.scaleFromZero.PolicyARN)',
    });
  });

  test('production: instances with target tracking between the configured bounds', () => {
    const plan = visionServingPlan({
      endpointName: 'mlbp-production-vision',
      ...prd.config.serving,
      ...prd.config.vision!.serving,
    });
    expect(plan.mode).toBe('instances');
    expect(plan.scalableTarget).toMatchObject({ MinCapacity: 1, MaxCapacity: 8 });
    expect(plan.scaleFromZeroAlarm).toBeUndefined();
  });

  test('inconsistent bounds fail with what was received', () => {
    const base = { endpointName: 'e', ...sbx.config.serving, ...sbx.config.vision!.serving };
    expect(() => visionServingPlan({ ...base, scaleToZero: false })).toThrow(/minCapacity 0 needs scaleToZero/);
    expect(() => visionServingPlan({ ...base, minCapacity: 1 })).toThrow(/scaleToZero needs minCapacity 0; received 1/);
    expect(() => visionServingPlan({ ...base, maxCapacity: 0 })).toThrow(/maxCapacity must be at least 1/);
  });

  test('the loop role may manage only this endpoint component and its scale-from-zero alarm', () => {
    const policies = sbx.template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('^LoopRole') },
    });
    const doc = JSON.stringify(Object.values(policies)[0]);
    expect(doc).toContain('inference-component/mlbp-sandbox-vision-ic"');
    expect(doc).toContain('alarm:mlbp-sandbox-vision-no-capacity"');
    expect(
      prd.template.findResources('AWS::IAM::Policy', {
        Properties: { PolicyName: Match.stringLikeRegexp('^LoopRole') },
      }),
    ).toEqual({});
  });
});

describe('cdk-nag and snapshots', () => {
  test('no unacknowledged AwsSolutions findings in either stage, and the checks really run on this stack', () => {
    for (const b of [sbx, prd]) {
      expect(
        b.app
          .synth()
          .getStackByName('Vision')
          .messages.filter((m) => m.level === 'error'),
      ).toEqual([]);
    }
    // The same build with one resource nobody acknowledged fails synthesis.
    expect(() => build('sandbox', (stack) => new kms.Key(stack, 'NoRotation'))).toThrow(/NoRotation[\s\S]*KMS5/);
  });

  test.each(['sandbox', 'production'] as const)('%s template snapshot', (stage) => {
    expect((stage === 'sandbox' ? sbx : prd).template.toJSON()).toMatchSnapshot();
  });
});
