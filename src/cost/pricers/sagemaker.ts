/**
 * SageMaker training jobs and real-time endpoints. The retraining state machine creates both at run time, so
 * their settings come from its definition (`CreateTrainingJob`, `CreateEndpointConfig`,
 * `RegisterScalableTarget`); when no state machine of the case study defines them yet, from the stage config
 * (`resolveConfig`), and the line says so. Training: instance-hours per retrain × retrains (spot discount from the
 * usage profile when the job enables managed spot) and ML storage. Endpoints bill for what they do: an instance
 * endpoint 730 h a month at its autoscaling floor (plus the instances above it while serving), a scale-to-zero
 * endpoint only its serving hours, a serverless endpoint memory × processing time; all of them data processed in
 * and out. Before the loop deploys a first model there is no endpoint.
 * @see https://aws.amazon.com/sagemaker/ai/pricing/
 */
import { resolveConfig } from '../../../lib/config';
import type { StackTemplate } from '../../synth/assembly';
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
  /** False before the loop deploys a first model: no endpoint exists. */
  readonly deployed: boolean;
  /** Instances kept all month (the autoscaling floor of an instance endpoint; 0 otherwise). */
  readonly floorInstances: number;
  /** Instances while serving (usage clamped to the template's bounds; 0 for serverless). */
  readonly instances: number;
  /** Billed instance-hours a month. */
  readonly instanceHours: number;
  /** Billed serverless compute a month (memory GB × processing seconds). */
  readonly serverlessGBSeconds: number;
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

const clamp = (n: number, min: number, max: number) => Math.min(Math.max(n, min), Math.max(min, max));

/** Endpoint settings from the stage config, when no state machine defines them. */
function configEndpoint(ctx: PricingContext): EndpointSettings {
  const c = config(ctx);
  const s = c.serving;
  const scaleToZero = c.vision?.serving.scaleToZero === true || s.minCapacity === 0;
  return {
    kind: scaleToZero ? 'scale-to-zero' : 'instance',
    instanceType: s.instanceType,
    initialInstanceCount: s.initialInstanceCount,
    capturePercent: s.dataCapturePercent,
    minCapacity: scaleToZero ? 0 : Math.max(1, s.minCapacity),
    maxCapacity: s.maxCapacity,
  };
}

/** The endpoint of the case study (from its state machine, else the stage config) and what it bills. */
export function endpointModel(ctx: PricingContext): EndpointModel {
  const found = stateMachineWith(ctx, 'endpoint');
  const settings = found ? found.value : configEndpoint(ctx);
  const u = ctx.usage.serving;
  const source = { stateMachine: found && { id: found.id, stack: found.stack } };
  const none = { floorInstances: 0, instances: 0, instanceHours: 0, serverlessGBSeconds: 0 };
  if (!u.modelDeployed) return { settings, ...source, deployed: false, ...none };
  if (settings.kind === 'serverless') {
    const memoryGB = (settings.serverless?.memorySizeMB ?? 1024) / 1024;
    const seconds = (u.requestsPerMonth * u.serverlessMsPerRequest) / 1000;
    return { settings, ...source, deployed: true, ...none, serverlessGBSeconds: memoryGB * seconds };
  }
  if (settings.kind === 'scale-to-zero') {
    const max = settings.maxInstances ?? settings.maxCapacity ?? 1;
    const instances = u.activeHoursPerMonth > 0 ? clamp(u.averageInstances, 1, max) : 0;
    return {
      settings,
      ...source,
      deployed: true,
      ...none,
      instances,
      instanceHours: instances * u.activeHoursPerMonth,
    };
  }
  // An instance endpoint bills its floor every hour it exists, and the instances above it while serving.
  const floor = Math.max(1, settings.minCapacity ?? settings.initialInstanceCount);
  const max = settings.maxCapacity ?? Math.max(floor, settings.initialInstanceCount);
  const instances = clamp(u.averageInstances, floor, max);
  return {
    settings,
    ...source,
    deployed: true,
    ...none,
    floorInstances: floor,
    instances,
    instanceHours: floor * HOURS_PER_MONTH + (instances - floor) * u.activeHoursPerMonth,
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

const fmt = (n: number) => Number(n.toFixed(2)).toString();

/** Instance-hour lines: a scale-to-zero endpoint's serving hours, or an instance endpoint's floor and burst. */
function instanceLines(ctx: PricingContext, m: EndpointModel, ref: ReturnType<typeof anchor>): CostLine[] {
  const s = m.settings;
  const hours = ctx.usage.serving.activeHoursPerMonth;
  const price = ctx.prices.instancePrice('hosting', s.instanceType);
  if (s.kind === 'scale-to-zero') {
    return [
      costLine(
        ref,
        `scale-to-zero endpoint ${fmt(m.instances)} × ${s.instanceType} while serving ${hours} h (0 instances otherwise)${fromWhere(m)}`,
        m.instanceHours,
        'instance-hour',
        price,
        true,
      ),
    ];
  }
  const bounds = `autoscaling ${s.minCapacity ?? '?'}–${s.maxCapacity ?? '?'}`;
  const lines = [
    costLine(
      ref,
      `always-on endpoint ${m.floorInstances} × ${s.instanceType} (${bounds}) × ${HOURS_PER_MONTH} h${fromWhere(m)}`,
      m.floorInstances * HOURS_PER_MONTH,
      'instance-hour',
      price,
      false,
    ),
  ];
  const above = m.instances - m.floorInstances;
  if (above > 0) {
    lines.push(
      costLine(
        ref,
        `autoscaling above the floor: ${fmt(above)} × ${s.instanceType} while serving ${hours} h`,
        above * hours,
        'instance-hour',
        price,
        true,
      ),
    );
  }
  return lines;
}

/** Endpoint lines of one case study. */
export function endpointLines(ctx: PricingContext, fallbackStack: StackTemplate): CostLine[] {
  const m = endpointModel(ctx);
  const s = m.settings;
  const u = ctx.usage.serving;
  const ref = anchor(m, fallbackStack, 'AWS::SageMaker::Endpoint');
  if (!m.deployed) {
    const what =
      s.kind === 'serverless'
        ? 'a serverless endpoint'
        : `${s.kind === 'scale-to-zero' ? 'a scale-to-zero' : 'an always-on'} ${s.instanceType} endpoint`;
    return [
      costLine(
        ref,
        `no endpoint: no model deployed yet (usage serving.modelDeployed is false); the loop's first deployment creates ${what}${fromWhere(m)}`,
        0,
        s.kind === 'serverless' ? 'GB-second' : 'instance-hour',
        s.kind === 'serverless'
          ? ctx.prices.price('sagemaker.serverless.gbSecond')
          : ctx.prices.instancePrice('hosting', s.instanceType),
        false,
      ),
    ];
  }
  const lines: CostLine[] = [];
  if (s.kind === 'serverless') {
    const memory = s.serverless?.memorySizeMB ?? 1024;
    lines.push(
      costLine(
        ref,
        `serverless endpoint ${memory} MB × ${u.serverlessMsPerRequest} ms × ${Math.round(u.requestsPerMonth).toLocaleString('en-US')} requests${fromWhere(m)}`,
        m.serverlessGBSeconds,
        'GB-second',
        ctx.prices.price('sagemaker.serverless.gbSecond'),
        true,
      ),
    );
    const warm = s.serverless?.provisionedConcurrency ?? 0;
    if (warm > 0) {
      lines.push(
        costLine(
          ref,
          `serverless provisioned concurrency ${warm} × ${memory} MB × ${HOURS_PER_MONTH} h${fromWhere(m)}`,
          warm * (memory / 1024) * HOURS_PER_MONTH * 3600,
          'GB-second',
          ctx.prices.price('sagemaker.serverless.provisionedConcurrencyGBSecond'),
          false,
        ),
      );
    }
  } else {
    lines.push(...instanceLines(ctx, m, ref));
  }
  lines.push(
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
  );
  return lines;
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
