import { z } from 'zod';
import { instanceTypeInfo, INSTANCE_TYPES } from './instance-types';

/** The deployment stages; each is a preset in `stages.ts`. */
export const STAGES = ['sandbox', 'production'] as const;
/** A deployment stage. */
export type StageName = (typeof STAGES)[number];

/** The case studies; each is specified in `lib/case-studies/`. */
export const CASE_STUDIES = ['recommender', 'vision'] as const;
/** A case study. */
export type CaseStudyName = (typeof CASE_STUDIES)[number];

function between(min: number, max: number, unit: string, integer = true) {
  const msg = `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}${unit ? ` ${unit}` : ''}`;
  const n = z.number({ error: msg }).min(min, { error: msg }).max(max, { error: msg });
  return integer ? n.int({ error: msg }) : n;
}

function positiveInt(unit: string) {
  const msg = `must be a positive integer${unit ? ` (${unit})` : ''}`;
  return z.number({ error: msg }).int({ error: msg }).min(1, { error: msg });
}

function positiveNumber(unit: string) {
  const msg = `must be a positive number${unit ? ` (${unit})` : ''}`;
  return z.number({ error: msg }).gt(0, { error: msg }).finite({ error: msg });
}

const fraction = () => between(0, 1, '(a fraction)', false);

const bool = () => z.boolean({ error: 'must be true or false' });

const knownInstanceType = (use: 'training' | 'hosting') =>
  z
    .string({ error: 'must be a SageMaker instance type such as ml.g5.xlarge' })
    .refine((name) => instanceTypeInfo(name)?.[use] === true, {
      error: `must be a SageMaker ${use} instance type; known: ${Object.keys(INSTANCE_TYPES)
        .filter((t) => INSTANCE_TYPES[t][use])
        .join(', ')}`,
    });

const fieldSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, { error: 'must be snake_case (lowercase letters, digits, underscores)' }),
  type: z.enum(['string', 'bigint', 'double', 'boolean', 'timestamp'], {
    error: 'must be one of: string, bigint, double, boolean, timestamp',
  }),
  required: bool(),
  description: z.string().min(1, { error: 'must not be empty' }),
  values: z.array(z.string()).min(1, { error: 'must list at least one value when given' }).optional(),
});

const eventSchemaSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, { error: 'must be snake_case' }),
    version: positiveInt(''),
    description: z.string().min(1, { error: 'must not be empty' }),
    fields: z.array(fieldSchema).min(1, { error: 'must define at least one field (the event schema is empty)' }),
  })
  .superRefine((schema, ctx) => {
    const seen = new Set<string>();
    for (const [i, f] of schema.fields.entries()) {
      if (seen.has(f.name)) {
        ctx.addIssue({ code: 'custom', path: ['fields', i, 'name'], message: `duplicates field "${f.name}"` });
      }
      seen.add(f.name);
    }
    for (const required of schema.fields.length > 0 ? ['event_id', 'event_time'] : []) {
      if (!seen.has(required)) {
        ctx.addIssue({ code: 'custom', path: ['fields'], message: `must include the field "${required}"` });
      }
    }
  });

/** The validated configuration of one case study in one stage. */
export const blueprintConfigSchema = z
  .strictObject({
    stage: z.enum(STAGES, { error: `must be one of: ${STAGES.join(', ')}` }),
    caseStudy: z.enum(CASE_STUDIES, { error: `must be one of: ${CASE_STUDIES.join(', ')}` }),
    /** AWS region the stage deploys to; prices and training images are resolved for it. */
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { error: 'must be an AWS region name such as us-east-1' }),
    /** Keep stateful resources (buckets, key, stream) when the stack is deleted. */
    retainData: bool(),
    /** CloudFormation termination protection on the stacks. */
    terminationProtection: bool(),
    eventSchema: eventSchemaSchema,
    ingestion: z.strictObject({
      /** Kinesis capacity mode. */
      capacityMode: z.enum(['on-demand', 'provisioned'], { error: 'must be "on-demand" or "provisioned"' }),
      /** Traffic the stream must carry at peak; drives the provisioned shard count. */
      traffic: z.strictObject({
        peakEventsPerSecond: positiveNumber('events per second'),
        averageEventSizeBytes: between(1, 1_048_576, 'bytes'),
        headroom: between(1, 10, '(multiplier over peak)', false),
      }),
      /** Explicit shard count; overrides the capacity plan (provisioned mode only). */
      shardCount: positiveInt('shards').max(10_000, { error: 'must be at most 10000 shards' }).optional(),
      /** Stream retention. */
      retentionHours: between(24, 8760, 'hours'),
      firehose: z.strictObject({
        /** Flush at least this often. */
        bufferIntervalSeconds: between(0, 900, 'seconds'),
        /** Flush when this much has arrived; Parquet conversion needs at least 64 MiB. */
        bufferSizeMiB: between(64, 128, 'MiB (Parquet conversion needs at least 64)'),
      }),
    }),
    lake: z
      .strictObject({
        /** Move raw events to S3 Standard-IA after this many days (S3 requires at least 30). */
        rawInfrequentAccessAfterDays: between(30, 3650, 'days'),
        /** Delete raw events after this many days. */
        rawExpireAfterDays: between(1, 36500, 'days'),
        /** Delete curated datasets and Athena results after this many days. */
        curatedExpireAfterDays: between(1, 36500, 'days'),
        /** Delete endpoint data capture after this many days. */
        captureExpireAfterDays: between(1, 36500, 'days'),
        /** Delete noncurrent object versions after this many days. */
        noncurrentVersionExpireAfterDays: between(1, 3650, 'days'),
        /** Delete S3 server access logs after this many days. */
        accessLogsExpireAfterDays: between(1, 3650, 'days'),
      })
      .refine((l) => l.rawExpireAfterDays > l.rawInfrequentAccessAfterDays, {
        path: ['rawExpireAfterDays'],
        error: 'must be greater than lake.rawInfrequentAccessAfterDays',
      }),
    training: z
      .strictObject({
        /** Training instance type; a GPU type by default. */
        instanceType: knownInstanceType('training'),
        instanceCount: between(1, 64, 'instances'),
        /** Stop a training job after this long. */
        maxRuntimeHours: between(1, 120, 'hours'),
        /** Managed spot training (with checkpoints). */
        useSpot: bool(),
        /** How long to wait for spot capacity plus the run; must be at least maxRuntimeHours. */
        maxWaitHours: between(1, 240, 'hours'),
        /** Volume per training instance. */
        volumeSizeGiB: between(1, 16384, 'GiB'),
      })
      .refine((t) => !t.useSpot || t.maxWaitHours >= t.maxRuntimeHours, {
        path: ['maxWaitHours'],
        error: 'must be at least training.maxRuntimeHours when useSpot is true',
      }),
    serving: z
      .strictObject({
        instanceType: knownInstanceType('hosting'),
        initialInstanceCount: between(1, 100, 'instances'),
        /** Autoscaling floor; 0 means the endpoint may scale to zero when idle. */
        minCapacity: between(0, 100, 'instances'),
        maxCapacity: between(1, 100, 'instances'),
        /** Share of requests captured for drift monitoring. */
        dataCapturePercent: between(1, 100, 'percent'),
      })
      .refine((s) => s.maxCapacity >= s.minCapacity, {
        path: ['maxCapacity'],
        error: 'must be at least serving.minCapacity',
      }),
    drift: z.strictObject({
      /** How often the drift checker runs. */
      scheduleMinutes: between(5, 1440, 'minutes'),
      /** Below this many current records, metrics are reported but no drift is flagged. */
      minWindowSize: positiveInt('records'),
      /** Significance level before multiple-testing correction. */
      alpha: between(0, 1, '(exclusive)', false).refine((a) => a > 0 && a < 1, {
        error: 'must be strictly between 0 and 1',
      }),
      correction: z.enum(['bonferroni', 'benjamini-hochberg'], {
        error: 'must be "bonferroni" or "benjamini-hochberg"',
      }),
      /** Share of drifted features that makes the dataset drift. */
      driftedShareThreshold: fraction(),
      thresholds: z.strictObject({
        psi: between(0, 10, '', false),
        jensenShannon: fraction(),
        wassersteinNormalized: between(0, 100, '(reference standard deviations)', false),
        cramersV: fraction(),
      }),
      /** Retrain only when drift holds in `windowsRequired` of the last `windowsConsidered` windows. */
      windowsRequired: positiveInt('windows'),
      windowsConsidered: positiveInt('windows'),
      /** No retraining request within this long after the last one. */
      cooldownHours: between(0, 720, 'hours'),
    }),
  })
  .superRefine((c, ctx) => {
    if (c.ingestion.capacityMode === 'on-demand' && c.ingestion.shardCount !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['ingestion', 'shardCount'],
        message: 'must not be set when ingestion.capacityMode is "on-demand" (on-demand streams scale themselves)',
      });
    }
    if (c.drift.windowsRequired > c.drift.windowsConsidered) {
      ctx.addIssue({
        code: 'custom',
        path: ['drift', 'windowsRequired'],
        message: `must be at most drift.windowsConsidered (${c.drift.windowsConsidered})`,
      });
    }
    const gpu = instanceTypeInfo(c.training.instanceType);
    if (gpu && gpu.gpus === 0 && c.stage === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['training', 'instanceType'],
        message: 'must be a GPU instance type in production (ml.g4dn.*, ml.g5.*, ml.g6.*, ml.p3.*, ml.p4d.*, ml.p5.*)',
      });
    }
  });

/** Configuration as written in presets and overrides, before validation. */
export type BlueprintConfigInput = z.input<typeof blueprintConfigSchema>;
/** Validated configuration of one case study in one stage. */
export type ValidatedConfig = z.output<typeof blueprintConfigSchema>;
