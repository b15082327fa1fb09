/**
 * A local stand-in for the AWS services the retraining loop calls, for running the synthesized state machine with
 * aws-local-stepfunctions: every Task is overridden by a handler that acts on this in-memory world (lock table,
 * model registry, endpoint, notifications). The plan and evaluation Lambdas run their real logic.
 */
import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import { handler as planHandler } from '../../lambdas/retraining-plan/index';
import { MemoryObjectStore } from '../../core/storage/object-store';
import { parseS3Uri } from '../../core/storage/s3-uri';
import { runEvaluation, type EvaluationRequest } from '../../core/retraining/evaluate';

type Json = Record<string, unknown>;

/** An error whose `name` is what a Retry/Catch matches. */
export class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** A model package in the local registry. */
export interface LocalPackage {
  arn: string;
  status: 'Approved' | 'Rejected' | 'PendingManualApproval';
  metadata: Record<string, string>;
  createdAt: number;
}

/** What one execution sees of the world and how it behaves. */
export interface Scenario {
  /** Records counted since the champion's dataset. @default 50000 */
  newRecords?: number;
  /** Candidate's validation metric (training job), or a training failure. @default 0.8 */
  candidateMetric?: number | 'fail';
  /**
   * Quality of candidate and champion re-scored on the same validation data: the AUC (recommender) or accuracy
   * (vision) the batch-transform outputs will give, in hundredths. @default candidate 0.8, champion 0.7
   */
  sameData?: { candidate: number; champion: number };
  /** Statuses DescribeEndpoint returns, in order (the last repeats). @default Creating/Updating, then InService */
  endpointStatuses?: string[];
  /** The update rolls back: the endpoint returns to its previous config. @default false */
  rollback?: boolean;
  /** Manual approval answer. @default approve */
  approval?: { approve: true; approver: string } | { approve: false; comment: string };
  /**
   * Statuses DescribeInferenceComponent returns, in order (the last repeats).
   * @default Creating/Updating, then InService
   */
  componentStatuses?: string[];
  /** The rolling update of the inference component rolls back to the previous model. @default false */
  componentRollback?: boolean;
  /** Called when training starts; resolve to let it finish (for concurrency tests). */
  trainingGate?: () => Promise<void>;
}

/** One execution's record. */
export interface RunRecord {
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: { name: string; message: string };
  visited: string[];
  calls: Array<{ state: string; input: Json }>;
}

/** The shared local world. */
export class LocalWorld {
  readonly locks = new Map<string, Json>();
  readonly packages: LocalPackage[] = [];
  endpoint?: { name: string; configName: string };
  /** The inference component on the endpoint (scale-to-zero serving). */
  inferenceComponent?: { name: string; endpointName: string; modelName: string; copies: number };
  /** Alarms put by the loop (scale from zero). */
  readonly alarms: Json[] = [];
  readonly notifications: Json[] = [];
  readonly trainingJobs: string[] = [];
  readonly queries: string[] = [];
  /** S3 as the Lambdas and transform jobs see it. */
  readonly s3 = new MemoryObjectStore();
  private seq = 0;

  /** Adds an approved champion to the registry (and an endpoint serving it). */
  addChampion(metricValue: number, opts: { endpointName: string; configName: string; datasetEnd?: string }): void {
    this.packages.push({
      arn: `arn:aws:sagemaker:us-east-1:123456789012:model-package/${opts.endpointName}/${++this.seq}`,
      status: 'Approved',
      metadata: {
        datasetId: 'previous-run',
        datasetEnd: opts.datasetEnd ?? '2026-11-01T00:00:00.000Z',
        metricName: 'validation:auc',
        metricValue: String(metricValue),
      },
      createdAt: this.seq,
    });
    this.endpoint = { name: opts.endpointName, configName: opts.configName };
  }

  /** Adds the inference component that serves the champion on its endpoint. */
  addInferenceComponent(name: string, endpointName: string, modelName: string): void {
    this.inferenceComponent = { name, endpointName, modelName, copies: 1 };
  }

  /** Runs one execution of the definition against this world. */
  async run(definition: Json, scenario: Scenario = {}, execution = 'run-1', input: Json = {}): Promise<RunRecord> {
    const calls: RunRecord['calls'] = [];
    const statuses = [...(scenario.endpointStatuses ?? [this.endpoint ? 'Updating' : 'Creating', 'InService'])];
    const executionId = `arn:aws:states:us-east-1:123456789012:execution:loop:${execution}`;
    const componentStatuses = [
      ...(scenario.componentStatuses ?? [this.inferenceComponent ? 'Updating' : 'Creating', 'InService']),
    ];
    let pendingModel: string | undefined;
    let previousModel: string | undefined;
    let pendingConfig: string | undefined;
    let previousConfig: string | undefined;
    const h =
      (state: string, fn: (input: Json) => unknown | Promise<unknown>) =>
      async (input: unknown): Promise<never> => {
        calls.push({ state, input: input as Json });
        return (await fn(input as Json)) as never;
      };
    const athena = (state: string) =>
      h(state, (i) => {
        this.queries.push(String(i.QueryString));
        return {
          QueryExecution: {
            QueryExecutionId: `${execution}-${state}`,
            ResultConfiguration: { OutputLocation: `s3://curated/athena-results/${execution}-${state}.csv` },
          },
        };
      });
    const handlers: Record<string, (input: unknown) => Promise<never>> = {
      // payloadResponseOnly: the task input is the payload itself.
      PlanRun: h('PlanRun', (i) => planHandler(i)),
      AcquireLock: h('AcquireLock', (i) => {
        const item = i.Item as Record<string, { S?: string; N?: string }>;
        const key = item.lockId.S!;
        const held = this.locks.get(key) as Record<string, { S?: string; N?: string }> | undefined;
        const values = i.ExpressionAttributeValues as Record<string, { S?: string; N?: string }>;
        if (held && Number(held.expiresAt.N) >= Number(values[':now'].N) && held.executionId.S !== values[':me'].S) {
          throw new TaskError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed');
        }
        this.locks.set(key, item);
        return {};
      }),
      ReleaseLock: h('ReleaseLock', (i) => {
        const key = (i.Key as Record<string, { S: string }>).lockId.S;
        const held = this.locks.get(key) as Record<string, { S?: string }> | undefined;
        const me = (i.ExpressionAttributeValues as Record<string, { S: string }>)[':me'].S;
        if (!held || held.executionId.S !== me) {
          throw new TaskError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed');
        }
        this.locks.delete(key);
        return {};
      }),
      FindChampion: h('FindChampion', () => ({
        ModelPackageSummaryList: this.packages
          .filter((p) => p.status === 'Approved')
          .sort((a, b) => b.createdAt - a.createdAt)
          .slice(0, 1)
          .map((p) => ({ ModelPackageArn: p.arn, ModelApprovalStatus: p.status })),
      })),
      DescribeChampion: h('DescribeChampion', (i) => {
        const p = this.packages.find((x) => x.arn === i.ModelPackageName)!;
        return { ModelPackageArn: p.arn, ModelApprovalStatus: p.status, CustomerMetadataProperties: p.metadata };
      }),
      CountNewRecords: athena('CountNewRecords'),
      ReadNewRecordCount: h('ReadNewRecordCount', () => ({
        ResultSet: {
          Rows: [
            { Data: [{ VarCharValue: 'n' }] },
            { Data: [{ VarCharValue: String(scenario.newRecords ?? 50_000) }] },
          ],
        },
      })),
      ExportTrainingSet: athena('ExportTrainingSet'),
      ExportValidationSet: athena('ExportValidationSet'),
      ExportBaselineSample: athena('ExportBaselineSample'),
      SelectLabelledImages: athena('SelectLabelledImages'),
      BuildManifests: h('BuildManifests', async (i) => {
        const p = i;
        const out = parseS3Uri(String(p.outputUri));
        const validation = Array.from({ length: 100 }, (_, k) =>
          JSON.stringify({ 'source-ref': `s3://raw/images/${k}.jpg`, class: k % 2 }),
        );
        await this.s3.put(out.bucket, `${out.key}validation.manifest`, validation.join('\n'));
        return {
          scoringManifestUri: `${String(p.outputUri)}validation.images.manifest`,
          imagePrefixUri: 's3://raw/',
          trainUri: `${String(p.outputUri)}train.manifest`,
          validationUri: `${String(p.outputUri)}validation.manifest`,
          classesUri: `${String(p.outputUri)}classes.json`,
          records: 5000,
          train: 4500,
          validation: 500,
          classes: ['cat', 'dog'],
          hyperparameters: { ...(p.hyperparameters as Json), num_classes: '2', num_training_samples: '4500' },
        };
      }),
      TrainCandidate: h('TrainCandidate', async (i) => {
        this.trainingJobs.push(String(i.TrainingJobName));
        if (scenario.trainingGate) await scenario.trainingGate();
        if (scenario.candidateMetric === 'fail') {
          throw new TaskError(
            'States.TaskFailed',
            `Training job ${String(i.TrainingJobName)} failed: AlgorithmError: out of memory`,
          );
        }
        const name = (i.AlgorithmSpecification as Json).MetricDefinitions as Array<{ Name: string }>;
        return {
          TrainingJobName: i.TrainingJobName,
          TrainingJobStatus: 'Completed',
          ModelArtifacts: {
            S3ModelArtifacts: `s3://artifacts/models/${String(i.TrainingJobName)}/output/model.tar.gz`,
          },
          FinalMetricDataList: [{ MetricName: name[0].Name, Value: scenario.candidateMetric ?? 0.8, Timestamp: 0 }],
        };
      }),
      ExportScoringSet: athena('ExportScoringSet'),
      CreateChampionModel: h('CreateChampionModel', (i) => ({ ModelArn: `arn:model/${String(i.ModelName)}` })),
      ScoreChampion: h('ScoreChampion', (i) => this.transform(i, scenario.sameData?.champion ?? 0.7)),
      ScoreCandidate: h('ScoreCandidate', (i) => this.transform(i, scenario.sameData?.candidate ?? 0.8)),
      // The real evaluation logic, reading the transform outputs from the in-memory S3.
      EvaluateCandidate: h('EvaluateCandidate', (i) => runEvaluation(this.s3, i as unknown as EvaluationRequest)),
      RegisterCandidate: h('RegisterCandidate', (i) => this.register(i)),
      RegisterRejectedCandidate: h('RegisterRejectedCandidate', (i) => this.register(i)),
      RequestApproval: h('RequestApproval', () => {
        const a = scenario.approval ?? { approve: true, approver: 'alice' };
        if (!a.approve) throw new TaskError('ModelRejected', a.comment);
        return { approved: true, approver: a.approver };
      }),
      MarkApproved: h('MarkApproved', (i) => this.setStatus(i)),
      MarkRejectedByApprover: h('MarkRejectedByApprover', (i) => this.setStatus(i)),
      MarkRolledBack: h('MarkRolledBack', (i) => this.setStatus(i)),
      MarkComponentRolledBack: h('MarkComponentRolledBack', (i) => this.setStatus(i)),
      CreateModel: h('CreateModel', (i) => ({ ModelArn: `arn:model/${String(i.ModelName)}` })),
      CreateEndpointConfig: h('CreateEndpointConfig', (i) => ({
        EndpointConfigArn: `arn:ec/${String(i.EndpointConfigName)}`,
      })),
      FindEndpoint: h('FindEndpoint', () => ({
        Endpoints: this.endpoint ? [{ EndpointName: this.endpoint.name }] : [],
      })),
      CreateEndpoint: h('CreateEndpoint', (i) => {
        pendingConfig = String(i.EndpointConfigName);
        this.endpoint = { name: String(i.EndpointName), configName: pendingConfig };
        return { EndpointArn: 'arn:endpoint' };
      }),
      UpdateEndpoint: h('UpdateEndpoint', (i) => {
        previousConfig = this.endpoint!.configName;
        pendingConfig = String(i.EndpointConfigName);
        return { EndpointArn: 'arn:endpoint' };
      }),
      DescribeEndpoint: h('DescribeEndpoint', () => {
        // An endpoint the run did not touch (scale to zero: the model is in the component) is simply in service.
        const untouched = !pendingConfig && !scenario.endpointStatuses;
        const status = untouched ? 'InService' : statuses.length > 1 ? statuses.shift()! : statuses[0];
        if (status === 'InService' && pendingConfig) {
          this.endpoint!.configName = scenario.rollback ? previousConfig! : pendingConfig;
        }
        return {
          EndpointName: this.endpoint!.name,
          EndpointStatus: status,
          EndpointConfigName:
            status === 'InService' ? this.endpoint!.configName : (pendingConfig ?? this.endpoint!.configName),
        };
      }),
      FindInferenceComponent: h('FindInferenceComponent', (i) => {
        const ic = this.inferenceComponent;
        if (!ic || ic.name !== i.InferenceComponentName) {
          throw new TaskError(
            'SageMaker.ValidationException',
            `Could not find inference component "${String(i.InferenceComponentName)}".`,
          );
        }
        return { InferenceComponentName: ic.name, InferenceComponentStatus: 'InService' };
      }),
      CreateInferenceComponent: h('CreateInferenceComponent', (i) => {
        const spec = i.Specification as Json;
        pendingModel = String(spec.ModelName);
        this.inferenceComponent = {
          name: String(i.InferenceComponentName),
          endpointName: String(i.EndpointName),
          modelName: pendingModel,
          copies: Number((i.RuntimeConfig as Json).CopyCount),
        };
        return { InferenceComponentArn: `arn:ic/${String(i.InferenceComponentName)}` };
      }),
      UpdateInferenceComponent: h('UpdateInferenceComponent', (i) => {
        previousModel = this.inferenceComponent!.modelName;
        pendingModel = String((i.Specification as Json).ModelName);
        return { InferenceComponentArn: `arn:ic/${String(i.InferenceComponentName)}` };
      }),
      DescribeInferenceComponent: h('DescribeInferenceComponent', () => {
        const status = componentStatuses.length > 1 ? componentStatuses.shift()! : componentStatuses[0];
        const ic = this.inferenceComponent!;
        if (status === 'InService' && pendingModel) {
          ic.modelName = scenario.componentRollback ? previousModel! : pendingModel;
        }
        return {
          InferenceComponentName: ic.name,
          EndpointName: ic.endpointName,
          InferenceComponentStatus: status,
          Specification: { ModelName: status === 'InService' ? ic.modelName : pendingModel },
          ...(status === 'Failed' ? { FailureReason: 'CannotStartContainerError: model failed to load' } : {}),
        };
      }),
      RegisterScalableTarget: h('RegisterScalableTarget', () => ({})),
      PutScalingPolicy: h('PutScalingPolicy', () => ({ PolicyARN: 'arn:policy' })),
      PutScaleFromZeroPolicy: h('PutScaleFromZeroPolicy', (i) => ({
        PolicyARN: `arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:resource/sagemaker/${String(i.ResourceId)}:policyName/${String(i.PolicyName)}`,
        Alarms: [],
      })),
      PutScaleFromZeroAlarm: h('PutScaleFromZeroAlarm', (i) => {
        this.alarms.push(i);
        return {};
      }),
      RefreshBaseline: h('RefreshBaseline', (i) => ({
        profileUri: `s3://artifacts/drift/baselines/${String(i.endpointName)}/profile.json`,
        records: 1000,
        features: ['f0'],
      })),
      NotifyOutcome: h('NotifyOutcome', (i) => {
        this.notifications.push(i.Message as Json);
        return { MessageId: 'm' };
      }),
    };
    const machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: false, checkPaths: false },
    });
    const options: RunOptions = {
      overrides: {
        taskResourceLocalHandlers: handlers,
        waitTimeOverrides: { WaitForEndpoint: 0, WaitForInferenceComponent: 0 },
        retryIntervalOverrides: { TrainCandidate: 0 },
      },
      context: {
        Execution: { Id: executionId, Name: execution, StartTime: '2026-11-23T10:00:00.000Z', Input: input },
        State: { RetryCount: 0 },
        Task: { Token: `token-${execution}` },
      } as never,
    };
    const exec = machine.run(input as never, options);
    const visited: string[] = [];
    const logs = (async () => {
      for await (const e of exec.eventLogs) if (e.type === 'StateEntered') visited.push(e.state.name);
    })();
    let record: RunRecord;
    try {
      const output = await exec.result;
      record = { status: 'SUCCEEDED', output, visited, calls };
    } catch (e) {
      const err = e as Error & { cause?: unknown };
      record = { status: 'FAILED', error: { name: err.name, message: err.message }, visited, calls };
    }
    await logs;
    return record;
  }

  /**
   * A batch transform with a given quality: recommender outputs `label,prediction` lines whose AUC is `quality`
   * (to the hundredth); vision outputs one probability vector per validation image, `quality` of them right.
   */
  private async transform(i: Json, quality: number): Promise<Json> {
    const out = parseS3Uri(String((i.TransformOutput as Json).S3OutputPath));
    const input = (i.TransformInput as { DataSource: { S3DataSource: { S3DataType: string; S3Uri: string } } })
      .DataSource.S3DataSource;
    const right = Math.round(quality * 100);
    if (input.S3DataType === 'S3Prefix') {
      // 100 positives, 100 negatives at 0.5; `right` positives above them, the rest below: AUC = right / 100.
      const lines = Array.from({ length: 100 }, (_, k) => `1,${k < right ? 0.9 : 0.1}`).concat(
        Array.from({ length: 100 }, () => '0,0.5'),
      );
      await this.s3.put(out.bucket, `${out.key}part-0.csv.out`, lines.join('\n'));
    } else {
      for (let k = 0; k < 100; k++) {
        const truth = k % 2;
        const predicted = k < right ? truth : 1 - truth;
        await this.s3.put(
          out.bucket,
          `${out.key}images/${k}.jpg.out`,
          JSON.stringify(predicted === 0 ? [0.9, 0.1] : [0.1, 0.9]),
        );
      }
    }
    return { TransformJobName: i.TransformJobName, TransformJobStatus: 'Completed' };
  }

  private register(i: Json): Json {
    const p: LocalPackage = {
      arn: `arn:aws:sagemaker:us-east-1:123456789012:model-package/${String(i.ModelPackageGroupName)}/${++this.seq}`,
      status: i.ModelApprovalStatus as LocalPackage['status'],
      metadata: i.CustomerMetadataProperties as Record<string, string>,
      createdAt: this.seq,
    };
    this.packages.push(p);
    return { ModelPackageArn: p.arn };
  }

  private setStatus(i: Json): Json {
    const p = this.packages.find((x) => x.arn === i.ModelPackageArn)!;
    p.status = i.ModelApprovalStatus as LocalPackage['status'];
    return { ModelPackageArn: p.arn };
  }
}
