/**
 * The recommender's real-time path and serving safeguards, built in a test stack the way MlStack wires it (data
 * plane imported by ARN), synthesized once per stage with cdk-nag AwsSolutions checks on.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { endpointNameOf, resolveConfig, type StageName } from '../../../../lib/config';
import { BlueprintFunction } from '../../../../lib/constructs/blueprint-function';
import { RecommenderServing } from '../../../../lib/case-studies/recommender/serving';
import { CDK_JSON_CONTEXT, TEST_ACCOUNT } from '../../../support/synth';

const ARN = `arn:aws:%s:us-east-1:${TEST_ACCOUNT}`;
const arn = (service: string, rest: string) => `${ARN.replace('%s', service)}:${rest}`;

function build(stage: StageName, options: { withDriftChecker?: boolean; withNag?: boolean } = {}) {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  if (options.withNag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Serving', { env: { account: TEST_ACCOUNT, region: 'us-east-1' } });
  const config = resolveConfig(stage, 'recommender');
  const dataKey = kms.Key.fromKeyArn(stack, 'LakeKey', arn('kms', 'key/11111111-2222-3333-4444-555555555555'));
  const opsKey = new kms.Key(stack, 'OpsKey', { enableKeyRotation: true });
  const driftChecker = options.withDriftChecker
    ? new BlueprintFunction(stack, 'DriftChecker', {
        handlerDir: 'drift-checker',
        description: 'stand-in for the drift monitor function',
        encryptionKey: opsKey,
      })
    : undefined;
  const serving = new RecommenderServing(stack, 'RecommenderServing', {
    config,
    stream: kinesis.Stream.fromStreamAttributes(stack, 'Stream', {
      streamArn: arn('kinesis', 'stream/events'),
      encryptionKey: dataKey,
    }),
    rawBucket: s3.Bucket.fromBucketAttributes(stack, 'Raw', {
      bucketArn: 'arn:aws:s3:::raw-bucket',
      encryptionKey: dataKey,
    }),
    dataKey,
    opsKey,
    alarmTopic: sns.Topic.fromTopicArn(stack, 'Topic', arn('sns', 'notifications')),
    endpointName: endpointNameOf(stage, 'recommender'),
    driftChecker,
  });
  app.synth();
  return { app, stack, serving, template: Template.fromStack(stack) };
}

let sbx: ReturnType<typeof build>;
let prd: ReturnType<typeof build>;

beforeAll(() => {
  sbx = build('sandbox', { withDriftChecker: true });
  prd = build('production');
});

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string };
const statements = (t: Template): Statement[] =>
  Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('stream consumer mapping', () => {
  test('batch size and window from config, bisect, bounded retries, max record age, partial batch responses', () => {
    sbx.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arn('kinesis', 'stream/events'),
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 6 * 3600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      StartingPosition: 'LATEST',
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RecommenderServingConsumerFailedRecords'), 'Arn'] },
        },
      },
    });
    prd.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 24 * 3600,
      ParallelizationFactor: 2,
    });
  });

  test('the on-failure queue is KMS-encrypted with the ops key and TLS-only', () => {
    sbx.template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OpsKey'), 'Arn'] },
      MessageRetentionPeriod: 1209600,
    });
    expect(JSON.stringify(sbx.template.findResources('AWS::SQS::QueuePolicy'))).toContain(
      '"aws:SecureTransport":"false"',
    );
  });

  test('the consumer may put only under quarantine/ in the raw bucket and reads the stream', () => {
    const all = statements(sbx.template);
    const puts = all.filter((s) => actions(s).includes('s3:PutObject'));
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0].Resource)).toBe('"arn:aws:s3:::raw-bucket/quarantine/*"');
    expect(all.some((s) => actions(s).includes('kinesis:GetRecords'))).toBe(true);
  });
});

describe('feature store', () => {
  test('DynamoDB with the customer-managed lake key, point-in-time recovery and TTL', () => {
    sbx.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    sbx.template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: arn('kms', 'key/11111111-2222-3333-4444-555555555555'),
      },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  test('its logical ID is pinned; production retains it with deletion protection, sandbox destroys it', () => {
    const [[sbxId, sbxTable]] = Object.entries(sbx.template.findResources('AWS::DynamoDB::Table'));
    const [[prdId, prdTable]] = Object.entries(prd.template.findResources('AWS::DynamoDB::Table'));
    expect(sbxId).toBe('RecommenderServingFeatures6CF8F09B');
    expect(prdId).toBe(sbxId);
    expect(sbxTable.DeletionPolicy).toBe('Delete');
    expect(prdTable.DeletionPolicy).toBe('Retain');
    expect(prdTable.Properties.DeletionProtectionEnabled).toBe(true);
  });
});

describe('recommend API', () => {
  test('a function URL with IAM auth', () => {
    sbx.template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    expect(JSON.stringify(sbx.template.findResources('AWS::Lambda::Permission'))).not.toContain('"Principal":"*"');
  });

  test('its environment carries the endpoint, the tight invoke timeout and the candidate settings', () => {
    sbx.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ENDPOINT_NAME: 'mlbp-sandbox-recommender',
          INVOKE_TIMEOUT_MS: '300',
          CANDIDATES: '50',
          MAX_K: '20',
          POWERTOOLS_SERVICE_NAME: 'recommend',
        }),
      },
    });
    prd.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ INVOKE_TIMEOUT_MS: '150' }) },
      ReservedConcurrentExecutions: 200,
    });
  });

  test('it may invoke and describe only the case study endpoint', () => {
    const sm = statements(sbx.template).filter((s) => actions(s).some((a) => a.startsWith('sagemaker:')));
    expect(sm).toHaveLength(1);
    expect(actions(sm[0]).sort()).toEqual(['sagemaker:DescribeEndpoint', 'sagemaker:InvokeEndpoint']);
    expect(JSON.stringify(sm[0].Resource)).toContain(':endpoint/mlbp-sandbox-recommender"');
  });

  test('the fallback-rate alarm watches the share of fallback responses and notifies the topic', () => {
    sbx.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'MlBlueprint/Recommender',
      MetricName: 'Fallback',
      Statistic: 'Average',
      Period: 300,
      Threshold: 0.2,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: Match.arrayWith([
        { Name: 'Endpoint', Value: 'mlbp-sandbox-recommender' },
        { Name: 'service', Value: 'recommend' },
      ]),
      AlarmActions: [arn('sns', 'notifications')],
    });
    prd.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Fallback', Threshold: 0.05 });
    sbx.template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
  });
});

describe('CTR feed of the drift checker', () => {
  test('the drift checker gets the table, the CTR window (its own window) and read-only access', () => {
    sbx.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'drift-checker',
          CTR_TABLE_NAME: { Ref: Match.stringLikeRegexp('^RecommenderServingFeatures') },
          CTR_WINDOW_MINUTES: '60',
          CTR_REFERENCE_WINDOWS: '24',
        }),
      },
    });
    const policy = Object.entries(sbx.template.findResources('AWS::IAM::Policy')).find(([id]) =>
      id.startsWith('DriftCheckerRole'),
    )?.[1] as { Properties: { PolicyDocument: { Statement: Statement[] } } };
    const dynamo = policy.Properties.PolicyDocument.Statement.flatMap(actions).filter((a) => a.startsWith('dynamodb:'));
    expect(dynamo).toContain('dynamodb:Query');
    expect(dynamo.filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
  });
});

describe('cdk-nag and least privilege', () => {
  test('AwsSolutions: no unacknowledged findings (synthesis succeeded) and no error annotations', () => {
    for (const b of [sbx, prd]) {
      const errors = b.app
        .synth()
        .getStackByName('Serving')
        .messages.filter((m) => m.level === 'error');
      expect(errors).toEqual([]);
    }
  });

  test('an unacknowledged finding would fail synthesis here', () => {
    const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'Bad', { env: { account: TEST_ACCOUNT, region: 'us-east-1' } });
    new kms.Key(stack, 'NoRotation');
    expect(() => app.synth()).toThrow(/KMS5/);
  });

  test('no statement allows a bare * action or a whole service', () => {
    for (const s of statements(prd.template)) {
      for (const a of actions(s)) {
        expect(a).not.toBe('*');
        expect(a).not.toMatch(/^[a-z0-9-]+:\*$/);
      }
    }
  });

  test('rejects bad construct settings early', () => {
    const config = resolveConfig('sandbox', 'recommender');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'S');
    const key = new kms.Key(stack, 'K');
    const base = {
      stream: kinesis.Stream.fromStreamArn(stack, 'St', arn('kinesis', 'stream/x')),
      rawBucket: s3.Bucket.fromBucketName(stack, 'B', 'raw'),
      dataKey: key,
      opsKey: key,
      alarmTopic: sns.Topic.fromTopicArn(stack, 'T', arn('sns', 't')),
      endpointName: 'mlbp-sandbox-recommender',
    };
    expect(() => new RecommenderServing(stack, 'A', { ...base, config: { ...config, realtime: undefined } })).toThrow(
      /config\.realtime must be set for the recommender case study/,
    );
    expect(
      () =>
        new RecommenderServing(stack, 'C', {
          ...base,
          config: { ...config, realtime: { ...config.realtime!, serving: { ...config.realtime!.serving, maxK: 60 } } },
        }),
    ).toThrow(/maxK must be at most candidates \(50\); received 60/);
    expect(Duration.minutes(config.drift.scheduleMinutes).toMinutes()).toBe(60);
  });

  test('only the recommender carries a realtime config', () => {
    expect(resolveConfig('production', 'recommender').realtime?.consumer.batchSize).toBe(500);
    expect(resolveConfig('production', 'vision').realtime).toBeUndefined();
  });
});

describe('snapshots (normalized)', () => {
  test.each([
    ['sandbox', () => sbx],
    ['production', () => prd],
  ])('%s', (_stage, get) => {
    expect(get().template.toJSON()).toMatchSnapshot();
  });
});
