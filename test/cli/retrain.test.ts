import {
  ListStateMachinesCommand,
  ListTagsForResourceCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { answerApproval, parseApproveArgs } from '../../src/cli/approve';
import { executionName, parseRetrainArgs, startRetraining } from '../../src/cli/retrain';

const sfnMock = mockClient(SFNClient);
beforeEach(() => sfnMock.reset());

const arn = (n: string) => `arn:aws:states:us-east-1:123456789012:stateMachine:${n}`;

describe('npm run retrain', () => {
  test('parses case and stage and rejects unknown ones with the allowed values', () => {
    expect(
      parseRetrainArgs(['--case', 'vision', '--stage', 'production', '--reason', 'new labels'], { USER: 'ann' }),
    ).toMatchObject({
      caseStudy: 'vision',
      stage: 'production',
      reason: 'new labels',
      requestedBy: 'ann',
      dryRun: false,
    });
    expect(() => parseRetrainArgs(['--case', 'fraud', '--stage', 'sandbox'])).toThrow(
      /--case must be one of: recommender, vision; received "fraud"/,
    );
    expect(() => parseRetrainArgs(['--case', 'vision'])).toThrow(
      /--stage must be one of: sandbox, production; received null/,
    );
  });

  test('finds the state machine by stack tags and starts a manual execution recording why', async () => {
    sfnMock.on(ListStateMachinesCommand).resolves({
      stateMachines: [
        {
          stateMachineArn: arn('RetrainingStateMachineA-1'),
          name: 'RetrainingStateMachineA-1',
          type: 'STANDARD',
          creationDate: new Date(),
        },
        {
          stateMachineArn: arn('RetrainingStateMachineB-2'),
          name: 'RetrainingStateMachineB-2',
          type: 'STANDARD',
          creationDate: new Date(),
        },
        { stateMachineArn: arn('Other'), name: 'Other', type: 'STANDARD', creationDate: new Date() },
      ],
    });
    sfnMock.on(ListTagsForResourceCommand, { resourceArn: arn('RetrainingStateMachineA-1') }).resolves({
      tags: [
        { key: 'ml-blueprint:stage', value: 'sandbox' },
        { key: 'ml-blueprint:case-study', value: 'vision' },
      ],
    });
    sfnMock.on(ListTagsForResourceCommand, { resourceArn: arn('RetrainingStateMachineB-2') }).resolves({
      tags: [
        { key: 'ml-blueprint:stage', value: 'sandbox' },
        { key: 'ml-blueprint:case-study', value: 'recommender' },
      ],
    });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
    const options = parseRetrainArgs(['--case', 'recommender', '--stage', 'sandbox', '--requested-by', 'bob']);
    await expect(
      startRetraining(new SFNClient({ region: 'us-east-1' }), options, new Date('2026-11-23T10:00:00Z')),
    ).resolves.toBe('arn:exec');
    const start = sfnMock.commandCalls(StartExecutionCommand)[0].args[0].input;
    expect(start.stateMachineArn).toBe(arn('RetrainingStateMachineB-2'));
    expect(start.name).toMatch(/^manual-20261123T100000Z-[0-9a-z]{4}$/);
    expect(JSON.parse(start.input!)).toEqual({
      trigger: { kind: 'manual', reason: 'manual retraining', requestedBy: 'bob' },
    });
    expect(sfnMock.commandCalls(ListTagsForResourceCommand)).toHaveLength(2); // "Other" is not looked at
  });

  test('no matching state machine fails with what to do', async () => {
    sfnMock.on(ListStateMachinesCommand).resolves({ stateMachines: [] });
    const options = parseRetrainArgs(['--case', 'vision', '--stage', 'production']);
    await expect(startRetraining(new SFNClient({ region: 'us-east-1' }), options)).rejects.toThrow(
      /no retraining state machine tagged ml-blueprint:stage=production, ml-blueprint:case-study=vision.*--state-machine-arn/,
    );
  });

  test('execution names are valid Step Functions names', () => {
    expect(executionName(new Date('2026-01-02T03:04:05.678Z'), () => 0)).toBe('manual-20260102T030405Z-0000');
  });
});

describe('npm run approve', () => {
  test('approve resumes the run with the approver', async () => {
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    await answerApproval(
      new SFNClient({ region: 'us-east-1' }),
      parseApproveArgs(['--token', 't-1', '--decision', 'approve'], { USER: 'ann' }),
    );
    const call = sfnMock.commandCalls(SendTaskSuccessCommand)[0].args[0].input;
    expect(call.taskToken).toBe('t-1');
    expect(JSON.parse(call.output!)).toMatchObject({ approved: true, approver: 'ann' });
  });

  test('reject needs a comment and sends the ModelRejected error the loop catches', async () => {
    expect(() => parseApproveArgs(['--token', 't', '--decision', 'reject'])).toThrow(/--comment is required/);
    expect(() => parseApproveArgs(['--token', 't', '--decision', 'maybe'])).toThrow(
      /--decision must be approve or reject/,
    );
    sfnMock.on(SendTaskFailureCommand).resolves({});
    await answerApproval(
      new SFNClient({ region: 'us-east-1' }),
      parseApproveArgs(['--token', 't-2', '--decision', 'reject', '--comment', 'leakage', '--approver', 'cy']),
    );
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input).toEqual({
      taskToken: 't-2',
      error: 'ModelRejected',
      cause: 'leakage (cy)',
    });
  });
});
