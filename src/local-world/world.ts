/**
 * One local AWS world for the tests and `npm run simulate`. A synthesized stack is deployed into it (its DynamoDB
 * tables created on dynalite under physical names, its state machine definition resolved with them), and the
 * definition runs under aws-local-stepfunctions with every Task served by the world's implementation of its AWS
 * call, chosen by service and action: DynamoDB on dynalite (a real engine: condition expressions are the
 * engine's), Athena over the local lake, the SageMaker registry and hosting, SageMaker jobs through the run's
 * {@link ModelRuntime}, Lambda functions running their core logic, SNS, CloudWatch and Application Auto Scaling.
 * A call the world does not serve fails its Task with `Simulator.UnsupportedCall` and, after the execution, the
 * run itself. Per-run overrides (by `service:action`) may replace a call, e.g. to inject a fault.
 */
import './polyfill';
import { CreateTableCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StateMachine, type RunOptions as LocalRunOptions } from 'aws-local-stepfunctions';
import { MemoryObjectStore } from '../../core/storage/object-store';
import { callOf, statesOf, type Call } from './calls';
import { SimClock, type WorldLog } from './clock';
import { TaskError, UNSUPPORTED_CALL } from './errors';
import { FIXED, resolveIntrinsics } from './intrinsics';
import { athenaService, type QueryEngine } from './services/athena';
import { loopQueryEngine } from './services/athena-loop-queries';
import { dynamoDbService } from './services/dynamodb';
import { lambdaService } from './services/lambda';
import { Messaging } from './services/messaging';
import { Hosting } from './services/sagemaker-hosting';
import { Jobs } from './services/sagemaker-jobs';
import { ModelRegistry } from './services/sagemaker-registry';
import type {
  Approver,
  CallContext,
  Handler,
  Json,
  LakeEvent,
  LambdaCode,
  ModelRuntime,
  RolloutBehaviour,
  RunContext,
  ServiceHandlers,
  WorldContext,
} from './types';

/** A CloudFormation template (or the part the world reads). */
export interface TemplateLike {
  readonly Resources?: Readonly<Record<string, { readonly Type: string; readonly Properties?: Json }>>;
}

/** What {@link LocalWorld.deploy} created. */
export interface DeployedStack {
  /** The state machine definition, intrinsics resolved with the world's physical names. */
  readonly definition: Json;
  /** Logical ID → physical name of the tables created on dynalite. */
  readonly tables: Readonly<Record<string, string>>;
}

/** Options of a world. */
export interface LocalWorldOptions {
  /** A client of the dynalite the world's tables live in (see `Emulators`). */
  readonly dynamo: DynamoDBClient;
  /** @default a new in-memory store */
  readonly store?: MemoryObjectStore;
  /** @default 2026-11-23T10:00:00Z */
  readonly clock?: SimClock;
  /** @default nowhere */
  readonly log?: WorldLog;
  /** The lake the local Athena queries. @default empty */
  readonly lake?: () => readonly LakeEvent[];
  /** The Athena engine. @default the loop's statements over the lake */
  readonly queryEngine?: QueryEngine;
  /** Where Athena writes results. @default `s3://curated/athena-results/` */
  readonly athenaResultsUri?: string;
  /** The code of the Lambda functions, by a fragment of their name (see `loopFunctions`). @default none */
  readonly functions?: Readonly<Record<string, LambdaCode>>;
}

/** One execution's options. */
export interface RunOptions {
  /** Execution name. */
  readonly execution: string;
  readonly input?: Json;
  /** Name of the state machine in the execution ARN. @default `loop` */
  readonly stateMachineName?: string;
  /** How models train and score. */
  readonly models: ModelRuntime;
  /** How deployments go. @default every deployment comes up after one poll */
  readonly rollout?: RolloutBehaviour;
  /** The approver. @default approves as `simulation` */
  readonly approver?: Approver;
  /** Replacements of calls, by `service:action` (the world's own implementation is `ctx.fallback`). */
  readonly overrides?: Readonly<Record<string, Handler>>;
  /** Code for this run only, by a fragment of the function name (replaces the world's code of that fragment). */
  readonly functions?: Readonly<Record<string, LambdaCode>>;
}

/** One call as the Task made it. */
export interface CallRecord {
  readonly state: string;
  readonly service: string;
  readonly action: string;
  readonly input: Json;
}

/** One execution's record. */
export interface RunRecord {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  /** The execution's error (`ExecutionError`, its message naming the cause). */
  readonly error?: { readonly name: string; readonly message: string };
  /** What failed the execution: a Task's error or a Fail state's Error and Cause. */
  readonly cause?: { readonly name: string; readonly message: string };
  /** States entered, in order. */
  readonly visited: string[];
  readonly calls: CallRecord[];
}

const APPROVE: Approver = () => ({ approved: true, approver: 'simulation' });

/** The definition with every `"<key>.$": "$$.Execution.StartTime"` parameter replaced by the given time. */
export function atStartTime(definition: Json, start: Date): Json {
  const iso = start.toISOString();
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value as Json).map(([k, v]) =>
        k.endsWith('.$') && v === '$$.Execution.StartTime' ? [k.slice(0, -2), iso] : [k, rewrite(v)],
      ),
    );
  };
  return rewrite(definition) as Json;
}

/** The local AWS world. */
export class LocalWorld implements WorldContext {
  readonly store: MemoryObjectStore;
  readonly clock: SimClock;
  readonly log: WorldLog;
  readonly lake: () => readonly LakeEvent[];
  readonly registry: ModelRegistry;
  readonly hosting: Hosting;
  readonly jobs: Jobs;
  readonly messaging: Messaging;
  /** Status of every execution the world ran or was told about (what `sfn:DescribeExecution` answers). */
  readonly executions = new Map<string, string>();
  private readonly athena: { handlers: ServiceHandlers; queries: string[] };
  private readonly services: Readonly<Record<string, ServiceHandlers>>;
  private readonly dynamo: DynamoDBClient;
  private functions: Readonly<Record<string, LambdaCode>>;
  private static deployments = 0;

  constructor(options: LocalWorldOptions) {
    this.dynamo = options.dynamo;
    this.store = options.store ?? new MemoryObjectStore();
    this.clock = options.clock ?? new SimClock(new Date('2026-11-23T10:00:00.000Z'));
    this.log = options.log ?? (() => undefined);
    this.lake = options.lake ?? (() => []);
    this.functions = options.functions ?? {};
    this.registry = new ModelRegistry(this);
    this.hosting = new Hosting(this, (resourceId) => this.messaging.scalableTargets.has(resourceId));
    this.jobs = new Jobs(this);
    this.messaging = new Messaging(this);
    this.athena = athenaService(this, {
      engine: options.queryEngine ?? loopQueryEngine,
      resultsUri: options.athenaResultsUri ?? 's3://curated/athena-results/',
    });
    this.services = {
      dynamodb: dynamoDbService(this.dynamo),
      athena: this.athena.handlers,
      sagemaker: { ...this.registry.handlers(), ...this.hosting.handlers(), ...this.jobs.handlers() },
      lambda: lambdaService(),
      sfn: {
        describeExecution: (i) => {
          const status = this.executions.get(String(i.ExecutionArn));
          if (!status) {
            throw new TaskError('Sfn.ExecutionDoesNotExist', `Execution Does Not Exist: '${String(i.ExecutionArn)}'`);
          }
          return { ExecutionArn: i.ExecutionArn, Status: status };
        },
      },
      sns: this.messaging.sns(),
      cloudwatch: this.messaging.cloudwatch(),
      applicationautoscaling: this.messaging.applicationAutoScaling(),
    };
  }

  /** Deploys more function code (e.g. the loop's functions once the case study is known). */
  deployFunctions(functions: Readonly<Record<string, LambdaCode>>): void {
    this.functions = { ...this.functions, ...functions };
  }

  /** Statements the local Athena ran, in order. */
  get queries(): readonly string[] {
    return this.athena.queries;
  }

  /** Messages the loop published (outcomes; approval requests are in `messaging.approvalRequests`). */
  get notifications(): readonly Json[] {
    return this.messaging.notifications;
  }

  /**
   * Deploys a stack: creates the DynamoDB tables its state machine uses on dynalite (physical name
   * `<stack>-<logical ID>-<n>`, unique per deployment; keys and indexes as in the template) and resolves its only
   * state machine's definition with those names.
   */
  async deploy(template: TemplateLike, stackName = 'Stack'): Promise<DeployedStack> {
    const resources = template.Resources ?? {};
    // The retraining loop's state machine (a sandbox ML stack also holds the teardown provider's waiter).
    const all = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
    const machines = (all.length === 1 ? all : all.filter(([id]) => id.startsWith('RetrainingStateMachine'))).map(
      ([, r]) => r,
    );
    if (machines.length !== 1) throw new Error(`${stackName}: expected one state machine; found ${machines.length}`);
    const source = machines[0].Properties?.DefinitionString;
    const used = JSON.stringify(source);
    const n = ++LocalWorld.deployments;
    const tables: Record<string, string> = {};
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::DynamoDB::Table' && r.Type !== 'AWS::DynamoDB::GlobalTable') continue;
      if (!used.includes(`"${id}"`)) continue;
      const p = r.Properties ?? {};
      const name = `${stackName}-${id}-${n}`;
      const indexes = (key: string) =>
        (p[key] as Array<Record<string, unknown>> | undefined)?.map((i) => ({
          IndexName: i.IndexName,
          KeySchema: i.KeySchema,
          Projection: i.Projection,
        }));
      await this.dynamo.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: p.AttributeDefinitions as never,
          KeySchema: p.KeySchema as never,
          GlobalSecondaryIndexes: indexes('GlobalSecondaryIndexes') as never,
          LocalSecondaryIndexes: indexes('LocalSecondaryIndexes') as never,
        }),
      );
      tables[id] = name;
    }
    const types = Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.Type]));
    const text = resolveIntrinsics(source, { types, physicalNames: tables });
    return { definition: JSON.parse(String(text)) as Json, tables };
  }

  /** Every item of a table (DynamoDB JSON), e.g. the locks held. */
  async items(table: string): Promise<Array<Record<string, AttributeValue>>> {
    const out = await this.dynamo.send(new ScanCommand({ TableName: table }));
    return out.Items ?? [];
  }

  /** The ARN of an execution (what `$$.Execution.Id` gives the states). */
  executionArn(execution: string, stateMachineName = 'loop'): string {
    return `arn:aws:states:${FIXED.region}:${FIXED.account}:execution:${stateMachineName}:${execution}`;
  }

  /** Runs one execution of a deployed definition. */
  async run(definition: Json, options: RunOptions): Promise<RunRecord> {
    this.executions.set(this.executionArn(options.execution, options.stateMachineName), 'RUNNING');
    const run: RunContext = {
      executionName: options.execution,
      executionId: this.executionArn(options.execution, options.stateMachineName),
      models: options.models,
      rollout: options.rollout ?? {},
      approver: options.approver ?? APPROVE,
      functions: { ...this.functions, ...(options.functions ?? {}) },
    };
    const calls: CallRecord[] = [];
    const unsupported: string[] = [];
    const handlers: Record<string, (input: unknown) => Promise<never>> = {};
    const waits: Record<string, number> = {};
    const retries: Record<string, number> = {};
    for (const [state, spec] of statesOf(definition)) {
      if (spec.Type === 'Wait') waits[state] = 0;
      if (spec.Type !== 'Task') continue;
      retries[state] = 0;
      const call = callOf(String(spec.Resource));
      handlers[state] = async (raw: unknown) => {
        const input = (raw ?? {}) as Json;
        calls.push({ state, service: call.service, action: call.action, input });
        try {
          return (await this.dispatch(state, call, input, run, options.overrides ?? {})) as never;
        } catch (e) {
          if ((e as Error).name === UNSUPPORTED_CALL) unsupported.push((e as Error).message);
          throw e;
        }
      };
    }
    // aws-local-stepfunctions stamps `$$.Execution.StartTime` with the wall clock: the run starts in simulated time.
    const timed = atStartTime(definition, this.clock.now());
    const machine = new StateMachine(timed as never, {
      validationOptions: { checkArn: false, checkPaths: false },
    });
    const localOptions: LocalRunOptions = {
      overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retries },
      context: {
        Execution: {
          Id: run.executionId,
          Name: options.execution,
          StartTime: this.clock.now().toISOString(),
          Input: options.input ?? {},
        },
        State: { RetryCount: 0 },
        Task: { Token: `token-${options.execution}` },
      } as never,
    };
    const execution = machine.run((options.input ?? {}) as never, localOptions);
    const visited: string[] = [];
    const logs = (async () => {
      for await (const e of execution.eventLogs) if (e.type === 'StateEntered') visited.push(e.state.name);
    })();
    let record: RunRecord;
    try {
      const output = await execution.result;
      record = { status: 'SUCCEEDED', output, visited, calls };
      this.executions.set(run.executionId, 'SUCCEEDED');
    } catch (e) {
      const err = e as Error & { cause?: unknown };
      // The execution's error wraps what failed it (a Task's error, a Fail state's Error and Cause).
      const cause = err.cause instanceof Error ? { name: err.cause.name, message: err.cause.message } : undefined;
      record = { status: 'FAILED', error: { name: err.name, message: err.message }, cause, visited, calls };
      this.executions.set(run.executionId, 'FAILED');
    }
    await logs;
    if (unsupported.length > 0) {
      throw new Error(`the run made calls the local world cannot serve: ${unsupported.join('; ')}`);
    }
    return record;
  }

  private async dispatch(
    state: string,
    call: Call,
    input: Json,
    run: RunContext,
    overrides: Readonly<Record<string, Handler>>,
  ): Promise<unknown> {
    const key = `${call.service}:${call.action}`;
    const own = this.services[call.service]?.[call.action];
    const fallback = async (): Promise<unknown> => {
      if (!own) {
        throw new TaskError(UNSUPPORTED_CALL, `the local world has no handler for ${key} (state ${state})`);
      }
      return own(input, ctx);
    };
    const ctx: CallContext = { state, call, run, fallback };
    const override = overrides[key];
    return override ? override(input, ctx) : fallback();
  }
}
