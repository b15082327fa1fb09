/**
 * The dataset: count the new records since the champion's dataset ended; with too few, end the run without
 * training; otherwise the case study's states build the dataset with Athena.
 */
import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { BlueprintFunction } from '../../constructs/blueprint-function';
import type { LoopCaseStudy } from '../case-study';
import type { RetrainingLoopProps } from '../props';
import type { LoopStates } from '../states';
import { BackoffGate } from './backoff';

/**
 * Predicate of a dataset window with three placeholders: window start (twice), window end. Partition pruning on
 * `dt`, exact bounds on `event_time`.
 */
const IN_WINDOW = `dt >= substr('{}', 1, 10) AND event_time > from_iso8601_timestamp('{}') AND event_time <= from_iso8601_timestamp('{}')`;

/** Properties of a {@link DatasetPhase}. */
export interface DatasetPhaseProps {
  readonly states: LoopStates;
  readonly study: LoopCaseStudy;
  /** The loop's properties (table, buckets, recipe, window). */
  readonly props: RetrainingLoopProps;
  /** Scope of the resources the case study creates (the loop). */
  readonly loop: Construct;
  /** Holds the back-off record (`<endpoint>#backoff`) besides the lock. */
  readonly lockTable: dynamodb.ITableV2;
}

/** `CountNewRecords` → `ReadNewRecordCount` → `EnoughNewData?` → the case study's dataset states. */
export class DatasetPhase extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];
  /** Lambdas the case study's states invoke. */
  public readonly functions: Readonly<Record<string, BlueprintFunction>>;

  constructor(scope: Construct, id: string, p: DatasetPhaseProps) {
    super(scope, id);
    const { states, study, props } = p;
    const table = `"${props.databaseName}"."${props.tableName}"`;
    const countNew = states.athena(
      this,
      'CountNewRecords',
      '$.countQuery',
      `SELECT count(*) AS n FROM ${table} WHERE ${IN_WINDOW}${study.newRecordCondition ?? ''}`,
      '$.champion.since',
      '$.champion.since',
      '$.run.windowEnd',
    );
    const readCount = states.guard(
      new sfn.CustomState(this, 'ReadNewRecordCount', {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${Stack.of(this).partition}:states:::athena:getQueryResults`,
          TimeoutSeconds: 300,
          Parameters: { 'QueryExecutionId.$': '$.countQuery.id', MaxResults: 2 },
          ResultSelector: { 'count.$': 'States.StringToJson($.ResultSet.Rows[1].Data[0].VarCharValue)' },
          ResultPath: '$.newData',
        },
      }),
    );
    const insufficient = states.outcome(this, 'RecordInsufficientData', {
      status: 'skipped',
      'reason.$': `States.Format('only {} new records since {} (at least ${props.minNewRecords} needed): no training', $.newData.count, $.champion.since)`,
      'datasetId.$': '$.run.datasetId',
    });
    const dataset = study.buildDataset({
      scope: this,
      loop: p.loop,
      props,
      states,
      table,
      inWindow: IN_WINDOW,
      datasetUri: (suffix) =>
        sfn.JsonPath.format(
          `s3://${props.curatedBucket.bucketName}/datasets/{}/${suffix}`,
          sfn.JsonPath.stringAt('$.run.datasetId'),
        ),
    });
    // Drift-triggered runs pass the back-off gate; a person or the schedule is never held back.
    const gate = new BackoffGate(this, 'Backoff', {
      states,
      lockTable: p.lockTable,
      endpointName: props.endpointName,
    });
    gate.proceedTo(dataset.start);
    countNew
      .next(readCount)
      .next(
        new sfn.Choice(this, 'EnoughNewData?')
          .when(sfn.Condition.numberLessThan('$.newData.count', props.minNewRecords), insufficient)
          .when(sfn.Condition.stringEquals('$.run.trigger.kind', 'drift'), gate)
          .otherwise(dataset.start),
      );
    this.functions = dataset.functions ?? {};
    this.startState = countNew;
    this.endStates = [dataset.end];
  }
}
