import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { DriftMonitor } from './drift-monitor';
import type { EndpointAlarms } from './endpoint-alarms';
import type { RetrainingLoop } from '../retraining/loop';

/** Properties of an {@link MlDashboard}. */
export interface MlDashboardProps {
  /** Dashboard title (first text widget). */
  readonly title: string;
  readonly loop: RetrainingLoop;
  readonly endpoint: EndpointAlarms;
  readonly drift: DriftMonitor;
  /** The endpoint has GPUs: show GPU utilization. @default false */
  readonly gpu?: boolean;
}

/**
 * One CloudWatch dashboard per case study: the retraining loop (runs, outcomes, duration), the endpoint
 * (traffic, errors, latency, GPU) and drift, with every alarm's state.
 */
export class MlDashboard extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MlDashboardProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const { loop, endpoint, drift } = props;
    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      defaultInterval: Duration.days(7),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown: `# ${props.title}\nRetraining loop, endpoint and drift. Runbook: docs/retraining.md`,
            width: 24,
            height: 2,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Retraining runs',
            left: [
              loop.metricStarted({ period: Duration.hours(1), statistic: 'Sum', label: 'started' }),
              loop.metricSucceeded({ period: Duration.hours(1), statistic: 'Sum', label: 'succeeded' }),
              loop.metricFailed({ period: Duration.hours(1), statistic: 'Sum', label: 'failed / rolled back' }),
            ],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Retraining run duration',
            left: [loop.metricTime({ period: Duration.hours(1), statistic: 'Maximum' })],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Invocations',
            left: [endpoint.metricInvocations({ period })],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Errors',
            left: [
              endpoint.metricInvocation5xx({ period }),
              endpoint.metricInvocation4xx({ period }),
              endpoint.metricModelErrors({ period }),
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Model latency p90 (µs)',
            left: [endpoint.metricModelLatency({ period })],
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Drift',
            left: [drift.metricDriftedShare({ period: Duration.hours(1) })],
            right: [drift.metricDatasetDrifted({ period: Duration.hours(1) })],
            width: props.gpu ? 12 : 24,
          }),
          ...(props.gpu
            ? [
                new cloudwatch.GraphWidget({
                  title: 'GPU utilization (%)',
                  left: [endpoint.metricGpuUtilization()],
                  width: 12,
                }),
              ]
            : []),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: [loop.failureAlarm, ...endpoint.alarms, ...drift.alarms],
            width: 24,
          }),
        ],
      ],
    });
  }
}
