/**
 * Fine-grained assertions on the synthesized retraining definition of every stack of both stages: the lock is
 * taken and released only under its conditions, and the champion is only ever an approved package. (The local
 * executions in test/lib/retraining/retraining-loop.test.ts run these states; these pin the requests themselves.)
 */
import { stateMachineDefinition } from '../../support/state-machine';
import { synthesizedStage } from '../../support/synth';

type State = {
  Type: string;
  Parameters?: Record<string, unknown>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Choices?: Array<Record<string, unknown>>;
  Default?: string;
};

let loops: Array<[string, Record<string, State>]>;
beforeAll(() => {
  loops = (['sandbox', 'production'] as const).flatMap((stage) => {
    const synthesized = synthesizedStage(stage);
    return synthesized.stackNames
      .filter((name) => name.endsWith('-ML'))
      .map((name) => {
        const definition = stateMachineDefinition(synthesized.template(name)) as { States: Record<string, State> };
        return [name, definition.States] as [string, Record<string, State>];
      });
  });
});

test('the four ML stacks each have a retraining loop', () => {
  expect(loops.map(([name]) => name).sort()).toEqual([
    'Production-Recommender-ML',
    'Production-Vision-ML',
    'Sandbox-Recommender-ML',
    'Sandbox-Vision-ML',
  ]);
});

test('the lock is taken only when free, expired or already ours; anything else means another run holds it', () => {
  for (const [, states] of loops) {
    const acquire = states.AcquireLock;
    expect(acquire.Parameters).toMatchObject({
      ConditionExpression: 'attribute_not_exists(lockId) OR expiresAt < :now OR executionId = :me',
      ExpressionAttributeValues: { ':now': { 'N.$': '$.run.lockNow' }, ':me': { 'S.$': '$$.Execution.Id' } },
      Item: {
        lockId: { S: expect.stringMatching(/^mlbp-(sandbox|production)-\w+$/) },
        executionId: { 'S.$': '$$.Execution.Id' },
        expiresAt: { 'N.$': '$.run.lockExpiresAt' },
      },
    });
    expect(acquire.Catch?.map((c) => [c.ErrorEquals, c.Next])).toEqual([
      [['DynamoDB.ConditionalCheckFailedException'], 'ReadLock'],
      [['States.ALL'], 'RecordFailure'],
    ]);
  }
});

test('the lock is released only by the execution that holds it', () => {
  for (const [, states] of loops) {
    expect(states.ReleaseLock.Parameters).toMatchObject({
      Key: { lockId: { S: expect.stringMatching(/^mlbp-/) } },
      ConditionExpression: 'executionId = :me',
      ExpressionAttributeValues: { ':me': { 'S.$': '$$.Execution.Id' } },
    });
  }
});

test('the champion is the model the endpoint serves (endpoint → config or component → model → its package), never the newest Approved package', () => {
  for (const [name, states] of loops) {
    const endpoint = `mlbp-${name.split('-')[0].toLowerCase()}-${name.split('-')[1].toLowerCase()}`;
    // "Is there an endpoint?" is a List call with a name filter; the exact name sorts first.
    expect(states.FindChampion.Parameters).toEqual({
      NameContains: endpoint,
      SortBy: 'Name',
      SortOrder: 'Ascending',
      MaxResults: 10,
    });
    const found = JSON.stringify(states['ChampionFound?']);
    expect(found).toContain(`"Variable":"$.servingEndpoint.endpoints[0].EndpointName","StringEquals":"${endpoint}"`);
    expect(states['ChampionFound?'].Default).toBe('NoChampion');
    expect(states.DescribeChampion.Parameters).toEqual({
      'ModelPackageName.$': '$.servedModel.tags.package.packages[0]',
    });
    expect(JSON.stringify(states['ChampionPackageKnown?'])).toContain('ml-blueprint:model-package-arn');
    expect(JSON.stringify(states.PickChampionPackage)).toContain("@.Key == 'ml-blueprint:model-package-arn'");
    // No state looks for "the newest Approved package" any more.
    const lists = Object.values(states).filter((s) => JSON.stringify(s).includes('listModelPackages'));
    expect(lists).toEqual([]);
  }
});
