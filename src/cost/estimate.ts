/**
 * The estimator: walks every resource of every stack, classifies its type (priced, free, or unknown → error),
 * prices it with the usage of its case study, and adds the SageMaker training jobs and endpoints that the
 * retraining state machine creates at run time.
 */
import type { CaseStudyName, ConfigOverrides, StageName } from '../../lib/config';
import type { StackTemplate } from '../synth/assembly';
import { refTarget, resourcesOfType, runsPerMonth, type PricingContext, type Workload } from './context';
import { parseStateMachine, type StateMachineModel } from './definition';
import { priceBook, type PriceBook, type PriceTable } from './prices';
import { endpointLines, trainingLines } from './pricers/sagemaker';
import { classify } from './registry';
import { CostError, HOURS_PER_MONTH, type CostLine, type Estimate } from './types';
import type { CaseUsage, UsageProfile } from './usage';

/** What an estimate is computed from. */
export interface EstimateInput {
  readonly stacks: readonly StackTemplate[];
  readonly usage: UsageProfile;
  readonly prices: PriceTable;
  /** @default the stacks' region, else us-east-1 */
  readonly region?: string;
  /** Only the stacks of this case study. @default all */
  readonly caseStudy?: CaseStudyName;
  /** Config overrides the stacks were synthesized with (used by the stage-config fallback). */
  readonly overrides?: ConfigOverrides;
}

/** The region used when neither the command line nor the assembly names one. */
export const DEFAULT_REGION = 'us-east-1';

function buildWorkload(stacks: readonly StackTemplate[], usage: CaseUsage): Workload {
  const stateMachines = new Map<string, StateMachineModel>();
  for (const ref of resourcesOfType(stacks, 'AWS::StepFunctions::StateMachine')) {
    stateMachines.set(ref.id, parseStateMachine(ref.resource, `${ref.stack.stackName}/${ref.id}`));
  }
  const rules = resourcesOfType(stacks, 'AWS::Events::Rule');
  const targetsOf = (id: string) =>
    rules.flatMap((rule) =>
      ((rule.resource.Properties?.Targets ?? []) as Record<string, unknown>[])
        .filter((t) => refTarget(t.Arn) === id)
        .map(() => rule.resource.Properties ?? {}),
    );
  const ruleRuns = (props: Record<string, unknown>) =>
    typeof props.ScheduleExpression === 'string'
      ? runsPerMonth(props.ScheduleExpression)
      : usage.other.customEventsPerRulePerMonth;
  const eventsPerMonth = usage.ingestion.eventsPerSecond * 3600 * usage.ingestion.activeHoursPerMonth;
  const executionsPerMonth = (id: string) => {
    const scheduled = targetsOf(id)
      .filter((p) => typeof p.ScheduleExpression === 'string')
      .reduce((n, p) => n + ruleRuns(p), 0);
    return Math.max(usage.retraining.executionsPerMonth, scheduled);
  };
  const mappings = resourcesOfType(stacks, 'AWS::Lambda::EventSourceMapping');
  const urls = resourcesOfType(stacks, 'AWS::Lambda::Url');
  const fromStateMachines = (functionId: string) => {
    let n = 0;
    for (const [id, model] of stateMachines) n += (model.references.get(functionId) ?? 0) * executionsPerMonth(id);
    return n;
  };
  const streamMappings = (functionId: string) =>
    mappings.filter((m) => refTarget(m.resource.Properties?.FunctionName) === functionId);
  const functionUrls = (functionId: string) =>
    urls.filter((u) => refTarget(u.resource.Properties?.TargetFunctionArn) === functionId);
  const fromRules = (functionId: string) => targetsOf(functionId).reduce((n, p) => n + ruleRuns(p), 0);
  return {
    eventsPerMonth,
    stateMachines,
    executionsPerMonth,
    invocationsPerMonth(functionId: string): number {
      const fromStreams = streamMappings(functionId).reduce((n, m) => {
        const batch = Number(m.resource.Properties?.BatchSize ?? 0) || usage.lambda.eventSourceBatchSize;
        return n + eventsPerMonth / Math.max(1, batch);
      }, 0);
      const fromUrls = functionUrls(functionId).length * usage.other.apiRequestsPerMonth;
      return fromRules(functionId) + fromStateMachines(functionId) + fromStreams + fromUrls;
    },
    activeHoursPerMonth(functionId: string): number {
      const streamHours =
        streamMappings(functionId).length > 0 && eventsPerMonth > 0 ? usage.ingestion.activeHoursPerMonth : 0;
      const urlHours =
        functionUrls(functionId).length > 0 && usage.other.apiRequestsPerMonth > 0
          ? usage.serving.activeHoursPerMonth
          : 0;
      const hours =
        Math.min(HOURS_PER_MONTH, fromRules(functionId) + fromStateMachines(functionId)) + streamHours + urlHours;
      return Math.min(HOURS_PER_MONTH, hours);
    },
  };
}

/** One pricing context per case study of the stacks. */
export function pricingContexts(
  input: EstimateInput,
  stacks: readonly StackTemplate[],
  stage: StageName,
  prices: PriceBook,
): PricingContext[] {
  return [...new Set(stacks.map((s) => s.caseStudy))].map((caseStudy) => {
    if (!caseStudy)
      throw new CostError(`cannot tell the case study of stack ${stacks.find((s) => !s.caseStudy)?.stackName}`);
    const group = stacks.filter((s) => s.caseStudy === caseStudy);
    const usage = input.usage.caseStudies[caseStudy];
    return {
      prices,
      usage,
      workload: buildWorkload(group, usage),
      stacks: group,
      stage,
      caseStudy,
      overrides: input.overrides ?? (input.usage.synthOverrides as ConfigOverrides | undefined),
    };
  });
}

/** The stage of a set of stacks; they must agree. */
export function stageOf(stacks: readonly StackTemplate[]): StageName {
  const stages = [...new Set(stacks.map((s) => s.stage))];
  if (stages.length !== 1 || !stages[0]) {
    throw new CostError(
      `the stacks must all belong to one stage named by their stack names (<Stage>-<CaseStudy>-<Part>); found ${stacks.map((s) => s.stackName).join(', ')}`,
    );
  }
  return stages[0];
}

/** Prices every billable resource of the stacks. */
export function estimate(input: EstimateInput): Estimate {
  const stacks = input.stacks.filter((s) => !input.caseStudy || s.caseStudy === input.caseStudy);
  if (stacks.length === 0) throw new CostError(`no stacks of case study "${input.caseStudy}" in the templates`);
  const stage = stageOf(stacks);
  if (input.usage.stage !== stage) {
    throw new CostError(`the usage profile describes the ${input.usage.stage} stage; the templates are ${stage}`);
  }
  const region = input.region ?? stacks.find((s) => s.region)?.region ?? DEFAULT_REGION;
  const prices = priceBook(input.prices, region);

  const unknown: string[] = [];
  const lines: CostLine[] = [];
  for (const ctx of pricingContexts(input, stacks, stage, prices)) {
    const group = ctx.stacks;
    const usage = ctx.usage;
    for (const stack of group) {
      for (const [id, resource] of Object.entries(stack.resources)) {
        const c = classify(resource.Type);
        if (!c) unknown.push(`${resource.Type} (${stack.stackName}/${id})`);
        else if (c.kind === 'priced') lines.push(...c.pricer({ id, resource, stack }, ctx));
      }
    }
    const fallback = group.find((s) => s.stackName.endsWith('-ML')) ?? group[0];
    if (usage.training.retrainsPerMonth > 0) lines.push(...trainingLines(ctx, fallback));
    lines.push(...endpointLines(ctx, fallback));
  }
  if (unknown.length > 0) {
    throw new CostError(
      `unpriced billable resource type${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}; add a pricer in src/cost/pricers/ and register it in src/cost/registry.ts (or classify the type as free there)`,
    );
  }
  return {
    currency: 'USD',
    region,
    stage,
    priceTableDate: input.prices.date,
    totalMonthly: lines.reduce((n, l) => n + l.monthly, 0),
    lines,
  };
}
