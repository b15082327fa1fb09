/**
 * SageMaker training jobs and real-time endpoints. The retraining state machine creates both at run time, so
 * their settings come from its definition (`CreateTrainingJob`, `CreateEndpointConfig`,
 * `RegisterScalableTarget`); when no state machine of the case study defines them yet, from the stage config
 * (`resolveConfig`), and the line says so. Training: instance-hours per retrain × retrains (spot discount from the
 * usage profile when the job enables managed spot) and ML storage; endpoints: instance-hours from the expected
 * instance count clamped to the autoscaling bounds, and data processed in and out.
 * @see https://aws.amazon.com/sagemaker/ai/pricing/
 */
import { resolveConfig } from '../../../lib/config';
import type { StackTemplate } from '../assembly';
import { costLine, gb, type PricingContext } from '../context';
import type { EndpointSettings, TrainingSettings } from '../definition';
import { HOURS_PER_MONTH, type CostLine } from '../types';

/** Where settings came from: a state machine of the templates or the stage config. */
export interface SettingsSource {
  /** Logical ID and stack of the state machine, or undefined for the stage config. */
  readonly stateMachine?: { readonly id: string; readonly stack: StackTemplate };
}

/** Training as priced. */
export interface TrainingModel extends SettingsSource {
  readonly settings: TrainingSettings;
  readonly retrainsPerMonth: number;
  /** Billable hours per run per instance (the usage, capped at the job's MaxRuntime). */
  readonly hoursPerRun: number;
}

/** The endpoint as priced. */
export interface EndpointModel extends SettingsSource {
  readonly settings: EndpointSettings;
  /** Instances while the endpoint exists (usage clamped to the autoscaling bounds). */
  readonly instances: number;
  readonly instanceHours: number;
}

function stateMachineWith<K extends 'training' | 'endpoint'>(ctx: PricingContext, key: K) {
  for (const [id, model] of ctx.workload.stateMachines) {
    const value = model[key];
    if (value) {
      const stack = ctx.stacks.find((s) => s.resources[id]);
      if (stack) return { id, stack, value: value as NonNullable<(typeof model)[K]> };
    }
  }
  return undefined;
}

function config(ctx: PricingContext) {
  return resolveConfig(ctx.stage, ctx.caseStudy, ctx.overrides ?? {});
}

/** The training job of the case study: from its state machine, else from the stage config. */
export function trainingModel(ctx: PricingContext): TrainingModel {
  const found = stateMachineWith(ctx, 'training');
  let settings: TrainingSettings;
  if (found) {
    settings = found.value;
  } else {
    const t = config(ctx).training;
    settings = {
      instanceType: t.instanceType,
      instanceCount: t.instanceCount,
      volumeSizeGB: t.volumeSizeGiB,
      spot: t.useSpot,
      maxRuntimeSeconds: t.maxRuntimeHours * 3600,
      maxWaitSeconds: t.useSpot ? t.maxWaitHours * 3600 : undefined,
    };
  }
  const cap = settings.maxRuntimeSeconds !== undefined ? settings.maxRuntimeSeconds / 3600 : Infinity;
  return {
    settings,
    stateMachine: found && { id: found.id, stack: found.stack },
    retrainsPerMonth: ctx.usage.training.retrainsPerMonth,
    hoursPerRun: Math.min(ctx.usage.training.hoursPerRun, cap),
  };
}

/** The endpoint of the case study: from its state machine, else from the stage config. */
export function endpointModel(ctx: PricingContext): EndpointModel {
  const found = stateMachineWith(ctx, 'endpoint');
  let settings: EndpointSettings;
  if (found) {
    settings = found.value;
  } else {
    const s = config(ctx).serving;
    settings = {
      instanceType: s.instanceType,
      initialInstanceCount: s.initialInstanceCount,
      capturePercent: s.dataCapturePercent,
      minCapacity: Math.max(1, s.minCapacity),
      maxCapacity: s.maxCapacity,
    };
  }
  const u = ctx.usage.serving;
  const min = settings.minCapacity ?? settings.initialInstanceCount;
  const max = settings.maxCapacity ?? Math.max(min, settings.initialInstanceCount);
  const instances = Math.min(max, Math.max(min, u.averageInstances));
  return {
    settings,
    stateMachine: found && { id: found.id, stack: found.stack },
    instances,
    instanceHours: instances * u.endpointHoursPerMonth,
  };
}

function anchor(source: SettingsSource, fallbackStack: StackTemplate, type: string) {
  return source.stateMachine
    ? { id: source.stateMachine.id, stack: source.stateMachine.stack, resource: { Type: type } }
    : { id: '(stage config)', stack: fallbackStack, resource: { Type: type } };
}

const fromWhere = (source: SettingsSource) =>
  source.stateMachine ? '' : ' [from the stage config: no state machine in the templates defines it]';

/** Training job lines of one case study. */
export function trainingLines(ctx: PricingContext, fallbackStack: StackTemplate): CostLine[] {
  const m = trainingModel(ctx);
  const s = m.settings;
  const ref = anchor(m, fallbackStack, 'AWS::SageMaker::TrainingJob');
  const onDemand = ctx.prices.instancePrice('training', s.instanceType);
  const spot = s.spot ? ctx.usage.training.spotSavings : 0;
  const instanceHours = m.retrainsPerMonth * m.hoursPerRun * s.instanceCount;
  const pricing = s.spot ? `managed spot at ${Math.round(spot * 100)}% off $${onDemand}/h` : 'on-demand';
  return [
    costLine(
      ref,
      `training ${s.instanceCount} × ${s.instanceType}, ${m.retrainsPerMonth} retrains × ${m.hoursPerRun} h, ${pricing}${fromWhere(m)}`,
      instanceHours,
      'instance-hour',
      onDemand * (1 - spot),
      true,
    ),
    costLine(
      ref,
      `training volumes (${s.instanceCount} × ${s.volumeSizeGB} GB for ${m.retrainsPerMonth * m.hoursPerRun} h)${fromWhere(m)}`,
      (s.volumeSizeGB * instanceHours) / HOURS_PER_MONTH,
      'GB-month',
      ctx.prices.price('sagemaker.storageGBMonth'),
      true,
    ),
  ];
}

/** Endpoint lines of one case study. */
export function endpointLines(ctx: PricingContext, fallbackStack: StackTemplate): CostLine[] {
  const m = endpointModel(ctx);
  const s = m.settings;
  const u = ctx.usage.serving;
  const ref = anchor(m, fallbackStack, 'AWS::SageMaker::Endpoint');
  const bounds = `autoscaling ${s.minCapacity ?? '?'}–${s.maxCapacity ?? '?'}`;
  return [
    costLine(
      ref,
      `endpoint ${m.instances} × ${s.instanceType} (${bounds}) for ${u.endpointHoursPerMonth} h${fromWhere(m)}`,
      m.instanceHours,
      'instance-hour',
      ctx.prices.instancePrice('hosting', s.instanceType),
      true,
    ),
    costLine(
      ref,
      'data processed in',
      gb(u.requestsPerMonth * u.requestBytes),
      'GB',
      ctx.prices.price('sagemaker.dataProcessedInGB'),
      true,
    ),
    costLine(
      ref,
      'data processed out',
      gb(u.requestsPerMonth * u.responseBytes),
      'GB',
      ctx.prices.price('sagemaker.dataProcessedOutGB'),
      true,
    ),
  ];
}

/** Hosting instance-hours per month a CloudFormation endpoint config would bill (if one is ever in a template). */
export function endpointConfigLines(
  ref: { id: string; stack: StackTemplate; resource: { Type: string; Properties?: Record<string, unknown> } },
  ctx: PricingContext,
): CostLine[] {
  const variants = (ref.resource.Properties?.ProductionVariants ?? []) as Record<string, unknown>[];
  return variants
    .filter((v) => typeof v.InstanceType === 'string')
    .map((v) => {
      const count = typeof v.InitialInstanceCount === 'number' ? v.InitialInstanceCount : 1;
      return costLine(
        ref,
        `variant ${String(v.VariantName)}: ${count} × ${String(v.InstanceType)} for ${HOURS_PER_MONTH} h`,
        count * HOURS_PER_MONTH,
        'instance-hour',
        ctx.prices.instancePrice('hosting', v.InstanceType as string),
        false,
      );
    });
}
