/**
 * The recommender as synthesized: script-mode XGBoost 1.7-1 training with the code channel, the dataset states
 * sending `core/recommender/sql.ts` statements, promotion by its own Lambda with the report as `ModelMetrics`,
 * serverless serving in the sandbox and instances in production, sharded distributed training in production, the
 * served-slate table and delivery, and the API logging slates to the stream.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { NUM_FEATURES } from '../../../core/recommender/contract';
import { synthesizedStage } from '../../support/synth';

type Json = Record<string, unknown>;
let sandbox: Template;
let production: Template;
let sandboxData: Template;

beforeAll(() => {
  sandbox = synthesizedStage('sandbox').template('Sandbox-Recommender-ML');
  production = synthesizedStage('production').template('Production-Recommender-ML');
  sandboxData = synthesizedStage('sandbox').template('Sandbox-Recommender-Data');
});

/** The retraining state machine's definition, CloudFormation intrinsics replaced by a marker. */
function definition(t: Template): { States: Record<string, Json> } {
  const machines = t.findResources('AWS::StepFunctions::StateMachine');
  const [, machine] = Object.entries(machines).find(([id]) => id.startsWith('RetrainingStateMachine')) as [
    string,
    Json,
  ];
  const body = (machine.Properties as Json).DefinitionString as { 'Fn::Join'?: [string, unknown[]] } | string;
  const text =
    typeof body === 'string'
      ? body
      : (body['Fn::Join']?.[1] ?? []).map((p) => (typeof p === 'string' ? p : 'X')).join('');
  return JSON.parse(text) as { States: Record<string, Json> };
}

const parameters = (t: Template, state: string) => definition(t).States[state].Parameters as Json;

test('training: the XGBoost 1.7-1 image in script mode, the channels and hyperparameters the dataset states write', () => {
  const training = parameters(sandbox, 'TrainCandidate');
  expect((training.AlgorithmSpecification as Json).TrainingImage).toMatch(/sagemaker-xgboost:1\.7-1$/);
  expect(training['InputDataConfig.$']).toBe('$.dataset.channels');
  expect(training['HyperParameters.$']).toBe('$.dataset.hyperparameters');
  const describe = parameters(sandbox, 'DescribeDataset');
  const hp = describe.hyperparameters as Record<string, string>;
  expect(hp).toMatchObject({
    objective: 'rank:ndcg',
    eval_metric: 'ndcg@10',
    num_features: String(NUM_FEATURES),
    feature_version: '2',
    sagemaker_program: 'train.py',
    negative_sampling_rate: '1',
    // The sandbox preset's small-data trees.
    max_depth: '4',
  });
  expect(hp.sagemaker_submit_directory).toMatch(/^\/opt\/ml\/input\/data\/code\/.+\.gz$/);
  const channels = describe.channels as Json[];
  expect(channels.map((c) => c.ChannelName)).toEqual(['train', 'validation', 'code']);
  const model = parameters(sandbox, 'CreateModel');
  expect((model.PrimaryContainer as Json).Environment).toEqual({
    SAGEMAKER_PROGRAM: 'inference.py',
    SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code',
  });
});

test('dataset: co-visitation, then served slates once a model has served, the bootstrap before', () => {
  const states = definition(sandbox).States;
  expect(String(parameters(sandbox, 'ComputeCoVisitation')['QueryString.$'])).toMatch(
    /array_agg\(neighbour_id ORDER BY rank\)/,
  );
  expect((states['LoadCoVisitation'] as Json).Next).toBe('ServedSlatesYet?');
  const choice = states['ServedSlatesYet?'] as { Choices: Json[]; Default: string };
  expect(choice.Choices[0]).toMatchObject({
    Variable: '$.champion.found',
    BooleanEquals: true,
    Next: 'UseServedSlates',
  });
  expect(choice.Default).toBe('UseBootstrap');
  expect(String(parameters(sandbox, 'ExportServedSlatesChannels')['QueryString.$'])).toMatch(/served_slate_events/);
  expect(String(parameters(sandbox, 'ExportBootstrapChannels')['QueryString.$'])).toMatch(/point|recency/);
});

test('promotion: the recommender evaluate Lambda on the holdout, its report as the package metrics', () => {
  const states = definition(sandbox).States;
  expect((states['ChampionToBeat?'] as { Default: string }).Default).toBe('ScoreCandidate');
  const register = parameters(sandbox, 'RegisterCandidate');
  expect(register.ModelMetrics).toEqual({
    ModelQuality: { Statistics: { ContentType: 'application/json', 'S3Uri.$': '$.evaluation.reportUri' } },
  });
  expect(parameters(sandbox, 'ScoreCandidate').DataProcessing).toEqual({
    InputFilter: '$[3:]',
    JoinSource: 'Input',
    OutputFilter: '$[0,1,2,-1]',
  });
  sandbox.hasResourceProperties('AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('paired bootstrap of nDCG@10'),
  });
});

test('serving: serverless in the sandbox (no data capture, no autoscaling); instances with a canary in production', () => {
  const config = parameters(sandbox, 'CreateEndpointConfig');
  expect(config.ProductionVariants).toEqual([
    {
      VariantName: 'AllTraffic',
      'ModelName.$': '$.run.modelName',
      ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 10 },
    },
  ]);
  expect(config.DataCaptureConfig).toBeUndefined();
  const states = definition(sandbox).States;
  expect(Object.keys(states)).not.toContain('RegisterScalableTarget');
  expect(parameters(sandbox, 'UpdateEndpoint').DeploymentConfig).toBeUndefined();
  expect((parameters(production, 'UpdateEndpoint').DeploymentConfig as Json).BlueGreenUpdatePolicy).toBeDefined();
  expect(Object.keys(definition(production).States)).toContain('RegisterScalableTarget');
});

test('production trains on four GPU instances over request shards read by S3 key', () => {
  const training = parameters(production, 'TrainCandidate');
  expect(training.ResourceConfig).toMatchObject({ InstanceType: 'ml.g5.2xlarge', InstanceCount: 4 });
  expect(training.EnableInterContainerTrafficEncryption).toBe(true);
  const channels = parameters(production, 'DescribeDataset').channels as Json[];
  const distribution = (c: Json) => ((c.DataSource as Json).S3DataSource as Json).S3DataDistributionType;
  expect(channels.slice(0, 2).map(distribution)).toEqual(['ShardedByS3Key', 'ShardedByS3Key']);
  const query = String(parameters(production, 'ExportServedSlatesChannels')['QueryString.$']);
  expect(query).toContain('group_id % 64 AS shard');
  expect(query).toMatch(/partitioned_by = ARRAY\[.*split.*shard.*\]/);
});

test('served slates: their own Glue table with nested items and their own delivery from the stream', () => {
  sandboxData.hasResourceProperties('AWS::Glue::Table', {
    TableInput: Match.objectLike({
      Name: 'served_slate_events',
      StorageDescriptor: Match.objectLike({
        Columns: Match.arrayWith([
          Match.objectLike({
            Name: 'items',
            Type: 'array<struct<item_id:string,position:bigint,score:double,source:string,features:array<double>>>',
          }),
        ]),
      }),
    }),
  });
  sandboxData.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
    ExtendedS3DestinationConfiguration: Match.objectLike({
      Prefix: 'slates/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
    }),
  });
});

test('the recommend API logs slates to the stream; the consumer writes served features beside data capture', () => {
  sandbox.hasResourceProperties('AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('^recommend API'),
    Environment: {
      Variables: Match.objectLike({
        SLATE_STREAM_NAME: Match.anyValue(),
        CANDIDATE_QUOTAS: 'covisit=0.4,fresh=0.2',
        FRESH_SLOTS: '1',
      }),
    },
  });
  sandbox.hasResourceProperties('AWS::Lambda::Function', {
    Environment: {
      Variables: Match.objectLike({ SERVED_FEATURES_PREFIX: 'datacapture/mlbp-sandbox-recommender/served-slates/' }),
    },
  });
  sandbox.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: Match.objectLike({
      Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['kinesis:PutRecord']) })]),
    }),
  });
});

test('production: the canary CTR check is one of the blue/green update’s auto-rollback alarms; the sandbox has none', () => {
  const alarms = production.findResources('AWS::CloudWatch::Alarm');
  const [id] = Object.entries(alarms).find(([, a]) =>
    /canary .* CTR significantly below/.test(String((a.Properties as Json).AlarmDescription)),
  ) as [string, Json];
  const machines = production.findResources('AWS::StepFunctions::StateMachine');
  const body = JSON.stringify(Object.entries(machines).find(([k]) => k.startsWith('RetrainingStateMachine'))?.[1]);
  expect(body).toContain(`"Ref":"${id}"`);
  production.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ CANARY_CTR_TOLERANCE: '0.1' }) },
  });
  expect(
    Object.values(sandbox.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      /canary .* CTR/.test(String((a.Properties as Json).AlarmDescription)),
    ),
  ).toEqual([]);
});
