import {
  ConfigError,
  parseCaseStudies,
  parseOverrides,
  parseStage,
  planShards,
  peakEventsPerSecond,
  resolveConfig,
} from '../../../lib/config';

describe('stage and case-study selection', () => {
  test('stage defaults to sandbox and accepts production', () => {
    expect(parseStage(undefined)).toBe('sandbox');
    expect(parseStage('production')).toBe('production');
  });

  test.each([['bogus'], ['Sandbox'], [''], [3]])('stage %p fails naming stage and the allowed values', (raw) => {
    expect(() => parseStage(raw)).toThrow(ConfigError);
    expect(() => parseStage(raw)).toThrow(/stage must be one of: sandbox, production; received/);
  });

  test('case studies default to both and parse a comma-separated list, deduplicated, in order', () => {
    expect(parseCaseStudies(undefined)).toEqual(['recommender', 'vision']);
    expect(parseCaseStudies('vision')).toEqual(['vision']);
    expect(parseCaseStudies('vision, recommender,vision')).toEqual(['vision', 'recommender']);
  });

  test('an unknown case study fails naming caseStudies', () => {
    expect(() => parseCaseStudies('recommender,fraud')).toThrow(
      /caseStudies must be a comma-separated list of: recommender, vision; received "recommender,fraud"/,
    );
  });

  test('overrides parse from JSON text and reject unknown top-level keys', () => {
    expect(parseOverrides('{"vision":{"drift":{"alpha":0.01}}}')).toEqual({ vision: { drift: { alpha: 0.01 } } });
    expect(() => parseOverrides('{not json')).toThrow(/overrides must be a JSON object; could not parse it/);
    expect(() => parseOverrides('[1]')).toThrow(/overrides must be a JSON object; received \[1\]/);
    expect(() => parseOverrides({ recomender: {} })).toThrow(
      /unknown key "recomender"; allowed: \*, recommender, vision/,
    );
  });
});

describe('presets', () => {
  test('sandbox is one provisioned shard, short retention, destroyable, spot training', () => {
    const c = resolveConfig('sandbox', 'recommender');
    expect(c.ingestion.capacityMode).toBe('provisioned');
    expect(c.shardPlan).toMatchObject({ shardCount: 1, overridden: false });
    expect(resolveConfig('sandbox', 'vision').shardPlan).toMatchObject({ shardCount: 1 });
    expect(c.ingestion.retentionHours).toBe(24);
    expect(c.retainData).toBe(false);
    expect(c.training.useSpot).toBe(true);
    expect(c.training.maxWaitHours).toBeGreaterThanOrEqual(c.training.maxRuntimeHours);
  });

  test('production is provisioned from the capacity plan, 7-day retention, retained and protected', () => {
    const c = resolveConfig('production', 'recommender');
    expect(c.ingestion.capacityMode).toBe('provisioned');
    expect(c.ingestion.retentionHours).toBe(168);
    expect(c.retainData).toBe(true);
    expect(c.terminationProtection).toBe(true);
    // 1M users × 40 events / 86,400 s × 3 peak = 1,388.9 events/s; × 1.5 headroom / 1,000 records/s = 2.08 → 3.
    expect(c.shardPlan).toMatchObject({ shardCount: 3, limitedBy: 'records', overridden: false });
  });

  test('an explicit shard count overrides the plan', () => {
    const c = resolveConfig('production', 'vision', { vision: { ingestion: { shardCount: 7 } } });
    expect(c.shardPlan).toMatchObject({ shardCount: 7, overridden: true });
  });

  test('"*" overrides apply to every case study and per-case overrides win', () => {
    const o = { '*': { drift: { alpha: 0.01 } }, vision: { drift: { alpha: 0.02 } } };
    expect(resolveConfig('sandbox', 'recommender', o).drift.alpha).toBe(0.01);
    expect(resolveConfig('sandbox', 'vision', o).drift.alpha).toBe(0.02);
  });

  test('vision judges realised accuracy per day, two days after it ends; the recommender per drift window', () => {
    for (const stage of ['sandbox', 'production'] as const) {
      expect(resolveConfig(stage, 'vision').drift.quality).toMatchObject({
        windowMinutes: 1440,
        settleMinutes: 2880,
        referenceWindows: 14,
      });
      expect(resolveConfig(stage, 'recommender').drift.quality.windowMinutes).toBeUndefined();
    }
  });

  test('the case studies carry their own event schemas', () => {
    expect(resolveConfig('sandbox', 'recommender').eventSchema.name).toBe('interaction');
    expect(resolveConfig('sandbox', 'vision').eventSchema.name).toBe('image');
  });
});

describe('capacity planning', () => {
  test('byte-bound traffic: 2,000 events/s of 2 KB with 1.5 headroom needs 6 shards', () => {
    // 2,000 × 2,000 B = 4,000,000 B/s × 1.5 = 6,000,000 / 1,048,576 = 5.72 → 6; records: 3,000 / 1,000 = 3.
    expect(planShards({ peakEventsPerSecond: 2000, averageEventSizeBytes: 2000, headroom: 1.5 })).toMatchObject({
      shardCount: 6,
      limitedBy: 'bytes',
    });
  });

  test('record-bound traffic and the one-shard floor', () => {
    expect(planShards({ peakEventsPerSecond: 5000, averageEventSizeBytes: 100, headroom: 1 }).shardCount).toBe(5);
    expect(planShards({ peakEventsPerSecond: 1, averageEventSizeBytes: 100, headroom: 1.5 }).shardCount).toBe(1);
  });

  test('daily users to peak events per second', () => {
    expect(peakEventsPerSecond({ dailyActiveUsers: 86_400, eventsPerUserPerDay: 10, peakToAverage: 2 })).toBe(20);
  });
});

/**
 * The validation matrix: each bad configuration fails with one message naming the field, the value received
 * and what is allowed.
 */
describe('validation matrix', () => {
  const cases: Array<[string, 'sandbox' | 'production', Record<string, unknown>, RegExp]> = [
    [
      'shard count zero',
      'production',
      { ingestion: { shardCount: 0 } },
      /ingestion\.shardCount must be a positive integer \(shards\); received 0/,
    ],
    [
      'negative shard count',
      'production',
      { ingestion: { shardCount: -2 } },
      /ingestion\.shardCount must be a positive integer \(shards\); received -2/,
    ],
    [
      'fractional shard count',
      'production',
      { ingestion: { shardCount: 1.5 } },
      /ingestion\.shardCount must be a positive integer \(shards\); received 1\.5/,
    ],
    [
      'shard count on an on-demand stream',
      'sandbox',
      { ingestion: { capacityMode: 'on-demand', shardCount: 2 } },
      /ingestion\.shardCount must not be set when ingestion\.capacityMode is "on-demand".*; received 2/,
    ],
    [
      'retention below 24 h',
      'sandbox',
      { ingestion: { retentionHours: 12 } },
      /ingestion\.retentionHours must be an integer from 24 to 8760 hours; received 12/,
    ],
    [
      'retention above 8760 h',
      'production',
      { ingestion: { retentionHours: 9000 } },
      /ingestion\.retentionHours must be an integer from 24 to 8760 hours; received 9000/,
    ],
    [
      'unknown capacity mode',
      'sandbox',
      { ingestion: { capacityMode: 'serverless' } },
      /ingestion\.capacityMode must be "on-demand" or "provisioned"; received "serverless"/,
    ],
    [
      'JS threshold above 1',
      'sandbox',
      { drift: { thresholds: { jensenShannon: 1.5 } } },
      /drift\.thresholds\.jensenShannon must be a number from 0 to 1 \(a fraction\); received 1\.5/,
    ],
    [
      'negative drifted-share threshold',
      'sandbox',
      { drift: { driftedShareThreshold: -0.1 } },
      /drift\.driftedShareThreshold must be a number from 0 to 1 \(a fraction\); received -0\.1/,
    ],
    ['alpha of 1', 'sandbox', { drift: { alpha: 1 } }, /drift\.alpha must be strictly between 0 and 1; received 1/],
    [
      'threshold given as a string',
      'sandbox',
      { drift: { thresholds: { cramersV: '0.2' } } },
      /drift\.thresholds\.cramersV must be a number from 0 to 1 \(a fraction\); received "0\.2"/,
    ],
    [
      'training instance type that does not exist',
      'sandbox',
      { training: { instanceType: 'ml.g9.huge' } },
      /training\.instanceType must be a SageMaker training instance type; known: .*ml\.g5\.xlarge.*; received "ml\.g9\.huge"/,
    ],
    [
      'serving instance type that does not exist',
      'sandbox',
      { serving: { instanceType: 'g5.xlarge' } },
      /serving\.instanceType must be a SageMaker hosting instance type; known: .*; received "g5\.xlarge"/,
    ],
    [
      'hosting-only instance type for training',
      'sandbox',
      { training: { instanceType: 'ml.t3.medium' } },
      /training\.instanceType must be a SageMaker training instance type.*; received "ml\.t3\.medium"/,
    ],
    [
      'CPU training instance in production',
      'production',
      { training: { instanceType: 'ml.m5.xlarge' } },
      /training\.instanceType must be a GPU instance type in production.*; received "ml\.m5\.xlarge"/,
    ],
    [
      'spot max wait below max runtime',
      'sandbox',
      { training: { maxRuntimeHours: 6, maxWaitHours: 3 } },
      /training\.maxWaitHours must be at least training\.maxRuntimeHours when useSpot is true; received 3/,
    ],
    [
      'empty event schema',
      'sandbox',
      { eventSchema: { fields: [] } },
      /eventSchema\.fields must define at least one field \(the event schema is empty\); received \[\]/,
    ],
    [
      'event schema without event_time',
      'sandbox',
      {
        eventSchema: {
          fields: [{ name: 'event_id', type: 'string', required: true, description: 'id' }],
        },
      },
      /eventSchema\.fields must include the field "event_time"/,
    ],
    [
      'event field with an unknown type',
      'sandbox',
      {
        eventSchema: {
          fields: [
            { name: 'event_id', type: 'uuid', required: true, description: 'id' },
            { name: 'event_time', type: 'timestamp', required: true, description: 't' },
          ],
        },
      },
      /eventSchema\.fields\[0\]\.type must be one of: string, bigint, double, boolean, timestamp; received "uuid"/,
    ],
    [
      'autoscaling max below min',
      'sandbox',
      { serving: { minCapacity: 3, maxCapacity: 2 } },
      /serving\.maxCapacity must be at least serving\.minCapacity; received 2/,
    ],
    [
      'Firehose buffer too small for Parquet',
      'sandbox',
      { ingestion: { firehose: { bufferSizeMiB: 5 } } },
      /ingestion\.firehose\.bufferSizeMiB must be an integer from 64 to 128 MiB \(Parquet conversion needs at least 64\); received 5/,
    ],
    [
      'raw expiry before the IA transition',
      'sandbox',
      { lake: { rawExpireAfterDays: 20 } },
      /lake\.rawExpireAfterDays must be greater than lake\.rawInfrequentAccessAfterDays; received 20/,
    ],
    [
      'misspelt key',
      'sandbox',
      { ingestion: { retentionHour: 48 } },
      /ingestion has unknown key "retentionHour"; allowed: capacityMode, traffic, shardCount, retentionHours, firehose$/,
    ],
    [
      'bad region',
      'sandbox',
      { region: 'mars-1' },
      /region must be an AWS region name such as us-east-1; received "mars-1"/,
    ],
    [
      'k of n windows with k > n',
      'production',
      { drift: { windowsRequired: 4 } },
      /drift\.windowsRequired must be at most drift\.windowsConsidered \(3\); received 4/,
    ],
    [
      'consumer batch size above the Kinesis maximum',
      'sandbox',
      { realtime: { consumer: { batchSize: 20_000 } } },
      /realtime\.consumer\.batchSize must be an integer from 1 to 10000 records; received 20000/,
    ],
    [
      'consumer batching window above 300 s',
      'production',
      { realtime: { consumer: { maxBatchingWindowSeconds: 600 } } },
      /realtime\.consumer\.maxBatchingWindowSeconds must be an integer from 0 to 300 seconds; received 600/,
    ],
    [
      'max record age beyond the stream retention',
      'sandbox',
      { realtime: { consumer: { maxRecordAgeHours: 48 } } },
      /realtime\.consumer\.maxRecordAgeHours must be at most ingestion\.retentionHours \(24\).*; received 48/,
    ],
    [
      'fallback-rate threshold above 1',
      'sandbox',
      { realtime: { serving: { fallbackRateThreshold: 1.5 } } },
      /realtime\.serving\.fallbackRateThreshold must be a number from 0 to 1 \(a fraction\); received 1\.5/,
    ],
    [
      'invoke timeout below 20 ms',
      'production',
      { realtime: { serving: { invokeTimeoutMs: 5 } } },
      /realtime\.serving\.invokeTimeoutMs must be an integer from 20 to 10000 ms; received 5/,
    ],
    [
      'k above the candidates scored',
      'sandbox',
      { realtime: { serving: { maxK: 40, candidates: 30 } } },
      /realtime\.serving\.maxK must be at most realtime\.serving\.candidates \(30\); received 40/,
    ],
    [
      'feature TTL shorter than two drift windows',
      'sandbox',
      { realtime: { features: { ttlHours: 1 } } },
      /realtime\.features\.ttlHours must cover at least two drift windows \(2 hours\).*; received 1/,
    ],
    [
      'retraining metric direction misspelt',
      'sandbox',
      { retraining: { metricDirection: 'up' } },
      /retraining\.metricDirection must be "maximize" or "minimize"; received "up"/,
    ],
    [
      'approval mode that does not exist',
      'production',
      { retraining: { approval: 'email' } },
      /retraining\.approval must be "auto" or "manual"; received "email"/,
    ],
    [
      'lock that expires before a run can end',
      'production',
      { retraining: { lockTtlHours: 24 } },
      /retraining\.lockTtlHours must be at least 108 hours \(the run's bounded waits, 107 hours, plus one\).*; received 24/,
    ],
    [
      'canary above half the fleet',
      'sandbox',
      { retraining: { canaryPercent: 80 } },
      /retraining\.canaryPercent must be an integer from 1 to 50 percent; received 80/,
    ],
    [
      'training image that is not an ECR URI',
      'sandbox',
      { training: { image: 'docker.io/xgboost:latest' } },
      /training\.image must be an ECR image URI such as 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/repo:tag; received "docker\.io\/xgboost:latest"/,
    ],
    [
      'numeric hyperparameter',
      'sandbox',
      { training: { hyperparameters: { max_depth: 6 } } },
      /training\.hyperparameters\.max_depth must be a string \(SageMaker hyperparameters are strings\); received 6/,
    ],
  ];

  test(`covers at least 15 bad configurations (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  test.each(cases)('%s', (_name, stage, override, message) => {
    let error: unknown;
    try {
      resolveConfig(stage, 'recommender', { recommender: override });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).message;
    expect(text).toMatch(/^Invalid configuration \(stage "(sandbox|production)", case study "recommender"\): /);
    expect(text).toMatch(message);
    expect((error as ConfigError).problems).toHaveLength(1);
  });

  test('several problems are reported together, one line each', () => {
    expect(() => resolveConfig('sandbox', 'vision', { vision: { drift: { alpha: 2, minWindowSize: 0 } } })).toThrow(
      /\n {2}- drift\.minWindowSize must be a positive integer \(records\); received 0\n {2}- drift\.alpha/,
    );
  });
});

/** The vision section (ingestion limits, review, scale to zero): each bad value fails with one message. */
describe('vision validation matrix', () => {
  test('presets: the sandbox scales to zero, production does not; both quarantine unknown sources', () => {
    const sbx = resolveConfig('sandbox', 'vision');
    const prd = resolveConfig('production', 'vision');
    expect(sbx.vision?.serving.scaleToZero).toBe(true);
    expect(sbx.serving.minCapacity).toBe(0);
    expect(prd.vision?.serving.scaleToZero).toBe(false);
    expect(prd.serving.minCapacity).toBeGreaterThanOrEqual(1);
    expect(prd.vision?.ingestion.knownSources.length).toBeGreaterThan(0);
    expect(resolveConfig('sandbox', 'recommender').vision).toBeUndefined();
  });

  const cases: Array<[string, 'sandbox' | 'production', Record<string, unknown>, RegExp]> = [
    [
      'confidence threshold above 1',
      'sandbox',
      { vision: { review: { confidenceThreshold: 1.5 } } },
      /vision\.review\.confidenceThreshold must be a number from 0 to 1 \(a fraction\); received 1\.5/,
    ],
    [
      'gif accepted',
      'sandbox',
      { vision: { ingestion: { contentTypes: ['image/gif'] } } },
      /vision\.ingestion\.contentTypes\[0\] must be "image\/jpeg" or "image\/png"; received "image\/gif"/,
    ],
    [
      'no known source',
      'production',
      { vision: { ingestion: { knownSources: [] } } },
      /vision\.ingestion\.knownSources must list at least one source; received \[\]/,
    ],
    [
      'images larger than an endpoint accepts',
      'production',
      { vision: { ingestion: { maxBytes: 10_485_760 } } },
      /vision\.ingestion\.maxBytes must be an integer from 1024 to 6291456 bytes \(at most 6 MiB, the InvokeEndpoint payload limit\); received 10485760/,
    ],
    [
      'minimum size above the maximum',
      'sandbox',
      { vision: { ingestion: { minBytes: 1_000_000, maxBytes: 2048 } } },
      /vision\.ingestion\.minBytes must be less than vision\.ingestion\.maxBytes \(2048\); received 1000000/,
    ],
    [
      'scale to zero with a floor of one instance',
      'production',
      { vision: { serving: { scaleToZero: true } } },
      /vision\.serving\.scaleToZero requires serving\.minCapacity 0 \(it is 1\); set one or the other; received true/,
    ],
    [
      'more GPUs per copy than the instance has',
      'sandbox',
      { vision: { serving: { acceleratorsPerCopy: 4 } } },
      /vision\.serving\.acceleratorsPerCopy must be at most the GPUs of serving\.instanceType ml\.g4dn\.xlarge \(1\); received 4/,
    ],
    [
      'consumer record age beyond stream retention',
      'sandbox',
      { vision: { consumer: { maxRecordAgeHours: 48 } } },
      /vision\.consumer\.maxRecordAgeHours must be at most ingestion\.retentionHours \(24\).*; received 48/,
    ],
    [
      'label attribute with uppercase letters',
      'sandbox',
      { vision: { review: { labelAttribute: 'Review' } } },
      /vision\.review\.labelAttribute must be lowercase letters, digits and hyphens.*; received "Review"/,
    ],
    [
      'misspelt review key',
      'sandbox',
      { vision: { review: { confidenceTreshold: 0.5 } } },
      /vision\.review.*confidenceTreshold/,
    ],
  ];

  test.each(cases)('%s', (_name, stage, override, message) => {
    let error: unknown;
    try {
      resolveConfig(stage, 'vision', { vision: override });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(message);
    expect((error as ConfigError).problems).toHaveLength(1);
  });
});
