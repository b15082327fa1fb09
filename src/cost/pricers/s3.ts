/**
 * S3 buckets: steady-state storage (Standard, and Standard-IA after a lifecycle transition) from the monthly
 * inflow and the bucket's lifecycle expiration, plus PUT and GET requests. What flows in is modelled per bucket:
 * the bucket a Firehose writes to gets the converted events, the capture bucket the endpoint's data capture,
 * the curated and artifacts buckets the datasets and models of each retrain, the access-log destination the
 * access logs. Noncurrent versions are short-lived and not counted.
 * @see https://aws.amazon.com/s3/pricing/
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
import { DAYS_PER_MONTH, HOURS_PER_MONTH } from '../types';
import { endpointModel, trainingModel } from './sagemaker';

/** Bytes a data-capture record adds beyond the payloads (envelope, metadata, base64 overhead of JSON lines). */
export const CAPTURE_ENVELOPE_BYTES = 300;

interface Inflow {
  readonly gbPerMonth: number;
  readonly putsPerMonth: number;
  readonly what: string;
}

function firehoseInflow(ref: ResourceRef, ctx: PricingContext): Inflow | undefined {
  const writer = resourcesOfType(ctx.stacks, 'AWS::KinesisFirehose::DeliveryStream').find((f) => {
    const p = f.resource.Properties ?? {};
    const dest = (p.ExtendedS3DestinationConfiguration ?? p.S3DestinationConfiguration) as
      Record<string, unknown> | undefined;
    return refTarget(dest?.BucketARN) === ref.id;
  });
  if (!writer) return undefined;
  const p = writer.resource.Properties ?? {};
  const dest = (p.ExtendedS3DestinationConfiguration ?? p.S3DestinationConfiguration) as Record<string, unknown>;
  const hints = (dest.BufferingHints ?? {}) as Record<string, unknown>;
  const interval =
    typeof hints.IntervalInSeconds === 'number' && hints.IntervalInSeconds > 0 ? hints.IntervalInSeconds : 300;
  const sizeMiB = typeof hints.SizeInMBs === 'number' ? hints.SizeInMBs : 5;
  const u = ctx.usage.ingestion;
  const rawBytes = ctx.workload.eventsPerMonth * u.eventSizeBytes;
  const flushes = Math.max((u.activeHoursPerMonth * 3600) / interval, rawBytes / (sizeMiB * 1024 * 1024));
  return {
    gbPerMonth: gb(rawBytes * u.parquetRatio),
    putsPerMonth: u.eventsPerSecond > 0 ? flushes : 0,
    what: `events from ${writer.id} (×${u.parquetRatio} Parquet)`,
  };
}

function inflowOf(ref: ResourceRef, ctx: PricingContext): Inflow | undefined {
  const fromFirehose = firehoseInflow(ref, ctx);
  if (fromFirehose) return fromFirehose;
  const t = ctx.usage.training;
  const retrains = trainingModel(ctx).retrainsPerMonth;
  if (/Capture/.test(ref.id)) {
    const s = ctx.usage.serving;
    const endpoint = endpointModel(ctx);
    const records = (s.requestsPerMonth * endpoint.settings.capturePercent) / 100;
    return {
      gbPerMonth: gb(records * (s.requestBytes + s.responseBytes + CAPTURE_ENVELOPE_BYTES)),
      // SageMaker writes capture files about once a minute per instance while requests arrive.
      putsPerMonth: Math.min(records, endpoint.instanceHours * 60),
      what: `data capture of ${endpoint.settings.capturePercent}% of requests`,
    };
  }
  if (/Curated/.test(ref.id)) {
    return {
      gbPerMonth: t.datasetGBPerRetrain * retrains,
      putsPerMonth: retrains * 100,
      what: 'datasets of each retrain',
    };
  }
  if (/Artifacts/.test(ref.id)) {
    return {
      gbPerMonth: t.modelGBPerRetrain * retrains,
      putsPerMonth: retrains * 100,
      what: 'models and checkpoints of each retrain',
    };
  }
  const isLogDestination = resourcesOfType(ctx.stacks, 'AWS::S3::Bucket').some((b) => {
    const logging = b.resource.Properties?.LoggingConfiguration as Record<string, unknown> | undefined;
    return refTarget(logging?.DestinationBucketName) === ref.id;
  });
  if (isLogDestination) {
    const logGB = ctx.usage.other.accessLogGBPerMonth;
    return { gbPerMonth: logGB, putsPerMonth: logGB > 0 ? HOURS_PER_MONTH * 12 : 0, what: 'server access logs' };
  }
  return undefined;
}

interface Lifecycle {
  readonly expirationDays?: number;
  readonly iaAfterDays?: number;
}

function lifecycleOf(ref: ResourceRef): Lifecycle {
  const rules = ((ref.resource.Properties?.LifecycleConfiguration as Record<string, unknown> | undefined)?.Rules ??
    []) as Record<string, unknown>[];
  const enabled = rules.filter((r) => r.Status === 'Enabled' && !r.Prefix && !r.TagFilters);
  const expirations = enabled.map((r) => r.ExpirationInDays).filter((d): d is number => typeof d === 'number');
  const ia = enabled
    .flatMap((r) => (r.Transitions ?? []) as Record<string, unknown>[])
    .filter((t) => t.StorageClass === 'STANDARD_IA')
    .map((t) => t.TransitionInDays)
    .filter((d): d is number => typeof d === 'number');
  return {
    expirationDays: expirations.length ? Math.min(...expirations) : undefined,
    iaAfterDays: ia.length ? Math.min(...ia) : undefined,
  };
}

export const s3Bucket: Pricer = (ref, ctx) => {
  const inflow = inflowOf(ref, ctx);
  const o = ctx.usage.other;
  const life = lifecycleOf(ref);
  const retainedDays = life.expirationDays ?? o.unexpiredRetentionDays;
  const retention = life.expirationDays
    ? `kept ${retainedDays} days (lifecycle)`
    : `no expiration; counted for ${retainedDays} days`;
  const lines = [];
  const perMonth = inflow?.gbPerMonth ?? 0;
  const standardDays = life.iaAfterDays !== undefined ? Math.min(life.iaAfterDays, retainedDays) : retainedDays;
  const iaDays = retainedDays - standardDays;
  lines.push(
    costLine(
      ref,
      `Standard storage (${inflow ? inflow.what : 'no modelled writer'}: ${perMonth.toFixed(3)} GB/month, ${standardDays} days in Standard; ${retention})`,
      (perMonth * standardDays) / DAYS_PER_MONTH,
      'GB-month',
      ctx.prices.price('s3.standard.storageGBMonth'),
      true,
    ),
  );
  if (iaDays > 0) {
    lines.push(
      costLine(
        ref,
        `Standard-IA storage (after ${life.iaAfterDays} days, ${iaDays} days)`,
        (perMonth * iaDays) / DAYS_PER_MONTH,
        'GB-month',
        ctx.prices.price('s3.standardIA.storageGBMonth'),
        true,
      ),
    );
  }
  lines.push(
    costLine(
      ref,
      'PUT requests',
      inflow?.putsPerMonth ?? o.s3PutRequestsPerOtherBucketPerMonth,
      'request',
      ctx.prices.price('s3.putRequest'),
      true,
    ),
    costLine(ref, 'GET requests', o.s3GetRequestsPerBucketPerMonth, 'request', ctx.prices.price('s3.getRequest'), true),
  );
  return lines;
};
