/**
 * The local AWS world on small definitions: calls dispatched by service and action, DynamoDB conditions evaluated
 * by dynalite, List calls that honour their filters, deployments that poll and settle, unsupported calls that fail
 * the run naming them, intrinsics resolved with the world's physical names. dynalite starts once for the file.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { callOf } from '../../src/local-world/calls';
import { Emulators } from '../../src/local-world/emulators';
import { TaskError } from '../../src/local-world/errors';
import { resolveIntrinsics } from '../../src/local-world/intrinsics';
import type { Json, ModelRuntime } from '../../src/local-world/types';
import { LocalWorld } from '../../src/local-world/world';

let emulators: Emulators;
beforeAll(async () => {
  emulators = await Emulators.start();
});
afterAll(() => emulators?.close());

const NO_MODELS: ModelRuntime = {
  train: () => {
    throw new Error('no training in this test');
  },
  transform: () => Promise.reject(new Error('no transform in this test')),
};

const task = (resource: string, next: string | undefined, parameters: Json = {}, extra: Json = {}) => ({
  Type: 'Task',
  Resource: resource,
  Parameters: parameters,
  ...(next ? { Next: next } : { End: true }),
  ...extra,
});
const SDK = 'arn:aws:states:::aws-sdk:';

describe('calls', () => {
  test('resources map to service and action; function ARNs to lambda invoke with the function name', () => {
    expect(callOf('arn:aws:states:::sagemaker:createTrainingJob.sync')).toEqual({
      service: 'sagemaker',
      action: 'createTrainingJob',
      pattern: 'sync',
    });
    expect(callOf('arn:aws:states:::sns:publish.waitForTaskToken')).toEqual({
      service: 'sns',
      action: 'publish',
      pattern: 'waitForTaskToken',
    });
    expect(callOf(`${SDK}applicationautoscaling:putScalingPolicy`)).toEqual({
      service: 'applicationautoscaling',
      action: 'putScalingPolicy',
    });
    expect(callOf('arn:aws:lambda:us-east-1:123456789012:function:LoopPlanFunction1')).toEqual({
      service: 'lambda',
      action: 'invoke',
      functionName: 'LoopPlanFunction1',
    });
    expect(callOf('arn:aws:states:::lambda:invoke')).toEqual({ service: 'lambda', action: 'invoke' });
  });

  test('intrinsics: pseudo parameters, physical names, ARNs by resource type, imports', () => {
    const ctx = {
      types: {
        Fn: 'AWS::Lambda::Function',
        Role: 'AWS::IAM::Role',
        Topic: 'AWS::SNS::Topic',
        Lock: 'AWS::DynamoDB::GlobalTable',
      },
      physicalNames: { Lock: 'Stack-Lock-1' },
    };
    expect(
      resolveIntrinsics(
        {
          a: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':x:', { Ref: 'AWS::Region' }]] },
          fn: { 'Fn::GetAtt': ['Fn', 'Arn'] },
          role: { 'Fn::GetAtt': ['Role', 'Arn'] },
          topic: { Ref: 'Topic' },
          table: { Ref: 'Lock' },
          tableArn: { 'Fn::GetAtt': ['Lock', 'Arn'] },
          bucket: { 'Fn::ImportValue': 'Sandbox-Recommender-Data-RawBucketArn' },
          pick: { 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] },
        },
        ctx,
      ),
    ).toEqual({
      a: 'arn:aws:x:us-east-1',
      fn: 'arn:aws:lambda:us-east-1:123456789012:function:Fn',
      role: 'arn:aws:iam::123456789012:role/Role',
      topic: 'arn:aws:sns:us-east-1:123456789012:Topic',
      table: 'Stack-Lock-1',
      tableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/Stack-Lock-1',
      bucket: 'arn:aws:s3:::sandbox-recommender-data-rawbucketarn',
      pick: 'b',
    });
  });
});

describe('the world', () => {
  const world = () => new LocalWorld({ dynamo: emulators.dynamo });

  test('deploy creates the tables on dynalite and names them in the definition', async () => {
    const w = world();
    const deployed = await w.deploy(
      {
        Resources: {
          Lock: {
            Type: 'AWS::DynamoDB::GlobalTable',
            Properties: {
              AttributeDefinitions: [{ AttributeName: 'lockId', AttributeType: 'S' }],
              KeySchema: [{ AttributeName: 'lockId', KeyType: 'HASH' }],
            },
          },
          Machine: {
            Type: 'AWS::StepFunctions::StateMachine',
            Properties: {
              DefinitionString: {
                'Fn::Join': [
                  '',
                  [
                    '{"StartAt":"Put","States":{"Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"',
                    { Ref: 'Lock' },
                    '","Item":{"lockId":{"S":"a"}}},"End":true}}}',
                  ],
                ],
              },
            },
          },
        },
      },
      'Stack',
    );
    expect(deployed.tables.Lock).toMatch(/^Stack-Lock-\d+$/);
    const run = await w.run(deployed.definition, { execution: 'put', models: NO_MODELS });
    expect(run.status).toBe('SUCCEEDED');
    expect(await w.items(deployed.tables.Lock)).toEqual([{ lockId: { S: 'a' } }]);
  });

  test('DynamoDB condition expressions are evaluated by dynalite: a failed condition is the named Task error', async () => {
    const w = world();
    const { tables, definition } = await w.deploy(
      {
        Resources: {
          T: {
            Type: 'AWS::DynamoDB::Table',
            Properties: {
              AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
              KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
            },
          },
          M: {
            Type: 'AWS::StepFunctions::StateMachine',
            Properties: {
              DefinitionString: {
                'Fn::Join': [
                  '',
                  [
                    '{"StartAt":"Put","States":{"Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"',
                    { Ref: 'T' },
                    '","Item":{"k":{"S":"x"},"n":{"N":"1"}},"ConditionExpression":"attribute_not_exists(k) OR n < :n","ExpressionAttributeValues":{":n":{"N":"5"}}},"Catch":[{"ErrorEquals":["DynamoDB.ConditionalCheckFailedException"],"Next":"Held"}],"End":true},"Held":{"Type":"Succeed"}}}',
                  ],
                ],
              },
            },
          },
        },
      },
      'Cond',
    );
    // Free: written. Held with n = 1 < 5: written again. Held with n = 9: the condition fails.
    expect((await w.run(definition, { execution: 'a', models: NO_MODELS })).visited).toEqual(['Put']);
    expect((await w.run(definition, { execution: 'b', models: NO_MODELS })).visited).toEqual(['Put']);
    await emulators.dynamo.send(new PutItemCommand({ TableName: tables.T, Item: { k: { S: 'x' }, n: { N: '9' } } }));
    expect((await w.run(definition, { execution: 'c', models: NO_MODELS })).visited).toEqual(['Put', 'Held']);
  });

  test('ListModelPackages honours group, approval status, sort order and page size; unknown parameters are rejected', async () => {
    const w = world();
    const a1 = w.registry.add('g', 'Approved', {});
    const other = w.registry.add('other', 'Approved', {});
    const rejected = w.registry.add('g', 'Rejected', {});
    const a2 = w.registry.add('g', 'Approved', {});
    const list = (parameters: Json) =>
      w.run(
        { StartAt: 'List', States: { List: task(`${SDK}sagemaker:listModelPackages`, undefined, parameters) } },
        { execution: 'list', models: NO_MODELS },
      );
    const arns = async (parameters: Json) =>
      (
        (await list(parameters)).output as { ModelPackageSummaryList: Array<{ ModelPackageArn: string }> }
      ).ModelPackageSummaryList.map((p) => p.ModelPackageArn);
    expect(await arns({ ModelPackageGroupName: 'g' })).toEqual([a1.arn, rejected.arn, a2.arn]);
    expect(await arns({ ModelPackageGroupName: 'g', ModelApprovalStatus: 'Approved' })).toEqual([a1.arn, a2.arn]);
    expect(
      await arns({
        ModelPackageGroupName: 'g',
        ModelApprovalStatus: 'Approved',
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: 1,
      }),
    ).toEqual([a2.arn]);
    expect(await arns({ SortOrder: 'Descending', MaxResults: 2 })).toEqual([a2.arn, rejected.arn]);
    expect(await arns({ ModelApprovalStatus: 'Approved', SortOrder: 'Descending' })).toContain(other.arn);
    const bad = await list({ ModelPackageGroup: 'g' });
    expect(bad).toMatchObject({
      status: 'FAILED',
      cause: { name: 'SageMaker.ValidationException', message: expect.stringMatching(/ModelPackageGroup/) },
    });
  });

  test('an unknown call fails the run with a message naming it and its state', async () => {
    const definition = {
      StartAt: 'Tune',
      States: {
        Tune: task(
          `${SDK}sagemaker:createHyperParameterTuningJob`,
          undefined,
          {},
          { Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Done' }] },
        ),
        Done: { Type: 'Succeed' },
      },
    };
    await expect(world().run(definition, { execution: 'x', models: NO_MODELS })).rejects.toThrow(
      /sagemaker:createHyperParameterTuningJob \(state Tune\)/,
    );
  });

  test('inference components, scaling and alarms are accepted and come up InService after polling', async () => {
    const w = world();
    w.hosting.addEndpoint('mlbp-sandbox-vision', 'c0');
    const run = await w.run(
      {
        StartAt: 'Create',
        States: {
          Create: task(`${SDK}sagemaker:createInferenceComponent`, 'Describe', {
            InferenceComponentName: 'ic',
            EndpointName: 'mlbp-sandbox-vision',
            Specification: { ModelName: 'm1' },
            RuntimeConfig: { CopyCount: 1 },
          }),
          Describe: task(
            `${SDK}sagemaker:describeInferenceComponent`,
            'Settled?',
            { InferenceComponentName: 'ic' },
            { ResultPath: '$.ic' },
          ),
          'Settled?': {
            Type: 'Choice',
            Choices: [{ Variable: '$.ic.InferenceComponentStatus', StringEquals: 'InService', Next: 'Target' }],
            Default: 'Describe',
          },
          Target: task(`${SDK}applicationautoscaling:registerScalableTarget`, 'Policy'),
          Policy: task(`${SDK}applicationautoscaling:putScalingPolicy`, 'Alarm', {
            ServiceNamespace: 'sagemaker',
            ResourceId: 'inference-component/ic',
            PolicyName: 'p',
          }),
          Alarm: task(`${SDK}cloudwatch:putMetricAlarm`, undefined, { AlarmName: 'a' }),
        },
      },
      { execution: 'ic-run', models: NO_MODELS, rollout: { componentPolls: { create: 2, update: 2 } } },
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(run.visited.filter((v) => v === 'Describe')).toHaveLength(3);
    expect(w.hosting.inferenceComponent).toEqual({
      name: 'ic',
      endpointName: 'mlbp-sandbox-vision',
      modelName: 'm1',
      copies: 1,
    });
    expect(w.messaging.alarms).toEqual([{ AlarmName: 'a' }]);
    expect(run.calls.map((c) => `${c.service}:${c.action}`)).toContain('applicationautoscaling:putScalingPolicy');
  });

  test('an override replaces one call and can defer to the world (fallback); errors keep their names', async () => {
    const w = world();
    const definition = {
      StartAt: 'Publish',
      States: {
        Publish: task('arn:aws:states:::sns:publish', 'Approve', { Message: { status: 'x' } }),
        Approve: task('arn:aws:states:::sns:publish.waitForTaskToken', undefined, {
          Message: { kind: 'approval-request', 'taskToken.$': '$$.Task.Token' },
        }),
      },
    };
    const rejected = await w.run(definition, {
      execution: 'r',
      models: NO_MODELS,
      approver: () => {
        throw new TaskError('ModelRejected', 'no');
      },
      overrides: { 'sns:publish': (_input, ctx) => ctx.fallback() },
    });
    expect(rejected).toMatchObject({ status: 'FAILED', cause: { name: 'ModelRejected', message: 'no' } });
    expect(w.notifications).toEqual([{ status: 'x' }]);
    expect(w.messaging.approvalRequests).toEqual([{ kind: 'approval-request', taskToken: 'token-r' }]);
  });
});
