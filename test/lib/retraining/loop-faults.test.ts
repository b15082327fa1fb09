/**
 * The retraining loop under faults, executed locally on its synthesized definition (the one local world; the lock
 * table on dynalite). Each path asserts what the registry says, who holds the lock and what was notified: no
 * package is left Approved that does not serve, the lock is released by the run that took it (and only by it), no
 * update is sent to a busy endpoint, and every run that did not deploy says why.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Template } from 'aws-cdk-lib/assertions';
import { Emulators } from '../../../src/local-world/emulators';
import type { RunRecord } from '../../../src/local-world/world';
import { ALREADY_RUNNING_PATH, LoopWorld } from '../../support/loop-world';
import { synthesizedStage } from '../../support/synth';

type Json = Record<string, unknown>;

let emulators: Emulators;
let templates: Record<'sbxVis' | 'prdVis', Template>;

beforeAll(async () => {
  emulators = await Emulators.start();
  templates = {
    sbxVis: synthesizedStage('sandbox').template('Sandbox-Vision-ML'),
    prdVis: synthesizedStage('production').template('Production-Vision-ML'),
  };
});
afterAll(() => emulators?.close());

// The instance-based deployment path (blue/green, autoscaling) is production's; approvals answer at once here.
const ENDPOINT = 'mlbp-production-vision';
const drift = { trigger: { kind: 'drift', reason: 'drift in 3 of 5 features', detail: { endpointName: ENDPOINT } } };
const manual = { trigger: { kind: 'manual', reason: 'operator', requestedBy: 'bob' } };
const newWorld = () => LoopWorld.deploy(emulators, templates.prdVis, 'vision');
/** Enough new labelled images for production (at least 100,000). */
const PLENTY = 250_000;

function expectEnded(run: RunRecord, status: 'SUCCEEDED' | 'FAILED'): void {
  if (run.status !== status) {
    throw new Error(
      `expected ${status}, got ${run.status}: ${run.error?.message ?? ''}\npath: ${run.visited.join(' → ')}`,
    );
  }
}
const inputsOf = (run: RunRecord, state: string): Json[] =>
  run.calls.filter((c) => c.state === state).map((c) => c.input);
/** The run's start in epoch seconds (the lock's `:now`). */
const lockNowOf = (run: RunRecord): number =>
  Number((inputsOf(run, 'AcquireLock')[0].ExpressionAttributeValues as Record<string, { N: string }>)[':now'].N);
/** What the registry says of each package: status and how its deployment ended. */
const registry = (w: LoopWorld) =>
  w.packages.map((p) => ({ status: p.status, deployment: p.metadata.deployment, datasetId: p.metadata.datasetId }));

describe('deployment faults', () => {
  test('an endpoint update that ends Failed: the candidate is Rejected with the reason, the champion stays the Approved one, lock released, notified', async () => {
    const w = await newWorld();
    w.addChampion(0.7, { endpointName: ENDPOINT, configName: 'mlbp-production-vision-champion' });
    const run = await w.run(
      {
        newRecords: PLENTY,
        endpointStatuses: ['Updating', 'Failed'],
        endpointFailure: 'CapacityError: no ml.g5.xlarge capacity',
      },
      'update-fails',
      drift,
    );

    expectEnded(run, 'FAILED');
    expect(run.visited).toEqual(expect.arrayContaining(['UpdateEndpoint', 'MarkDeployFailed', 'RecordEndpointFailed']));
    expect(registry(w)).toEqual([
      { status: 'Approved', deployment: undefined, datasetId: 'previous-run' },
      { status: 'Rejected', deployment: 'failed', datasetId: 'update-fails' },
    ]);
    expect(w.packages[1].metadata.deploymentReason).toMatch(/CapacityError: no ml.g5.xlarge capacity/);
    expect(w.notifications).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: 'EndpointFailed',
        modelPackageArn: w.packages[1].arn,
        cause: expect.stringContaining('CapacityError'),
      }),
    ]);
    expect((await w.locks()).size).toBe(0);
  });

  test('a first deployment that ends Failed, then the next run replaces the Failed endpoint and deploys', async () => {
    const w = await newWorld();
    const first = await w.run(
      {
        newRecords: PLENTY,
        endpointStatuses: ['Creating', 'Failed'],
        endpointFailure: 'ResourceLimitExceeded: endpoint instances',
      },
      'first-fails',
      manual,
    );
    expectEnded(first, 'FAILED');
    expect(registry(w)).toEqual([{ status: 'Rejected', deployment: 'failed', datasetId: 'first-fails' }]);
    expect((await w.locks()).size).toBe(0);

    const second = await w.run({ newRecords: PLENTY }, 'recovers', manual);
    expectEnded(second, 'SUCCEEDED');
    // Nothing served: no champion. The Failed endpoint only accepts a delete: deleted, waited for, created anew.
    expect(second.visited).toContain('NoChampion');
    expect(second.visited).not.toContain('UpdateEndpoint');
    const path = second.visited.join(' → ');
    expect(path).toContain('FindEndpoint → EndpointExists? → DeleteFailedEndpoint → KeepWaiting? → StartDeployWait');
    expect(path).toMatch(/CountDeployWait → FindEndpoint → EndpointExists\? → CreateEndpoint/);
    expect(inputsOf(second, 'CreateEndpoint')).toEqual([
      expect.objectContaining({ EndpointName: ENDPOINT, EndpointConfigName: 'mlbp-production-vision-recovers' }),
    ]);
    expect(w.endpoint).toEqual({ name: ENDPOINT, configName: 'mlbp-production-vision-recovers' });
    expect(registry(w)).toEqual([
      { status: 'Rejected', deployment: 'failed', datasetId: 'first-fails' },
      { status: 'Approved', deployment: undefined, datasetId: 'recovers' },
    ]);
    expect(w.notifications.map((n) => n.status)).toEqual(['failed', 'deployed']);
    expect((await w.locks()).size).toBe(0);
  });

  test('a deployment that does not settle in time: Rejected as timed out, lock released, notified', async () => {
    const w = await newWorld();
    w.addChampion(0.7, { endpointName: ENDPOINT, configName: 'mlbp-production-vision-champion' });
    const run = await w.run(
      { newRecords: PLENTY, endpointStatuses: Array.from({ length: 300 }, () => 'Updating') },
      'too-slow',
      drift,
    );

    expectEnded(run, 'FAILED');
    expect(run.visited.filter((s) => s === 'DescribeEndpoint')).toHaveLength(120); // the deploy timeout's polls
    expect(run.visited.slice(-7)).toEqual([
      'MarkDeployTimedOut',
      'RecordDeployTimeout',
      'NotifyOutcome',
      'Rejected?',
      'ReleaseLock',
      'Finished?',
      'RunFailed',
    ]);
    expect(registry(w)[1]).toEqual({ status: 'Rejected', deployment: 'timed-out', datasetId: 'too-slow' });
    expect(w.packages[0].status).toBe('Approved'); // the champion, still serving
    expect(w.notifications).toEqual([expect.objectContaining({ status: 'failed', error: 'DeploymentTimedOut' })]);
    expect((await w.locks()).size).toBe(0);
  });
});

describe('autoscaling and capacity', () => {
  const VARIANT_TARGET = `endpoint/${ENDPOINT}/variant/AllTraffic`;
  /** A champion serving on `instanceType`, its variant registered for autoscaling. */
  async function scaledChampion(instanceType: string) {
    const w = await newWorld();
    w.addChampion(0.7, { endpointName: ENDPOINT, configName: 'mlbp-production-vision-champion' });
    w.world.hosting.addEndpoint(ENDPOINT, 'mlbp-production-vision-champion', {
      packageArn: w.packages[0].arn,
      instanceType,
    });
    w.world.messaging.scalableTargets.set(VARIANT_TARGET, {
      ServiceNamespace: 'sagemaker',
      ResourceId: VARIANT_TARGET,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 1,
      MaxCapacity: 2,
    });
    return w;
  }

  test('a new instance type with autoscaling registered: deregistered first (as AWS requires), registered again after the update', async () => {
    const w = await scaledChampion('ml.c5.large'); // the config now asks for ml.g5.xlarge
    const run = await w.run({ newRecords: PLENTY, sameData: { candidate: 0.8, champion: 0.7 } }, 'new-type', drift);

    expectEnded(run, 'SUCCEEDED');
    expect(run.visited.join(' → ')).toContain(
      'DescribeLiveEndpoint → DescribeLiveConfig → InstanceTypeChanged? → FindScalableTarget → ScalingRegistered? → DeregisterScalableTarget → UpdateEndpoint',
    );
    // The update keeps the live instance count; the scaling comes back on the new variant.
    expect(inputsOf(run, 'UpdateEndpoint')[0]).toMatchObject({ RetainAllVariantProperties: true });
    expect(run.visited).toEqual(expect.arrayContaining(['RegisterScalableTarget', 'PutScalingPolicy']));
    expect(w.world.messaging.scalableTargets.has(VARIANT_TARGET)).toBe(true);
    expect(registry(w).map((p) => p.status)).toEqual(['Approved', 'Approved']);
    expect(w.notifications).toEqual([expect.objectContaining({ status: 'deployed' })]);
    expect((await w.locks()).size).toBe(0);
  });

  test('the same instance type: the update keeps the scalable target (no deregistration)', async () => {
    const w = await scaledChampion('ml.g5.xlarge');
    const run = await w.run({ newRecords: PLENTY, sameData: { candidate: 0.8, champion: 0.7 } }, 'same-type', drift);
    expectEnded(run, 'SUCCEEDED');
    expect(run.visited.join(' → ')).toContain('InstanceTypeChanged? → UpdateEndpoint');
    expect(run.visited).not.toContain('DeregisterScalableTarget');
  });

  test('a rollback after a deregistration restores the champion’s scaling', async () => {
    const w = await scaledChampion('ml.c5.large');
    const run = await w.run(
      {
        newRecords: PLENTY,
        sameData: { candidate: 0.8, champion: 0.7 },
        endpointStatuses: ['Updating', 'InService'],
        rollback: true,
      },
      'new-type-rolls-back',
      drift,
    );
    expectEnded(run, 'FAILED');
    expect(run.visited.join(' → ')).toContain('RestoreScalableTarget → RestoreScalingPolicy → MarkRolledBack');
    expect(w.world.messaging.scalableTargets.has(VARIANT_TARGET)).toBe(true);
    expect(registry(w).map((p) => p.status)).toEqual(['Approved', 'Rejected']);
    expect(w.notifications).toEqual([expect.objectContaining({ status: 'rolled-back' })]);
    expect((await w.locks()).size).toBe(0);
  });
});

describe('inference components (scale to zero)', () => {
  test('a Failed inference component is deleted, waited for and created anew; the candidate deploys', async () => {
    const w = await LoopWorld.deploy(emulators, templates.sbxVis, 'vision');
    w.addChampion(0.8, { endpointName: 'mlbp-sandbox-vision', configName: 'mlbp-sandbox-vision-old' });
    w.world.hosting.addInferenceComponent(
      'mlbp-sandbox-vision-ic',
      'mlbp-sandbox-vision',
      'mlbp-sandbox-vision-old',
      'CannotStartContainerError: out of GPU memory',
    );
    const run = await w.run({ newRecords: PLENTY, candidateMetric: 0.9 }, 'ic-replaced', manual);

    expectEnded(run, 'SUCCEEDED');
    // A Failed component serves nothing: no champion to beat; the component accepts only a delete.
    expect(run.visited).toContain('NoChampion');
    const path = run.visited.join(' → ');
    expect(path).toContain('FindInferenceComponent → InferenceComponentExists? → DeleteFailedComponent');
    expect(path).toMatch(
      /CountComponentWait → FindInferenceComponent → InferenceComponentExists\? → CreateInferenceComponent/,
    );
    expect(run.visited).not.toContain('UpdateInferenceComponent');
    expect(w.inferenceComponent).toMatchObject({
      name: 'mlbp-sandbox-vision-ic',
      modelName: 'mlbp-sandbox-vision-ic-replaced',
    });
    expect(w.packages.map((p) => p.status)).toEqual(['Approved', 'Approved']);
    expect(w.notifications).toEqual([expect.objectContaining({ status: 'deployed' })]);
    expect((await w.locks()).size).toBe(0);
  });
});

describe('busy endpoints', () => {
  test('busy at the start and for the whole bounded wait: skipped before any training, notified, lock released', async () => {
    const w = await newWorld();
    w.addChampion(0.7, { endpointName: ENDPOINT, configName: 'mlbp-production-vision-champion' });
    w.world.hosting.setEndpoint({ busyFor: 1000 });
    const run = await w.run({ newRecords: PLENTY }, 'busy-start', drift);

    expectEnded(run, 'SUCCEEDED');
    expect(run.visited.filter((s) => s === 'WaitForServingEndpoint')).toHaveLength(30);
    expect(run.visited.slice(-6)).toEqual([
      'RecordEndpointBusy',
      'NotifyOutcome',
      'Rejected?',
      'ReleaseLock',
      'Finished?',
      'RunSucceeded',
    ]);
    expect(w.trainingJobs).toEqual([]);
    expect(registry(w)).toEqual([{ status: 'Approved', deployment: undefined, datasetId: 'previous-run' }]);
    expect(w.notifications).toEqual([
      expect.objectContaining({
        status: 'skipped',
        reason: expect.stringMatching(/^endpoint busy: mlbp-production-vision stayed Updating/),
      }),
    ]);
    expect((await w.locks()).size).toBe(0);
  });

  test('busy at the start for a while: the run waits, then goes on; no update is ever sent to a busy endpoint', async () => {
    const w = await newWorld();
    w.addChampion(0.7, { endpointName: ENDPOINT, configName: 'mlbp-production-vision-champion' });
    w.world.hosting.setEndpoint({ busyFor: 3 });
    const run = await w.run(
      { newRecords: PLENTY, sameData: { candidate: 0.8, champion: 0.7 } },
      'busy-then-free',
      drift,
    );

    expectEnded(run, 'SUCCEEDED');
    expect(run.visited.filter((s) => s === 'WaitForServingEndpoint').length).toBeGreaterThan(0);
    expect(run.visited).toContain('UpdateEndpoint');
    // The deployment's own lookup saw the endpoint InService before the update.
    const lookups = run.calls.filter((c) => c.state === 'FindEndpoint');
    expect(lookups).toHaveLength(1);
    expect(registry(w).map((p) => p.status)).toEqual(['Approved', 'Approved']);
    expect(w.notifications).toEqual([expect.objectContaining({ status: 'deployed' })]);
    expect((await w.locks()).size).toBe(0);
  });

  test('busy again when the candidate is ready: waited for (bounded), then skipped; the package is Rejected as not deployed', async () => {
    const w = await newWorld();
    w.addChampion(0.7, { endpointName: ENDPOINT, configName: 'mlbp-production-vision-champion' });
    const run = await w.run(
      {
        newRecords: PLENTY,
        sameData: { candidate: 0.8, champion: 0.7 },
        // While the candidate trains, something else (autoscaling, a person) starts updating the endpoint.
        trainingGate: async () => w.world.hosting.setEndpoint({ busyFor: 1000 }),
      },
      'busy-deploy',
      drift,
    );

    expectEnded(run, 'SUCCEEDED');
    expect(run.visited).not.toContain('UpdateEndpoint');
    expect(run.visited.filter((s) => s === 'WaitBeforeDeploy')).toHaveLength(120); // production: 120 minutes
    expect(run.visited.slice(-7, -4)).toEqual(['MarkEndpointBusy', 'RecordDeployBusy', 'NotifyOutcome']);
    expect(registry(w)[1]).toEqual({ status: 'Rejected', deployment: 'skipped', datasetId: 'busy-deploy' });
    expect(w.notifications).toEqual([
      expect.objectContaining({
        status: 'skipped',
        reason: expect.stringMatching(/^endpoint busy: .* the candidate was not deployed/),
      }),
    ]);
    expect((await w.locks()).size).toBe(0);
  });
});

describe('locks', () => {
  test('a stale lock of a dead run is taken over; the new run releases only its own lock', async () => {
    const w = await newWorld();
    await emulators.dynamo.send(
      new PutItemCommand({
        TableName: w.lockTable,
        Item: {
          lockId: { S: ENDPOINT },
          executionId: { S: 'arn:aws:states:us-east-1:123456789012:execution:loop:crashed' },
          datasetId: { S: 'crashed' },
          expiresAt: { N: '1000' }, // long expired
        },
      }),
    );
    const run = await w.run({ newRecords: PLENTY }, 'takes-over', manual);
    expectEnded(run, 'SUCCEEDED');
    expect(inputsOf(run, 'AcquireLock')[0]).toMatchObject({ Item: { datasetId: { S: 'takes-over' } } });
    expect(registry(w)).toEqual([{ status: 'Approved', deployment: undefined, datasetId: 'takes-over' }]);
    expect(w.notifications).toEqual([expect.objectContaining({ status: 'deployed' })]);
    expect((await w.locks()).size).toBe(0);
  });

  test('the lock of a run that was stopped is taken over at once, not after its TTL', async () => {
    const w = await newWorld();
    const stopped = w.world.executionArn('stopped-by-hand');
    await emulators.dynamo.send(
      new PutItemCommand({
        TableName: w.lockTable,
        Item: {
          lockId: { S: ENDPOINT },
          executionId: { S: stopped },
          datasetId: { S: 'stopped-by-hand' },
          expiresAt: { N: String(4_102_444_800) }, // 2100: far from expired
        },
      }),
    );
    w.world.executions.set(stopped, 'ABORTED');
    const run = await w.run({ newRecords: PLENTY }, 'after-stop', manual);
    expectEnded(run, 'SUCCEEDED');
    expect(run.visited.slice(0, 8)).toEqual([
      'PlanRun',
      'AcquireLock',
      'ReadLock',
      'LockHolderKnown?',
      'DescribeLockHolder',
      'LockHolderRunning?',
      'TakeOverLock',
      'FindChampion',
    ]);
    expect(inputsOf(run, 'TakeOverLock')[0]).toMatchObject({
      ConditionExpression: 'executionId = :holder',
      ExpressionAttributeValues: { ':holder': { S: stopped } },
    });
    expect(registry(w)).toEqual([{ status: 'Approved', deployment: undefined, datasetId: 'after-stop' }]);
    expect(w.notifications).toEqual([expect.objectContaining({ status: 'deployed' })]);
    expect((await w.locks()).size).toBe(0);
  });

  test('a concurrent trigger is notified (already-running) and leaves the holder its lock', async () => {
    const w = await newWorld();
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const training = new Promise<void>((r) => (started = r));
    const first = w.run({ newRecords: PLENTY, trainingGate: () => (started(), gate) }, 'holder', drift);
    await training;

    const second = await w.run({ newRecords: PLENTY }, 'second', manual);
    expectEnded(second, 'SUCCEEDED');
    expect(second.visited).toEqual(ALREADY_RUNNING_PATH);
    expect(w.notifications).toEqual([
      expect.objectContaining({ status: 'already-running', executionName: 'second', datasetId: 'second' }),
    ]);
    expect((await w.locks()).get(ENDPOINT)).toMatchObject({ datasetId: { S: 'holder' } });

    release();
    expectEnded(await first, 'SUCCEEDED');
    expect(w.notifications.map((n) => n.status)).toEqual(['already-running', 'deployed']);
    expect((await w.locks()).size).toBe(0);
  });
});

describe('approval', () => {
  test('an approval nobody answers in time: the package is Rejected with that reason, nothing deployed, notified', async () => {
    const w = await newWorld();
    const run = await w.run({ newRecords: 250_000, approval: { timeout: true } }, 'unanswered', manual);

    expectEnded(run, 'SUCCEEDED');
    expect(run.visited).toEqual(
      expect.arrayContaining(['RequestApproval', 'MarkApprovalTimedOut', 'RecordApprovalTimedOut']),
    );
    expect(run.visited).not.toContain('CreateEndpointConfig');
    expect(registry(w)).toEqual([{ status: 'Rejected', deployment: 'approval-timed-out', datasetId: 'unanswered' }]);
    expect(w.packages[0].metadata.deploymentReason).toBe('no answer within 3 days');
    expect(w.endpoint).toBeUndefined();
    expect(w.notifications).toEqual([
      expect.objectContaining({
        status: 'approval-timed-out',
        reason: 'no approval within 3 days: the package is rejected',
        modelPackageArn: w.packages[0].arn,
      }),
    ]);
    expect((await w.locks()).size).toBe(0);
  });
});

describe('back-off after rejections', () => {
  test('a rejection holds back the next drift-triggered runs (exponentially), not a person, and not once the new data doubled', async () => {
    const w = await newWorld();
    w.addChampion(0.8, { endpointName: ENDPOINT, configName: 'mlbp-production-vision-champion' });
    const worse = { sameData: { candidate: 0.6, champion: 0.72 } };

    const rejected = await w.run({ ...worse, newRecords: 150_000 }, 'rejected-1', drift);
    expectEnded(rejected, 'SUCCEEDED');
    const firstRecord = await w.backoff();
    expect(firstRecord).toMatchObject({ rejections: 1, newRecordsAtRejection: 150_000, waiveAtRecords: 300_000 });
    const lockNow1 = lockNowOf(rejected);
    expect(firstRecord!.notBefore).toBe(lockNow1 + 24 * 3600); // production: 24 hours after the first rejection

    // Drift again, within the interval, with less than twice the data: skipped before any training.
    const held = await w.run({ newRecords: 299_999 }, 'held', drift);
    expectEnded(held, 'SUCCEEDED');
    expect(held.visited.slice(-6)).toEqual([
      'RecordBackoff',
      'NotifyOutcome',
      'Rejected?',
      'ReleaseLock',
      'Finished?',
      'RunSucceeded',
    ]);
    expect(w.trainingJobs).toHaveLength(1);
    expect(w.notifications[1]).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(
        /^back-off after 1 consecutive rejection\(s\).*once 300000 new records have arrived \(now 299999\)/,
      ),
    });

    // A person is never held back; a second rejection doubles the wait.
    const byHand = await w.run({ ...worse, newRecords: 299_999 }, 'by-hand', manual);
    expectEnded(byHand, 'SUCCEEDED');
    expect(w.trainingJobs).toHaveLength(2);
    const second = await w.backoff();
    const lockNow3 = lockNowOf(byHand);
    expect(second).toMatchObject({ rejections: 2, waiveAtRecords: 599_998, notBefore: lockNow3 + 48 * 3600 });

    // Drift with twice the data since the last rejection: the back-off is waived.
    const doubled = await w.run({ ...worse, newRecords: 599_998 }, 'doubled', drift);
    expectEnded(doubled, 'SUCCEEDED');
    expect(doubled.visited).toEqual(expect.arrayContaining(['ReadBackoff', 'BackoffActive?', 'TrainCandidate']));
    expect(w.trainingJobs).toHaveLength(3);

    // Every rejected package stays Rejected; the champion is untouched; no run holds the lock.
    expect(registry(w).map((p) => p.status)).toEqual(['Approved', 'Rejected', 'Rejected', 'Rejected']);
    expect(w.notifications.map((n) => n.status)).toEqual(['rejected', 'skipped', 'rejected', 'rejected']);
    expect((await w.locks()).size).toBe(0);
  });

  test('a deployment ends the streak: the next drift-triggered run is not held back', async () => {
    const w = await newWorld();
    w.addChampion(0.7, { endpointName: ENDPOINT, configName: 'mlbp-production-vision-champion' });
    await w.run({ newRecords: PLENTY, sameData: { candidate: 0.6, champion: 0.72 } }, 'rejected', drift);
    expect(await w.backoff()).toMatchObject({ rejections: 1 });
    const deployed = await w.run(
      { newRecords: PLENTY, sameData: { candidate: 0.9, champion: 0.72 } },
      'deployed',
      manual,
    );
    expectEnded(deployed, 'SUCCEEDED');
    const next = await w.run({ sameData: { candidate: 0.95, champion: 0.9 }, newRecords: 150_000 }, 'next', drift);
    expectEnded(next, 'SUCCEEDED');
    // The champion's dataset now ends after the recorded rejection: the record no longer applies.
    expect(next.visited.join(' → ')).toContain('ReadBackoff → BackoffRecorded? → SelectLabelledImages');
    expect(w.notifications.map((n) => n.status)).toEqual(['rejected', 'deployed', 'deployed']);
  });
});
