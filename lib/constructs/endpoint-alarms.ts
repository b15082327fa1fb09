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
  /**
   * Share of requests (percent) answered with a server error (5xx) or a model error that raises an alarm, measured
   * per minute over two minutes. A rate, not a count, so that a bad canary trips it at sandbox traffic too.
   * @default 5
   */
  readonly errorRatePercent?: number;
  /** Client errors (4xx) per 5 minutes that raise an alarm. @default 50 */
  readonly clientErrorThreshold?: number;
  /** Invocations per minute above which the endpoint nears its autoscaling ceiling. */
  readonly invocationsCeiling: number;
  /** The hosting instance has GPUs: alarm on GPU utilization too. @default false */
  readonly gpu?: boolean;
}

/**
 * CloudWatch alarms of a SageMaker endpoint. Three of them (5xx rate, model-error rate, p90 model latency) are the
 * auto-rollback alarms of blue/green deployments: a canary that trips one is rolled back by SageMaker. The error
 * alarms are rates (metric math: errors / invocations, both filled with 0), so one failing request in a minute of
 * two is 50 % at low traffic, while a count threshold would never be reached there. Every alarm notifies the
 * topic. Missing data (no endpoint yet, no traffic) is not breaching.
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
    const errorRate = props.errorRatePercent ?? 5;
    if (!(errorRate > 0 && errorRate <= 100)) {
      throw new Error(`errorRatePercent must be more than 0 and at most 100; received ${errorRate}`);
    }
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
      alarm(
        'Invocation5xxAlarm',
        `${errorRate}%+ of requests answered with a server error (5xx) for 2 minutes`,
        this.metricErrorRate(this.metricInvocation5xx(), '5xx rate'),
        errorRate,
      ),
      alarm(
        'ModelErrorsAlarm',
        `${errorRate}%+ of requests failed by the model for 2 minutes`,
        this.metricErrorRate(this.metricModelErrors(), 'model-error rate'),
        errorRate,
      ),
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

  /**
   * Percent of invocations that `errors` counts, per minute: `IF(invocations > 0, 100 × errors / invocations, 0)`
   * with both filled with 0, so quiet minutes are 0 % rather than missing.
   */
  public metricErrorRate(errors: cloudwatch.IMetric, label: string): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'IF(FILL(invocations, 0) > 0, 100 * FILL(errors, 0) / FILL(invocations, 0), 0)',
      usingMetrics: { errors, invocations: this.metricInvocations() },
      period: Duration.minutes(1),
      label: `${this.endpointName} ${label} (%)`,
    });
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
