/**
 * Two shapes every scheduled job and queue of the blueprint repeats: an EventBridge rate rule that invokes a function
 * with retries and a dead-letter queue, and an alarm that fires as soon as a count reaches one. The constructs are
 * created in the caller's scope under the ids it gives, so logical IDs stay the caller's.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** What {@link scheduleFunction} needs. */
export interface ScheduledInvocation {
  readonly function: lambda.IFunction;
  readonly schedule: Duration;
  /** The rule's description. */
  readonly description: string;
  /** Where invocations that still fail after the retries go. */
  readonly deadLetterQueue: sqs.IQueue;
}

/**
 * A rate rule (`Schedule`) that invokes the function, retried twice, events older than an hour dropped to the
 * dead-letter queue.
 */
export function scheduleFunction(scope: Construct, props: ScheduledInvocation): events.Rule {
  const rule = new events.Rule(scope, 'Schedule', {
    description: props.description,
    schedule: events.Schedule.rate(props.schedule),
  });
  rule.addTarget(
    new targets.LambdaFunction(props.function, {
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    }),
  );
  return rule;
}

/**
 * An alarm when the metric reaches 1 in one period (errors, dead letters, a drift or drop flag); missing data (no
 * invocation, an empty queue) is not breaching.
 */
export function alarmOnAny(
  scope: Construct,
  id: string,
  props: { readonly description: string; readonly metric: cloudwatch.IMetric },
): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: props.description,
    metric: props.metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
