/**
 * The reviewers' API writes accepted audit items' outcome records where the drift checker reads realised accuracy:
 * the vision system (in a test stack, data plane imported by ARN as the ML stack does, cdk-nag's AwsSolutions checks
 * on) gives it the artifacts bucket, the checker's outcomes prefix and the endpoint, and lets it put objects under
 * `drift/outcomes/<endpoint>/` of that bucket only, encrypted with the bucket's key.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_QUALITY_SETTINGS } from '../../../../core/drift/checker-quality';
import { endpointNameOf, resolveConfig, type StageName } from '../../../../lib/config';
import { VisionSystem } from '../../../../lib/case-studies/vision/system';
import { CDK_JSON_CONTEXT, TEST_ACCOUNT } from '../../../support/synth';

const arn = (service: string, rest: string) => `arn:aws:${service}:us-east-1:${TEST_ACCOUNT}:${rest}`;
const LAKE_KEY = arn('kms', 'key/11111111-2222-3333-4444-555555555555');

function build(stage: StageName) {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Vision', { env: { account: TEST_ACCOUNT, region: 'us-east-1' } });
  const dataKey = kms.Key.fromKeyArn(stack, 'LakeKey', LAKE_KEY);
  const bucket = (id: string, name: string) =>
    s3.Bucket.fromBucketAttributes(stack, id, { bucketArn: `arn:aws:s3:::${name}`, encryptionKey: dataKey });
  const endpointName = endpointNameOf(stage, 'vision');
  const system = new VisionSystem(stack, 'Vision', {
    config: resolveConfig(stage, 'vision'),
    endpointName,
    stream: kinesis.Stream.fromStreamAttributes(stack, 'Stream', {
      streamArn: arn('kinesis', 'stream/events'),
      encryptionKey: dataKey,
    }),
    imagesBucket: bucket('Raw', 'raw-bucket'),
    captureBucket: bucket('Capture', 'capture-bucket'),
    reviewBucket: bucket('Artifacts', 'artifacts-bucket'),
    encryptionKey: new kms.Key(stack, 'OpsKey', { enableKeyRotation: true }),
    dataKey,
    alarmTopic: sns.Topic.fromTopicArn(stack, 'Topic', arn('sns', 'notifications')),
  });
  // Synthesis runs the checks: an unacknowledged finding throws here.
  const assembly = app.synth();
  return {
    endpointName,
    template: Template.fromStack(stack),
    apiFunction: stack.resolve(system.reviewApp.apiFunction.functionName) as unknown,
    apiPolicy: stack.getLogicalId(
      system.reviewApp.apiFunction.role!.node.findChild('DefaultPolicy').node.defaultChild as never,
    ),
    errors: assembly.getStackByName('Vision').messages.filter((m) => m.level === 'error'),
  };
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const builds = (['sandbox', 'production'] as const).map((stage) => [stage, build(stage)] as const);

describe.each(builds)('%s', (_stage, b) => {
  test('the API function knows the bucket, the checker’s outcomes prefix and the checked endpoint', () => {
    b.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Reviewers API'),
      Environment: {
        Variables: Match.objectLike({
          OUTCOMES_BUCKET: 'artifacts-bucket',
          OUTCOMES_PREFIX: DEFAULT_QUALITY_SETTINGS.outcomesPrefix,
          OUTCOMES_ENDPOINT: b.endpointName,
        }),
      },
    });
  });

  test('it may put objects under drift/outcomes/<endpoint>/ of the artifacts bucket and nowhere else there', () => {
    const policy = b.template.findResources('AWS::IAM::Policy')[b.apiPolicy] as {
      Properties: { PolicyDocument: { Statement: Statement[] } };
    };
    expect(policy).toBeDefined();
    const statements = policy.Properties.PolicyDocument.Statement;
    const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
    const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
    const puts = statements.filter((s) => actions(s).includes('s3:PutObject'));
    expect(puts).toHaveLength(1);
    expect(resources(puts[0])).toEqual([`arn:aws:s3:::artifacts-bucket/drift/outcomes/${b.endpointName}/*`]);
    // Nothing else of the artifacts bucket: every S3 resource of the policy is the outcomes prefix or an image.
    const s3Resources = statements
      .flatMap(resources)
      .filter((r): r is string => typeof r === 'string' && r.startsWith('arn:aws:s3:::'));
    for (const r of s3Resources) {
      expect(r).toMatch(new RegExp(`^arn:aws:s3:::(artifacts-bucket/drift/outcomes/${b.endpointName}/\\*|raw-bucket)`));
    }
    // Encrypting the objects with the bucket's key (SSE-KMS): data keys of the lake key.
    const encrypt = statements.filter(
      (s) => actions(s).includes('kms:GenerateDataKey*') && resources(s).includes(LAKE_KEY),
    );
    expect(encrypt).toHaveLength(1);
    expect(actions(encrypt[0])).toEqual(expect.arrayContaining(['kms:Encrypt', 'kms:GenerateDataKey*']));
  });

  test('no unacknowledged cdk-nag findings', () => {
    expect(b.errors).toEqual([]);
  });
});
