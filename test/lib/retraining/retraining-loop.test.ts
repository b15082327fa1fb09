import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { INTERACTION_EVENT_SCHEMA } from '../../../core/contracts/events';
import { EndpointAlarms } from '../../../lib/constructs/endpoint-alarms';
import { resolveTrainingRecipe } from '../../../lib/case-studies';
import { RECOMMENDER_SERVING_ID } from '../../../lib/case-studies/recommender/serving';
import { visionServingPlan } from '../../../lib/case-studies/vision/serving';
import { RetrainingLoop, type RetrainingLoopProps } from '../../../lib/retraining';
import { algorithmImageUri, resolveAlgorithmRecipe } from '../../../lib/retraining/training-recipe';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Emulators } from '../../../src/local-world/emulators';
import { ALREADY_RUNNING_PATH, LoopWorld } from '../../support/loop-world';
import { stateMachineDefinition } from '../../support/state-machine';
import { synthesize, synthesizedStage, type SynthesizedStage } from '../../support/synth';

type Json = Record<string, unknown>;

let sandboxRecommender: Json;
let sandboxVision: Json;
let productionRecommender: Json;
let templates: Record<string, Template>;
let sandbox: SynthesizedStage;
/** dynalite for the lock tables, started once for the file. */
let emulators: Emulators;

beforeAll(async () => {
  emulators = await Emulators.start();
  // The default blueprint of each stage, synthesized once per test run and shared with the other test files.
  sandbox = synthesizedStage('sandbox');
  const production = synthesizedStage('production');
  templates = {
    sbxRec: sandbox.template('Sandbox-Recommender-ML'),
    sbxVis: sandbox.template('Sandbox-Vision-ML'),
    prdRec: production.template('Production-Recommender-ML'),
    prdVis: production.template('Production-Vision-ML'),
  };
  sandboxRecommender = stateMachineDefinition(templates.sbxRec);
  sandboxVision = stateMachineDefinition(templates.sbxVis);
  productionRecommender = stateMachineDefinition(templates.prdRec);
  // The shared synthesis may wait for another worker under load; the bound only stops a hang.
}, 600_000);
afterAll(() => emulators?.close());

/** A new local world with one of the synthesized ML stacks deployed (its own lock table). */
const newWorld = (stack: 'sbxRec' | 'sbxVis' | 'prdRec') =>
  LoopWorld.deploy(emulators, templates[stack], stack === 'sbxVis' ? 'vision' : 'recommender');

const ENDPOINT = 'mlbp-sandbox-recommender';
const driftInput = {
  trigger: { kind: 'drift', reason: 'drift in 3 of 5 features', detail: { endpointName: ENDPOINT } },
};
const inputOf = (run: Awaited<ReturnType<LoopWorld['run']>>, state: string): Json => {
  const call = run.calls.find((c) => c.state === state);
  if (!call) throw new Error(`${state} was not called; visited: ${run.visited.join(' → ')}`);
  return call.input;
};

/** Every deployment ends the same way: the baseline, the references, the outcome, the lock released. */
const AFTER_DEPLOYMENT = [
  'RefreshBaseline',
  'WriteReferences',
  'RecordDeployed',
  'NotifyOutcome',
  'Rejected?',
  'ReleaseLock',
  'Finished?',
  'RunSucceeded',
];

/** A rolled-back update: the candidate rejected beside the serving champion, the run notified, the lock released. */
async function expectRolledBack(world: LoopWorld): Promise<void> {
  expect(world.packages.map((p) => p.status)).toEqual(['Approved', 'Rejected']);
  expect(world.notifications).toEqual([
    expect.objectContaining({ status: 'rolled-back', error: 'DeploymentRolledBack' }),
  ]);
  expect((await world.locks()).size).toBe(0);
}

/** Asserts the final status, showing the error and the path taken when it differs. */
function expectEnded(run: Awaited<ReturnType<LoopWorld['run']>>, status: 'SUCCEEDED' | 'FAILED'): void {
  if (run.status !== status) {
    throw new Error(
      `expected ${status}, got ${run.status}: ${run.error?.message ?? ''}\npath: ${run.visited.join(' → ')}`,
    );
  }
}

describe('retraining loop, executed locally from the synthesized definition', () => {
  test('first model: trains, beats popularity, is registered approved, creates the serverless endpoint, refreshes the baseline', async () => {
    const world = await newWorld('sbxRec');
    const run = await world.run({ candidateMetric: 0.71 }, 'first-run', driftInput);

    expectEnded(run, 'SUCCEEDED');
    expect(run.visited).toEqual([
      'PlanRun',
      'AcquireLock',
      'FindChampion',
      'ChampionFound?',
      'NoChampion',
      'CountNewRecords',
      'ReadNewRecordCount',
      'EnoughNewData?',
      // A drift-triggered run passes the back-off gate (no rejection recorded: on to the dataset).
      'ReadBackoff',
      'BackoffRecorded?',
      // Co-visitation first, then (no champion, so no served slates yet) the bootstrap dataset.
      'ComputeCoVisitation',
      'LoadCoVisitation',
      'ServedSlatesYet?',
      'UseBootstrap',
      'ExportBootstrapChannels',
      'ExportBootstrapScoringSet',
      'ExportBootstrapBaseline',
      'DescribeDataset',
      'TrainCandidate',
      'CreateModel',
      'ChampionToBeat?',
      // A first model is scored on the holdout too: it must beat the popularity ranking there.
      'ScoreCandidate',
      'EvaluateCandidate',
      'CandidateBetter?',
      'RegisterCandidate',
      'TagCandidateModel',
      'CreateEndpointConfig',
      'FindEndpoint',
      'EndpointExists?',
      'CreateEndpoint',
      'StartPolling',
      'WaitForEndpoint',
      'DescribeEndpoint',
      'CountPoll',
      'EndpointSettled?',
      'WaitForEndpoint',
      'DescribeEndpoint',
      'CountPoll',
      'EndpointSettled?',
      // Serverless: it scales by itself, no autoscaling to register.
      'ServerlessInService',
      ...AFTER_DEPLOYMENT,
    ]);
    // Names come from the execution name; the dataset ID is stamped on job, package and dataset paths.
    expect(world.trainingJobs).toEqual(['mlbp-sandbox-recommender-first-run-0']);
    const training = inputOf(run, 'TrainCandidate');
    expect(training).toMatchObject({
      EnableManagedSpotTraining: true,
      CheckpointConfig: { S3Uri: expect.stringMatching(/\/checkpoints\/first-run\/$/) },
      StoppingCondition: { MaxRuntimeInSeconds: 7200, MaxWaitTimeInSeconds: 14400 },
      ResourceConfig: { InstanceType: 'ml.g4dn.xlarge', InstanceCount: 1 },
      HyperParameters: expect.objectContaining({ objective: 'rank:ndcg', eval_metric: 'ndcg@10' }),
      // Cost allocation by tag covers what a run creates: its dataset, stage and case study.
      Tags: [
        { Key: 'ml-blueprint:dataset-id', Value: 'first-run' },
        { Key: 'ml-blueprint:case-study', Value: 'recommender' },
        { Key: 'ml-blueprint:stage', Value: 'sandbox' },
      ],
    });
    // The dataset covers the configured 30 days up to the execution start, pruned by partition.
    const unload = world.queries.find((q) => q.includes('/datasets/first-run/channels/')) ?? '';
    const times = [...unload.matchAll(/from_iso8601_timestamp\('([^']+)'\)/g)].map((m) => Date.parse(m[1]));
    expect(times.length).toBeGreaterThan(0);
    expect(Math.max(...times) - Math.min(...times)).toBe(30 * 86_400_000);
    expect(unload).toMatch(/\bdt >= /);
    expect(unload).toMatch(/^UNLOAD \(/);
    expect(unload).toMatch(/WITH \(format = 'TEXTFILE', field_delimiter = ',', partitioned_by = /);
    // The first model is promoted on the holdout against popularity (nDCG@10, paired bootstrap).
    expect(world.packages).toEqual([
      expect.objectContaining({
        status: 'Approved',
        metadata: expect.objectContaining({
          datasetId: 'first-run',
          metricName: 'ndcg@10',
          comparedWith: 'popularity',
          trigger: 'drift',
        }),
      }),
    ]);
    const config = inputOf(run, 'CreateEndpointConfig');
    expect(config).toMatchObject({
      EndpointConfigName: 'mlbp-sandbox-recommender-first-run',
      ProductionVariants: [
        { VariantName: 'AllTraffic', ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 10 } },
      ],
    });
    // Serverless Inference takes neither data capture nor a volume key, nor instances.
    expect(config).not.toHaveProperty('DataCaptureConfig');
    expect(config).not.toHaveProperty('KmsKeyId');
    expect((config.ProductionVariants as Json[])[0]).not.toHaveProperty('InstanceType');
    expect(world.endpoint).toEqual({ name: ENDPOINT, configName: 'mlbp-sandbox-recommender-first-run' });
    expect(world.notifications).toEqual([
      expect.objectContaining({
        status: 'deployed',
        datasetId: 'first-run',
        executionName: 'first-run',
        // No champion was replaced: no quality reference; no CTR counters in this world.
        references: {
          ctr: { written: false, detail: 'the case study counts no CTR per model version' },
          quality: expect.objectContaining({ written: false }),
        },
      }),
    ]);
    expect(inputOf(run, 'WriteReferences')).toMatchObject({
      endpointName: ENDPOINT,
      statePrefix: 'drift/state/',
      champion: { found: false },
      modelVersion: 'mlbp-sandbox-recommender-first-run-0',
    });
    expect((await world.locks()).size).toBe(0);
  });

  test('a candidate worse than the champion on the same validation data is registered as rejected and never deployed', async () => {
    const world = await newWorld('sbxRec');
    world.addChampion(0.8, { endpointName: ENDPOINT, configName: 'mlbp-sandbox-recommender-old' });
    // Its training job reports more than the champion's recorded 0.8, but re-scored on the same data it loses.
    const run = await world.run(
      { candidateMetric: 0.85, sameData: { candidate: 0.69, champion: 0.72 } },
      'worse-run',
      driftInput,
    );

    expectEnded(run, 'SUCCEEDED');
    expect(run.visited).toEqual(
      expect.arrayContaining(['DescribeChampion', 'CreateChampionModel', 'ScoreChampion', 'ScoreCandidate']),
    );
    expect(run.visited).toContain('RegisterRejectedCandidate');
    // The rejection is remembered for the back-off while the lock is held: no run can start before it is recorded.
    expect(run.visited.slice(-10)).toEqual([
      'NotifyOutcome',
      'Rejected?',
      'RememberRejection',
      'StartRejectionStreak',
      'BackoffCapped?',
      'PickBackoffInterval',
      'SetBackoffUntil',
      'ReleaseLock',
      'Finished?',
      'RunSucceeded',
    ]);
    for (const deployState of ['RegisterCandidate', 'CreateEndpointConfig', 'UpdateEndpoint', 'CreateEndpoint']) {
      expect(run.visited).not.toContain(deployState);
    }
    // Both scored on the same validation split: the champion rebuilt from its package, the label joined back.
    expect(inputOf(run, 'CreateChampionModel')).toMatchObject({
      PrimaryContainer: { ModelPackageName: world.packages[0].arn },
    });
    const champ = inputOf(run, 'ScoreChampion');
    const cand = inputOf(run, 'ScoreCandidate');
    expect(champ.TransformInput).toEqual(cand.TransformInput);
    expect(champ).toMatchObject({
      ModelName: 'mlbp-sandbox-recommender-worse-run-chmp',
      TransformInput: {
        DataSource: { S3DataSource: { S3Uri: expect.stringMatching(/\/datasets\/worse-run\/scoring\/$/) } },
        ContentType: 'text/csv',
      },
      // The features go to the model; label, request and item are joined back to its score.
      DataProcessing: { InputFilter: '$[3:]', JoinSource: 'Input', OutputFilter: '$[0,1,2,-1]' },
    });
    expect(cand).toMatchObject({ ModelName: 'mlbp-sandbox-recommender-worse-run' });
    // New data is counted since the champion's dataset ended.
    expect(world.queries[0]).toContain("from_iso8601_timestamp('2026-11-01T00:00:00.000Z')");
    expect(world.packages.map((p) => p.status)).toEqual(['Approved', 'Rejected']);
    // nDCG@10 of both on the same 100 holdout requests (engaged item first in 69 and 72 of them).
    expect(world.packages[1].metadata).toMatchObject({
      metricName: 'ndcg@10',
      comparedWith: 'champion',
      holdoutRequests: '100',
    });
    expect(world.endpoint?.configName).toBe('mlbp-sandbox-recommender-old');
    expect(world.notifications).toEqual([
      expect.objectContaining({
        status: 'rejected',
        reason: expect.stringMatching(
          /candidate nDCG@10 0\.8856 vs champion 0\.8967 on 100 requests: the 95 % interval of the gain \[.+\] does not lie above /,
        ),
      }),
    ]);
    expect((await world.locks()).size).toBe(0);
  });

  test('training that fails after its retry notifies with the cause, releases the lock and fails the execution', async () => {
    const world = await newWorld('sbxRec');
    const run = await world.run({ candidateMetric: 'fail' }, 'failing-run', driftInput);

    expectEnded(run, 'FAILED');
    expect(run.error?.message).toMatch(/AlgorithmError: out of memory/);
    expect(run.calls.filter((c) => c.state === 'TrainCandidate')).toHaveLength(2); // first attempt + one retry
    expect(run.visited.slice(-6)).toEqual([
      'RecordFailure',
      'NotifyOutcome',
      'Rejected?',
      'ReleaseLock',
      'Finished?',
      'RunFailed',
    ]);
    expect(run.visited).not.toContain('EvaluateCandidate');
    expect(world.notifications).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: 'States.TaskFailed',
        cause: expect.stringContaining('AlgorithmError: out of memory'),
      }),
    ]);
    expect((await world.locks()).size).toBe(0);
    expect(world.packages).toEqual([]);
  });

  test('a second trigger while a run holds the lock ends cleanly without training', async () => {
    const world = await newWorld('sbxRec');
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const trainingStarted = new Promise<void>((r) => (started = r));
    const first = world.run(
      {
        trainingGate: () => {
          started();
          return gate;
        },
      },
      'first',
      driftInput,
    );
    await trainingStarted;
    expect((await world.locks()).get(ENDPOINT)).toMatchObject({ datasetId: { S: 'first' } });

    const second = await world.run({}, 'second', {
      trigger: { kind: 'manual', reason: 'operator', requestedBy: 'bob' },
    });
    expectEnded(second, 'SUCCEEDED');
    // The lock is held by a run that is still RUNNING: end here, the holder keeps its lock.
    expect(second.visited).toEqual(ALREADY_RUNNING_PATH);
    expect((await world.locks()).get(ENDPOINT)).toMatchObject({ datasetId: { S: 'first' } }); // untouched

    release();
    const done = await first;
    expectEnded(done, 'SUCCEEDED');
    expect(world.trainingJobs).toEqual(['mlbp-sandbox-recommender-first-0']);
    expect((await world.locks()).size).toBe(0);
  });

  test('a canary that rolls back keeps the champion, rejects the candidate, notifies and fails the run', async () => {
    // Blue/green canaries are the instance-based path: production's recommender (the sandbox's is serverless).
    const world = await newWorld('prdRec');
    const endpoint = 'mlbp-production-recommender';
    world.addChampion(0.7, { endpointName: endpoint, configName: 'mlbp-production-recommender-champion' });
    const run = await world.run(
      {
        newRecords: 250_000,
        sameData: { candidate: 0.9, champion: 0.7 },
        endpointStatuses: ['Updating', 'Updating', 'InService'],
        rollback: true,
      },
      'canary-run',
      { trigger: { kind: 'drift', reason: 'drift in 3 of 5 features', detail: { endpointName: endpoint } } },
    );

    expectEnded(run, 'FAILED');
    expect(run.error?.message).toMatch(/rolled back/);
    expect(inputOf(run, 'UpdateEndpoint')).toMatchObject({
      EndpointName: endpoint,
      EndpointConfigName: 'mlbp-production-recommender-canary-run',
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 } },
        },
        AutoRollbackConfiguration: {
          Alarms: expect.arrayContaining([expect.objectContaining({ AlarmName: expect.any(String) })]),
        },
      },
    });
    const rollback = (
      inputOf(run, 'UpdateEndpoint').DeploymentConfig as { AutoRollbackConfiguration: { Alarms: unknown[] } }
    ).AutoRollbackConfiguration;
    expect(rollback.Alarms).toHaveLength(4); // 5xx, model errors, p90 latency, and the online canary CTR check
    expect(run.visited.filter((s) => s === 'DescribeEndpoint')).toHaveLength(3);
    expect(run.visited).toContain('MarkRolledBack');
    expect(run.visited).not.toContain('RegisterScalableTarget');
    expect(run.visited).not.toContain('RefreshBaseline');
    expect(world.endpoint?.configName).toBe('mlbp-production-recommender-champion');
    await expectRolledBack(world);
  });

  test('production: a model rejected by the approver is marked rejected, not deployed, and the run ends', async () => {
    const world = await newWorld('prdRec');
    const endpoint = 'mlbp-production-recommender';
    const run = await world.run(
      {
        newRecords: 250_000,
        candidateMetric: 0.72,
        approval: { approve: false, comment: 'offline review found a leakage issue' },
      },
      'prod-run',
      { trigger: { kind: 'schedule', reason: 'weekly' } },
    );

    expectEnded(run, 'SUCCEEDED');
    const request = inputOf(run, 'RequestApproval');
    expect(request.Message).toMatchObject({
      kind: 'approval-request',
      taskToken: 'token-prod-run',
      modelPackageArn: expect.stringContaining(`model-package/${endpoint}/`),
    });
    expect(world.packages.map((p) => p.status)).toEqual(['Rejected']);
    expect(inputOf(run, 'RegisterCandidate')).toMatchObject({ ModelApprovalStatus: 'PendingManualApproval' });
    expect(run.visited).toContain('MarkRejectedByApprover');
    expect(run.visited).not.toContain('CreateEndpointConfig');
    expect(world.endpoint).toBeUndefined();
    expect(world.notifications).toEqual([
      expect.objectContaining({
        status: 'rejected',
        reason: 'rejected by the approver: offline review found a leakage issue',
      }),
    ]);
    expect((await world.locks()).size).toBe(0);
  });

  test('production: an approved model is marked approved, then deployed', async () => {
    const world = await newWorld('prdRec');
    const run = await world.run({ newRecords: 250_000, candidateMetric: 0.72 }, 'prod-ok', {
      trigger: { kind: 'manual', reason: 'first deploy', requestedBy: 'alice' },
    });
    expectEnded(run, 'SUCCEEDED');
    expect(run.visited).toEqual(expect.arrayContaining(['RequestApproval', 'MarkApproved', 'CreateEndpoint']));
    expect(world.packages.map((p) => p.status)).toEqual(['Approved']);
    expect(inputOf(run, 'TrainCandidate')).toMatchObject({
      EnableManagedSpotTraining: false,
      EnableNetworkIsolation: true,
    });
  });

  test('a failure to write the references after the deployment is reported in the outcome; the model still serves', async () => {
    const world = await newWorld('sbxRec');
    const run = await world.run({ referencesFailure: 'AccessDenied: drift/state' }, 'refs-fail', driftInput);
    expectEnded(run, 'SUCCEEDED');
    expect(run.visited.slice(-AFTER_DEPLOYMENT.length)).toEqual(AFTER_DEPLOYMENT);
    expect(world.endpoint?.configName).toBe('mlbp-sandbox-recommender-refs-fail');
    expect(world.notifications).toEqual([
      expect.objectContaining({
        status: 'deployed',
        references: expect.objectContaining({ Cause: expect.stringContaining('AccessDenied: drift/state') }),
      }),
    ]);
  });

  test('too little new data ends the run with a notification and no training job', async () => {
    const world = await newWorld('sbxRec');
    const run = await world.run({ newRecords: 12 }, 'quiet-run', driftInput);
    expectEnded(run, 'SUCCEEDED');
    expect(run.visited).not.toContain('TrainCandidate');
    expect(world.notifications).toEqual([
      expect.objectContaining({ status: 'skipped', reason: expect.stringMatching(/^only 12 new records/) }),
    ]);
    expect((await world.locks()).size).toBe(0);
  });

  test('vision: with a champion, both answer the fixed test set, McNemar decides and the better candidate is deployed', async () => {
    const world = await newWorld('sbxVis');
    world.addChampion(0.8, { endpointName: 'mlbp-sandbox-vision', configName: 'mlbp-sandbox-vision-old' });
    world.addInferenceComponent('mlbp-sandbox-vision-ic', 'mlbp-sandbox-vision', 'mlbp-sandbox-vision-old');
    // The checker judged two windows of the champion's realised accuracy (audit labels).
    const payload = (world.definition as { States: Record<string, { Parameters: Json }> }).States.WriteReferences
      .Parameters;
    const judged = (hour: number, correct: number) => ({
      windowEnd: `2026-11-20T${hour}:00:00.000Z`,
      metrics: { accuracy: { kind: 'proportion', successes: correct, trials: 100 } },
    });
    await world.world.store.put(
      String(payload.artifactsBucket),
      'drift/state/mlbp-sandbox-vision.json',
      JSON.stringify({ windows: [], qualityHistory: [judged(10, 80), judged(11, 84)] }),
    );
    const run = await world.run({ sameData: { candidate: 0.9, champion: 0.8 } }, 'vision-2', {
      trigger: { kind: 'manual', reason: 'new labels' },
    });
    expectEnded(run, 'SUCCEEDED');
    // The new model is judged against the accuracy of the model it replaced, not against its own past.
    const quality = JSON.parse(
      world.world.store.text(String(payload.artifactsBucket), 'drift/baselines/mlbp-sandbox-vision/quality.json') ??
        '{}',
    );
    expect(quality).toMatchObject({
      modelVersion: 'mlbp-sandbox-vision-previous-run',
      metrics: { accuracy: { kind: 'proportion', successes: 164, trials: 200 } },
    });
    expect(inputOf(run, 'ScoreChampion')).toMatchObject({
      TransformInput: {
        DataSource: {
          S3DataSource: { S3DataType: 'ManifestFile', S3Uri: expect.stringMatching(/scoring\/candidate\.manifest$/) },
        },
        ContentType: 'application/x-image',
      },
    });
    expect(world.notifications).toEqual([
      expect.objectContaining({
        status: 'deployed',
        // Both on the same 100 test images: 10 the candidate gets right and the champion not, none the reverse.
        reason: expect.stringMatching(
          /^promote: accuracy 0\.9 vs 0\.8 .*McNemar on 100 test images: candidate right\/champion wrong 10, the reverse 0/,
        ),
      }),
    ]);
    expect(run.visited).toContain('UpdateInferenceComponent'); // sandbox: the model lives in the component
  });

  test('vision sandbox, first model: a scale-to-zero endpoint, then the inference component, its scaling from zero and the image baseline', async () => {
    const world = await newWorld('sbxVis');
    const run = await world.run({ candidateMetric: 0.9 }, 'ic-first', {
      trigger: { kind: 'manual', reason: 'bootstrap' },
    });

    expectEnded(run, 'SUCCEEDED');
    expect(run.visited.slice(run.visited.indexOf('RegisterCandidate'))).toEqual([
      'RegisterCandidate',
      'TagCandidateModel',
      'FindEndpoint',
      'EndpointExists?',
      'CreateEndpointConfig',
      'CreateEndpoint',
      'StartPolling',
      'WaitForEndpoint',
      'DescribeEndpoint',
      'CountPoll',
      'EndpointSettled?',
      'WaitForEndpoint',
      'DescribeEndpoint',
      'CountPoll',
      'EndpointSettled?',
      'FindInferenceComponent',
      'InferenceComponentExists?',
      'CreateInferenceComponent',
      'WaitForInferenceComponent',
      'DescribeInferenceComponent',
      'CountComponentPoll',
      'InferenceComponentSettled?',
      'WaitForInferenceComponent',
      'DescribeInferenceComponent',
      'CountComponentPoll',
      'InferenceComponentSettled?',
      'RegisterScalableTarget',
      'PutScalingPolicy',
      'PutScaleFromZeroPolicy',
      'PutScaleFromZeroAlarm',
      ...AFTER_DEPLOYMENT,
    ]);
    // The endpoint config: the execution role on the config, no model on the variant, instances down to zero.
    const config = inputOf(run, 'CreateEndpointConfig');
    expect(config).toMatchObject({
      EndpointConfigName: 'mlbp-sandbox-vision-ic-first',
      ExecutionRoleArn: expect.stringMatching(/RetrainingSageMakerRole/),
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          InstanceType: 'ml.g4dn.xlarge',
          ManagedInstanceScaling: { Status: 'ENABLED', MinInstanceCount: 0, MaxInstanceCount: 1 },
          RoutingConfig: { RoutingStrategy: 'LEAST_OUTSTANDING_REQUESTS' },
        },
      ],
      DataCaptureConfig: expect.objectContaining({ EnableCapture: true }),
    });
    expect((config.ProductionVariants as Json[])[0]).not.toHaveProperty('ModelName');
    expect(inputOf(run, 'CreateInferenceComponent')).toEqual({
      InferenceComponentName: 'mlbp-sandbox-vision-ic',
      EndpointName: 'mlbp-sandbox-vision',
      VariantName: 'AllTraffic',
      Specification: {
        ModelName: 'mlbp-sandbox-vision-ic-first',
        ComputeResourceRequirements: { NumberOfAcceleratorDevicesRequired: 1, MinMemoryRequiredInMb: 8192 },
      },
      RuntimeConfig: { CopyCount: 1 },
      Tags: [
        { Key: 'ml-blueprint:dataset-id', Value: 'ic-first' },
        { Key: 'ml-blueprint:case-study', Value: 'vision' },
        { Key: 'ml-blueprint:stage', Value: 'sandbox' },
      ],
    });
    expect(inputOf(run, 'RegisterScalableTarget')).toEqual({
      ServiceNamespace: 'sagemaker',
      ResourceId: 'inference-component/mlbp-sandbox-vision-ic',
      ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
      MinCapacity: 0,
      MaxCapacity: 1,
    });
    expect(inputOf(run, 'PutScalingPolicy')).toMatchObject({
      ResourceId: 'inference-component/mlbp-sandbox-vision-ic',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 4,
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution',
        },
        ScaleInCooldown: 900,
      },
    });
    expect(inputOf(run, 'PutScaleFromZeroPolicy')).toMatchObject({
      PolicyName: 'mlbp-sandbox-vision-from-zero',
      ResourceId: 'inference-component/mlbp-sandbox-vision-ic',
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: { StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }] },
    });
    // The alarm acts on the step policy just put (its ARN from the PutScalingPolicy result).
    expect(world.alarms).toEqual([
      expect.objectContaining({
        AlarmName: 'mlbp-sandbox-vision-no-capacity',
        MetricName: 'NoCapacityInvocationFailures',
        Dimensions: [{ Name: 'InferenceComponentName', Value: 'mlbp-sandbox-vision-ic' }],
        AlarmActions: [
          'arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:resource/sagemaker/inference-component/mlbp-sandbox-vision-ic:policyName/mlbp-sandbox-vision-from-zero',
        ],
      }),
    ]);
    // The image baseline: the held-out sample and the deployed candidate's own answers on it, bounded.
    expect(inputOf(run, 'RefreshBaseline')).toEqual({
      sourceUri: expect.stringMatching(/\/datasets\/ic-first\/scoring\/baseline\.jsonl$/),
      imagesUri: 's3://raw/',
      outputsUri: expect.stringMatching(/\/datasets\/ic-first\/scores\/candidate\/$/),
      artifactsBucket: expect.any(String),
      endpointName: 'mlbp-sandbox-vision',
      datasetId: 'ic-first',
      maxImages: 2000,
      // The sample's capture times: per-hour data for seasonal comparisons.
      timeField: 'time',
    });
    expect(world.inferenceComponent).toEqual({
      name: 'mlbp-sandbox-vision-ic',
      endpointName: 'mlbp-sandbox-vision',
      modelName: 'mlbp-sandbox-vision-ic-first',
      copies: 1,
    });
    expect(world.notifications).toEqual([
      expect.objectContaining({
        status: 'deployed',
        inferenceComponentName: 'mlbp-sandbox-vision-ic',
        modelName: 'mlbp-sandbox-vision-ic-first',
      }),
    ]);
    expect((await world.locks()).size).toBe(0);
  });

  test('vision sandbox: labels are chosen by precedence (human > labels file > prefix > model, latest among equals)', async () => {
    const world = await newWorld('sbxVis');
    await world.run({ candidateMetric: 0.9 }, 'labels-run', {
      trigger: { kind: 'manual', reason: 'new labels' },
    });
    const select = world.queries.find((q) => q.includes('PARTITION BY image_key')) ?? '';
    expect(select).toContain(
      "row_number() OVER (PARTITION BY image_key ORDER BY CASE WHEN label IS NULL THEN 0 ELSE 1 END DESC, CASE label_source WHEN 'human' THEN 4 WHEN 'labels-file' THEN 3 WHEN 'prefix' THEN 2 WHEN 'model' THEN 1 ELSE 1 END DESC, event_time DESC)",
    );
    expect(select).toContain('inference_id');
    expect(select).not.toContain('arbitrary(');
  });

  test('vision sandbox, later model: the existing endpoint is kept and the inference component is updated (rolling, auto-rollback)', async () => {
    const world = await newWorld('sbxVis');
    world.addChampion(0.8, { endpointName: 'mlbp-sandbox-vision', configName: 'mlbp-sandbox-vision-old' });
    world.addInferenceComponent('mlbp-sandbox-vision-ic', 'mlbp-sandbox-vision', 'mlbp-sandbox-vision-old');
    const run = await world.run({ sameData: { candidate: 0.9, champion: 0.8 } }, 'ic-update', {
      trigger: { kind: 'manual', reason: 'new labels' },
    });

    expectEnded(run, 'SUCCEEDED');
    for (const state of ['CreateEndpointConfig', 'CreateEndpoint', 'UpdateEndpoint', 'CreateInferenceComponent']) {
      expect(run.visited).not.toContain(state);
    }
    expect(run.visited).toEqual(
      expect.arrayContaining(['FindInferenceComponent', 'InferenceComponentExists?', 'UpdateInferenceComponent']),
    );
    expect(run.visited).not.toContain('NoInferenceComponent');
    const update = inputOf(run, 'UpdateInferenceComponent');
    expect(update).toMatchObject({
      InferenceComponentName: 'mlbp-sandbox-vision-ic',
      Specification: { ModelName: 'mlbp-sandbox-vision-ic-update' },
      DeploymentConfig: {
        RollingUpdatePolicy: { MaximumBatchSize: { Type: 'COPY_COUNT', Value: 1 } },
      },
    });
    const alarms = (update.DeploymentConfig as { AutoRollbackConfiguration: { Alarms: unknown[] } })
      .AutoRollbackConfiguration.Alarms;
    expect(alarms).toHaveLength(3); // 5xx, model errors, p90 latency
    expect(inputOf(run, 'RegisterScalableTarget')).toMatchObject({ MinCapacity: 0 });
    expect(run.visited).toEqual(expect.arrayContaining(['PutScaleFromZeroPolicy', 'PutScaleFromZeroAlarm']));
    expect(world.inferenceComponent?.modelName).toBe('mlbp-sandbox-vision-ic-update');
    expect(world.packages.map((p) => p.status)).toEqual(['Approved', 'Approved']);
    expect(world.notifications).toEqual([expect.objectContaining({ status: 'deployed' })]);
    expect((await world.locks()).size).toBe(0);
  });

  test('vision sandbox: an inference component that fails notifies with its reason, releases the lock and fails the run', async () => {
    const world = await newWorld('sbxVis');
    const run = await world.run(
      { candidateMetric: 0.9, componentStatuses: ['Creating', 'Creating', 'Failed'] },
      'ic-failed',
      { trigger: { kind: 'manual', reason: 'bootstrap' } },
    );

    expectEnded(run, 'FAILED');
    expect(run.error?.message).toMatch(/CannotStartContainerError/);
    expect(run.visited.filter((s) => s === 'DescribeInferenceComponent')).toHaveLength(3);
    expect(run.visited.slice(-6)).toEqual([
      'RecordInferenceComponentFailed',
      'NotifyOutcome',
      'Rejected?',
      'ReleaseLock',
      'Finished?',
      'RunFailed',
    ]);
    for (const state of ['RegisterScalableTarget', 'PutScaleFromZeroAlarm', 'RefreshBaseline']) {
      expect(run.visited).not.toContain(state);
    }
    expect(world.notifications).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: 'InferenceComponentFailed',
        cause: expect.stringContaining('CannotStartContainerError: model failed to load'),
      }),
    ]);
    expect((await world.locks()).size).toBe(0);
  });

  test('vision sandbox: a rolling update that rolls back keeps the champion, rejects the candidate and fails the run', async () => {
    const world = await newWorld('sbxVis');
    world.addChampion(0.8, { endpointName: 'mlbp-sandbox-vision', configName: 'mlbp-sandbox-vision-old' });
    world.addInferenceComponent('mlbp-sandbox-vision-ic', 'mlbp-sandbox-vision', 'mlbp-sandbox-vision-old');
    const run = await world.run(
      { sameData: { candidate: 0.9, champion: 0.8 }, componentRollback: true },
      'ic-rollback',
      { trigger: { kind: 'manual', reason: 'new labels' } },
    );

    expectEnded(run, 'FAILED');
    expect(run.visited.join(' → ')).toContain('MarkComponentRolledBack → RecordComponentRolledBack');
    expect(run.visited).not.toContain('RegisterScalableTarget');
    expect(world.inferenceComponent?.modelName).toBe('mlbp-sandbox-vision-old');
    await expectRolledBack(world);
  });

  test('vision: the dataset step decides the channels and the script-mode hyperparameters of the training job', async () => {
    const world = await newWorld('sbxVis');
    const run = await world.run({ candidateMetric: 0.9 }, 'vision-run', {
      trigger: { kind: 'manual', reason: 'bootstrap' },
    });
    expectEnded(run, 'SUCCEEDED');
    expect(run.visited).toEqual(expect.arrayContaining(['SelectLabelledImages', 'BuildManifests', 'CreateEndpoint']));
    expect(inputOf(run, 'TrainCandidate')).toMatchObject({
      AlgorithmSpecification: {
        TrainingImage: expect.stringMatching(/\/pytorch-training:2\.6\.0-gpu-py312$/),
        TrainingInputMode: 'File',
      },
      HyperParameters: expect.objectContaining({
        sagemaker_program: 'train.py',
        sagemaker_submit_directory: expect.stringMatching(/^\/opt\/ml\/input\/data\/code\/[0-9a-f]{64}\.gz$/),
        backbone: 'resnet18',
      }),
      InputDataConfig: [
        expect.objectContaining({ ChannelName: 'images', InputMode: 'FastFile' }),
        expect.objectContaining({ ChannelName: 'manifests', InputMode: 'File' }),
        expect.objectContaining({ ChannelName: 'code' }),
      ],
    });
    // Served by the PyTorch inference image, the handler in the archive's code/.
    expect(inputOf(run, 'CreateModel')).toMatchObject({
      PrimaryContainer: {
        Image: expect.stringMatching(/\/pytorch-inference:2\.6\.0-gpu-py312$/),
        Environment: { SAGEMAKER_PROGRAM: 'inference.py' },
      },
    });
  });
});

describe('the world obeys the synthesized requests (the lock condition on dynalite, the champion filter)', () => {
  const holdLock = async (world: LoopWorld, executionId: string, expiresAt: number) =>
    emulators.dynamo.send(
      new PutItemCommand({
        TableName: world.lockTable,
        Item: {
          lockId: { S: ENDPOINT },
          executionId: { S: executionId },
          datasetId: { S: 'holder' },
          reason: { S: 'test' },
          expiresAt: { N: String(expiresAt) },
        },
      }),
    );
  const FAR_FUTURE = Date.parse('2100-01-01T00:00:00Z') / 1000;

  test('a lock held by another execution and not expired stops the run; the holder keeps it', async () => {
    const world = await newWorld('sbxRec');
    await holdLock(world, world.world.executionArn('other'), FAR_FUTURE);
    const run = await world.run({}, 'blocked', driftInput);
    expectEnded(run, 'SUCCEEDED');
    // The holder cannot be described (not an execution of this world): taken to be running.
    expect(run.visited).toEqual([
      'PlanRun',
      'AcquireLock',
      'ReadLock',
      'LockHolderKnown?',
      'DescribeLockHolder',
      'AlreadyRunning',
    ]);
    expect((await world.locks()).get(ENDPOINT)).toMatchObject({ datasetId: { S: 'holder' } });
  });

  test('an expired lock is taken over, and a retry by the holding execution re-acquires its own lock', async () => {
    for (const [execution, holder, expiresAt] of [
      ['takeover', 'other', 1],
      ['retried', 'retried', FAR_FUTURE],
    ] as const) {
      const world = await newWorld('sbxRec');
      await holdLock(world, world.world.executionArn(holder), expiresAt);
      const run = await world.run({ newRecords: 12 }, execution, driftInput);
      expectEnded(run, 'SUCCEEDED');
      expect(run.visited.slice(0, 3)).toEqual(['PlanRun', 'AcquireLock', 'FindChampion']);
      expect(run.visited).toContain('ReleaseLock');
      expect((await world.locks()).size).toBe(0);
    }
  });

  test('the champion is the package of the model the endpoint serves, not a newer Approved one that never served', async () => {
    const world = await newWorld('sbxRec');
    world.addChampion(0.7, { endpointName: ENDPOINT, configName: 'mlbp-sandbox-recommender-old' });
    world.addChampion(0.75, { endpointName: ENDPOINT, configName: 'mlbp-sandbox-recommender-champion' });
    const champion = world.packages[1];
    // Newer than the champion: an Approved package whose deployment never took, a rejected candidate, and an
    // approved model of another endpoint. None of them serves.
    world.world.registry.add(ENDPOINT, 'Approved', {
      datasetId: 'never-served',
      datasetEnd: '2026-11-21T00:00:00.000Z',
    });
    world.world.registry.add(ENDPOINT, 'Rejected', { datasetId: 'rejected', datasetEnd: '2026-11-20T00:00:00.000Z' });
    world.world.registry.add('mlbp-sandbox-vision', 'Approved', { datasetId: 'vision' });
    const run = await world.run({ sameData: { candidate: 0.9, champion: 0.8 } }, 'champion-run', driftInput);
    expectEnded(run, 'SUCCEEDED');
    // Endpoint → its config → the served model → the package the loop tagged that model with.
    expect(inputOf(run, 'FindChampion')).toMatchObject({ NameContains: ENDPOINT });
    expect(inputOf(run, 'DescribeServingConfig')).toEqual({ EndpointConfigName: 'mlbp-sandbox-recommender-champion' });
    expect(inputOf(run, 'DescribeServedModel')).toEqual({ ModelName: 'mlbp-sandbox-recommender-champion' });
    expect(inputOf(run, 'DescribeChampion')).toEqual({ ModelPackageName: champion.arn });
    expect(inputOf(run, 'CreateChampionModel')).toMatchObject({ PrimaryContainer: { ModelPackageName: champion.arn } });
    // New data counts from the served champion's dataset end, not the never-served package's.
    expect(world.queries[0]).toContain("from_iso8601_timestamp('2026-11-01T00:00:00.000Z')");
  });
});

type State = Json & {
  Type: string;
  Retry?: Array<{ ErrorEquals: string[]; JitterStrategy?: string }>;
  Catch?: unknown[];
  Parameters: Json;
};
const statesOf = (definition: Json) => (definition as { States: Record<string, State> }).States;

describe('retraining loop, template', () => {
  test('Standard workflow, every event logged to a KMS-encrypted log group with retention, X-Ray on, bounded by the lock TTL', () => {
    templates.sbxRec.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      TracingConfiguration: { Enabled: true },
    });
    // The sum of the run's bounded waits (core/retraining/run-budget.ts); the lock (26 hours) outlives it.
    expect(sandboxRecommender.TimeoutSeconds).toBe(24 * 3600);
    templates.sbxRec.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 180,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OpsKey'), 'Arn'] },
    });
  });

  test('every Task retries transient errors with jittered backoff and catches the rest', () => {
    for (const definition of [sandboxRecommender, sandboxVision, productionRecommender]) {
      for (const [name, state] of Object.entries(statesOf(definition))) {
        if (state.Type !== 'Task') continue;
        const jittered = (state.Retry ?? []).filter((r) => r.JitterStrategy === 'FULL');
        expect({ name, retried: jittered.some((r) => r.ErrorEquals.includes('ThrottlingException')) }).toEqual({
          name,
          retried: true,
        });
        expect({ name, caught: (state.Catch ?? []).length > 0 }).toEqual({ name, caught: true });
      }
    }
  });

  test('every wait is bounded: the endpoint poll counts and gives up after the deploy timeout', () => {
    const states = statesOf(sandboxRecommender);
    const waits = Object.entries(states).filter(([, s]) => s.Type === 'Wait');
    expect(waits.map(([n]) => n).sort()).toEqual(['WaitBeforeDeploy', 'WaitForEndpoint', 'WaitForServingEndpoint']);
    expect(JSON.stringify(states['EndpointSettled?'])).toContain(
      '"Variable":"$.poll.count","NumericGreaterThanEquals":60',
    );
    // A busy endpoint is waited for, bounded: at the start (30 polls) and before the deployment (60 polls).
    expect(JSON.stringify(states['ChampionFound?'])).toContain(
      '"Variable":"$.endpointWait.count","NumericLessThan":30',
    );
    expect(JSON.stringify(states['KeepWaiting?'])).toContain('"Variable":"$.deployWait.count","NumericLessThan":60');
    expect(statesOf(productionRecommender).RequestApproval).toMatchObject({
      Resource: 'arn:aws:states:::sns:publish.waitForTaskToken',
      TimeoutSeconds: 72 * 3600,
    });
    expect(states.TrainCandidate.TimeoutSeconds).toBe(4 * 3600 + 3600);
  });

  test('the lock table is encrypted with the ops key, point-in-time recoverable, and expires locks', () => {
    templates.sbxRec.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [
        Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OpsKey'), 'Arn'] } },
        }),
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  test('ModelDriftDetected of this endpoint starts the loop, recording why; production also retrains weekly', () => {
    templates.sbxRec.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['ml-blueprint.drift'],
        'detail-type': ['ModelDriftDetected'],
        detail: { endpointName: ['mlbp-sandbox-recommender'] },
      },
      Targets: [
        Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('^RetrainingStateMachine') },
          InputTransformer: Match.objectLike({
            InputTemplate: Match.stringLikeRegexp('"trigger":\\{"kind":"drift","reason":<detail-reason>'),
          }),
        }),
      ],
    });
    expect(
      Object.keys(
        templates.sbxRec.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'rate(7 days)' } }),
      ),
    ).toHaveLength(0);
    templates.prdRec.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(7 days)',
      Targets: [Match.objectLike({ Input: Match.stringLikeRegexp('"kind":"schedule"') })],
    });
  });

  test('iam:PassRole only for the SageMaker execution role, only to SageMaker', () => {
    for (const t of Object.values(templates)) {
      const passes = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) =>
        (
          p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }
        ).Properties.PolicyDocument.Statement.filter((st) => JSON.stringify(st.Action).includes('iam:PassRole')),
      );
      expect(passes).toHaveLength(1);
      expect(passes[0]).toMatchObject({
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RetrainingSageMakerRole/), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      });
    }
    templates.sbxRec.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'sagemaker.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ],
      },
    });
  });

  test('training: spot with checkpoints in the sandbox, inter-container encryption with several instances, volume key only without instance storage', () => {
    const sbx = statesOf(sandboxRecommender).TrainCandidate;
    expect(sbx.Parameters).toMatchObject({
      EnableManagedSpotTraining: true,
      EnableInterContainerTrafficEncryption: false,
      OutputDataConfig: { KmsKeyId: expect.stringContaining('LakeKeyArn') },
    });
    expect(sbx.Parameters.ResourceConfig).not.toHaveProperty('VolumeKmsKeyId'); // g4dn: NVMe instance store
    const prd = statesOf(stateMachineDefinition(templates.prdVis)).TrainCandidate;
    expect(prd.Parameters).toMatchObject({
      EnableManagedSpotTraining: false,
      EnableInterContainerTrafficEncryption: true,
      EnableNetworkIsolation: true,
      ResourceConfig: { InstanceType: 'ml.g5.2xlarge', InstanceCount: 2 },
      AlgorithmSpecification: {
        TrainingImage: '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.6.0-gpu-py312',
        MetricDefinitions: expect.arrayContaining([expect.objectContaining({ Name: 'validation:accuracy' })]),
      },
    });
    expect(prd.Parameters).not.toHaveProperty('CheckpointConfig');
  });

  test('endpoint config: data capture to the capture bucket with the lake key; storage key only without instance storage', () => {
    // Production's recommender serves on CPU instances without instance storage (ml.c5.xlarge).
    const cpu = statesOf(productionRecommender).CreateEndpointConfig;
    expect(cpu.Parameters).toMatchObject({
      ProductionVariants: [expect.objectContaining({ InstanceType: 'ml.c5.xlarge' })],
      DataCaptureConfig: {
        KmsKeyId: expect.stringContaining('LakeKeyArn'),
        DestinationS3Uri: 's3://production-recommender-data-capturebucketarn/datacapture',
      },
      KmsKeyId: expect.stringContaining('LakeKeyArn'),
    });
    // The sandbox recommender is serverless: SageMaker Serverless Inference supports neither data capture nor a
    // volume key, so its config has neither (the served slates are logged by the API instead).
    const serverless = statesOf(sandboxRecommender).CreateEndpointConfig;
    expect(serverless.Parameters).toMatchObject({
      ProductionVariants: [expect.objectContaining({ ServerlessConfig: expect.any(Object) })],
    });
    expect(serverless.Parameters).not.toHaveProperty('DataCaptureConfig');
    expect(serverless.Parameters).not.toHaveProperty('KmsKeyId');
    const gpu = statesOf(sandboxVision).CreateEndpointConfig;
    expect(gpu.Parameters).not.toHaveProperty('KmsKeyId');
    expect(gpu.Parameters).toMatchObject({
      ProductionVariants: [expect.objectContaining({ InstanceType: 'ml.g4dn.xlarge' })],
    });
  });

  test('alarms: endpoint 5xx/4xx/model errors/p90 latency/invocations (+GPU on GPU endpoints) and failed runs, all to the topic', () => {
    // The rollback alarms on errors are rates (errors / invocations per minute), which a bad canary trips at low
    // traffic too; 4xx and the invocation ceiling stay counts.
    for (const errors of ['Invocation5XXErrors', 'InvocationModelErrors']) {
      templates.sbxRec.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 5,
        EvaluationPeriods: 2,
        Metrics: Match.arrayWith([
          Match.objectLike({
            Expression: 'IF(FILL(invocations, 0) > 0, 100 * FILL(errors, 0) / FILL(invocations, 0), 0)',
          }),
          Match.objectLike({
            Id: 'errors',
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: errors }), Stat: 'Sum' }),
          }),
          Match.objectLike({
            Id: 'invocations',
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Invocations' }), Stat: 'Sum' }),
          }),
        ]),
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Notifications') }],
      });
    }
    for (const [metric, stat] of [
      ['Invocation4XXErrors', 'Sum'],
      ['Invocations', 'Sum'],
    ]) {
      templates.sbxRec.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SageMaker',
        MetricName: metric,
        Statistic: stat,
        Dimensions: Match.arrayWith([{ Name: 'EndpointName', Value: 'mlbp-sandbox-recommender' }]),
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Notifications') }],
      });
    }
    templates.sbxRec.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p90',
      Threshold: 500000,
    });
    templates.sbxVis.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: '/aws/sagemaker/Endpoints',
      MetricName: 'GPUUtilization',
    });
    expect(
      templates.sbxRec.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'GPUUtilization' } }),
    ).toEqual({});
    templates.sbxRec.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'failed + timedOut + aborted' })]),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Notifications') }],
    });
    templates.sbxRec.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    templates.sbxRec.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupName: 'mlbp-sandbox-recommender',
    });
  });
});

describe('retraining loop, vision template', () => {
  type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
  const statementsOf = (template: Template, rolePrefix: string): Statement[] =>
    Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${rolePrefix}`) }] },
      }),
    ).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
    );
  const actionsOn = (statements: Statement[], resource: RegExp): string[] =>
    statements
      .filter((st) => resource.test(JSON.stringify(st.Resource)))
      .flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));

  test('the references writer reads the checker state of its endpoint and writes its two references, nothing else', () => {
    for (const [template, endpoint] of [
      [templates.sbxVis, 'mlbp-sandbox-vision'],
      [templates.prdRec, 'mlbp-production-recommender'],
    ] as const) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: `Writes the CTR and quality references of the model deployed on ${endpoint}`,
        Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'retraining-references' }) },
      });
      const statements = statementsOf(template, 'RetrainingReferencesFunctionRole');
      const s3 = statements.filter((st) => JSON.stringify(st.Action).includes('s3:'));
      const resources = (st: Statement) => JSON.stringify(st.Resource);
      expect(s3.map((st) => st.Action)).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
      expect(resources(s3[0])).toMatch(new RegExp(`ArtifactsBucketArn.*/drift/state/${endpoint}\\.json"`));
      expect(resources(s3[2])).toMatch(
        new RegExp(`/drift/baselines/${endpoint}/ctr\\.json".*/drift/baselines/${endpoint}/quality\\.json"`),
      );
      expect(resources(s3[2])).not.toContain('*');
    }
  });

  test('the vision baseline Lambda (image statistics) reads datasets and images, writes the baseline, with the stage image bounds', () => {
    templates.sbxVis.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Refreshes the image drift baseline of mlbp-sandbox-vision',
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'vision-baseline',
          MAX_IMAGE_BYTES: '5242880',
          MAX_IMAGE_PIXELS: '25000000',
        }),
      },
    });
    templates.prdVis.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Refreshes the image drift baseline of mlbp-production-vision',
      Environment: { Variables: Match.objectLike({ MAX_IMAGE_BYTES: '6291456', MAX_IMAGE_PIXELS: '50000000' }) },
    });
    // The recommender keeps the tabular profile.
    templates.sbxRec.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Refreshes the drift baseline of mlbp-sandbox-recommender',
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'retraining-baseline' }) },
    });
    const statements = statementsOf(templates.sbxVis, 'RetrainingBaselineFunctionRole');
    expect(actionsOn(statements, /RawBucketArn.*\/images\/\*/)).toEqual(expect.arrayContaining(['s3:GetObject*']));
    expect(actionsOn(statements, /RawBucketArn.*\/images\/\*/)).not.toContain('s3:PutObject');
    expect(actionsOn(statements, /CuratedBucketArn.*\/datasets\/\*/)).toEqual(
      expect.arrayContaining(['s3:GetObject*']),
    );
    expect(actionsOn(statements, /ArtifactsBucketArn.*\/drift\/baselines\/mlbp-sandbox-vision\/\*/)).toEqual(
      expect.arrayContaining(['s3:PutObject']),
    );
    // Nothing else of the artifacts bucket, and no write anywhere but the baselines.
    const writes = statements.filter((st) => JSON.stringify(st.Action).includes('s3:PutObject'));
    expect(writes.map((st) => JSON.stringify(st.Resource))).toEqual([
      expect.stringMatching(/ArtifactsBucketArn.*\/drift\/baselines\/mlbp-sandbox-vision\/\*/),
    ]);
  });

  test('scale to zero: the state machine may manage only its own inference component, alarm and scaling alarms', () => {
    const statements = statementsOf(templates.sbxVis, 'RetrainingStateMachineRole');
    const ic = /inference-component\/mlbp-sandbox-vision-ic"/;
    expect(actionsOn(statements, ic)).toEqual(
      expect.arrayContaining([
        'sagemaker:CreateInferenceComponent',
        'sagemaker:UpdateInferenceComponent',
        'sagemaker:DescribeInferenceComponent',
      ]),
    );
    expect(actionsOn(statements, /alarm:mlbp-sandbox-vision-no-capacity"/)).toContain('cloudwatch:PutMetricAlarm');
    expect(actionsOn(statements, /alarm:TargetTracking-inference-component\/mlbp-sandbox-vision-ic-\*/)).toEqual(
      expect.arrayContaining(['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms']),
    );
    // No inference-component action on any other resource.
    // (ListInferenceComponents, which finds the champion's component, has no resource-level permissions.)
    const elsewhere = statements.filter(
      (st) =>
        JSON.stringify(st.Action).replace('sagemaker:ListInferenceComponents', '').includes('InferenceComponent') &&
        !ic.test(JSON.stringify(st.Resource)),
    );
    expect(elsewhere).toEqual([]);
    // Production vision serves from instances: no inference-component states or grants.
    expect(JSON.stringify(statementsOf(templates.prdVis, 'RetrainingStateMachineRole'))).not.toContain(
      'InferenceComponent',
    );
    const prd = statesOf(stateMachineDefinition(templates.prdVis));
    expect(Object.keys(prd).filter((n) => n.includes('InferenceComponent'))).toEqual([]);
    expect(prd.UpdateEndpoint.Parameters).toMatchObject({
      DeploymentConfig: { BlueGreenUpdatePolicy: expect.objectContaining({}) },
    });
  });

  test('scale to zero: "is there a component?" is a List call with filters; no error name decides anything', () => {
    const find = statesOf(sandboxVision).FindInferenceComponent;
    expect(find.Resource).toBe('arn:aws:states:::aws-sdk:sagemaker:listInferenceComponents');
    expect(find.Parameters).toEqual({
      EndpointNameEquals: 'mlbp-sandbox-vision',
      NameContains: 'mlbp-sandbox-vision-ic',
      SortBy: 'Name',
      SortOrder: 'Ascending',
      MaxResults: 10,
    });
    // Only transient errors are retried and everything else fails the run: no catcher matches a SageMaker error.
    const catchers = find.Catch as Array<{ ErrorEquals: string[]; Next: string }>;
    expect(catchers.map((c) => [c.ErrorEquals, c.Next])).toEqual([[['States.ALL'], 'RecordFailure']]);
    const choices = JSON.stringify(statesOf(sandboxVision)['InferenceComponentExists?']);
    expect(choices).toContain('"StringEquals":"Failed","Next":"DeleteFailedComponent"');
    expect(choices).toContain('"StringEquals":"InService","Next":"UpdateInferenceComponent"');
  });

  test('the minCapacity-0 warning is gone with scale to zero and kept for instance-based variants', () => {
    const warnings = sandbox
      .stack('Sandbox-Vision-ML')
      .messages.filter((m) => m.level === 'warning')
      .map((m) => String(m.entry.data));
    expect(warnings.filter((w) => /minCapacity is 0/.test(w))).toEqual([]);
    const stack = standaloneStack();
    const props = standaloneProps(stack);
    new RetrainingLoop(stack, 'Retraining', { ...props, serving: { ...props.serving, minCapacity: 0 } });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('minCapacity is 0'));
  });

  test('validation: an inference-component plan without its scaling calls is rejected', () => {
    const stack = standaloneStack();
    const plan = visionServingPlan({
      endpointName: 'mlbp-x',
      instanceType: 'ml.g4dn.xlarge',
      minCapacity: 0,
      maxCapacity: 1,
      initialInstanceCount: 1,
      dataCapturePercent: 100,
      scaleToZero: true,
      acceleratorsPerCopy: 1,
      memoryPerCopyMiB: 8192,
      targetConcurrentRequestsPerCopy: 4,
      idleMinutesBeforeScaleIn: 15,
    });
    const { scaleFromZeroAlarm: _alarm, ...incomplete } = plan;
    expect(() => new RetrainingLoop(stack, 'Retraining', standaloneProps(stack, { servingPlan: incomplete }))).toThrow(
      /servingPlan in inference-component mode needs scaleFromZeroAlarm/,
    );
  });
});

test('docs/retraining.md walks through every state of both case studies', () => {
  const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'retraining.md'), 'utf8');
  const names = new Set(
    [sandboxRecommender, sandboxVision, productionRecommender].flatMap((d) => Object.keys(statesOf(d))),
  );
  expect([...names].filter((n) => !doc.includes(`**${n}**`))).toEqual([]);
});

describe('training recipes', () => {
  test('the built-in images resolve per region from committed registry data', () => {
    expect(algorithmImageUri('xgboost', 'eu-west-1')).toBe(
      '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1',
    );
    expect(algorithmImageUri('xgboost', 'us-west-2')).toBe(
      '246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1',
    );
    expect(algorithmImageUri('image-classification', 'eu-central-1')).toBe(
      '813361260812.dkr.ecr.eu-central-1.amazonaws.com/image-classification:1',
    );
  });

  test('an unknown region fails synth naming the region and the supported ones', () => {
    expect(() =>
      synthesize('sandbox', { caseStudies: ['recommender'], overrides: { '*': { region: 'af-south-1' } } }),
    ).toThrow(
      /no xgboost training image is known for region "af-south-1"; supported regions: us-east-1, .*eu-central-1/,
    );
  });

  test('an instance type the image cannot use fails synth with a clear message', () => {
    expect(() =>
      synthesize('sandbox', {
        caseStudies: ['recommender'],
        overrides: { recommender: { training: { instanceType: 'ml.g6.xlarge' } } },
      }),
    ).toThrow(
      /training\.instanceType "ml\.g6\.xlarge" cannot train xgboost: the image supports the GPU families ml\.p2\.\*, ml\.p3\.\*, ml\.g4dn\.\*, ml\.g5\.\*; received family g6/,
    );
    // The vision model trains on any training type (the PyTorch image for CPU or GPU), never a hosting-only one.
    expect(() =>
      resolveTrainingRecipe({
        caseStudy: 'vision',
        region: 'us-east-1',
        instanceType: 'ml.t3.medium',
        instanceCount: 1,
      }),
    ).toThrow(/training\.instanceType "ml\.t3\.medium" is not a known SageMaker training instance type/);
    expect(
      resolveTrainingRecipe({
        caseStudy: 'vision',
        region: 'us-east-1',
        instanceType: 'ml.m5.xlarge',
        instanceCount: 1,
      }).image,
    ).toBe('763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.6.0-cpu-py312');
  });

  test('CPU XGBoost uses hist; overrides replace image and hyperparameters', () => {
    // The built-in XGBoost algorithm: hist on CPU instances, gpu_hist on GPU ones.
    const builtIn = (instanceType: string) =>
      resolveAlgorithmRecipe({ algorithm: 'xgboost', region: 'us-east-1', instanceType, instanceCount: 1 });
    expect(builtIn('ml.m5.xlarge').hyperparameters.tree_method).toBe('hist');
    expect(builtIn('ml.g5.xlarge').hyperparameters.tree_method).toBe('gpu_hist');
    // The recommender's script-mode ranker leaves it to XGBoost (`auto`: gpu_hist on a GPU, hist on a CPU).
    const cpu = resolveTrainingRecipe({
      caseStudy: 'recommender',
      region: 'us-east-1',
      instanceType: 'ml.m5.xlarge',
      instanceCount: 1,
    });
    expect(cpu.hyperparameters.tree_method).toBe('auto');
    const custom = resolveTrainingRecipe({
      caseStudy: 'recommender',
      region: 'us-east-1',
      instanceType: 'ml.g5.xlarge',
      instanceCount: 1,
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-xgb:2',
      hyperparameters: { max_depth: '4' },
    });
    expect(custom).toMatchObject({
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-xgb:2',
      imageOverridden: true,
    });
    expect(custom.repositoryArn).toBe('arn:aws:ecr:us-east-1:123456789012:repository/my-xgb');
    expect(custom.hyperparameters).toMatchObject({ max_depth: '4', tree_method: 'auto' });
  });
});

/** Valid props of a standalone loop, for construct-level tests. */
function standaloneProps(stack: Stack, overrides: Partial<RetrainingLoopProps> = {}): RetrainingLoopProps {
  const key = new kms.Key(stack, 'Key');
  const bucket = (id: string) =>
    s3.Bucket.fromBucketAttributes(stack, id, { bucketArn: `arn:aws:s3:::${id.toLowerCase()}`, encryptionKey: key });
  const topic = new sns.Topic(stack, 'Topic', { masterKey: key });
  const alarms = new EndpointAlarms(stack, 'Alarms', {
    endpointName: 'mlbp-x',
    alarmTopic: topic,
    invocationsCeiling: 100,
  });
  return {
    caseStudy: 'recommender',
    stage: 'production',
    endpointName: 'mlbp-x',
    eventSchema: INTERACTION_EVENT_SCHEMA,
    recipe: resolveTrainingRecipe({
      caseStudy: 'recommender',
      region: 'eu-west-1',
      instanceType: 'ml.g5.xlarge',
      instanceCount: 2,
    }),
    training: {
      instanceType: 'ml.g5.xlarge',
      instanceCount: 2,
      maxRuntime: Duration.hours(2),
      useSpot: false,
      maxWait: Duration.hours(2),
      volumeSize: Size.gibibytes(50),
      networkIsolation: true,
    },
    serving: {
      instanceType: 'ml.c5.xlarge',
      initialInstanceCount: 2,
      minCapacity: 2,
      maxCapacity: 4,
      dataCapturePercent: 10,
    },
    policy: { metricName: 'validation:auc', metricDirection: 'maximize', minImprovement: 0.01, absoluteFloor: 0.6 },
    minNewRecords: 10,
    datasetWindow: Duration.days(7),
    approval: 'manual',
    approvalTimeout: Duration.hours(24),
    canaryPercent: 10,
    canaryBake: Duration.minutes(10),
    deployTimeout: Duration.hours(1),
    lockTtl: Duration.hours(48), // above the run budget (44 hours with the 24-hour approval)
    dataKey: key,
    opsKey: key,
    topic,
    rawBucket: bucket('Raw'),
    curatedBucket: bucket('Curated'),
    artifactsBucket: bucket('Artifacts'),
    captureBucket: bucket('Capture'),
    databaseName: 'db',
    tableName: 'interaction_events',
    workGroupName: 'wg',
    rollbackAlarms: alarms.rollbackAlarms,
    ...overrides,
  };
}

/**
 * A stack for a standalone recommender loop: the loop loads co-visitation into the feature table of the case
 * study's serving (`RecommenderServing`), so the stack carries that construct's feature table.
 */
const standaloneStack = () => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Loop', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const serving = new Construct(stack, RECOMMENDER_SERVING_ID);
  const table = new dynamodb.Table(serving, 'Features', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  Object.assign(serving, { featureStore: { table } });
  return stack;
};

describe('retraining loop as a construct', () => {
  test('in a VPC, training jobs and the model run in its private subnets with their own security group', () => {
    const stack = standaloneStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const loop = new RetrainingLoop(stack, 'Retraining', standaloneProps(stack, { vpc }));
    const template = Template.fromStack(stack);
    const states = statesOf(stateMachineDefinition(template));
    const sg = stack.resolve(loop.securityGroup!.securityGroupId) as { 'Fn::GetAtt': string[] };
    for (const state of ['TrainCandidate', 'CreateModel']) {
      expect(states[state].Parameters.VpcConfig).toEqual({
        SecurityGroupIds: [expect.stringContaining(sg['Fn::GetAtt'][0])],
        Subnets: [expect.stringContaining('VpcPrivateSubnet1'), expect.stringContaining('VpcPrivateSubnet2')],
      });
    }
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })]),
    });
    expect(states.TrainCandidate.Parameters).toMatchObject({ EnableInterContainerTrafficEncryption: true });
  });

  test('without a VPC there is no VpcConfig', () => {
    const stack = standaloneStack();
    new RetrainingLoop(stack, 'Retraining', standaloneProps(stack));
    const states = statesOf(stateMachineDefinition(Template.fromStack(stack)));
    expect(states.TrainCandidate.Parameters).not.toHaveProperty('VpcConfig');
  });

  test.each([
    [{ rollbackAlarms: [] }, /rollbackAlarms must list at least one alarm/],
    [{ endpointName: 'bad_name' }, /endpointName must be a SageMaker name .*; received "bad_name"/],
  ] as const)('validation: %o', (overrides, message) => {
    const stack = standaloneStack();
    expect(
      () => new RetrainingLoop(stack, 'Retraining', standaloneProps(stack, overrides as Partial<RetrainingLoopProps>)),
    ).toThrow(message);
  });

  test('validation: spot training needs maxWait ≥ maxRuntime', () => {
    const stack = standaloneStack();
    const props = standaloneProps(stack);
    expect(
      () =>
        new RetrainingLoop(stack, 'Retraining', {
          ...props,
          training: { ...props.training, useSpot: true, maxWait: Duration.hours(1) },
        }),
    ).toThrow(/training.maxWait must be at least training.maxRuntime with spot training; received 1 hour < 2 hours/);
  });
});
