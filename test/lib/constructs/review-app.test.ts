/**
 * The review app construct with both stages' settings (sandbox: MFA optional, destroyed with the stack; production:
 * MFA required, retained), synthesized with cdk-nag's AwsSolutions checks.
 */
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REVIEW_ROUTES } from '../../../core/review/routes';
import { ReviewApp, type ReviewAppProps } from '../../../lib/constructs/review-app';
import { CDK_JSON_CONTEXT, synthesize, TEST_ACCOUNT } from '../../support/synth';

interface Built {
  readonly app: ReviewApp;
  readonly template: Template;
  readonly stack: Stack;
}

function build(stage: 'sandbox' | 'production', extra: Partial<ReviewAppProps> = {}): Built {
  const cdkApp = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  Validations.of(cdkApp).addPlugins(new AwsSolutionsChecks(cdkApp));
  const stack = new Stack(cdkApp, `Review${stage}`, { env: { account: TEST_ACCOUNT, region: 'us-east-1' } });
  const key = new kms.Key(stack, 'OpsKey', { enableKeyRotation: true });
  const images = s3.Bucket.fromBucketAttributes(stack, 'Raw', {
    bucketArn: 'arn:aws:s3:::sandbox-vision-raw',
    encryptionKey: kms.Key.fromKeyArn(stack, 'LakeKey', `arn:aws:kms:us-east-1:${TEST_ACCOUNT}:key/lake`),
  });
  const stream = kinesis.Stream.fromStreamArn(
    stack,
    'Events',
    `arn:aws:kinesis:us-east-1:${TEST_ACCOUNT}:stream/events`,
  );
  const requests = sqs.Queue.fromQueueArn(stack, 'Requests', `arn:aws:sqs:us-east-1:${TEST_ACCOUNT}:review`);
  const topic = sns.Topic.fromTopicArn(stack, 'Alarms', `arn:aws:sns:us-east-1:${TEST_ACCOUNT}:alarms`);
  const app = new ReviewApp(stack, 'ReviewApp', {
    imagesBucket: images,
    stream,
    encryptionKey: key,
    requests,
    alarmTopic: topic,
    mfaRequired: stage === 'production',
    removalPolicy: stage === 'production' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    ...extra,
  });
  cdkApp.synth();
  return { app, template: Template.fromStack(stack), stack };
}

const stages = { sandbox: build('sandbox'), production: build('production') };

describe.each(['sandbox', 'production'] as const)('%s', (stage) => {
  const { template, stack } = stages[stage];

  test('the user pool takes admin-created users only; MFA required in production, optional in sandbox', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: stage === 'production' ? 'ON' : 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true }) },
      DeletionProtection: stage === 'production' ? 'ACTIVE' : 'INACTIVE',
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      SupportedIdentityProviders: ['COGNITO'],
    });
  });

  test('every route has the JWT authorizer, and there is one route per API operation', () => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const keys = Object.values(routes)
      .map((r) => r.Properties.RouteKey)
      .sort();
    expect(keys).toEqual(
      Object.values(REVIEW_ROUTES)
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    );
    const [authorizerId] = Object.keys(
      template.findResources('AWS::ApiGatewayV2::Authorizer', { Properties: { AuthorizerType: 'JWT' } }),
    );
    expect(authorizerId).toBeDefined();
    for (const route of Object.values(routes)) {
      expect(route.Properties.AuthorizationType).toBe('JWT');
      expect(route.Properties.AuthorizerId).toEqual({ Ref: authorizerId });
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: Match.objectLike({ Audience: [Match.anyValue()] }),
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      DefaultRouteSettings: { ThrottlingBurstLimit: 40, ThrottlingRateLimit: 20 },
    });
  });

  test('no public bucket, no function URL; the page is read through CloudFront origin access control', () => {
    template.resourceCountIs('AWS::Lambda::Url', 0);
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(1);
    for (const bucket of Object.values(buckets)) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.WebsiteConfiguration).toBeUndefined();
    }
    // Allowed readers: CloudFront (with the distribution as source) and, in a sandbox, the auto-delete provider.
    for (const policy of Object.values(template.findResources('AWS::S3::BucketPolicy'))) {
      for (const s of policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>) {
        if (s.Effect !== 'Allow') continue;
        expect(JSON.stringify(s.Principal)).not.toMatch(/"\*"/);
        if (JSON.stringify(s.Principal).includes('cloudfront')) {
          expect(s.Condition).toEqual({ StringEquals: { 'AWS:SourceArn': expect.anything() } });
        } else {
          expect(stage).toBe('sandbox');
          expect(JSON.stringify(s.Principal)).toMatch(/CustomS3AutoDeleteObjectsCustomResourceProviderRole/);
        }
      }
    }
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
  });

  test('the queue table is encrypted with the given key, with point-in-time recovery', () => {
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'Queue' })],
    });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: stage === 'production' ? 'Retain' : 'Delete',
    });
  });

  test('images are readable under the images prefix only; labels go onto the stream', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((p) => JSON.stringify(p));
    const api = policies.find((p) => p.includes('kinesis:PutRecords'));
    expect(api).toBeDefined();
    expect(api).toContain('arn:aws:s3:::sandbox-vision-raw/images/*');
    expect(api).not.toMatch(/sandbox-vision-raw\/\*"/);
  });

  test('the page is told where the API and the hosted UI are', () => {
    const deployment = Object.values(template.findResources('Custom::CDKBucketDeployment'))[0];
    // Sources: the bundled page, then config.json whose deploy-time values are markers.
    const [page, config] = stack.resolve(deployment.Properties.SourceMarkers) as Array<Record<string, unknown>>;
    expect(page).toEqual({});
    const values = Object.values(config).map((v) => JSON.stringify(v));
    expect(values).toEqual([
      expect.stringMatching(/"Fn::GetAtt":\["ReviewAppApi[0-9A-F]{8}","ApiEndpoint"\]/),
      expect.stringMatching(/"Ref":"ReviewAppSignInUserPoolDomain[0-9A-F]{8}"/),
      expect.stringMatching(/"Ref":"ReviewAppSignInUserPoolPageClient[0-9A-F]{8}"/),
      expect.stringMatching(/"Fn::GetAtt":\["ReviewAppPageDistribution[0-9A-F]{8}","DomainName"\]/),
    ]);
    expect(deployment.Properties.DistributionPaths).toEqual(['/*']);
  });

  test('alarms name the backlog runbook; the backlog alarm watches queue depth', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'QueueDepth',
      Namespace: 'MlBlueprint/Review',
      Dimensions: [{ Name: 'service', Value: 'review-api' }],
      Threshold: 500,
      AlarmDescription: Match.stringLikeRegexp('Runbook: docs/runbooks/review-queue-backlog.md'),
    });
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmDescription).toMatch(/Runbook: docs\/runbooks\/review-queue-backlog\.md/);
    }
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding', () => {
    const errors = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === 'aws:cdk:error');
    expect(errors).toEqual([]);
  });
});

test('metrics for alarms and dashboards', () => {
  const { app, stack } = stages.sandbox;
  const r = (m: { namespace: string; metricName: string; statistic: string; period: Duration }) => [
    m.namespace,
    m.metricName,
    m.statistic,
    m.period.toMinutes(),
  ];
  expect(r(app.metricQueueDepth())).toEqual(['MlBlueprint/Review', 'QueueDepth', 'Maximum', 5]);
  expect(r(app.metricLabelsPerHour())).toEqual(['MlBlueprint/Review', 'LabelsAccepted', 'Sum', 60]);
  expect(r(app.metricAuditAgreementRate())).toEqual(['MlBlueprint/Review', 'AuditAgreement', 'Average', 1440]);
  expect(r(app.metricAuditAccuracy())).toEqual(['MlBlueprint/Review', 'AuditModelCorrect', 'Average', 1440]);
  expect(app.metricQueueDepth().dimensions).toEqual({ service: 'review-api' });
  expect(stack.resolve(app.pageUrl)).toEqual({
    'Fn::Join': [
      '',
      ['https://', { 'Fn::GetAtt': [expect.stringMatching(/^ReviewAppPageDistribution/), 'DomainName'] }, '/'],
    ],
  });
});

test.each([
  [
    { leaseDuration: Duration.seconds(10) },
    /leaseDuration \(seconds\) must be an integer between 30 and 3600; received 10/,
  ],
  [{ imageUrlExpiry: Duration.hours(2) }, /imageUrlExpiry must be between 10 seconds and 1 hour; received 2 hours/],
  [{ backlogThreshold: 0 }, /backlogThreshold must be a positive integer; received 0/],
  [{ intakeBatchSize: 11 }, /intakeBatchSize must be between 1 and 10/],
  [{ auditAgreement: 4 }, /maxVotes must be an integer between 4 and 9; received 3/],
  [{ imagesPrefix: 'images' }, /imagesPrefix must end with "\/"/],
  [{ domainPrefix: 'my-aws-review' }, /domainPrefix must be .* received "my-aws-review"/],
])('refuses %j', (extra, message) => {
  expect(() => build('sandbox', extra)).toThrow(message);
});

describe.each(['sandbox', 'production'] as const)('in the %s blueprint', (stage) => {
  const stackName = `${stage === 'sandbox' ? 'Sandbox' : 'Production'}-Vision-ML`;
  let template: Template;
  beforeAll(() => {
    template = synthesize(stage, { caseStudies: ['vision'] }).template(stackName);
  });

  test("the vision ML stack has the review app, fed by the review queue, with the stage's MFA and retention", () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: stage === 'production' ? 'ON' : 'OPTIONAL',
    });
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'Queue' })] }),
      DeletionPolicy: stage === 'production' ? 'Retain' : 'Delete',
    });
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    const intake = mappings.filter((m) => JSON.stringify(m.Properties.FunctionName).includes('ReviewAppIntake'));
    expect(intake).toHaveLength(1);
    expect(JSON.stringify(intake[0].Properties.EventSourceArn)).toContain('VisionReview');
    // Ground Truth is an option for accounts that still have it: off, so nothing else consumes the review queue.
    expect(mappings.filter((m) => JSON.stringify(m.Properties.EventSourceArn).includes('VisionReview'))).toHaveLength(
      1,
    );
    expect(Object.keys(template.findResources('AWS::IAM::Role')).some((id) => id.includes('GroundTruth'))).toBe(false);
  });

  test('every route has the JWT authorizer; no function URL; no bucket open to the public', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.length).toBe(Object.keys(REVIEW_ROUTES).length);
    for (const r of routes) expect(r.Properties.AuthorizationType).toBe('JWT');
    template.resourceCountIs('AWS::Lambda::Url', 0);
    for (const b of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(b.Properties.PublicAccessBlockConfiguration).toMatchObject({
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  test('the queue table is encrypted with the ops key', () => {
    const table = Object.values(
      template.findResources('AWS::DynamoDB::Table', {
        Properties: { GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'Queue' })] },
      }),
    )[0];
    const keyRef = table.Properties.SSESpecification.KMSMasterKeyId['Fn::GetAtt'][0] as string;
    expect(template.toJSON().Resources[keyRef].Type).toBe('AWS::KMS::Key');
    expect(keyRef).toMatch(/^OpsKey/);
  });
});
