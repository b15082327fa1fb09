import { minimumLockTtlHours, runBudgetHours } from '../../core/retraining/run-budget';
import { z } from 'zod';
import { instanceTypeInfo, INSTANCE_TYPES } from './instance-types';
import { activeLearningSchema, ecrImageUri, pretrainedWeightsKeySchema, promotionSchema } from './vision-learning';
import { driftConfigSchema } from './drift-schema';
import { slateOutcomesConfigSchema, slateOutcomesProblems } from './slate-outcomes';
import { between, bool, fraction, positiveInt, positiveNumber } from './validators';

/** The deployment stages; each is a preset in `stages.ts`. */
export const STAGES = ['sandbox', 'production'] as const;
/** A deployment stage. */
export type StageName = (typeof STAGES)[number];

/** The case studies; each is specified in `lib/case-studies/`. */
export const CASE_STUDIES = ['recommender', 'vision'] as const;
/** A case study. */
export type CaseStudyName = (typeof CASE_STUDIES)[number];

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
        /** Training image URI; replaces the case study's AWS-published image. @default resolved per region */
        image: ecrImageUri().optional(),
        /** Inference image URI; replaces the case study's AWS-published serving image. @default resolved per region */
        inferenceImage: ecrImageUri().optional(),
        /** Hyperparameters merged over the recipe's defaults (SageMaker passes them as strings). */
        hyperparameters: z
          .record(z.string(), z.string({ error: 'must be a string (SageMaker hyperparameters are strings)' }))
          .optional(),
        /** Run training containers without network access (network isolation). @default false */
        networkIsolation: bool().optional(),
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
        /**
         * SageMaker Serverless Inference instead of instances: scales to zero, idle costs nothing; no data capture,
         * no GPUs, no blue/green guardrails (the caller logs what monitoring needs). @default instances
         * @see https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html
         */
        serverless: z
          .strictObject({
            /** Memory of the serverless endpoint: 1024 to 6144 MB in steps of 1024. */
            memorySizeInMB: z
              .number({ error: 'must be one of 1024, 2048, 3072, 4096, 5120, 6144 (MB)' })
              .refine((m) => [1024, 2048, 3072, 4096, 5120, 6144].includes(m), {
                error: 'must be one of 1024, 2048, 3072, 4096, 5120, 6144 (MB)',
              }),
            /** Concurrent invocations at most (1 to 200). */
            maxConcurrency: between(1, 200, 'invocations'),
          })
          .optional(),
      })
      .refine((s) => s.maxCapacity >= s.minCapacity, {
        path: ['maxCapacity'],
        error: 'must be at least serving.minCapacity',
      }),
    retraining: z.strictObject({
      /** Validation metric the training job reports and evaluation compares (e.g. `validation:auc`). */
      metricName: z.string().regex(/^[A-Za-z0-9_:.@-]+$/, { error: 'must be a metric name such as validation:auc' }),
      /** Whether a larger metric value is better. */
      metricDirection: z.enum(['maximize', 'minimize'], { error: 'must be "maximize" or "minimize"' }),
      /** The candidate must beat the champion by at least this much (in metric units). */
      minImprovement: between(0, 1_000_000, '(metric units)', false),
      /** The very first model must reach this value (at least, or at most when minimizing). */
      absoluteFloor: between(-1_000_000, 1_000_000, '(metric units)', false),
      /** Fewer new records than this since the champion's dataset ends the run without training. */
      minNewRecords: positiveInt('records'),
      /** The dataset covers the last this many days of events. */
      datasetDays: between(1, 3650, 'days'),
      /** Retrain on a schedule too (every this many hours); omit for drift and manual triggers only. */
      scheduleHours: between(1, 8760, 'hours').optional(),
      /** `auto` approves a better candidate at once; `manual` waits for a person (task token through SNS). */
      approval: z.enum(['auto', 'manual'], { error: 'must be "auto" or "manual"' }),
      /** How long a manual approval may wait before the run fails. */
      approvalTimeoutHours: between(1, 720, 'hours'),
      /** Canary share of capacity during a blue/green update. */
      canaryPercent: between(1, 50, 'percent'),
      /** How long the canary bakes (alarms watched) before the rest of the traffic shifts. */
      canaryBakeMinutes: between(1, 60, 'minutes'),
      /** Give up waiting for the endpoint after this long (bounded polling). */
      deployTimeoutMinutes: between(10, 480, 'minutes'),
      /**
       * A lock older than this is considered abandoned (the run holding it crashed). It must outlive the run: the
       * sum of its bounded waits (the state machine's timeout) plus an hour.
       */
      lockTtlHours: between(1, 2160, 'hours'),
      /**
       * After consecutive rejected candidates, drift-triggered runs wait `baseHours × factor^(n−1)` (at most
       * `maxHours`) unless the new data has doubled; a person or the schedule is never held back.
       */
      backoff: z
        .strictObject({
          baseHours: between(1, 720, 'hours'),
          factor: between(1, 10, '(multiplier)', false),
          maxHours: between(1, 8760, 'hours'),
        })
        .refine((b) => b.maxHours >= b.baseHours, { path: ['maxHours'], error: 'must be at least backoff.baseHours' }),
    }),
    /**
     * Real-time path of the recommender (stream consumer, feature store, `recommend` API). Only the recommender
     * sets it (in `lib/case-studies/recommender.ts`).
     */
    realtime: z
      .strictObject({
        consumer: z.strictObject({
          /** Records per invocation (Kinesis event source mapping). */
          batchSize: between(1, 10_000, 'records'),
          /** Wait up to this long to fill a batch (latency vs. cost). */
          maxBatchingWindowSeconds: between(0, 300, 'seconds'),
          /** Retries of a failed batch before its records go to the on-failure queue. */
          retryAttempts: between(0, 10_000, 'attempts'),
          /** Records older than this are sent to the on-failure queue instead of being processed. */
          maxRecordAgeHours: between(1, 168, 'hours'),
          /** Concurrent batches per shard. */
          parallelizationFactor: between(1, 10, 'batches per shard'),
        }),
        features: z.strictObject({
          /** Feature-store items (recent interactions, counters, predictions) expire after this long (TTL). */
          ttlHours: between(1, 8760, 'hours'),
          /** Recent interactions read per user at serving time. */
          recentItemsPerUser: between(1, 100, 'items'),
          /** Tumbling bucket of the popularity counters; the sliding window spans one bucket. */
          popularityBucketMinutes: between(1, 1440, 'minutes'),
          /** Items kept in each bucket's popularity list (the fallback ranking and the candidates). */
          popularityListSize: between(10, 5000, 'items'),
        }),
        serving: z.strictObject({
          /** Give up on the endpoint after this long and serve the popularity fallback. */
          invokeTimeoutMs: between(20, 10_000, 'ms'),
          /** Candidates scored per request (rows sent to the endpoint). */
          candidates: between(1, 50, 'items'),
          /** Largest k a caller may ask for. */
          maxK: between(1, 50, 'items'),
          /** Alarm when the share of fallback responses exceeds this. */
          fallbackRateThreshold: fraction(),
          /** Over this many consecutive 5-minute periods. */
          fallbackAlarmPeriods: between(1, 288, 'periods of 5 minutes'),
          /** Concurrency reserved for the API (protects the endpoint and the account's other functions). */
          reservedConcurrency: between(1, 1000, 'concurrent executions').optional(),
        }),
      })
      .optional(),
    /**
     * The recommender's training data and candidate generation (`core/recommender/sql.ts`, `candidates.ts`). Only
     * the recommender sets it (in `lib/case-studies/recommender/presets.ts`).
     */
    ranking: z
      .strictObject({
        /** An interaction counts for a served item when it follows within this many minutes. */
        attributionMinutes: between(1, 1440, 'minutes'),
        /** Share of the latest requests that validate (time-based split). */
        validationFraction: between(0.01, 0.5, '(fraction)', false),
        /** Share of the training split's negatives kept (recorded with the model). */
        negativeSamplingRate: between(0.01, 1, '(fraction)', false),
        /** Training files are sharded by request into this many `shard=<n>/` folders (several instances). */
        shards: between(1, 1024, 'shards'),
        /** Co-visitation job: pair window, days counted, neighbours kept, items per user, users per pair. */
        coVisitation: z.strictObject({
          minutes: between(1, 1440, 'minutes'),
          days: between(1, 90, 'days'),
          neighbours: between(1, 200, 'neighbours'),
          itemsPerUser: between(2, 1000, 'items'),
          minUsers: between(1, 1000, 'users'),
        }),
        /** Shares of the candidate budget of co-visitation and fresh items (trending gets the rest). */
        quotas: z
          .strictObject({ covisit: fraction(), fresh: fraction() })
          .refine((q) => q.covisit + q.fresh <= 1, { error: 'covisit + fresh must be at most 1' }),
        /** Last positions of a slate kept for fresh items (exploration). */
        freshSlots: between(0, 5, 'positions'),
        /** The slate-outcome writer: served slates with their clicks, for the drift checker's realised quality. */
        outcomes: slateOutcomesConfigSchema,
      })
      .optional(),
    /**
     * Vision ingestion, human review and serving. Only the vision case study sets it (in
     * `lib/case-studies/vision.ts`).
     */
    vision: z
      .strictObject({
        ingestion: z.strictObject({
          /** Image types accepted; anything else is quarantined. */
          contentTypes: z
            .array(z.enum(['image/jpeg', 'image/png'], { error: 'must be "image/jpeg" or "image/png"' }))
            .min(1, { error: 'must list at least one content type' }),
          /** Smallest accepted image file (smaller ones are usually truncated uploads). */
          minBytes: between(1, 1_048_576, 'bytes'),
          /**
           * Largest accepted image file; also what the consumer holds in memory at most. At most 6 MiB, the
           * InvokeEndpoint payload limit. @see https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html
           */
          maxBytes: between(1024, 6_291_456, 'bytes (at most 6 MiB, the InvokeEndpoint payload limit)'),
          /** Largest accepted image in pixels (checked from the header, before decoding). */
          maxPixels: between(1, 100_000_000, 'pixels'),
          /** Producers allowed to send images (the event's `source`). */
          knownSources: z
            .array(
              z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1-64 letters, digits, ".", "_" or "-"' }),
            )
            .min(1, { error: 'must list at least one source' }),
          /** Images live under this prefix of the images bucket. */
          imagesPrefix: z.string().regex(/^[a-z0-9._-]+\/$/, { error: 'must be a key prefix ending with "/"' }),
        }),
        consumer: z.strictObject({
          /** Events per invocation (Kinesis event source mapping); each image is decoded one at a time. */
          batchSize: between(1, 1000, 'records'),
          maxBatchingWindowSeconds: between(0, 300, 'seconds'),
          retryAttempts: between(0, 10_000, 'attempts'),
          maxRecordAgeHours: between(1, 168, 'hours'),
        }),
        review: z.strictObject({
          /** Predictions with a lower confidence go to human review. */
          confidenceThreshold: fraction(),
          /** Review items per Ground Truth input manifest (one SQS batch). */
          manifestBatchSize: between(1, 10_000, 'items'),
          /** Wait up to this long to fill a manifest. */
          manifestBatchingWindowSeconds: between(0, 300, 'seconds'),
          /** Receives before a review message goes to the dead-letter queue. */
          maxReceiveCount: between(1, 1000, 'receives'),
          /** Label attribute of the Ground Truth jobs (and of their output manifests). */
          labelAttribute: z.string().regex(/^[a-z][a-z0-9-]{0,126}[a-z0-9]$/, {
            error: 'must be lowercase letters, digits and hyphens (a Ground Truth label attribute name)',
          }),
        }),
        serving: z.strictObject({
          /**
           * Serve through an inference component with managed instance scaling that may scale to zero copies and
           * zero instances when idle; requires serving.minCapacity 0.
           */
          scaleToZero: bool(),
          /** Accelerators (GPUs) and memory one model copy reserves. */
          acceleratorsPerCopy: between(0, 8, 'GPUs'),
          memoryPerCopyMiB: between(128, 1_048_576, 'MiB'),
          /** Target-tracking target: concurrent requests per model copy. */
          targetConcurrentRequestsPerCopy: between(1, 1000, 'requests', false),
          /** Scale in after this long without requests (scale-in cooldown). */
          idleMinutesBeforeScaleIn: between(5, 1440, 'minutes'),
          /** Ask the endpoint for the image embedding too (`Accept: application/json;verbose`) when the model has one. */
          captureEmbeddings: bool(),
        }),
        activeLearning: activeLearningSchema,
        promotion: promotionSchema,
        /** Pretrained weights of a first model with `pretrained=channel`. @default none */
        pretrainedWeightsKey: pretrainedWeightsKeySchema.optional(),
      })
      .optional(),
    drift: driftConfigSchema,
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
    const r = c.retraining;
    const bounds = {
      trainingHours: c.training.useSpot ? c.training.maxWaitHours : c.training.maxRuntimeHours,
      approvalHours: r.approval === 'manual' ? r.approvalTimeoutHours : 0,
      deployMinutes: r.deployTimeoutMinutes,
    };
    const minimumLockHours = minimumLockTtlHours(bounds);
    if (r.lockTtlHours < minimumLockHours) {
      ctx.addIssue({
        code: 'custom',
        path: ['retraining', 'lockTtlHours'],
        message: `must be at least ${minimumLockHours} hours (the run's bounded waits, ${runBudgetHours(bounds)} hours, plus one), or a deployment could outlive its lock`,
      });
    }
    const rt = c.realtime;
    if (rt && rt.consumer.maxRecordAgeHours > c.ingestion.retentionHours) {
      ctx.addIssue({
        code: 'custom',
        path: ['realtime', 'consumer', 'maxRecordAgeHours'],
        message: `must be at most ingestion.retentionHours (${c.ingestion.retentionHours}): older records are gone from the stream`,
      });
    }
    if (rt && rt.serving.maxK > rt.serving.candidates) {
      ctx.addIssue({
        code: 'custom',
        path: ['realtime', 'serving', 'maxK'],
        message: `must be at most realtime.serving.candidates (${rt.serving.candidates})`,
      });
    }
    if (rt && rt.features.ttlHours * 60 < 2 * c.drift.scheduleMinutes) {
      ctx.addIssue({
        code: 'custom',
        path: ['realtime', 'features', 'ttlHours'],
        message: `must cover at least two drift windows (${(2 * c.drift.scheduleMinutes) / 60} hours): CTR counters are read a window after they are written`,
      });
    }
    if (c.ranking) {
      const problems = slateOutcomesProblems({
        attributionMinutes: c.ranking.attributionMinutes,
        outcomes: c.ranking.outcomes,
        qualitySettleMinutes: c.drift.quality.settleMinutes,
        firehoseBufferSeconds: c.ingestion.firehose.bufferIntervalSeconds,
      });
      for (const [path, message] of problems) ctx.addIssue({ code: 'custom', path, message });
    }
    const v = c.vision;
    if (v && v.ingestion.minBytes >= v.ingestion.maxBytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['vision', 'ingestion', 'minBytes'],
        message: `must be less than vision.ingestion.maxBytes (${v.ingestion.maxBytes})`,
      });
    }
    if (v && v.consumer.maxRecordAgeHours > c.ingestion.retentionHours) {
      ctx.addIssue({
        code: 'custom',
        path: ['vision', 'consumer', 'maxRecordAgeHours'],
        message: `must be at most ingestion.retentionHours (${c.ingestion.retentionHours}): older records are gone from the stream`,
      });
    }
    if (v && v.serving.scaleToZero && c.serving.minCapacity !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['vision', 'serving', 'scaleToZero'],
        message: `requires serving.minCapacity 0 (it is ${c.serving.minCapacity}); set one or the other`,
      });
    }
    if (
      v &&
      v.serving.scaleToZero &&
      (instanceTypeInfo(c.serving.instanceType)?.gpus ?? 0) < v.serving.acceleratorsPerCopy
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['vision', 'serving', 'acceleratorsPerCopy'],
        message: `must be at most the GPUs of serving.instanceType ${c.serving.instanceType} (${instanceTypeInfo(c.serving.instanceType)?.gpus ?? 0})`,
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
