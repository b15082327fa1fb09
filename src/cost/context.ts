/**
 * What a pricer sees: the resource, its stack, the other stacks of its case study, the prices, the usage of
 * its case study and the workload derived from templates and usage (executions, invocations, volumes).
 */
import type { CaseStudyName, ConfigOverrides, StageName } from '../../lib/config';
import type { CfnResource, StackTemplate } from '../synth/assembly';
import type { StateMachineModel } from './definition';
import type { PriceBook } from './prices';
import { BYTES_PER_GB, DAYS_PER_MONTH, HOURS_PER_MONTH, round6, type CostLine } from './types';
import type { CaseUsage } from './usage';

/** A resource being priced. */
export interface ResourceRef {
  readonly id: string;
  readonly resource: CfnResource;
  readonly stack: StackTemplate;
}

/** Derived monthly activity of one case study. */
export interface Workload {
  /** Stream events per month. */
  readonly eventsPerMonth: number;
  /** State machine models by logical ID (across the case study's stacks). */
  readonly stateMachines: ReadonlyMap<string, StateMachineModel>;
  /** Executions per month of a state machine (usage, at least its scheduled starts). */
  executionsPerMonth(stateMachineId: string): number;
  /** Lambda invocations per month found in the templates (schedules, state machines, stream consumers). */
  invocationsPerMonth(functionId: string): number;
  /**
   * Hours per month in which a function runs at least once (at most 730): what per-hour prorated charges such
   * as custom metrics bill. Scheduled runs and state machine tasks count an hour each, stream consumers the
   * ingestion's active hours, function URLs the serving's active hours.
   */
  activeHoursPerMonth(functionId: string): number;
}

/** Everything a pricer needs. */
export interface PricingContext {
  readonly prices: PriceBook;
  readonly usage: CaseUsage;
  readonly workload: Workload;
  /** Every stack of the same case study (cross-stack lookups: buckets written by a state machine, …). */
  readonly stacks: readonly StackTemplate[];
  readonly stage: StageName;
  readonly caseStudy: CaseStudyName;
  /** Config overrides the templates were synthesized with (for the stage-config fallback). */
  readonly overrides?: ConfigOverrides;
}

/** Prices the components of one resource. */
export type Pricer = (ref: ResourceRef, ctx: PricingContext) => CostLine[];

/** Builds a line: quantity rounded to 6 decimals, then `monthly = quantity × unitPrice` exactly. */
export function costLine(
  ref: { id: string; stack: { stackName: string }; resource: { Type: string } },
  component: string,
  quantity: number,
  unit: string,
  unitPrice: number,
  usageBased: boolean,
  type = ref.resource.Type,
): CostLine {
  const q = round6(quantity);
  return {
    stack: ref.stack.stackName,
    resource: ref.id,
    type,
    component,
    quantity: q,
    unit,
    unitPrice,
    monthly: q * unitPrice,
    usageBased,
  };
}

/** A `{ Ref: id }` or `{ Fn::GetAtt: [id, …] }` pointing at a logical ID, else undefined. */
export function refTarget(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return v.Ref;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

/** Runs per month of an EventBridge schedule expression (`rate(1 hour)`, `cron(0 3 * * ? *)`). */
export function runsPerMonth(expression: string): number {
  const rate = expression.match(/^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/);
  if (rate) {
    const n = Number(rate[1]);
    const minutes = rate[2].startsWith('minute') ? n : rate[2].startsWith('hour') ? n * 60 : n * 1440;
    return (HOURS_PER_MONTH * 60) / minutes;
  }
  const cron = expression.match(/^cron\((\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))?\)$/);
  if (cron) {
    const count = (field: string, range: number) => {
      if (field === '*' || field === '?') return range;
      const step = field.match(/^(?:\*|\d+)\/(\d+)$/);
      if (step) return Math.ceil(range / Number(step[1]));
      return field.split(',').length;
    };
    const perDay = count(cron[1], 60) * count(cron[2], 24);
    const dow = cron[5];
    const dom = cron[3];
    const daysPerMonth =
      dow !== '?' && dow !== '*'
        ? (count(dow, 7) * DAYS_PER_MONTH) / 7
        : dom !== '?' && dom !== '*'
          ? count(dom, 31)
          : DAYS_PER_MONTH;
    return perDay * daysPerMonth;
  }
  return 0;
}

/** Bytes → GB (binary, as AWS bills). */
export const gb = (bytes: number): number => bytes / BYTES_PER_GB;

/** Every resource of a type in the case study's stacks. */
export function resourcesOfType(stacks: readonly StackTemplate[], type: string): ResourceRef[] {
  return stacks.flatMap((stack) =>
    Object.entries(stack.resources)
      .filter(([, r]) => r.Type === type)
      .map(([id, resource]) => ({ id, resource, stack })),
  );
}
