/**
 * CloudWatch alarms (per alarm metric, high resolution below 60 s; composite alarms), dashboards, log groups
 * (ingestion and storage for their retention) and custom metrics of functions that publish EMF.
 * @see https://aws.amazon.com/cloudwatch/pricing/
 */
import {
  costLine,
  gb,
  refTarget,
  resourcesOfType,
  type Pricer,
  type PricingContext,
  type ResourceRef,
} from '../context';
import { DAYS_PER_MONTH, HOURS_PER_MONTH, type CostLine } from '../types';
import { functionUsage } from './lambda';

export const alarm: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const metrics = Array.isArray(p.Metrics)
    ? (p.Metrics as Record<string, unknown>[]).filter((m) => m.MetricStat !== undefined)
    : [p];
  const periods = metrics.map((m) =>
    Number((m.MetricStat as Record<string, unknown> | undefined)?.Period ?? m.Period ?? 60),
  );
  const highRes = periods.some((s) => s < 60);
  return [
    costLine(
      ref,
      `${highRes ? 'high-resolution' : 'standard'} alarm (${metrics.length} metric${metrics.length === 1 ? '' : 's'})`,
      metrics.length,
      'alarm metric-month',
      ctx.prices.price(highRes ? 'cloudwatch.alarmMetricMonth.highResolution' : 'cloudwatch.alarmMetricMonth.standard'),
      false,
    ),
  ];
};

export const compositeAlarm: Pricer = (ref, ctx) => [
  costLine(ref, 'composite alarm', 1, 'alarm-month', ctx.prices.price('cloudwatch.compositeAlarmMonth'), false),
];

export const dashboard: Pricer = (ref, ctx) => [
  costLine(ref, 'dashboard', 1, 'dashboard-month', ctx.prices.price('cloudwatch.dashboardMonth'), false),
];

/** What writes into a log group: a function (by its LoggingConfig), a state machine, or something else. */
function writerOf(ref: ResourceRef, ctx: PricingContext): { kind: 'function' | 'stateMachine' | 'other'; id?: string } {
  const fn = resourcesOfType(ctx.stacks, 'AWS::Lambda::Function').find(
    (f) =>
      refTarget((f.resource.Properties?.LoggingConfig as Record<string, unknown> | undefined)?.LogGroup) === ref.id,
  );
  if (fn) return { kind: 'function', id: fn.id };
  const sm = resourcesOfType(ctx.stacks, 'AWS::StepFunctions::StateMachine').find((s) => {
    const dests = ((s.resource.Properties?.LoggingConfiguration as Record<string, unknown> | undefined)?.Destinations ??
      []) as Record<string, Record<string, unknown>>[];
    return dests.some((d) => refTarget(d.CloudWatchLogsLogGroup?.LogGroupArn) === ref.id);
  });
  if (sm) return { kind: 'stateMachine', id: sm.id };
  return { kind: 'other' };
}

export const logGroup: Pricer = (ref, ctx) => {
  const w = writerOf(ref, ctx);
  const u = ctx.usage;
  let ingestedGB: number;
  let what: string;
  if (w.kind === 'function' && w.id) {
    const invocations = ctx.workload.invocationsPerMonth(w.id) + functionUsage(w.id, u.lambda).extraInvocations;
    ingestedGB = gb(invocations * u.lambda.logBytesPerInvocation);
    what = `logs of ${w.id}`;
  } else if (w.kind === 'stateMachine' && w.id) {
    ingestedGB = gb(
      ctx.workload.executionsPerMonth(w.id) *
        u.retraining.stateTransitionsPerExecution *
        u.other.logBytesPerStateTransition,
    );
    what = `execution logs of ${w.id}`;
  } else {
    ingestedGB = u.other.otherLogGroupGBPerMonth;
    what = 'logs';
  }
  const retention =
    typeof ref.resource.Properties?.RetentionInDays === 'number'
      ? ref.resource.Properties.RetentionInDays
      : u.other.unexpiredRetentionDays;
  return [
    costLine(ref, `ingestion (${what})`, ingestedGB, 'GB', ctx.prices.price('logs.ingestionGB'), true),
    costLine(
      ref,
      `storage (${retention} days retained, uncompressed upper bound)`,
      (ingestedGB * retention) / DAYS_PER_MONTH,
      'GB-month',
      ctx.prices.price('logs.storageGBMonth'),
      true,
    ),
  ];
};

/**
 * Custom metrics of functions that publish EMF (Powertools metrics namespace in their environment). CloudWatch
 * prorates a custom metric by the hour and meters it only in hours it receives data, so the usage's series count
 * is scaled by the hours the function runs: a function nothing invokes costs nothing.
 */
export function customMetricLines(ref: ResourceRef, ctx: PricingContext): CostLine[] {
  const env = ((ref.resource.Properties?.Environment as Record<string, unknown> | undefined)?.Variables ??
    {}) as Record<string, unknown>;
  const namespace = env.POWERTOOLS_METRICS_NAMESPACE;
  if (typeof namespace !== 'string') return [];
  const own = functionUsage(ref.id, ctx.usage.lambda);
  const extra = own.extraInvocations;
  const hours = Math.min(HOURS_PER_MONTH, ctx.workload.activeHoursPerMonth(ref.id) + Math.min(HOURS_PER_MONTH, extra));
  const series = own.customMetrics ?? ctx.usage.other.customMetrics;
  return [
    costLine(
      ref,
      `custom metrics (EMF, namespace ${namespace}): ${series} series × ${Number(hours.toFixed(2))} of ${HOURS_PER_MONTH} h`,
      (series * hours) / HOURS_PER_MONTH,
      'metric-month',
      ctx.prices.price('cloudwatch.customMetricMonth'),
      true,
      'AWS::CloudWatch::Metric',
    ),
  ];
}
