/**
 * Each pricing rule against figures computed by hand from the committed us-east-1 prices, on small
 * hand-written templates.
 */
import { resolveConfig } from '../../lib/config';
import { resolveDefinitionString, parseStateMachine } from '../../src/cost/definition';
import { runsPerMonth } from '../../src/cost/context';
import { estimate } from '../../src/cost/estimate';
import { loadLatestPriceTable, priceBook } from '../../src/cost/prices';
import type { CfnResource } from '../../src/synth/assembly';
import type { CostLine } from '../../src/cost/types';
import { profile, stack, stateMachineResource, zeroUsage } from './fixtures';

const prices = loadLatestPriceTable();
const GB = 1024 ** 3;

function price(resources: Record<string, CfnResource>, usage = profile('sandbox')): CostLine[] {
  return estimate({ stacks: [stack(resources)], usage, prices }).lines;
}

function only(lines: CostLine[], resource: string, component: RegExp): CostLine {
  const found = lines.filter((l) => l.resource === resource && component.test(l.component));
  if (found.length !== 1) throw new Error(`expected one ${resource} line matching ${component}; found ${found.length}`);
  return found[0];
}

describe('Kinesis Data Streams', () => {
  const provisioned = (shards: number, retention: number): CfnResource => ({
    Type: 'AWS::Kinesis::Stream',
    Properties: {
      ShardCount: shards,
      RetentionPeriodHours: retention,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
    },
  });

  test('provisioned: 2 shards × 730 h × $0.015 = $21.90, PUT payload units at $0.014 per million', () => {
    // 10 events/s × 3600 s × 730 h = 26,280,000 events, one 25 KB unit each.
    const lines = price(
      { Stream: provisioned(2, 24) },
      profile('sandbox', { ingestion: { eventsPerSecond: 10, eventSizeBytes: 600, activeHoursPerMonth: 730 } }),
    );
    expect(only(lines, 'Stream', /^shard-hours/).monthly).toBeCloseTo(21.9, 6);
    expect(only(lines, 'Stream', /^PUT payload units/).monthly).toBeCloseTo((26_280_000 * 0.014) / 1e6, 6);
    expect(lines.some((l) => /retention/.test(l.component))).toBe(false);
  });

  test('provisioned retention of 7 days adds 2 shards × 730 h × $0.02 = $29.20', () => {
    const lines = price({ Stream: provisioned(2, 168) });
    expect(only(lines, 'Stream', /^extended retention/).monthly).toBeCloseTo(29.2, 6);
    expect(only(lines, 'Stream', /^extended retention/).usageBased).toBe(false);
  });

  test('on-demand: 730 stream-hours × $0.04 = $29.20; data in rounded up to 1 KB; data out per consumer', () => {
    const stream: CfnResource = {
      Type: 'AWS::Kinesis::Stream',
      Properties: { RetentionPeriodHours: 24, StreamModeDetails: { StreamMode: 'ON_DEMAND' } },
    };
    const firehose: CfnResource = {
      Type: 'AWS::KinesisFirehose::DeliveryStream',
      Properties: { KinesisStreamSourceConfiguration: { KinesisStreamARN: { 'Fn::GetAtt': ['Stream', 'Arn'] } } },
    };
    // 1 event/s for 730 h = 2,628,000 events, 600 B each billed as 1,024 B.
    const lines = price(
      { Stream: stream, Delivery: firehose },
      profile('sandbox', { ingestion: { eventsPerSecond: 1, eventSizeBytes: 600, activeHoursPerMonth: 730 } }),
    );
    const inGB = (2_628_000 * 1024) / GB; // 2.5063 GB
    expect(only(lines, 'Stream', /stream-hours/).monthly).toBeCloseTo(29.2, 6);
    expect(only(lines, 'Stream', /^data in/).monthly).toBeCloseTo(inGB * 0.08, 5);
    expect(only(lines, 'Stream', /^data out \(1 consumer/).monthly).toBeCloseTo(inGB * 0.04, 5);
  });
});

describe('Firehose', () => {
  test('bills every record as 5 KB: 2,628,000 records × 5,120 B = 12.53 GB × $0.029, and conversion × $0.018', () => {
    const firehose: CfnResource = {
      Type: 'AWS::KinesisFirehose::DeliveryStream',
      Properties: { ExtendedS3DestinationConfiguration: { DataFormatConversionConfiguration: { Enabled: true } } },
    };
    const lines = price(
      { Delivery: firehose },
      profile('sandbox', { ingestion: { eventsPerSecond: 1, eventSizeBytes: 600, activeHoursPerMonth: 730 } }),
    );
    const gb = (2_628_000 * 5120) / GB;
    expect(gb).toBeCloseTo(12.5313, 4);
    expect(only(lines, 'Delivery', /^ingestion/).monthly).toBeCloseTo(gb * 0.029, 5);
    expect(only(lines, 'Delivery', /^format conversion/).monthly).toBeCloseTo(gb * 0.018, 5);
  });
});

describe('S3', () => {
  test('steady-state storage of the Firehose destination split at the IA transition; one PUT per buffer flush', () => {
    const bucket: CfnResource = {
      Type: 'AWS::S3::Bucket',
      Properties: {
        LifecycleConfiguration: {
          Rules: [
            {
              Status: 'Enabled',
              ExpirationInDays: 90,
              Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
            },
          ],
        },
      },
    };
    const firehose: CfnResource = {
      Type: 'AWS::KinesisFirehose::DeliveryStream',
      Properties: {
        ExtendedS3DestinationConfiguration: {
          BucketARN: { 'Fn::GetAtt': ['Raw', 'Arn'] },
          BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 64 },
        },
      },
    };
    const lines = price(
      { Raw: bucket, Delivery: firehose },
      profile('sandbox', {
        ingestion: { eventsPerSecond: 100, eventSizeBytes: 1000, activeHoursPerMonth: 730, parquetRatio: 0.25 },
      }),
    );
    // 100 × 3600 × 730 × 1000 B = 262.8 GB-ish of JSON per month; × 0.25 stored as Parquet.
    const monthlyGB = (100 * 3600 * 730 * 1000 * 0.25) / GB;
    const days = 730 / 24;
    expect(only(lines, 'Raw', /^Standard storage/).monthly).toBeCloseTo(((monthlyGB * 30) / days) * 0.023, 5);
    expect(only(lines, 'Raw', /^Standard-IA storage/).monthly).toBeCloseTo(((monthlyGB * 60) / days) * 0.0125, 5);
    // 730 h × 60 flushes an hour (the 64 MiB size is never reached at 100 KB/s).
    expect(only(lines, 'Raw', /^PUT requests/).quantity).toBe(43_800);
  });
});

describe('SageMaker from the state machine definition', () => {
  test('training: 4 retrains × 2 h × 2 × ml.g5.2xlarge on spot at 70% off = 16 h × $1.515 × 0.3 = $7.272; volumes', () => {
    const sm = stateMachineResource({
      trainingInstance: 'ml.g5.2xlarge',
      trainingCount: 2,
      spot: true,
      volumeGB: 100,
      maxRuntimeSeconds: 7200,
    });
    const lines = price(
      { Loop: sm },
      profile('sandbox', { training: { retrainsPerMonth: 4, hoursPerRun: 2, spotSavings: 0.7 } }),
    );
    const training = only(lines, 'Loop', /^training 2 × ml\.g5\.2xlarge/);
    expect(training.type).toBe('AWS::SageMaker::TrainingJob');
    expect(training.quantity).toBe(16);
    expect(training.unitPrice).toBeCloseTo(1.515 * 0.3, 10);
    expect(training.monthly).toBeCloseTo(7.272, 6);
    expect(training.component).not.toMatch(/stage config/);
    expect(only(lines, 'Loop', /^training volumes/).monthly).toBeCloseTo(((100 * 16) / 730) * 0.14, 6);
  });

  test('hours per run are capped at the job’s MaxRuntimeInSeconds', () => {
    const sm = stateMachineResource({ maxRuntimeSeconds: 3600 });
    const lines = price({ Loop: sm }, profile('sandbox', { training: { retrainsPerMonth: 1, hoursPerRun: 5 } }));
    expect(only(lines, 'Loop', /^training 1 ×/).quantity).toBe(1);
  });

  test('always-on endpoint: its floor bills 730 h whatever the traffic: 2 × 730 h × $0.204 = $297.84; data processed', () => {
    const sm = stateMachineResource({ endpointInstance: 'ml.c5.xlarge', minCapacity: 2, maxCapacity: 10 });
    const lines = price(
      { Loop: sm },
      profile('sandbox', {
        serving: {
          activeHoursPerMonth: 8,
          averageInstances: 1,
          requestsPerMonth: 1_000_000,
          requestBytes: 2048,
          responseBytes: 1024,
        },
      }),
    );
    const endpoint = only(lines, 'Loop', /^always-on endpoint 2 × ml\.c5\.xlarge \(autoscaling 2–10\) × 730 h/);
    expect(endpoint).toMatchObject({ type: 'AWS::SageMaker::Endpoint', quantity: 1460, usageBased: false });
    expect(endpoint.monthly).toBeCloseTo(297.84, 6);
    expect(lines.some((l) => /above the floor/.test(l.component))).toBe(false);
    expect(only(lines, 'Loop', /^data processed in/).monthly).toBeCloseTo(((1_000_000 * 2048) / GB) * 0.016, 6);
    expect(only(lines, 'Loop', /^data processed out/).monthly).toBeCloseTo(((1_000_000 * 1024) / GB) * 0.016, 6);
  });

  test('always-on endpoint: instances above the floor bill only while serving: 2 × 730 h + 3 × 100 h', () => {
    const sm = stateMachineResource({ endpointInstance: 'ml.c5.xlarge', minCapacity: 2, maxCapacity: 10 });
    const lines = price(
      { Loop: sm },
      profile('sandbox', { serving: { activeHoursPerMonth: 100, averageInstances: 5 } }),
    );
    expect(only(lines, 'Loop', /^always-on endpoint/).quantity).toBe(1460);
    const burst = only(lines, 'Loop', /^autoscaling above the floor: 3 × ml\.c5\.xlarge while serving 100 h/);
    expect(burst).toMatchObject({ quantity: 300, usageBased: true });
    // More than the maximum is clamped to it.
    const capped = price(
      { Loop: sm },
      profile('sandbox', { serving: { activeHoursPerMonth: 10, averageInstances: 50 } }),
    );
    expect(only(capped, 'Loop', /^autoscaling above the floor/).quantity).toBe(80);
  });

  test('scale-to-zero endpoint (inference component, 0 instances when idle): instance-hours only while serving', () => {
    const sm = stateMachineResource({
      endpointInstance: 'ml.g4dn.xlarge',
      minCapacity: 0,
      maxCapacity: 1,
      scaleToZeroMaxInstances: 2,
    });
    expect(parseStateMachine(sm, 'test').endpoint).toMatchObject({ kind: 'scale-to-zero', maxInstances: 2 });
    const lines = price({ Loop: sm }, profile('sandbox', { serving: { activeHoursPerMonth: 8, averageInstances: 1 } }));
    const endpoint = only(lines, 'Loop', /^scale-to-zero endpoint 1 × ml\.g4dn\.xlarge while serving 8 h/);
    expect(endpoint).toMatchObject({ quantity: 8, unitPrice: 0.736, usageBased: true });
    const idle = price({ Loop: sm }, profile('sandbox', { serving: { activeHoursPerMonth: 0, averageInstances: 1 } }));
    expect(only(idle, 'Loop', /^scale-to-zero endpoint/).monthly).toBe(0);
  });

  test('serverless endpoint: memory × processing time per request: 1M × 100 ms × 2 GB = 200,000 GB-s × $0.00002 = $4', () => {
    const sm = stateMachineResource({ serverless: { memorySizeMB: 2048, maxConcurrency: 5 } });
    expect(parseStateMachine(sm, 'test').endpoint).toMatchObject({
      kind: 'serverless',
      serverless: { memorySizeMB: 2048, maxConcurrency: 5 },
    });
    const lines = price(
      { Loop: sm },
      profile('sandbox', {
        serving: {
          activeHoursPerMonth: 730,
          requestsPerMonth: 1_000_000,
          serverlessMsPerRequest: 100,
          requestBytes: 1024,
        },
      }),
    );
    const compute = only(lines, 'Loop', /^serverless endpoint 2048 MB × 100 ms × 1,000,000 requests/);
    expect(compute).toMatchObject({ quantity: 200_000, unit: 'GB-second', usageBased: true });
    expect(compute.monthly).toBeCloseTo(4, 6);
    expect(lines.some((l) => l.unit === 'instance-hour')).toBe(false);
    expect(only(lines, 'Loop', /^data processed in/).monthly).toBeCloseTo(((1_000_000 * 1024) / GB) * 0.016, 6);
    // No requests, nothing billed.
    expect(only(price({ Loop: sm }), 'Loop', /^serverless endpoint/).monthly).toBe(0);
  });

  test('serverless provisioned concurrency has no committed price: it fails naming the price', () => {
    const sm = stateMachineResource({
      serverless: { memorySizeMB: 1024, maxConcurrency: 5, provisionedConcurrency: 1 },
    });
    expect(() => price({ Loop: sm })).toThrow(/no price "sagemaker\.serverless\.provisionedConcurrencyGBSecond"/);
  });

  test('before the first model there is no endpoint: one line at zero that says what the first deployment creates', () => {
    const sm = stateMachineResource({ endpointInstance: 'ml.m5.large', minCapacity: 1, maxCapacity: 2 });
    const lines = price(
      { Loop: sm },
      profile('sandbox', { serving: { modelDeployed: false, activeHoursPerMonth: 730, averageInstances: 2 } }),
    );
    const endpoint = lines.filter((l) => l.type === 'AWS::SageMaker::Endpoint' && l.monthly > 0);
    expect(endpoint).toEqual([]);
    expect(only(lines, 'Loop', /^no endpoint: no model deployed yet.*always-on ml\.m5\.large endpoint/).quantity).toBe(
      0,
    );
  });

  test('without a state machine, training and endpoint come from the stage config, and the line says so', () => {
    const config = resolveConfig('sandbox', 'recommender');
    const lines = price(
      {},
      profile('sandbox', {
        training: { retrainsPerMonth: 1, hoursPerRun: 1 },
        serving: { activeHoursPerMonth: 10, averageInstances: 1 },
      }),
    );
    const training = lines.find((l) => l.type === 'AWS::SageMaker::TrainingJob' && l.unit === 'instance-hour');
    expect(training?.resource).toBe('(stage config)');
    expect(training?.component).toContain(config.training.instanceType);
    expect(training?.component).toMatch(/from the stage config/);
    const endpoint = lines.find((l) => l.type === 'AWS::SageMaker::Endpoint' && l.unit === 'instance-hour');
    expect(endpoint?.component).toContain(config.serving.instanceType);
    expect(endpoint?.component).toMatch(/from the stage config/);
  });

  test('once the state machine exists, the template wins over the stage config', () => {
    const sm = stateMachineResource({ trainingInstance: 'ml.p3.2xlarge', endpointInstance: 'ml.m5.xlarge' });
    const lines = price(
      { Loop: sm },
      profile('sandbox', {
        training: { retrainsPerMonth: 1, hoursPerRun: 1 },
        serving: { activeHoursPerMonth: 1, averageInstances: 1 },
      }),
    );
    expect(lines.find((l) => l.type === 'AWS::SageMaker::TrainingJob' && l.unit === 'instance-hour')?.unitPrice).toBe(
      3.825,
    );
    expect(lines.find((l) => l.type === 'AWS::SageMaker::Endpoint' && l.unit === 'instance-hour')?.unitPrice).toBe(
      0.23,
    );
  });

  test('the definition is read through its Fn::Join, tokens kept as placeholders', () => {
    const sm = stateMachineResource({ lambdaId: 'PlanFn', capturePercent: 35, minCapacity: 1, maxCapacity: 3 });
    expect(resolveDefinitionString(sm.Properties?.DefinitionString)).toContain('"Resource":"${GetAtt:PlanFn.Arn}"');
    const model = parseStateMachine(sm, 'test');
    expect(model.endpoint).toEqual({
      kind: 'instance',
      instanceType: 'ml.c5.xlarge',
      initialInstanceCount: 1,
      capturePercent: 35,
      minCapacity: 1,
      maxCapacity: 3,
    });
    expect(model.references.get('PlanFn')).toBe(1);
  });
});

describe('Lambda, Step Functions, CloudWatch, KMS and the rest', () => {
  test('a function run hourly by a schedule: 730 requests and 730 × 1 s × 1 GB arm64 GB-seconds', () => {
    const fn: CfnResource = {
      Type: 'AWS::Lambda::Function',
      Properties: { MemorySize: 1024, Architectures: ['arm64'] },
    };
    const rule: CfnResource = {
      Type: 'AWS::Events::Rule',
      Properties: { ScheduleExpression: 'rate(1 hour)', Targets: [{ Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] } }] },
    };
    const usage = profile('sandbox', { lambda: { averageDurationMs: 1000 } });
    const lines = price({ Fn: fn, Schedule: rule }, usage);
    expect(only(lines, 'Fn', /^requests/).monthly).toBeCloseTo(730 * 0.2e-6, 9);
    expect(only(lines, 'Fn', /^compute/).monthly).toBeCloseTo(730 * 0.0000133334, 9);
    expect(only(lines, 'Schedule', /^scheduled runs/)).toMatchObject({ quantity: 730, monthly: 0 });
  });

  test('functions called by a state machine: Task states × executions', () => {
    const fn: CfnResource = {
      Type: 'AWS::Lambda::Function',
      Properties: { MemorySize: 512, Architectures: ['x86_64'] },
    };
    const sm = stateMachineResource({ lambdaId: 'PlanFn' });
    const lines = price(
      { PlanFn: fn, Loop: sm },
      profile('sandbox', {
        retraining: { executionsPerMonth: 10, stateTransitionsPerExecution: 100 },
        lambda: { averageDurationMs: 2000 },
      }),
    );
    expect(only(lines, 'PlanFn', /^requests/).quantity).toBe(10);
    expect(only(lines, 'PlanFn', /^compute/).monthly).toBeCloseTo(10 * 2 * 0.5 * 0.0000166667, 9);
    // 10 executions × 100 transitions × $0.025 per 1,000.
    expect(only(lines, 'Loop', /^state transitions/).monthly).toBeCloseTo(0.025, 9);
  });

  test('a stream consumer function: events ÷ batch size invocations, and the stream counts it as a consumer', () => {
    const stream: CfnResource = {
      Type: 'AWS::Kinesis::Stream',
      Properties: { StreamModeDetails: { StreamMode: 'ON_DEMAND' } },
    };
    const fn: CfnResource = { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 128 } };
    const mapping: CfnResource = {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: { Ref: 'Consumer' },
        EventSourceArn: { 'Fn::GetAtt': ['Stream', 'Arn'] },
        BatchSize: 500,
      },
    };
    // 1 event/s for 730 h = 2,628,000 events ÷ 500 per batch = 5,256 invocations.
    const lines = price(
      { Stream: stream, Consumer: fn, Mapping: mapping },
      profile('sandbox', { ingestion: { eventsPerSecond: 1, eventSizeBytes: 100, activeHoursPerMonth: 730 } }),
    );
    expect(only(lines, 'Consumer', /^requests/).quantity).toBe(5256);
    expect(only(lines, 'Stream', /^data out \(1 consumer/).quantity).toBeCloseTo((2_628_000 * 1024) / GB, 6);
  });

  test('a function behind a function URL is invoked once per API request', () => {
    const fn: CfnResource = { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256 } };
    const url: CfnResource = {
      Type: 'AWS::Lambda::Url',
      Properties: { TargetFunctionArn: { 'Fn::GetAtt': ['Api', 'Arn'] } },
    };
    const lines = price(
      { Api: fn, ApiUrl: url },
      profile('sandbox', { other: { ...zeroUsage().other, apiRequestsPerMonth: 1_000_000 } }),
    );
    expect(only(lines, 'Api', /^requests/).monthly).toBeCloseTo(0.2, 9);
    expect(lines.filter((l) => l.resource === 'ApiUrl')).toEqual([]);
  });

  test('custom metrics are prorated by the hours their function runs: hourly = all month, never invoked = $0', () => {
    const emf = { Variables: { POWERTOOLS_METRICS_NAMESPACE: 'Test' } };
    const scheduled: CfnResource = { Type: 'AWS::Lambda::Function', Properties: { Environment: emf } };
    const consumer: CfnResource = { Type: 'AWS::Lambda::Function', Properties: { Environment: emf } };
    const rule: CfnResource = {
      Type: 'AWS::Events::Rule',
      Properties: { ScheduleExpression: 'rate(1 hour)', Targets: [{ Arn: { 'Fn::GetAtt': ['Drift', 'Arn'] } }] },
    };
    const mapping: CfnResource = {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: { FunctionName: { Ref: 'Consumer' }, EventSourceArn: 'arn:aws:kinesis:us-east-1:1:stream/x' },
    };
    const resources = { Drift: scheduled, Consumer: consumer, Schedule: rule, Mapping: mapping };
    const metrics = (lines: CostLine[], id: string) => only(lines, id, /^custom metrics/);
    // No events: the consumer never runs; the hourly function publishes every hour.
    const idle = price(resources, profile('sandbox', { other: { ...zeroUsage().other, customMetrics: 10 } }));
    expect(metrics(idle, 'Drift')).toMatchObject({ quantity: 10 });
    expect(metrics(idle, 'Drift').monthly).toBeCloseTo(3, 9);
    expect(metrics(idle, 'Consumer').monthly).toBe(0);
    // Events for 73 hours: the consumer publishes in those hours only, a tenth of the month.
    const busy = price(
      resources,
      profile('sandbox', {
        ingestion: { eventsPerSecond: 1, eventSizeBytes: 100, activeHoursPerMonth: 73 },
        other: { ...zeroUsage().other, customMetrics: 10 },
      }),
    );
    expect(metrics(busy, 'Consumer').quantity).toBeCloseTo(1, 9);
    // A function that says how many series it publishes is priced for those.
    const own = price(
      resources,
      profile('sandbox', {
        lambda: { ...zeroUsage().lambda, functions: { Drift: { customMetrics: 3 } } },
        other: { ...zeroUsage().other, customMetrics: 10 },
      }),
    );
    expect(metrics(own, 'Drift')).toMatchObject({ quantity: 3 });
    expect(metrics(own, 'Drift').monthly).toBeCloseTo(0.9, 9);
  });

  test('alarms per metric ($0.10, $0.30 high resolution), dashboards $3, keys $1 + requests', () => {
    const lines = price(
      {
        Simple: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 300 } },
        Math: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            Metrics: [
              { Expression: 'a+b+c' },
              { MetricStat: { Period: 300 } },
              { MetricStat: { Period: 300 } },
              { MetricStat: { Period: 300 } },
            ],
          },
        },
        Fast: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 10 } },
        Board: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
        Key: { Type: 'AWS::KMS::Key', Properties: {} },
      },
      profile('sandbox', { other: { ...zeroUsage().other, kmsRequestsPerKeyPerMonth: 10_000 } }),
    );
    expect(only(lines, 'Simple', /standard alarm/).monthly).toBeCloseTo(0.1, 9);
    expect(only(lines, 'Math', /3 metrics/).monthly).toBeCloseTo(0.3, 9);
    expect(only(lines, 'Fast', /high-resolution/).monthly).toBeCloseTo(0.3, 9);
    expect(only(lines, 'Board', /dashboard/).monthly).toBe(3);
    expect(only(lines, 'Key', /customer-managed key/).monthly).toBe(1);
    expect(only(lines, 'Key', /API requests/).monthly).toBeCloseTo(0.03, 9);
  });

  test('log groups: ingestion $0.50/GB and storage for the retention', () => {
    const lines = price(
      { Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } } },
      profile('sandbox', { other: { ...zeroUsage().other, otherLogGroupGBPerMonth: 2 } }),
    );
    expect(only(lines, 'Logs', /^ingestion/).monthly).toBeCloseTo(1, 9);
    expect(only(lines, 'Logs', /^storage/).monthly).toBeCloseTo(((2 * 30) / (730 / 24)) * 0.03, 6);
  });

  test('DynamoDB on-demand tables used by the state machine: requests per execution, split reads/writes', () => {
    const sm = stateMachineResource({ lambdaId: 'Lock' });
    const table: CfnResource = {
      Type: 'AWS::DynamoDB::GlobalTable',
      Properties: { BillingMode: 'PAY_PER_REQUEST', Replicas: [{ Region: 'us-east-1' }] },
    };
    const lines = price(
      { Lock: table, Loop: sm },
      profile('sandbox', { retraining: { executionsPerMonth: 1_000_000, lockRequestsPerExecution: 4 } }),
    );
    expect(only(lines, 'Lock', /^write requests/).monthly).toBeCloseTo(2 * 0.625, 6);
    expect(only(lines, 'Lock', /^read requests/).monthly).toBeCloseTo(2 * 0.125, 6);
  });

  test('Athena: TB scanned × $5', () => {
    const lines = price(
      { WorkGroup: { Type: 'AWS::Athena::WorkGroup', Properties: {} } },
      profile('sandbox', {
        other: { ...zeroUsage().other, athenaAdHocScannedGBPerMonth: 2048, athenaScheduledScannedGBPerMonth: 1024 },
      }),
    );
    expect(only(lines, 'WorkGroup', /data scanned/).monthly).toBeCloseTo(15, 9);
  });

  test('schedule expressions: runs per month', () => {
    expect(runsPerMonth('rate(1 hour)')).toBe(730);
    expect(runsPerMonth('rate(5 minutes)')).toBe(8760);
    expect(runsPerMonth('rate(7 days)')).toBeCloseTo(730 / 24 / 7, 9);
    expect(runsPerMonth('cron(0 3 * * ? *)')).toBeCloseTo(730 / 24, 9);
  });
});

describe('errors name what is unknown', () => {
  test('an unpriced billable resource type fails, naming the type, the stack and the resource', () => {
    expect(() =>
      price({ Box: { Type: 'AWS::EC2::Instance', Properties: {} }, Role: { Type: 'AWS::IAM::Role' } }),
    ).toThrow(/unpriced billable resource type: AWS::EC2::Instance \(Sandbox-Recommender-Data\/Box\)/);
  });

  test('an unknown region fails, listing the known ones', () => {
    expect(() => priceBook(prices, 'eu-central-1')).toThrow(
      /no prices for region "eu-central-1".*known regions: us-east-1, us-west-2/,
    );
    expect(() => estimate({ stacks: [stack({})], usage: profile('sandbox'), prices, region: 'xx-nowhere-1' })).toThrow(
      /xx-nowhere-1/,
    );
  });

  test('an unknown instance type fails, naming it and listing the known ones', () => {
    const sm = stateMachineResource({ endpointInstance: 'ml.x99.large' });
    expect(() =>
      price({ Loop: sm }, profile('sandbox', { serving: { activeHoursPerMonth: 1, averageInstances: 1 } })),
    ).toThrow(/unknown SageMaker hosting instance type "ml\.x99\.large" in region us-east-1.*known: .*ml\.c5\.xlarge/);
  });

  test('a usage profile of another stage is refused', () => {
    expect(() => estimate({ stacks: [stack({})], usage: profile('production'), prices })).toThrow(
      /describes the production stage; the templates are sandbox/,
    );
  });
});
