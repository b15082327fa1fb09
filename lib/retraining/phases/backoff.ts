/**
 * Back-off after rejections (`core/retraining/backoff.ts`): a rejected candidate moves neither the champion's "new
 * data since" point nor the drift baseline, so persistent drift would start a GPU job every cooldown. The lock table
 * keeps one record per model (`<endpoint>#backoff`, no expiry attribute) with the consecutive rejections, when the
 * last rejected run started, until when drift-triggered runs wait and the new-record count that waives the wait.
 *
 * - The gate (drift-triggered runs only, after the new records are counted): a record newer than the champion's
 *   dataset (no deployment since the rejection) whose time has not come and whose data bound is not reached ends
 *   the run `skipped`. A person or the schedule is never held back.
 * - The record (every run that ends `rejected`, `approval-timed-out` or `rolled-back`): one more rejection, or the
 *   first of a new streak when a deployment happened since; the wait is the schedule's interval for that count
 *   (`backoffSchedule`, computed at synth time; the last entry repeats).
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { retryTransient, type LoopStates } from '../states';
import { LOCK_KEY } from './lock';

/** Key of the back-off record in the lock table. */
export const backoffKey = (endpointName: string) => `${endpointName}#backoff`;

/** Properties of a {@link BackoffGate}. */
export interface BackoffGateProps {
  readonly states: LoopStates;
  readonly lockTable: dynamodb.ITableV2;
  readonly endpointName: string;
}

/** `ReadBackoff` → `BackoffRecorded?` → `ParseBackoff` → `BackoffActive?` → `RecordBackoff` (skipped) or on. */
export class BackoffGate extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];
  private readonly recorded: sfn.Choice;
  private readonly active: sfn.Choice;

  constructor(scope: Construct, id: string, props: BackoffGateProps) {
    super(scope, id);
    const { states } = props;
    const read = states.guard(
      new tasks.DynamoGetItem(this, 'ReadBackoff', {
        table: props.lockTable,
        key: { [LOCK_KEY]: tasks.DynamoAttributeValue.fromString(backoffKey(props.endpointName)) },
        consistentRead: true,
        resultPath: '$.backoffRecord',
      }),
    );
    const parse = new sfn.Pass(this, 'ParseBackoff', {
      parameters: {
        'rejections.$': 'States.StringToJson($.backoffRecord.Item.rejections.N)',
        'notBefore.$': 'States.StringToJson($.backoffRecord.Item.notBefore.N)',
        'waiveAtRecords.$': 'States.StringToJson($.backoffRecord.Item.waiveAtRecords.N)',
        'now.$': 'States.StringToJson($.run.lockNow)',
      },
      resultPath: '$.backoff',
    });
    const hold = states.outcome(this, 'RecordBackoff', {
      status: 'skipped',
      'reason.$':
        "States.Format('back-off after {} consecutive rejection(s): drift-triggered runs resume after epoch second {} or once {} new records have arrived (now {})', $.backoff.rejections, $.backoff.notBefore, $.backoff.waiveAtRecords, $.newData.count)",
      'datasetId.$': '$.run.datasetId',
    });
    // A deployment after the rejection makes the record stale: the champion's dataset ends after it was written.
    this.recorded = new sfn.Choice(this, 'BackoffRecorded?');
    this.active = new sfn.Choice(this, 'BackoffActive?');
    read.next(this.recorded);
    this.recorded.when(
      sfn.Condition.and(
        sfn.Condition.isPresent('$.backoffRecord.Item.rejectedAt'),
        sfn.Condition.stringLessThanJsonPath('$.champion.since', '$.backoffRecord.Item.rejectedAt.S'),
      ),
      parse,
    );
    parse.next(this.active);
    this.active.when(
      sfn.Condition.and(
        sfn.Condition.numberLessThanJsonPath('$.backoff.now', '$.backoff.notBefore'),
        sfn.Condition.numberLessThanJsonPath('$.newData.count', '$.backoff.waiveAtRecords'),
      ),
      hold,
    );
    this.startState = read;
  }

  /** Where the run goes on when the gate lets it (the dataset). */
  public proceedTo(next: sfn.IChainable): void {
    this.recorded.otherwise(next);
    this.active.otherwise(next);
  }
}

/** Properties of {@link rememberRejection}. */
export interface RememberRejectionProps {
  readonly lockTable: dynamodb.ITableV2;
  readonly endpointName: string;
  /** Seconds to wait after the 1st, 2nd, … rejection (`backoffSchedule`). */
  readonly schedule: readonly number[];
}

/**
 * `RememberRejection` (one more rejection, if no deployment happened since the last) or `StartRejectionStreak` →
 * `PickBackoffInterval` → `SetBackoffUntil`; returns the first state and the last (the caller continues from it).
 * Failures here never fail the run: the back-off is a brake, not a gate on the outcome.
 */
export function rememberRejection(scope: Construct, props: RememberRejectionProps, after: sfn.IChainable): sfn.State {
  const key = { [LOCK_KEY]: tasks.DynamoAttributeValue.fromString(backoffKey(props.endpointName)) };
  const common = {
    ':at': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.run.windowEnd')),
    ':n': tasks.DynamoAttributeValue.numberFromString(
      sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.newData.count')),
    ),
    ':w': tasks.DynamoAttributeValue.numberFromString(
      sfn.JsonPath.format(
        '{}',
        sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.newData.count'), sfn.JsonPath.numberAt('$.newData.count')),
      ),
    ),
  };
  const more = retryTransient(
    new tasks.DynamoUpdateItem(scope, 'RememberRejection', {
      table: props.lockTable,
      key,
      // The streak goes on only if no deployment happened since the last rejection.
      conditionExpression: 'rejectedAt > :since',
      updateExpression: 'ADD rejections :one SET rejectedAt = :at, newRecordsAtRejection = :n, waiveAtRecords = :w',
      expressionAttributeValues: {
        ...common,
        ':one': tasks.DynamoAttributeValue.fromNumber(1),
        ':since': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.champion.since')),
      },
      returnValues: tasks.DynamoReturnValues.UPDATED_NEW,
      resultSelector: { 'rejections.$': 'States.StringToJson($.Attributes.rejections.N)' },
      resultPath: '$.rejectionStreak',
    }),
  );
  const first = retryTransient(
    new tasks.DynamoPutItem(scope, 'StartRejectionStreak', {
      table: props.lockTable,
      item: {
        ...key,
        rejections: tasks.DynamoAttributeValue.fromNumber(1),
        rejectedAt: common[':at'],
        newRecordsAtRejection: common[':n'],
        waiveAtRecords: common[':w'],
      },
      resultSelector: { rejections: 1 },
      resultPath: '$.rejectionStreak',
    }),
  );
  more.addCatch(first, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: '$.backoffError' });
  const last = props.schedule.length;
  const pick = new sfn.Pass(scope, 'PickBackoffInterval', {
    parameters: {
      'seconds.$': `States.ArrayGetItem(States.Array(${props.schedule.join(', ')}), States.MathAdd($.rejectionStreak.rejections, -1))`,
      'until.$': `States.MathAdd(States.StringToJson($.run.lockNow), States.ArrayGetItem(States.Array(${props.schedule.join(', ')}), States.MathAdd($.rejectionStreak.rejections, -1)))`,
    },
    resultPath: '$.backoffInterval',
  });
  const pickLast = new sfn.Pass(scope, 'PickLongestBackoff', {
    parameters: {
      seconds: props.schedule[last - 1],
      'until.$': `States.MathAdd(States.StringToJson($.run.lockNow), ${props.schedule[last - 1]})`,
    },
    resultPath: '$.backoffInterval',
  });
  const set = retryTransient(
    new tasks.DynamoUpdateItem(scope, 'SetBackoffUntil', {
      table: props.lockTable,
      key,
      updateExpression: 'SET notBefore = :until',
      expressionAttributeValues: {
        ':until': tasks.DynamoAttributeValue.numberFromString(
          sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.backoffInterval.until')),
        ),
      },
      resultPath: sfn.JsonPath.DISCARD,
    }),
  );
  const capped = new sfn.Choice(scope, 'BackoffCapped?')
    .when(sfn.Condition.numberGreaterThan('$.rejectionStreak.rejections', last), pickLast)
    .otherwise(pick);
  more.next(capped);
  first.next(capped);
  pick.next(set);
  pickLast.next(set);
  for (const s of [more, first, set]) s.addCatch(after, { errors: ['States.ALL'], resultPath: '$.backoffError' });
  set.next(after);
  return more;
}
