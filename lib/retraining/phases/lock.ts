/**
 * The first phase of a run: plan it (names, dataset window, lock expiry), then take the model's lock. A second
 * trigger while a run holds the lock ends cleanly (`AlreadyRunning`).
 */
import { Stack, type Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { invokeFunction, retryTransient, type LoopStates } from '../states';

/** Partition key of the lock table: one item per model, keyed by the endpoint name. */
export const LOCK_KEY = 'lockId';
/** TTL attribute of the lock table (epoch seconds): an abandoned lock expires. */
export const LOCK_EXPIRY = 'expiresAt';

/** Properties of a {@link LockPhase}. */
export interface LockPhaseProps {
  readonly states: LoopStates;
  readonly lockTable: dynamodb.ITableV2;
  /** Plans the run (`lambdas/retraining-plan`). */
  readonly planFunction: lambda.IFunction;
  /** The model's name: the lock's key and the prefix of every name the run creates. */
  readonly endpointName: string;
  /** History the dataset covers. */
  readonly datasetWindow: Duration;
  /** How long the lock lasts. */
  readonly lockTtl: Duration;
  /** Where a concurrent trigger is reported (`already-running`). */
  readonly topic: sns.ITopic;
  /** Subject of that notification. */
  readonly subject: string;
}

/** `PlanRun` → `AcquireLock` (or `AlreadyRunning`). */
export class LockPhase extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: LockPhaseProps) {
    super(scope, id);
    const { states } = props;
    const plan = states.guard(
      invokeFunction(
        this,
        'PlanRun',
        props.planFunction,
        {
          executionName: sfn.JsonPath.stringAt('$$.Execution.Name'),
          startTime: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
          input: sfn.JsonPath.objectAt('$'),
          namePrefix: props.endpointName,
          datasetDays: props.datasetWindow.toDays(),
          lockTtlHours: props.lockTtl.toHours(),
        },
        '$.run',
      ),
    );
    // Another run holds the lock: say so and end, without touching that run's lock (no ReleaseLock).
    const alreadyRunning = retryTransient(
      new tasks.SnsPublish(this, 'AlreadyRunning', {
        topic: props.topic,
        subject: props.subject,
        message: sfn.TaskInput.fromObject({
          ...states.common,
          status: 'already-running',
          reason: 'another run holds the lock of this model: this trigger ends without training',
          'datasetId.$': '$.run.datasetId',
          trigger: sfn.JsonPath.objectAt('$.run.trigger'),
        }),
        messageAttributes: { status: { value: 'already-running' } },
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    alreadyRunning.addCatch(new sfn.Succeed(this, 'AlreadyRunningUnnotified'), {
      errors: ['States.ALL'],
      resultPath: '$.notifyError',
    });

    const lockItem = {
      [LOCK_KEY]: tasks.DynamoAttributeValue.fromString(props.endpointName),
      executionId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.Id')),
      datasetId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.run.datasetId')),
      reason: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.run.trigger.reason')),
      [LOCK_EXPIRY]: tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt('$.run.lockExpiresAt')),
    };
    const acquireLock = retryTransient(
      new tasks.DynamoPutItem(this, 'AcquireLock', {
        table: props.lockTable,
        item: lockItem,
        // Free, expired, or already ours (a retried write that had succeeded).
        conditionExpression: `attribute_not_exists(${LOCK_KEY}) OR ${LOCK_EXPIRY} < :now OR executionId = :me`,
        expressionAttributeValues: {
          ':now': tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.stringAt('$.run.lockNow')),
          ':me': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.Id')),
        },
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    // The lock is held: by a run that still runs (end here), or by one that ended without releasing it (stopped by
    // hand, timed out), whose lock is taken over at once instead of blocking every run until its TTL.
    const readLock = states.guard(
      new tasks.DynamoGetItem(this, 'ReadLock', {
        table: props.lockTable,
        key: {
          [LOCK_KEY]: tasks.DynamoAttributeValue.fromString(props.endpointName),
        },
        consistentRead: true,
        resultPath: '$.heldLock',
      }),
    );
    const describeHolder = retryTransient(
      new sfn.CustomState(this, 'DescribeLockHolder', {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${Stack.of(this).partition}:states:::aws-sdk:sfn:describeExecution`,
          Parameters: { 'ExecutionArn.$': '$.heldLock.Item.executionId.S' },
          ResultSelector: { 'status.$': '$.Status' },
          ResultPath: '$.lockHolder',
        },
      }),
    );
    // A holder that cannot be described (another state machine, history gone) is taken to be running: its lock
    // then expires by its TTL. No error name decides anything here.
    describeHolder.addCatch(alreadyRunning, {
      errors: ['States.ALL'],
      resultPath: '$.lockHolderError',
    });
    const takeOver = retryTransient(
      new tasks.DynamoPutItem(this, 'TakeOverLock', {
        table: props.lockTable,
        item: lockItem,
        // Only the lock of the run that was found ended: another run that took it meanwhile keeps it.
        conditionExpression: 'executionId = :holder',
        expressionAttributeValues: {
          ':holder': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.heldLock.Item.executionId.S')),
        },
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    takeOver.addCatch(alreadyRunning, {
      errors: ['DynamoDB.ConditionalCheckFailedException'],
      resultPath: '$.lockError',
    });
    takeOver.addCatch(states.recordFailure, {
      errors: ['States.ALL'],
      resultPath: '$.error',
    });
    readLock.next(
      new sfn.Choice(this, 'LockHolderKnown?')
        .when(sfn.Condition.isPresent('$.heldLock.Item.executionId.S'), describeHolder)
        .otherwise(acquireLock), // released meanwhile: try again
    );
    describeHolder.next(
      new sfn.Choice(this, 'LockHolderRunning?')
        .when(sfn.Condition.stringEquals('$.lockHolder.status', 'RUNNING'), alreadyRunning)
        .otherwise(takeOver),
    );
    acquireLock.addCatch(readLock, {
      errors: ['DynamoDB.ConditionalCheckFailedException'],
      resultPath: '$.lockError',
    });
    acquireLock.addCatch(states.recordFailure, {
      errors: ['States.ALL'],
      resultPath: '$.error',
    });
    plan.next(acquireLock);
    this.startState = plan;
    this.endStates = [acquireLock, takeOver];
  }
}
