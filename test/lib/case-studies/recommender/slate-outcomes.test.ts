/**
 * The slate-outcome writer in the synthesized recommender ML stacks (the shared stage assembly, cdk-nag on): its
 * schedule, the environment its Lambda gets, least-privilege IAM, alarms; the lake names agree with the Data
 * stack; and the config refuses a drift checker that would judge quality before the writer has written it.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ConfigError, resolveConfig } from '../../../../lib/config';
import { slateOutcomesLatestMinutes } from '../../../../lib/config/slate-outcomes';
import { synthesizedStage, type SynthesizedStage } from '../../../support/synth';

const ENDPOINT = 'mlbp-sandbox-recommender';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };

let sandbox: SynthesizedStage;
let production: SynthesizedStage;
let sbx: Template;

beforeAll(() => {
  sandbox = synthesizedStage('sandbox');
  production = synthesizedStage('production');
  sbx = sandbox.template('Sandbox-Recommender-ML');
});

/** The logical id and properties of the writer function. */
function writer(t: Template): [string, Resource] {
  const found = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([id]) =>
    id.startsWith('SlateOutcomesFunction'),
  ) as Array<[string, Resource]>;
  expect(found).toHaveLength(1);
  return found[0];
}

/** The statements of the writer role's policy. */
function statements(t: Template): Statement[] {
  const [, fn] = writer(t);
  const role = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
/** A resource as text: literal parts kept, references named. */
const text = (r: unknown): string => {
  if (typeof r === 'string') return r;
  const o = r as Record<string, unknown>;
  if (o['Fn::Join']) return (o['Fn::Join'] as [string, unknown[]])[1].map(text).join('');
  if (o['Fn::ImportValue']) return `<${String(o['Fn::ImportValue'])}>`;
  if (o.Ref) return `<${String(o.Ref)}>`;
  if (o['Fn::GetAtt']) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(r);
};

describe('slate-outcome writer', () => {
  test('runs every 15 minutes, with retries and a dead-letter queue', () => {
    const [id] = writer(sbx);
    sbx.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [id, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SlateOutcomesDeadLetters'), 'Arn'] } },
        }),
      ],
    });
    sbx.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SlateOutcomesDeadLetters'), 'Arn'] } },
      },
    });
  });

  test('its Lambda: 15-minute timeout, one at a time, traced, KMS environment, and the settings it runs with', () => {
    const [, fn] = writer(sbx);
    expect(fn.Properties).toMatchObject({
      Timeout: 900,
      ReservedConcurrentExecutions: 1,
      TracingConfig: { Mode: 'Active' },
      KmsKeyArn: { 'Fn::GetAtt': [expect.stringMatching(/^OpsKey/), 'Arn'] },
      Runtime: 'nodejs24.x',
    });
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect({
      ...variables,
      ARTIFACTS_BUCKET: text(variables.ARTIFACTS_BUCKET),
      RAW_BUCKET: text(variables.RAW_BUCKET),
    }).toEqual({
      POWERTOOLS_SERVICE_NAME: 'slate-outcomes',
      POWERTOOLS_METRICS_NAMESPACE: 'MlBlueprint/Recommender',
      NODE_OPTIONS: '--enable-source-maps',
      CASE_STUDY: 'recommender',
      STAGE: 'sandbox',
      ENDPOINT_NAME: ENDPOINT,
      ARTIFACTS_BUCKET: expect.stringContaining('ArtifactsBucketArn'),
      OUTCOMES_PREFIX: 'drift/outcomes/',
      DATABASE: 'ml_blueprint_sandbox_recommender',
      EVENTS_TABLE: 'interaction_events',
      SLATES_TABLE: 'served_slate_events',
      RAW_BUCKET: expect.stringContaining('RawBucketArn'),
      SLATES_PREFIX: 'slates/',
      WORK_GROUP: 'ml-blueprint-sandbox-recommender',
      ATTRIBUTION_MINUTES: '10',
      DELIVERY_ALLOWANCE_MINUTES: '5',
      CATCH_UP_HOURS: '24',
      MAX_QUERY_WAIT_SECONDS: '600',
    });
    const prd = writer(production.template('Production-Recommender-ML'))[1];
    expect((prd.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      ATTRIBUTION_MINUTES: '30',
      DELIVERY_ALLOWANCE_MINUTES: '10',
      DATABASE: 'ml_blueprint_production_recommender',
    });
  });

  test('the database and workgroup it names are the Data stack’s', () => {
    const data = sandbox.template('Sandbox-Recommender-Data');
    data.hasResourceProperties('AWS::Glue::Database', {
      DatabaseInput: Match.objectLike({ Name: 'ml_blueprint_sandbox_recommender' }),
    });
    data.hasResourceProperties('AWS::Athena::WorkGroup', { Name: 'ml-blueprint-sandbox-recommender' });
    data.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({ Name: 'served_slate_events' }),
    });
    data.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({ Name: 'interaction_events' }),
    });
  });

  test('least privilege: Athena in the workgroup, the two tables, the lake prefixes, the endpoint’s outcomes', () => {
    const all = statements(sbx);
    const byAction = (action: string) =>
      all.filter((s) => actions(s).includes(action)).flatMap((s) => resources(s).map(text));
    expect(all.find((s) => s.Sid === 'AthenaInTheLakeWorkGroup')).toMatchObject({
      Action: ['athena:GetQueryExecution', 'athena:StartQueryExecution', 'athena:StopQueryExecution'],
    });
    expect(byAction('athena:StartQueryExecution')).toEqual([
      'arn:aws:athena:us-east-1:123456789012:workgroup/ml-blueprint-sandbox-recommender',
    ]);
    expect(byAction('glue:GetTable')).toEqual([
      'arn:aws:glue:us-east-1:123456789012:catalog',
      'arn:aws:glue:us-east-1:123456789012:database/ml_blueprint_sandbox_recommender',
      'arn:aws:glue:us-east-1:123456789012:table/ml_blueprint_sandbox_recommender/interaction_events',
      'arn:aws:glue:us-east-1:123456789012:table/ml_blueprint_sandbox_recommender/served_slate_events',
    ]);
    const objects = (action: string) => byAction(action).filter((r) => r.includes('/'));
    expect(objects('s3:GetObject*').sort()).toEqual(
      [
        '<Sandbox-Recommender-Data-RawBucketArn>/events/*',
        '<Sandbox-Recommender-Data-RawBucketArn>/slates/*',
        '<Sandbox-Recommender-Data-CuratedBucketArn>/athena-results/*',
        `<Sandbox-Recommender-Data-ArtifactsBucketArn>/drift/outcomes/${ENDPOINT}/*`,
      ].sort(),
    );
    expect(objects('s3:PutObject').sort()).toEqual(
      [
        '<Sandbox-Recommender-Data-CuratedBucketArn>/athena-results/*',
        `<Sandbox-Recommender-Data-ArtifactsBucketArn>/drift/outcomes/${ENDPOINT}/*`,
      ].sort(),
    );
    expect(objects('s3:DeleteObject*')).toEqual([
      `<Sandbox-Recommender-Data-ArtifactsBucketArn>/drift/outcomes/${ENDPOINT}/*`,
    ]);
    // Only the lake key (the buckets it uses) and the operations key (its own environment and logs).
    expect([...new Set(byAction('kms:Decrypt'))].sort()).toEqual([
      '<OpsKey802FB888.Arn>',
      '<Sandbox-Recommender-Data-LakeKeyArn>',
    ]);
    // Nothing else is granted on any resource.
    const granted = new Set(all.flatMap(actions));
    expect([...granted].filter((a) => !/^(athena|glue|s3|kms|logs|xray|sqs):/.test(a))).toEqual([]);
    // SQS: its own dead-letter queue (the on-failure destination) only.
    expect([...new Set(byAction('sqs:SendMessage'))]).toEqual([
      expect.stringMatching(/^<SlateOutcomesDeadLetters\w+\.Arn>$/),
    ]);
  });

  test('alarms on errors and dead letters notify the topic', () => {
    for (const what of [
      'The slate-outcome writer of mlbp-sandbox-recommender failed',
      'Slate-outcome writer invocations of mlbp-sandbox-recommender were dead-lettered',
    ]) {
      sbx.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: Match.stringLikeRegexp(`Slate-outcome|slate-outcome`),
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Notifications') }],
      });
      expect(
        Object.values(sbx.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
          String(a.Properties.AlarmDescription).includes(what),
        ),
      ).toHaveLength(1);
    }
  });

  test('the vision stacks have no writer', () => {
    expect(
      Object.keys(sandbox.template('Sandbox-Vision-ML').findResources('AWS::Lambda::Function')).filter((id) =>
        id.startsWith('SlateOutcomes'),
      ),
    ).toEqual([]);
  });
});

describe('config coherence', () => {
  test('the presets are coherent: the checker judges a window after its outcomes are written', () => {
    for (const stage of ['sandbox', 'production'] as const) {
      const c = resolveConfig(stage, 'recommender');
      expect(c.drift.quality.settleMinutes).toBeGreaterThan(
        slateOutcomesLatestMinutes({
          attributionMinutes: c.ranking!.attributionMinutes,
          outcomes: c.ranking!.outcomes,
        }),
      );
    }
  });

  test('a quality settle time within the writer’s delay fails synth with a one-line error', () => {
    const attempt = () =>
      resolveConfig('production', 'recommender', { recommender: { drift: { quality: { settleMinutes: 60 } } } });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      'Invalid configuration (stage "production", case study "recommender"): drift.quality.settleMinutes must be more than 70 minutes: the slate outcomes of an hour are written up to 70 minutes after it ends (ranking.attributionMinutes 30 + ranking.outcomes.deliveryAllowanceMinutes 10 + ranking.outcomes.scheduleMinutes 15 + the writer\'s 15-minute timeout), and the checker judges a window once; received 60',
    );
    try {
      attempt();
    } catch (e) {
      expect((e as Error).message.split('\n')).toHaveLength(1);
    }
  });

  test('a delivery allowance shorter than the Firehose buffer fails too', () => {
    expect(() =>
      resolveConfig('production', 'recommender', {
        recommender: { ranking: { outcomes: { deliveryAllowanceMinutes: 4 } } },
      }),
    ).toThrow(
      'ranking.outcomes.deliveryAllowanceMinutes must cover ingestion.firehose.bufferIntervalSeconds (300 s): records reach the lake that late; received 4',
    );
  });

  test('the writer’s own settings are bounded', () => {
    expect(() =>
      resolveConfig('sandbox', 'recommender', { recommender: { ranking: { outcomes: { scheduleMinutes: 90 } } } }),
    ).toThrow('ranking.outcomes.scheduleMinutes must be an integer from 5 to 60 minutes; received 90');
  });
});
