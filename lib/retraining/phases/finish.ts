/**
 * The end of a run. After a deployment: refresh the drift baseline and record the outcome. After every outcome:
 * notify, release the lock, and succeed or fail the execution.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { invokeFunction, retryTransient, type LoopStates } from '../states';
import { rememberRejection } from './backoff';
import { LOCK_KEY } from './lock';

/** Properties of a {@link RunEnd}. */
export interface RunEndProps {
  readonly lockTable: dynamodb.ITableV2;
  /** The lock's key: the endpoint name. */
  readonly endpointName: string;
  readonly topic: sns.ITopic;
  /** Subject of the notification. */
  readonly subject: string;
  /** Seconds drift-triggered runs wait after the 1st, 2nd, … consecutive rejection (`backoffSchedule`). */
  readonly backoffSchedule: readonly number[];
}

/**
 * The path every outcome takes: notify (`$.outcome`); after a rejection (rejected, approval timed out, rolled back)
 * remember it for the back-off **while the lock is still held**, so that no run can start before the back-off is
 * recorded; release the lock if this execution holds it; then end failed (failure or rollback) or succeeded.
 * Neither the notification, the back-off record nor the release can fail the run by itself.
 */
export class RunEnd extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: RunEndProps) {
    super(scope, id);
    const succeeded = new sfn.Succeed(this, 'RunSucceeded', {
      comment: 'Deployed, or ended cleanly without deploying.',
    });
    const failed = new sfn.Fail(this, 'RunFailed', { errorPath: '$.outcome.error', causePath: '$.outcome.cause' });
    const rolledBack = sfn.Condition.stringEquals('$.outcome.status', 'rolled-back');
    const finished = new sfn.Choice(this, 'Finished?')
      .when(sfn.Condition.or(sfn.Condition.stringEquals('$.outcome.status', 'failed'), rolledBack), failed)
      .otherwise(succeeded);
    const releaseLock = retryTransient(
      new tasks.DynamoDeleteItem(this, 'ReleaseLock', {
        table: props.lockTable,
        key: { [LOCK_KEY]: tasks.DynamoAttributeValue.fromString(props.endpointName) },
        // Never release another execution's lock (e.g. after "already running" or a failure before acquiring).
        conditionExpression: 'executionId = :me',
        expressionAttributeValues: {
          ':me': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.Execution.Id')),
        },
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    releaseLock.addCatch(finished, { errors: ['States.ALL'], resultPath: '$.releaseError' });
    releaseLock.next(finished);
    const remember = rememberRejection(
      this,
      { lockTable: props.lockTable, endpointName: props.endpointName, schedule: props.backoffSchedule },
      releaseLock,
    );
    const rejected = new sfn.Choice(this, 'Rejected?')
      .when(
        sfn.Condition.or(
          sfn.Condition.stringEquals('$.outcome.status', 'rejected'),
          sfn.Condition.stringEquals('$.outcome.status', 'approval-timed-out'),
          rolledBack,
        ),
        remember,
      )
      .otherwise(releaseLock);
    const notifyOutcome = retryTransient(
      new tasks.SnsPublish(this, 'NotifyOutcome', {
        topic: props.topic,
        subject: props.subject,
        message: sfn.TaskInput.fromJsonPathAt('$.outcome'),
        messageAttributes: { status: { value: sfn.JsonPath.stringAt('$.outcome.status') } },
        resultPath: sfn.JsonPath.DISCARD,
      }),
    );
    notifyOutcome.addCatch(rejected, { errors: ['States.ALL'], resultPath: '$.notifyError' });
    notifyOutcome.next(rejected);
    this.startState = notifyOutcome;
  }
}

/** Properties of a {@link FinishPhase}. */
export interface FinishPhaseProps {
  readonly states: LoopStates;
  /** The Lambda that writes the new baseline profile. */
  readonly baselineFunction: lambda.IFunction;
  /** Its payload (the case study's). */
  readonly baselinePayload: Record<string, unknown>;
  /** The Lambda that writes the references the new model is judged against (`core/retraining/references.ts`). */
  readonly referencesFunction: lambda.IFunction;
  /** Its payload. */
  readonly referencesPayload: Record<string, unknown>;
  /** What the outcome says was deployed, besides the package, dataset and training job. */
  readonly deployed: Record<string, unknown>;
}

/**
 * After a deployment: the drift baseline of the new model, the references it is judged against (the replaced
 * champion's CTR and realised quality), then the `deployed` outcome. The model serves already: a failure to write
 * the references is recorded in the outcome (`references.Error`) instead of failing the run.
 */
export class FinishPhase extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];

  constructor(scope: Construct, id: string, props: FinishPhaseProps) {
    super(scope, id);
    const { states } = props;
    const baseline = states.guard(
      invokeFunction(this, 'RefreshBaseline', props.baselineFunction, props.baselinePayload, '$.baseline'),
    );
    const deployed = states.outcome(this, 'RecordDeployed', {
      status: 'deployed',
      'reason.$': '$.evaluation.reason',
      'modelPackageArn.$': '$.registered.arn',
      'datasetId.$': '$.run.datasetId',
      'trainingJobName.$': '$.training.jobName',
      ...props.deployed,
      'baselineUri.$': '$.baseline.profileUri',
      'references.$': '$.references',
    });
    const references = retryTransient(
      invokeFunction(this, 'WriteReferences', props.referencesFunction, props.referencesPayload, '$.references'),
    );
    // On failure `$.references` holds the error (`Error`, `Cause`) instead of what was written.
    references.addCatch(deployed, { errors: ['States.ALL'], resultPath: '$.references' });
    baseline.next(references).next(deployed);
    this.startState = baseline;
  }
}
