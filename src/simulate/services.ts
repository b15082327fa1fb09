/**
 * Local services for the synthesized retraining state machine, run with aws-local-stepfunctions: every Task state
 * is served by a local handler chosen by its Resource (service and action), acting on simulated SageMaker, Athena
 * and SNS, the lock table in dynalite, and the local S3. The loop's Lambdas run their real logic (plan, manifests,
 * evaluation, baseline builders). A call nobody handles fails the task with `Simulator.UnsupportedCall` naming it,
 * and the simulation then fails with that name.
 *
 * Behaviour: Athena runs the loop's queries over the simulated lake (the events the consumer accepted), windows
 * and validation split included; a training job takes simulated time and emits its metric; batch transforms write
 * outputs of a given quality; an endpoint (or inference component) update goes through polls and can roll back.
 */
import './polyfill';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  PutItemCommand,
  type DeleteItemCommandInput,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import { runEvaluation, type EvaluationRequest } from '../../core/retraining/evaluate';
import { buildManifests, unitHash, type ManifestInput } from '../../core/retraining/manifests';
import { parseS3Uri } from '../../core/storage/s3-uri';
import { refreshBaseline, type BaselineInput } from '../../core/retraining/baseline';
import { planInputSchema, planRun } from '../../core/retraining/plan';
import { refreshVisionBaseline, type VisionBaselineInput } from '../../core/vision/baseline';
import type { ImageLimits } from '../../core/vision/image-stats';
import { createRng } from '../../core/drift/stats/random';
import type { CaseStudyBlueprint } from './blueprint';
import type { Emulators } from './emulators';
import type { LocalObjectStore } from './store';
import type { SimClock, Timeline } from './timeline';

type Json = Record<string, unknown>;

/** An error whose `name` is what a Retry/Catch matches. */
export class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** How the simulated services behave in one run (deterministic per seed). */
export interface ServiceScenario {
  /** Quality the champion's batch transform reaches on the validation data (AUC or accuracy). */
  readonly championQuality: number;
  /** Quality the candidate's batch transform reaches. */
  readonly candidateQuality: number;
  /** The candidate's final training metric. */
  readonly candidateMetric: number;
  /** Simulated training time, minutes. */
  readonly trainingMinutes: number;
  /** The deployment trips an auto-rollback alarm. */
  readonly rollback: boolean;
  readonly seed: number;
}

/** A package in the local model registry. */
interface LocalPackage {
  arn: string;
  status: string;
  metadata: Record<string, string>;
  seq: number;
}

/** What one execution did. */
export interface ExecutionRecord {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly visited: string[];
  readonly outcome?: Json;
  readonly error?: string;
}

/** An event in the simulated lake (as Firehose would have delivered it). */
export type LakeEvent = Readonly<Record<string, unknown>>;

/** Everything the services need. */
export interface LocalServicesOptions {
  readonly blueprint: CaseStudyBlueprint;
  readonly store: LocalObjectStore;
  readonly emulators: Emulators;
  readonly clock: SimClock;
  readonly timeline: Timeline;
  /** Events in the lake (consumed and valid). */
  readonly lake: () => readonly LakeEvent[];
  readonly scenario: ServiceScenario;
  /** Vision: limits of the baseline builder's image reads. */
  readonly imageLimits?: ImageLimits;
}

const STATES_PREFIX = 'arn:aws:states:::';

/** Service and action of a Task resource; `lambda` for function ARNs. */
export function callOf(resource: string): { service: string; action: string } {
  if (/^arn:aws[a-z-]*:(lambda|fake):/.test(resource)) return { service: 'lambda', action: resource };
  if (!resource.startsWith(STATES_PREFIX)) return { service: 'unknown', action: resource };
  const parts = resource.slice(STATES_PREFIX.length).split(':');
  const [service, action] = parts[0] === 'aws-sdk' ? [parts[1], parts[2]] : [parts[0], parts[1]];
  return { service, action: String(action).replace(/\.(sync|waitForTaskToken)(:2)?$/, '') };
}

/** Every state of a definition (with Parallel branches and Map processors), by name. */
export function statesOf(definition: Json): Map<string, Json> {
  const out = new Map<string, Json>();
  const walk = (states: Record<string, Json>) => {
    for (const [name, state] of Object.entries(states)) {
      out.set(name, state);
      for (const branch of (state.Branches as Array<{ States: Record<string, Json> }> | undefined) ?? []) {
        walk(branch.States);
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, Json> } | undefined;
      if (processor) walk(processor.States);
    }
  };
  walk(definition.States as Record<string, Json>);
  return out;
}

const SURFACE_CODES: Record<string, number> = { home: 0, search: 1, detail: 2, email: 3, notification: 4 };
const DEVICE_CODES: Record<string, number> = { mobile: 0, desktop: 1, tablet: 2, tv: 3 };
const POSITIVE = new Set(['click', 'watch', 'purchase']);

/** Columns of the recommender's dataset queries, computed like the SQL does. */
function column(alias: string, e: LakeEvent): number {
  const time = new Date(String(e.event_time));
  switch (alias) {
    case 'label':
      return POSITIVE.has(String(e.event_type)) ? 1 : 0;
    case 'position':
    case 'f0':
      return typeof e.position === 'number' ? e.position : -1;
    case 'surface_code':
    case 'f1':
      return SURFACE_CODES[String(e.surface)] ?? -1;
    case 'device_code':
    case 'f2':
      return DEVICE_CODES[String(e.device)] ?? -1;
    case 'hour_of_day':
    case 'f3':
      return time.getUTCHours();
    case 'day_of_week':
    case 'f4':
      return ((time.getUTCDay() + 6) % 7) + 1;
    default:
      throw new TaskError('Athena.InvalidRequestException', `the local Athena does not know the column "${alias}"`);
  }
}

/** `(start, end]` of a query's `event_time > … AND event_time <= …`. */
function windowOf(query: string): { start: number; end: number } {
  const times = [...query.matchAll(/from_iso8601_timestamp\('([^']+)'\)/g)].map((m) => Date.parse(m[1]));
  if (times.length < 2) throw new TaskError('Athena.InvalidRequestException', 'query without a time window');
  return { start: times[0], end: times[1] };
}

/** The validation split of the dataset queries (`xxhash64(event_id) & 1023 < 102`), with FNV-1a locally. */
const inValidation = (e: LakeEvent) => Math.floor(unitHash(String(e.event_id ?? e.image_key)) * 1024) < 102;

const LABEL_RANK: Record<string, number> = { human: 4, 'labels-file': 3, prefix: 2 };

const csvCell = (v: unknown) => `"${String(v).replace(/"/g, '""')}"`;

/** The local services of one case study; {@link run} executes the state machine once. */
export class LocalServices {
  readonly packages: LocalPackage[] = [];
  readonly notifications: Json[] = [];
  readonly unsupported: string[] = [];
  private endpoint?: { name: string; configName: string; previous?: string; pending?: string; polls: number };
  private component?: { name: string; modelName: string; previous?: string; pending?: string; polls: number };
  private readonly queryResults = new Map<string, string[][]>();
  private seq = 0;
  private packageSeq = 0;

  constructor(private readonly o: LocalServicesOptions) {}

  /** Registers the model that served the baseline period (approved, deployed, inference component when used). */
  addChampion(args: { modelName: string; metricName: string; metricValue: number; datasetEnd: string }): void {
    const { endpointName } = this.o.blueprint;
    this.packages.push({
      arn: `arn:aws:sagemaker:us-east-1:123456789012:model-package/${endpointName}/${++this.packageSeq}`,
      status: 'Approved',
      metadata: {
        datasetId: 'initial',
        datasetEnd: args.datasetEnd,
        metricName: args.metricName,
        metricValue: String(args.metricValue),
        modelName: args.modelName,
      },
      seq: this.packageSeq,
    });
    this.endpoint = { name: endpointName, configName: args.modelName, polls: 0 };
    this.component = { name: `${endpointName}-ic`, modelName: args.modelName, polls: 0 };
  }

  private get t(): Timeline {
    return this.o.timeline;
  }

  /** Runs the definition once with the given execution name and input. */
  async run(executionName: string, input: Json): Promise<ExecutionRecord> {
    const definition = this.o.blueprint.definition;
    const states = statesOf(definition);
    const handlers: Record<string, (input: unknown) => Promise<never>> = {};
    const waits: Record<string, number> = {};
    const retries: Record<string, number> = {};
    for (const [name, state] of states) {
      if (state.Type === 'Wait') waits[name] = 0;
      if (state.Type !== 'Task') continue;
      retries[name] = 0;
      const call = callOf(String(state.Resource));
      handlers[name] = async (raw: unknown) => (await this.dispatch(name, call, (raw ?? {}) as Json)) as never;
    }
    const machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: false, checkPaths: false },
    });
    const options: RunOptions = {
      overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retries },
      context: {
        Execution: {
          Id: `arn:aws:states:us-east-1:123456789012:execution:${this.o.blueprint.mlStack}-Retraining:${executionName}`,
          Name: executionName,
          StartTime: this.o.clock.now().toISOString(),
          Input: input,
        },
        State: { RetryCount: 0 },
        Task: { Token: `token-${executionName}` },
      } as never,
    };
    const execution = machine.run(input as never, options);
    const visited: string[] = [];
    const logs = (async () => {
      for await (const e of execution.eventLogs) if (e.type === 'StateEntered') visited.push(e.state.name);
    })();
    let record: ExecutionRecord;
    try {
      await execution.result;
      record = { status: 'SUCCEEDED', visited, outcome: this.notifications.at(-1) };
    } catch (e) {
      record = { status: 'FAILED', visited, outcome: this.notifications.at(-1), error: (e as Error).message };
    }
    await logs;
    if (this.unsupported.length > 0) {
      throw new Error(`the retraining loop made calls the simulation cannot serve: ${this.unsupported.join(', ')}`);
    }
    return record;
  }

  private async dispatch(state: string, call: { service: string; action: string }, i: Json): Promise<unknown> {
    const { service, action } = call;
    const key = `${service}:${action}`;
    switch (key) {
      case 'dynamodb:putItem':
      case 'dynamodb:deleteItem':
        return this.dynamo(action, i);
      case 'athena:startQueryExecution':
        return this.athenaQuery(state, i);
      case 'athena:getQueryResults':
        return this.athenaResults(i);
      case 'sagemaker:createTrainingJob':
        return this.train(i);
      case 'sagemaker:createTransformJob':
        return this.transform(state, i);
      case 'sagemaker:createModel':
        return { ModelArn: `arn:aws:sagemaker:us-east-1:123456789012:model/${String(i.ModelName)}` };
      case 'sagemaker:listModelPackages':
        return this.listPackages(i);
      case 'sagemaker:describeModelPackage':
        return this.describePackage(i);
      case 'sagemaker:createModelPackage':
        return this.createPackage(i);
      case 'sagemaker:updateModelPackage':
        return this.updatePackage(i);
      case 'sagemaker:createEndpointConfig':
        return {
          EndpointConfigArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/${String(i.EndpointConfigName)}`,
        };
      case 'sagemaker:listEndpoints':
        return this.listEndpoints(i);
      case 'sagemaker:createEndpoint':
      case 'sagemaker:updateEndpoint':
        return this.deployEndpoint(action, i);
      case 'sagemaker:describeEndpoint':
        return this.describeEndpoint();
      case 'sagemaker:createInferenceComponent':
      case 'sagemaker:updateInferenceComponent':
        return this.deployComponent(action, i);
      case 'sagemaker:describeInferenceComponent':
        return this.describeComponent(i);
      case 'applicationautoscaling:registerScalableTarget':
        this.t.log(
          'autoscale',
          `scalable target ${String(i.ResourceId)}: ${String(i.MinCapacity)}…${String(i.MaxCapacity)}`,
        );
        return {
          ScalableTargetARN: `arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/${this.seq}`,
        };
      case 'applicationautoscaling:putScalingPolicy':
        return {
          PolicyARN: `arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:sim:resource/${String(i.ResourceId)}:policyName/${String(i.PolicyName)}`,
          Alarms: [],
        };
      case 'cloudwatch:putMetricAlarm':
        return {};
      case 'sns:publish':
        return this.publish(i);
      default:
        if (service === 'lambda' && action === 'invoke') {
          // The optimized integration: function in FunctionName, event in Payload, result in Payload.
          return {
            Payload: await this.lambda(state, String(i.FunctionName), (i.Payload ?? {}) as Json),
            StatusCode: 200,
          };
        }
        if (service === 'lambda') return this.lambda(state, action, i);
        this.unsupported.push(`${key} (state ${state})`);
        throw new TaskError(
          'Simulator.UnsupportedCall',
          `the simulation has no local handler for ${key} (state ${state})`,
        );
    }
  }

  private async lambda(state: string, resource: string, i: Json): Promise<unknown> {
    const fn = resource.split(':').slice(-1)[0];
    if (/Plan/.test(fn)) return planRun(planInputSchema.parse(i));
    if (/Evaluate/.test(fn)) {
      const evaluation = await runEvaluation(this.o.store, i as unknown as EvaluationRequest);
      this.o.clock.advance(5_000);
      this.t.log('evaluate', `${evaluation.promote ? 'promote' : 'reject'}: ${evaluation.reason}`);
      return evaluation;
    }
    if (/Manifests/.test(fn)) {
      const result = await buildManifests(this.o.store, i as unknown as ManifestInput);
      this.t.log(
        'dataset',
        `manifests: ${result.train} train / ${result.validation} validation images, classes ${result.classes.join(', ')}`,
      );
      return result;
    }
    if (/Baseline/.test(fn)) {
      const result =
        this.o.blueprint.caseStudy === 'vision'
          ? await refreshVisionBaseline(
              this.o.store,
              (ref) => this.readImage(ref),
              i as unknown as VisionBaselineInput,
              this.o.imageLimits ?? { maxBytes: 5_242_880, maxPixels: 25_000_000 },
              this.o.clock.now(),
            )
          : await refreshBaseline(this.o.store, i as unknown as BaselineInput, this.o.clock.now());
      this.t.log(
        'baseline',
        `drift baseline refreshed from ${result.records} validation records (${result.features.length} features)`,
      );
      return result;
    }
    this.unsupported.push(`lambda ${fn} (state ${state})`);
    throw new TaskError(
      'Simulator.UnsupportedCall',
      `the simulation has no local handler for the function ${fn} (state ${state})`,
    );
  }

  private async readImage(ref: string): Promise<Uint8Array | undefined> {
    const { bucket, key } = parseS3Uri(ref);
    return this.o.store.bytes(bucket, key);
  }

  private async dynamo(action: string, i: Json): Promise<unknown> {
    const client = this.o.emulators.dynamo;
    try {
      // The Step Functions integration passes the API's own parameters (attribute values in DynamoDB JSON).
      if (action === 'putItem') await client.send(new PutItemCommand(i as unknown as PutItemCommandInput));
      else await client.send(new DeleteItemCommand(i as unknown as DeleteItemCommandInput));
      return {};
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException') {
        throw new TaskError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed');
      }
      throw e;
    }
  }

  private inWindow(query: string): LakeEvent[] {
    const { start, end } = windowOf(query);
    return this.o.lake().filter((e) => {
      const t = Date.parse(String(e.event_time));
      return t > start && t <= end;
    });
  }

  private async athenaQuery(state: string, i: Json): Promise<unknown> {
    const query = String(i.QueryString);
    const id = `q-${++this.seq}-${state}`;
    const curated = this.o.blueprint.buckets.curated;
    const outputLocation = `s3://${curated}/athena-results/${id}.csv`;
    let rows: string[][] | undefined;
    let summary: string;
    const unload = /^UNLOAD \(SELECT (.+) FROM .+ WHERE (.+)\) TO '(s3:\/\/[^']+)' WITH \(format = '(\w+)'/s.exec(
      query,
    );
    if (/^SELECT count\(\*\)/.test(query)) {
      const labelled = /label IS NOT NULL/.test(query);
      const n = this.inWindow(query).filter((e) => !labelled || (e.label !== undefined && e.label !== null)).length;
      rows = [['n'], [String(n)]];
      summary = `${n} ${labelled ? 'labelled images' : 'events'} since the champion's dataset`;
    } else if (/^SELECT image_key/.test(query)) {
      const best = new Map<string, { label: string; rank: number }>();
      for (const e of this.inWindow(query)) {
        if (e.label === undefined || e.label === null) continue;
        const rank = (LABEL_RANK[String(e.label_source)] ?? 1) * 1e13 + Date.parse(String(e.event_time)) / 1000;
        const key = String(e.image_key);
        if ((best.get(key)?.rank ?? -1) < rank) best.set(key, { label: String(e.label), rank });
      }
      rows = [
        ['image_key', 'label'],
        ...[...best].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => [k, v.label]),
      ];
      summary = `${best.size} labelled images selected`;
    } else if (unload) {
      const [, select, where, target, format] = unload;
      const aliases = [...select.matchAll(/ AS (\w+)/g)].map((m) => m[1]);
      const validation = /1023\) < 102/.test(where);
      const events = this.inWindow(query).filter((e) => inValidation(e) === validation);
      const values = events.map((e) => aliases.map((a) => column(a, e)));
      const { bucket, key } = parseS3Uri(target);
      const body =
        format === 'JSON'
          ? values.map((v) => JSON.stringify(Object.fromEntries(aliases.map((a, k) => [a, v[k]])))).join('\n')
          : values.map((v) => v.join(',')).join('\n');
      // Parquet is not encoded locally: the simulated training job does not read it.
      await this.o.store.put(bucket, `${key}part-00000.${format.toLowerCase()}`, body + '\n');
      summary = `UNLOAD ${events.length} rows (${format}) to ${target}`;
    } else {
      throw new TaskError('Athena.InvalidRequestException', `the local Athena cannot run: ${query.slice(0, 120)}`);
    }
    if (rows) {
      this.queryResults.set(id, rows);
      const { bucket, key } = parseS3Uri(outputLocation);
      await this.o.store.put(bucket, key, rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n');
    }
    this.o.clock.advance(15_000);
    this.t.log('athena', `${state}: ${summary}`);
    return {
      QueryExecution: {
        QueryExecutionId: id,
        Query: query,
        Status: { State: 'SUCCEEDED' },
        ResultConfiguration: { OutputLocation: outputLocation },
      },
    };
  }

  private athenaResults(i: Json): unknown {
    const rows = this.queryResults.get(String(i.QueryExecutionId));
    if (!rows) throw new TaskError('Athena.InvalidRequestException', `no query ${String(i.QueryExecutionId)}`);
    return { ResultSet: { Rows: rows.map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) })) } };
  }

  private train(i: Json): unknown {
    const s = this.o.scenario;
    const name = String(i.TrainingJobName);
    const metric = ((i.AlgorithmSpecification as Json).MetricDefinitions as Array<{ Name: string }>)[0].Name;
    const instance = (i.ResourceConfig as Json | undefined)?.InstanceType;
    this.t.log(
      'train',
      `training job ${name} started on ${String(instance)}${i.EnableManagedSpotTraining ? ' (spot)' : ''}`,
    );
    const rng = createRng(s.seed * 31 + 7);
    const steps = 4;
    for (let k = 1; k <= steps; k++) {
      this.o.clock.advance((s.trainingMinutes * 60_000) / steps);
      const value =
        k === steps ? s.candidateMetric : s.candidateMetric - (0.08 * (steps - k)) / steps + rng.nextFloat() * 0.005;
      this.t.log('train', `${name}: epoch ${k}/${steps} ${metric}=${value.toFixed(4)}`);
    }
    this.t.log('train', `training job ${name} Completed after ${s.trainingMinutes} min`);
    return {
      TrainingJobName: name,
      TrainingJobStatus: 'Completed',
      ModelArtifacts: {
        S3ModelArtifacts: `s3://${this.o.blueprint.buckets.artifacts}/models/${name}/output/model.tar.gz`,
      },
      FinalMetricDataList: [
        { MetricName: metric, Value: s.candidateMetric, Timestamp: this.o.clock.now().toISOString() },
      ],
    };
  }

  /** A batch transform whose outputs reach the scenario's quality on the validation data. */
  private async transform(state: string, i: Json): Promise<unknown> {
    const champion = /champion/i.test(state) || String(i.TransformJobName).endsWith('-chmp');
    const quality = champion ? this.o.scenario.championQuality : this.o.scenario.candidateQuality;
    const rng = createRng(this.o.scenario.seed * 131 + (champion ? 1 : 2));
    const out = parseS3Uri(String((i.TransformOutput as Json).S3OutputPath));
    const source = ((i.TransformInput as Json).DataSource as Json).S3DataSource as {
      S3DataType: string;
      S3Uri: string;
    };
    const input = parseS3Uri(source.S3Uri);
    let records = 0;
    if (source.S3DataType === 'S3Prefix') {
      // label-first CSV in, `label,score` out; scores separated so that the expected AUC is `quality`.
      const shift = Math.SQRT2 * inverseNormal(quality);
      for await (const key of this.o.store.list(input.bucket, input.key)) {
        const text = this.o.store.bytes(input.bucket, key)?.toString('utf8') ?? '';
        const lines = text
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => {
            const label = Number(l.split(',')[0]);
            const z = rng.nextNormal() + (label === 1 ? shift : 0);
            return `${label},${(1 / (1 + Math.exp(-z))).toFixed(6)}`;
          });
        records += lines.length;
        await this.o.store.put(out.bucket, `${out.key}${key.slice(input.key.length)}.out`, lines.join('\n') + '\n');
      }
    } else {
      // A SageMaker manifest file ([{prefix}, key, …]) of validation images; one probability vector per image.
      const manifest = JSON.parse(this.o.store.bytes(input.bucket, input.key)?.toString('utf8') ?? '[]') as [
        { prefix: string },
        ...string[],
      ];
      const [, ...keys] = manifest;
      const classes = [
        ...new Set(
          this.o
            .lake()
            .map((e) => e.label)
            .filter((l): l is string => typeof l === 'string'),
        ),
      ].sort();
      const truth = new Map(
        this.o
          .lake()
          .filter((e) => typeof e.label === 'string')
          .map((e) => [String(e.image_key), classes.indexOf(String(e.label))]),
      );
      for (const key of keys) {
        const right = truth.get(key) ?? 0;
        const predicted =
          rng.nextFloat() < quality
            ? right
            : (right + 1 + rng.nextInt(Math.max(1, classes.length - 1))) % Math.max(2, classes.length);
        const p = classes.map((_, c) => (c === predicted ? 0.9 : 0.1 / Math.max(1, classes.length - 1)));
        await this.o.store.put(out.bucket, `${out.key}${key}.out`, JSON.stringify(p));
      }
      records = keys.length;
    }
    this.o.clock.advance(8 * 60_000);
    this.t.log('score', `${state}: batch transform ${String(i.TransformJobName)} scored ${records} validation records`);
    return { TransformJobName: i.TransformJobName, TransformJobStatus: 'Completed' };
  }

  private listPackages(i: Json): unknown {
    const status = i.ModelApprovalStatus as string | undefined;
    return {
      ModelPackageSummaryList: this.packages
        .filter((p) => !status || p.status === status)
        .sort((a, b) => b.seq - a.seq)
        .slice(0, Number(i.MaxResults ?? 100))
        .map((p) => ({ ModelPackageArn: p.arn, ModelApprovalStatus: p.status })),
    };
  }

  private describePackage(i: Json): unknown {
    const p = this.packages.find((x) => x.arn === i.ModelPackageName);
    if (!p)
      throw new TaskError(
        'SageMaker.ValidationException',
        `model package ${String(i.ModelPackageName)} does not exist`,
      );
    return { ModelPackageArn: p.arn, ModelApprovalStatus: p.status, CustomerMetadataProperties: p.metadata };
  }

  private createPackage(i: Json): unknown {
    const p: LocalPackage = {
      arn: `arn:aws:sagemaker:us-east-1:123456789012:model-package/${String(i.ModelPackageGroupName)}/${++this.packageSeq}`,
      status: String(i.ModelApprovalStatus),
      metadata: (i.CustomerMetadataProperties ?? {}) as Record<string, string>,
      seq: this.packageSeq,
    };
    this.packages.push(p);
    this.t.log('registry', `model package ${p.arn.split('/').slice(-2).join('/')} registered ${p.status}`);
    return { ModelPackageArn: p.arn };
  }

  private updatePackage(i: Json): unknown {
    const p = this.packages.find((x) => x.arn === i.ModelPackageArn);
    if (!p)
      throw new TaskError('SageMaker.ValidationException', `model package ${String(i.ModelPackageArn)} does not exist`);
    p.status = String(i.ModelApprovalStatus ?? p.status);
    this.t.log('registry', `model package ${p.arn.split('/').slice(-2).join('/')} marked ${p.status}`);
    return { ModelPackageArn: p.arn };
  }

  private listEndpoints(i: Json): unknown {
    const contains = String(i.NameContains ?? '');
    return {
      Endpoints:
        this.endpoint && this.endpoint.name.includes(contains)
          ? [{ EndpointName: this.endpoint.name, EndpointStatus: 'InService' }]
          : [],
    };
  }

  private deployEndpoint(action: string, i: Json): unknown {
    const config = String(i.EndpointConfigName);
    if (action === 'createEndpoint') {
      this.endpoint = { name: String(i.EndpointName), configName: config, pending: config, polls: 3 };
      this.t.log('deploy', `creating endpoint ${String(i.EndpointName)} with ${config}`);
    } else {
      if (!this.endpoint)
        throw new TaskError('SageMaker.ValidationException', `Could not find endpoint ${String(i.EndpointName)}`);
      const canary = (i.DeploymentConfig as Json | undefined)?.BlueGreenUpdatePolicy ? 'blue/green canary' : 'update';
      this.endpoint = { ...this.endpoint, previous: this.endpoint.configName, pending: config, polls: 4 };
      this.t.log('deploy', `updating endpoint ${this.endpoint.name} to ${config} (${canary}, auto-rollback on alarms)`);
    }
    return { EndpointArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${this.endpoint.name}` };
  }

  private describeEndpoint(): unknown {
    const e = this.endpoint;
    if (!e) throw new TaskError('SageMaker.ValidationException', 'Could not find endpoint');
    this.o.clock.advance(60_000);
    let status = 'InService';
    if (e.pending) {
      if (e.polls > 0) {
        e.polls--;
        status = e.previous ? 'Updating' : 'Creating';
      } else if (e.previous && this.o.scenario.rollback) {
        this.t.log('deploy', `canary alarm fired (p90 ModelLatency): rolled back to ${e.previous}`);
        e.configName = e.previous;
        e.pending = undefined;
      } else {
        e.configName = e.pending;
        e.pending = undefined;
        this.t.log('deploy', `endpoint ${e.name} InService with ${e.configName}`);
      }
    }
    return { EndpointName: e.name, EndpointStatus: status, EndpointConfigName: e.configName };
  }

  private deployComponent(action: string, i: Json): unknown {
    const name = String(i.InferenceComponentName);
    const model = String((i.Specification as Json | undefined)?.ModelName);
    if (action === 'createInferenceComponent' || !this.component) {
      this.component = { name, modelName: model, pending: model, polls: 2 };
      this.t.log('deploy', `creating inference component ${name} with ${model}`);
    } else {
      this.component = { ...this.component, name, previous: this.component.modelName, pending: model, polls: 3 };
      this.t.log('deploy', `rolling update of inference component ${name} to ${model} (auto-rollback on alarms)`);
    }
    return { InferenceComponentArn: `arn:aws:sagemaker:us-east-1:123456789012:inference-component/${name}` };
  }

  private describeComponent(i: Json): unknown {
    const c = this.component;
    if (!c || c.name !== i.InferenceComponentName) {
      throw new TaskError(
        'SageMaker.ValidationException',
        `Could not find inference component ${String(i.InferenceComponentName)}`,
      );
    }
    let status = 'InService';
    if (c.pending) {
      this.o.clock.advance(60_000);
      if (c.polls > 0) {
        c.polls--;
        status = c.previous ? 'Updating' : 'Creating';
      } else if (c.previous && this.o.scenario.rollback) {
        this.t.log('deploy', `rollout alarm fired (p90 ModelLatency): ${c.name} rolled back to ${c.previous}`);
        c.modelName = c.previous;
        c.pending = undefined;
      } else {
        c.modelName = c.pending;
        c.pending = undefined;
        this.t.log('deploy', `inference component ${c.name} InService with ${c.modelName}`);
      }
    }
    return {
      InferenceComponentName: c.name,
      EndpointName: this.endpoint?.name,
      InferenceComponentStatus: status,
      Specification: { ModelName: c.modelName },
      RuntimeConfig: { DesiredCopyCount: 1, CurrentCopyCount: 1 },
    };
  }

  private publish(i: Json): unknown {
    const message = (typeof i.Message === 'string' ? JSON.parse(i.Message) : i.Message) as Json;
    this.notifications.push(message);
    if (i.TaskToken) return { approved: true, approver: 'simulation' };
    this.t.log(
      'notify',
      `SNS: run ended "${String(message.status)}"${message.reason ? ` (${String(message.reason).slice(0, 140)})` : ''}`,
    );
    return { MessageId: `m-${++this.seq}` };
  }
}

/** Inverse of the standard normal CDF (Acklam's rational approximation; |error| < 1.2e-9). */
export function inverseNormal(p: number): number {
  const q = Math.min(Math.max(p, 1e-9), 1 - 1e-9);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (q < lo) {
    const r = Math.sqrt(-2 * Math.log(q));
    return (
      (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) /
      ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
    );
  }
  if (q > 1 - lo) return -inverseNormal(1 - q);
  const r = q - 0.5;
  const s = r * r;
  return (
    ((((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r) /
    (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1)
  );
}
