import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Properties of {@link EndpointAlarms}. */
export interface EndpointAlarmsProps {
  /** The endpoint (created by the retraining loop, so only its name is known). */
  readonly endpointName: string;
  /** @default 'AllTraffic' */
  readonly variantName?: string;
  /** Where alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** ModelLatency p90 above this raises an alarm (and rolls a canary back). @default Duration.millis(500) */
  readonly latencyThreshold?: Duration;
  /** Server errors (5xx and model errors) per minute that raise an alarm. @default 5 */
  readonly errorThreshold?: number;
  /** Client errors (4xx) per 5 minutes that raise an alarm. @default 50 */
  readonly clientErrorThreshold?: number;
  /** Invocations per minute above which the endpoint nears its autoscaling ceiling. */
  readonly invocationsCeiling: number;
  /** The hosting instance has GPUs: alarm on GPU utilization too. @default false */
  readonly gpu?: boolean;
}

/**
 * CloudWatch alarms of a SageMaker endpoint. Three of them (5xx, model errors, p90 model latency) are the
 * auto-rollback alarms of blue/green deployments: a canary that trips one is rolled back by SageMaker. Every alarm
 * notifies the topic. Missing data (no endpoint yet, no traffic) is not breaching.
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html
 */
export class EndpointAlarms extends Construct {
  /** Alarms watched by blue/green auto-rollback. */
  public readonly rollbackAlarms: cloudwatch.Alarm[];
  /** Every alarm (rollback alarms included). */
  public readonly alarms: cloudwatch.Alarm[];
  private readonly endpointName: string;
  private readonly variantName: string;

  constructor(scope: Construct, id: string, props: EndpointAlarmsProps) {
    super(scope, id);
    this.endpointName = props.endpointName;
    this.variantName = props.variantName ?? 'AllTraffic';
    const errors = props.errorThreshold ?? 5;
    if (errors < 1) throw new Error(`errorThreshold must be at least 1; received ${errors}`);
    const latency = props.latencyThreshold ?? Duration.millis(500);
    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric, threshold: number, periods = 2) =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: `${props.endpointName}: ${description}. Runbook: docs/runbooks/endpoint-errors.md`,
        metric,
        threshold,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.rollbackAlarms = [
      alarm('Invocation5xxAlarm', `${errors}+ server errors (5xx) a minute`, this.metricInvocation5xx(), errors),
      alarm('ModelErrorsAlarm', `${errors}+ model errors a minute`, this.metricModelErrors(), errors),
      alarm(
        'ModelLatencyAlarm',
        `ModelLatency p90 at or above ${latency.toMilliseconds()} ms`,
        this.metricModelLatency(),
        latency.toMilliseconds() * 1000, // ModelLatency is in microseconds
      ),
    ];
    this.alarms = [
      ...this.rollbackAlarms,
      alarm(
        'Invocation4xxAlarm',
        `${props.clientErrorThreshold ?? 50}+ client errors (4xx) in 5 minutes`,
        this.metricInvocation4xx({ period: Duration.minutes(5) }),
        props.clientErrorThreshold ?? 50,
        1,
      ),
      alarm(
        'InvocationsAlarm',
        `invocations near the autoscaling ceiling (${props.invocationsCeiling} a minute)`,
        this.metricInvocations(),
        props.invocationsCeiling,
        5,
      ),
    ];
    if (props.gpu) {
      this.alarms.push(
        alarm(
          'GpuUtilizationAlarm',
          'GPU utilization at or above 90% for 15 minutes',
          this.metricGpuUtilization(),
          90,
          3,
        ),
      );
    }
    const action = new cwActions.SnsAction(props.alarmTopic);
    for (const a of this.alarms) a.addAlarmAction(action);
  }

  /** Requests answered with 5xx, per minute. */
  public metricInvocation5xx(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.invocationMetric('Invocation5XXErrors', { statistic: 'Sum', ...props });
  }

  /** Requests answered with 4xx, per minute. */
  public metricInvocation4xx(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.invocationMetric('Invocation4XXErrors', { statistic: 'Sum', ...props });
  }

  /** Requests the model container failed. */
  public metricModelErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.invocationMetric('InvocationModelErrors', { statistic: 'Sum', ...props });
  }

  /** Model latency (microseconds), p90. */
  public metricModelLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.invocationMetric('ModelLatency', { statistic: 'p90', ...props });
  }

  /** Invocations per minute. */
  public metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.invocationMetric('Invocations', { statistic: 'Sum', ...props });
  }

  /** GPU utilization (percent, summed over GPUs of an instance), average. */
  public metricGpuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: '/aws/sagemaker/Endpoints',
      metricName: 'GPUUtilization',
      dimensionsMap: { EndpointName: this.endpointName, VariantName: this.variantName },
      statistic: 'Average',
      period: Duration.minutes(5),
      ...props,
    });
  }

  private invocationMetric(name: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/SageMaker',
      metricName: name,
      dimensionsMap: { EndpointName: this.endpointName, VariantName: this.variantName },
      period: Duration.minutes(1),
      ...props,
    });
  }
}
