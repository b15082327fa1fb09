import { Match, type Template } from 'aws-cdk-lib/assertions';
import {
  DRIFT_DETAIL_TYPE as HANDLER_DETAIL_TYPE,
  DRIFT_EVENT_SOURCE as HANDLER_SOURCE,
} from '../../../core/contracts/drift-events';
import { DRIFT_DETAIL_TYPE, DRIFT_EVENT_SOURCE } from '../../../lib/constructs/drift-monitor';
import { synthesizedStage, type SynthesizedStage } from '../../support/synth';

let sandbox: SynthesizedStage;
let production: SynthesizedStage;
let sbx: Template;
let prd: Template;

beforeAll(() => {
  sandbox = synthesizedStage('sandbox');
  production = synthesizedStage('production');
  sbx = sandbox.template('Sandbox-Recommender-ML');
  prd = production.template('Production-Vision-ML');
});

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const statements = (t: Template, logicalIdPrefix = ''): Statement[] =>
  Object.entries(t.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith(logicalIdPrefix))
    .map(([, p]) => p)
    .flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
    );
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('drift monitor', () => {
  test('the checker runs on Node.js 24, arm64, traced, one at a time, with a full vCPU', () => {
    sbx.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      ReservedConcurrentExecutions: 1,
      MemorySize: 1769,
      Timeout: 600,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' }),
      KmsKeyArn: Match.anyValue(),
    });
  });

  test('its environment carries the endpoint, buckets and the policy from the stage config', () => {
    const fn = Object.values(sbx.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const env = fn.Properties.Environment.Variables;
    expect(env.ENDPOINT_NAME).toBe('mlbp-sandbox-recommender');
    expect(env.WINDOW_MINUTES).toBe('60');
    expect(env.CAPTURE_BUCKET).toEqual(expect.objectContaining({ 'Fn::Select': expect.anything() }));
    expect(JSON.parse(env.DRIFT_POLICY as string)).toEqual({
      alpha: 0.05,
      correction: 'bonferroni',
      driftedShareThreshold: 0.5,
      minWindowSize: 200,
      thresholds: { psi: 0.2, jensenShannon: 0.1, wassersteinNormalized: 0.1, cramersV: 0.1 },
      retraining: { windowsRequired: 1, windowsConsidered: 1, cooldownHours: 1 },
      settleMinutes: 5,
      seasonality: 'daily',
      late: { share: 0.1, horizonHours: 24 },
      quality: { settleMinutes: 60, relativeDrop: 0.1, minSamples: 200, referenceWindows: 24 },
    });
    const prodFn = Object.values(prd.findResources('AWS::Lambda::Function'))[0] as typeof fn;
    expect(JSON.parse(prodFn.Properties.Environment.Variables.DRIFT_POLICY as string).retraining).toEqual({
      windowsRequired: 2,
      windowsConsidered: 3,
      cooldownHours: 24,
    });
    expect(JSON.parse(prodFn.Properties.Environment.Variables.DRIFT_POLICY as string)).toMatchObject({
      settleMinutes: 30,
      late: { share: 0.05, horizonHours: 48 },
      // Vision judges realised accuracy per day, two days after the day ends (audit labels are late and few).
      quality: { windowMinutes: 1440, settleMinutes: 2880, minSamples: 1000, referenceWindows: 14 },
    });
    // Production reads capture on two vCPUs (one per 1,769 MB).
    prd.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 3538, ReservedConcurrentExecutions: 1 });
  });

  test('it is scheduled at the configured rate, with retries and a dead-letter queue', () => {
    sbx.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [
        Match.objectLike({
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DriftMonitorDeadLetters'), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        }),
      ],
    });
    sbx.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DriftMonitorDeadLetters'), 'Arn'] } },
      },
    });
    sbx.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue(), MessageRetentionPeriod: 1209600 });
  });

  test('alarms on errors, dead letters, detected drift and a realised-quality drop notify the encrypted topic', () => {
    const driftAlarms = Object.keys(sbx.findResources('AWS::CloudWatch::Alarm')).filter((id) =>
      id.startsWith('DriftMonitor'),
    );
    expect(driftAlarms).toHaveLength(4);
    sbx.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'MlBlueprint/Drift',
      MetricName: 'QualityDropped',
      Threshold: 1,
      Dimensions: Match.arrayWith([{ Name: 'Endpoint', Value: 'mlbp-sandbox-recommender' }]),
      AlarmDescription: Match.stringLikeRegexp('Runbook: docs/runbooks/realised-quality-dropped.md'),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Notifications') }],
    });
    sbx.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'MlBlueprint/Drift',
      MetricName: 'DatasetDrifted',
      Dimensions: Match.arrayWith([{ Name: 'Endpoint', Value: 'mlbp-sandbox-recommender' }]),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Notifications') }],
    });
    sbx.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
    sbx.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  test('least privilege: reads capture, writes only reports and state, puts events on the default bus', () => {
    const all = statements(sbx, 'DriftMonitor');
    const puts = all.filter((s) => actions(s).includes('s3:PutObject'));
    expect(JSON.stringify(puts.map((s) => s.Resource))).toMatch(
      /drift\/reports\/\*.*drift\/state\/\*|drift\/state\/\*.*drift\/reports\/\*/,
    );
    expect(JSON.stringify(puts.map((s) => s.Resource))).not.toMatch(/baselines/);
    const reads = all.filter((s) => actions(s).includes('s3:GetObject*'));
    expect(JSON.stringify(reads.map((s) => s.Resource))).toContain('/datacapture/*');
    expect(all.some((s) => actions(s).includes('s3:DeleteObject*'))).toBe(false);
    expect(all).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'events:PutEvents',
          Resource: 'arn:aws:events:us-east-1:123456789012:event-bus/default',
        }),
      ]),
    );
  });

  test('the ML stack imports the data plane by export name and depends on the data stack', () => {
    const ml = sandbox.stack('Sandbox-Recommender-ML');
    expect(ml.dependencies.map((d) => d.id)).toContain('Sandbox-Recommender-Data');
    expect(JSON.stringify(sbx.toJSON())).toContain('"Fn::ImportValue":"Sandbox-Recommender-Data-CaptureBucketArn"');
  });

  test('the event the checker emits is the one the construct documents', () => {
    expect(HANDLER_SOURCE).toBe(DRIFT_EVENT_SOURCE);
    expect(HANDLER_DETAIL_TYPE).toBe(DRIFT_DETAIL_TYPE);
  });
});

describe('security baseline across every stack', () => {
  const everyTemplate = () =>
    [sandbox, production].flatMap((b) => b.stackNames.map((name) => [name, b.template(name)] as const));
  /** The stack's own customer-managed key (each stack has exactly one), as resources refer to it. */
  const ownKey = (t: Template) => {
    const keys = Object.keys(t.findResources('AWS::KMS::Key'));
    expect(keys).toHaveLength(1);
    return { 'Fn::GetAtt': [keys[0], 'Arn'] };
  };

  test('no IAM statement allows a bare * action or a whole service', () => {
    for (const [, t] of everyTemplate()) {
      for (const s of statements(t)) {
        for (const a of actions(s)) {
          expect(a).not.toBe('*');
          expect(a).not.toMatch(/^[a-z0-9-]+:\*$/);
        }
      }
    }
  });

  test('no role of ours uses an AWS managed policy; the one exception is CDK’s own auto-delete provider in the sandbox', () => {
    // Sandbox buckets are emptied on stack deletion by CDK's Custom::S3AutoDeleteObjects provider, whose role CDK
    // defines with AWSLambdaBasicExecutionRole (logs only). Every role we define has its own inline policy.
    const withManagedPolicies = everyTemplate().flatMap(([stack, t]) =>
      Object.entries(t.findResources('AWS::IAM::Role'))
        .filter(([, role]) => (role as { Properties?: { ManagedPolicyArns?: unknown } }).Properties?.ManagedPolicyArns)
        .map(([id, role]) => ({
          stack,
          id: id.replace(/[0-9A-F]{8}$/, ''),
          arns: (role as { Properties: { ManagedPolicyArns: unknown } }).Properties.ManagedPolicyArns,
        })),
    );
    const autoDeleteProvider = {
      stack: expect.stringMatching(/^Sandbox-/),
      id: 'CustomS3AutoDeleteObjectsCustomResourceProviderRole',
      arns: [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' }],
    };
    for (const role of withManagedPolicies) expect(role).toEqual(autoDeleteProvider);
    // Present where sandbox buckets are auto-deleted (the data stacks at least); never in production.
    expect(withManagedPolicies.map((r) => r.stack)).toEqual(
      expect.arrayContaining(['Sandbox-Recommender-Data', 'Sandbox-Vision-Data']),
    );
  });

  test('every log group has a retention and the stack’s own customer-managed key', () => {
    for (const [, t] of everyTemplate()) {
      const key = ownKey(t);
      for (const lg of Object.values(t.findResources('AWS::Logs::LogGroup'))) {
        const p = (lg as { Properties: Record<string, unknown> }).Properties;
        expect(p.RetentionInDays).toBeGreaterThan(0);
        expect(p.KmsKeyId).toEqual(key);
      }
    }
  });

  test('every queue and topic is encrypted with the stack’s own key and TLS-only', () => {
    for (const [, t] of everyTemplate()) {
      const key = ownKey(t);
      for (const q of Object.values(t.findResources('AWS::SQS::Queue'))) {
        expect((q as { Properties: Record<string, unknown> }).Properties.KmsMasterKeyId).toEqual(key);
      }
      for (const p of Object.values(t.findResources('AWS::SQS::QueuePolicy'))) {
        expect(JSON.stringify(p)).toContain('"aws:SecureTransport":"false"');
      }
      for (const topic of Object.values(t.findResources('AWS::SNS::Topic'))) {
        expect((topic as { Properties: Record<string, unknown> }).Properties.KmsMasterKeyId).toEqual(key);
      }
    }
  });
});

describe('snapshots (normalized)', () => {
  test.each([
    ['sandbox', 'Sandbox-Recommender-ML'],
    ['sandbox', 'Sandbox-Vision-ML'],
    ['production', 'Production-Recommender-ML'],
    ['production', 'Production-Vision-ML'],
  ])('%s %s', (stage, name) => {
    expect((stage === 'sandbox' ? sandbox : production).template(name).toJSON()).toMatchSnapshot();
  });
});
