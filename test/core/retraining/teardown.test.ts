import {
  LOOP_TAG_KEYS,
  handleTeardownEvent,
  TeardownError,
  describeActions,
  ownedByLoop,
  teardownAll,
  teardownStep,
  type SageMakerItem,
  type TeardownPort,
  type TeardownScope,
} from '../../../core/retraining/teardown';
import { CliError, HelpRequested } from '../../../src/cli/common';
import { parseTeardownArgs, runTeardown } from '../../../src/cli/teardown';

type Kind = 'endpoint' | 'inference-component' | 'endpoint-config' | 'model' | 'training-job' | 'transform-job';

interface Resource {
  kind: Kind;
  name: string;
  status?: string;
  tags: Record<string, string>;
  /** Inference components: their endpoint. */
  endpoint?: string;
  /** Endpoints: the config they run. */
  config?: string;
}

/**
 * A local SageMaker / Application Auto Scaling / CloudWatch with the behaviour the teardown depends on: deletes are
 * asynchronous (a deleted endpoint or component is `Deleting` until the next list), an endpoint with components
 * refuses deletion, an endpoint's config cannot be deleted while the endpoint exists, List calls filter by name as
 * the APIs do (`NameContains`), and every call is recorded.
 */
class FakeAws implements TeardownPort {
  readonly resources: Resource[] = [];
  readonly packages: string[] = [];
  readonly targets: Array<{ resourceId: string; dimension: string }> = [];
  readonly alarmNames: string[] = [];
  readonly calls: string[] = [];
  failOnce = new Set<string>();

  add(r: Resource): this {
    this.resources.push(r);
    return this;
  }
  private arn = (r: Resource) => `arn:aws:sagemaker:us-east-1:123456789012:${r.kind}/${r.name.toLowerCase()}`;
  private find = (kind: Kind, name: string) => this.resources.find((r) => r.kind === kind && r.name === name);
  private list(kind: Kind, nameContains: string, filter: (r: Resource) => boolean = () => true): SageMakerItem[] {
    // Asynchronous deletion: what was Deleting at the previous list is gone now.
    for (const r of this.resources.filter((x) => x.kind === kind && x.status === 'Deleting' && x.tags.__seen)) {
      this.resources.splice(this.resources.indexOf(r), 1);
    }
    return this.resources
      .filter((r) => r.kind === kind && r.name.includes(nameContains) && filter(r))
      .map((r) => {
        if (r.status === 'Deleting') r.tags.__seen = '1';
        return { name: r.name, arn: this.arn(r), status: r.status };
      });
  }
  private mutate(call: string, fn: () => void): Promise<void> {
    this.calls.push(call);
    if (this.failOnce.delete(call)) return Promise.reject(new Error(`${call} was throttled`));
    fn();
    return Promise.resolve();
  }

  listEndpoints = async (n: string) => this.list('endpoint', n);
  listInferenceComponents = async (endpoint: string) =>
    this.list('inference-component', '', (r) => r.endpoint === endpoint);
  listEndpointConfigs = async (n: string) => this.list('endpoint-config', n);
  listModels = async (n: string) => this.list('model', n);
  listRunningTrainingJobs = async (n: string) => this.list('training-job', n, (r) => r.status === 'InProgress');
  listRunningTransformJobs = async (n: string) => this.list('transform-job', n, (r) => r.status === 'InProgress');
  listModelPackages = async (group: string) =>
    this.packages.filter((p) => p.includes(`/${group}/`)).map((arn) => ({ name: arn, arn }));
  tagsOf = async (arn: string) => {
    const r = this.resources.find((x) => this.arn(x) === arn);
    if (!r) throw new Error(`no resource ${arn}`);
    return Object.fromEntries(Object.entries(r.tags).filter(([k]) => k !== '__seen'));
  };
  listScalableTargets = async (ids: readonly string[]) => this.targets.filter((t) => ids.includes(t.resourceId));
  readonly alarms = {
    list: async (prefix: string) => this.alarmNames.filter((a) => a.startsWith(prefix)),
    delete: (names: readonly string[]) =>
      this.mutate(`DeleteAlarms ${names.join(',')}`, () => {
        for (const n of names) this.alarmNames.splice(this.alarmNames.indexOf(n), 1);
      }),
  };
  stopTrainingJob = (name: string) =>
    this.mutate(`StopTrainingJob ${name}`, () => (this.find('training-job', name)!.status = 'Stopping'));
  stopTransformJob = (name: string) =>
    this.mutate(`StopTransformJob ${name}`, () => (this.find('transform-job', name)!.status = 'Stopping'));
  deregisterScalableTarget = (id: string) =>
    this.mutate(`DeregisterScalableTarget ${id}`, () =>
      this.targets.splice(
        this.targets.findIndex((t) => t.resourceId === id),
        1,
      ),
    );
  deleteInferenceComponent = (name: string) =>
    this.mutate(
      `DeleteInferenceComponent ${name}`,
      () => (this.find('inference-component', name)!.status = 'Deleting'),
    );
  deleteEndpoint = (name: string) =>
    this.mutate(`DeleteEndpoint ${name}`, () => {
      if (this.resources.some((r) => r.kind === 'inference-component' && r.endpoint === name)) {
        throw new Error(`endpoint ${name} still hosts inference components`);
      }
      this.find('endpoint', name)!.status = 'Deleting';
    });
  deleteEndpointConfig = (name: string) =>
    this.mutate(`DeleteEndpointConfig ${name}`, () => {
      if (this.resources.some((r) => r.kind === 'endpoint' && r.config === name)) {
        throw new Error('config in use by a live endpoint');
      }
      this.resources.splice(this.resources.indexOf(this.find('endpoint-config', name)!), 1);
    });
  deleteModel = (name: string) =>
    this.mutate(`DeleteModel ${name}`, () =>
      this.resources.splice(this.resources.indexOf(this.find('model', name)!), 1),
    );
  deleteModelPackage = (arn: string) =>
    this.mutate(`DeleteModelPackage ${arn.split('/').pop()}`, () =>
      this.packages.splice(this.packages.indexOf(arn), 1),
    );
}

const scope: TeardownScope = { stage: 'sandbox', caseStudy: 'vision', endpointName: 'mlbp-sandbox-vision' };
const loopTags = (datasetId: string) => ({
  [LOOP_TAG_KEYS.stage]: 'sandbox',
  [LOOP_TAG_KEYS.caseStudy]: 'vision',
  [LOOP_TAG_KEYS.datasetId]: datasetId,
});

/** What two runs of the sandbox vision loop leave, a third still training, and two things that are not the loop's. */
function sandboxVision(): FakeAws {
  const aws = new FakeAws();
  aws
    .add({
      kind: 'endpoint',
      name: 'mlbp-sandbox-vision',
      status: 'InService',
      config: 'mlbp-sandbox-vision-run-1',
      tags: loopTags('run-1'),
    })
    .add({
      kind: 'inference-component',
      name: 'mlbp-sandbox-vision-ic',
      status: 'InService',
      endpoint: 'mlbp-sandbox-vision',
      tags: loopTags('run-2'),
    })
    .add({ kind: 'endpoint-config', name: 'mlbp-sandbox-vision-run-1', tags: loopTags('run-1') })
    .add({ kind: 'model', name: 'mlbp-sandbox-vision-run-1', tags: loopTags('run-1') })
    // Made before the loop tagged stage and case study: the dataset-id tag alone marks it.
    .add({ kind: 'model', name: 'mlbp-sandbox-vision-run-2', tags: { [LOOP_TAG_KEYS.datasetId]: 'run-2' } })
    .add({ kind: 'model', name: 'mlbp-sandbox-vision-run-2-chmp', tags: loopTags('run-2') })
    .add({ kind: 'training-job', name: 'mlbp-sandbox-vision-run-3-0', status: 'InProgress', tags: loopTags('run-3') })
    .add({ kind: 'training-job', name: 'mlbp-sandbox-vision-run-1-0', status: 'Completed', tags: loopTags('run-1') })
    // Not the loop's: an endpoint someone made by hand under the prefix, and another stage's model.
    .add({ kind: 'endpoint', name: 'mlbp-sandbox-vision-manual', status: 'InService', tags: { owner: 'alice' } })
    .add({
      kind: 'model',
      name: 'mlbp-sandbox-vision-other',
      tags: { [LOOP_TAG_KEYS.stage]: 'production', [LOOP_TAG_KEYS.caseStudy]: 'vision' },
    })
    // Another case study whose name contains this one's is never matched by prefix.
    .add({ kind: 'model', name: 'mlbp-sandbox-visionary-run-1', tags: loopTags('x') });
  aws.packages.push(
    'arn:aws:sagemaker:us-east-1:123456789012:model-package/mlbp-sandbox-vision/1',
    'arn:aws:sagemaker:us-east-1:123456789012:model-package/mlbp-sandbox-vision/2',
  );
  aws.targets.push({
    resourceId: 'inference-component/mlbp-sandbox-vision-ic',
    dimension: 'sagemaker:inference-component:DesiredCopyCount',
  });
  aws.alarmNames.push('mlbp-sandbox-vision-no-capacity', 'Sandbox-Vision-ML-EndpointAlarmsModelErrors-1A2B');
  return aws;
}

const run = (aws: FakeAws) => teardownAll(aws, scope, { maxSteps: 10, pause: () => Promise.resolve() });

describe('loop teardown', () => {
  test('removes everything the loop made, in a safe order, and nothing else', async () => {
    const aws = sandboxVision();
    const last = await run(aws);

    expect(last.done).toBe(true);
    expect(aws.calls).toEqual([
      'StopTrainingJob mlbp-sandbox-vision-run-3-0',
      'DeregisterScalableTarget inference-component/mlbp-sandbox-vision-ic',
      'DeleteAlarms mlbp-sandbox-vision-no-capacity',
      'DeleteInferenceComponent mlbp-sandbox-vision-ic',
      'DeleteEndpoint mlbp-sandbox-vision',
      'DeleteEndpointConfig mlbp-sandbox-vision-run-1',
      'DeleteModel mlbp-sandbox-vision-run-1',
      'DeleteModel mlbp-sandbox-vision-run-2',
      'DeleteModel mlbp-sandbox-vision-run-2-chmp',
      'DeleteModelPackage 1',
      'DeleteModelPackage 2',
    ]);
    expect(aws.resources.map((r) => r.name).sort()).toEqual([
      'mlbp-sandbox-vision-manual',
      'mlbp-sandbox-vision-other',
      'mlbp-sandbox-vision-run-1-0', // a finished training job: nothing to stop, nothing billed
      'mlbp-sandbox-vision-run-3-0', // stopped
      'mlbp-sandbox-visionary-run-1',
    ]);
    expect(aws.packages).toEqual([]);
    expect(aws.targets).toEqual([]);
    expect(aws.alarmNames).toEqual(['Sandbox-Vision-ML-EndpointAlarmsModelErrors-1A2B']);
    // What is not the loop's is reported, never touched.
    expect(last.actions.filter((a) => a.action === 'skip').map((a) => a.name)).toEqual([
      'mlbp-sandbox-vision-manual',
      'mlbp-sandbox-vision-other',
    ]);
  });

  test('each step waits for what must go first: components before endpoints, endpoints before configs and models', async () => {
    const aws = sandboxVision();
    const first = await teardownStep(aws, scope);
    expect(first.done).toBe(false);
    expect(describeActions(first.actions.filter((a) => a.action === 'wait'))).toEqual([
      'wait       endpoint            mlbp-sandbox-vision (its components and scaling go first)',
      'wait       endpoint-config     mlbp-sandbox-vision-run-1 (endpoints go first)',
      'wait       model               mlbp-sandbox-vision-run-1 (endpoints go first)',
      'wait       model               mlbp-sandbox-vision-run-2 (endpoints go first)',
      'wait       model               mlbp-sandbox-vision-run-2-chmp (endpoints go first)',
      'wait       model-package       arn:aws:sagemaker:us-east-1:123456789012:model-package/mlbp-sandbox-vision/1 (endpoints go first)',
      'wait       model-package       arn:aws:sagemaker:us-east-1:123456789012:model-package/mlbp-sandbox-vision/2 (endpoints go first)',
    ]);
    const second = await teardownStep(aws, scope);
    expect(second.actions).toContainEqual({
      kind: 'inference-component',
      name: 'mlbp-sandbox-vision-ic',
      action: 'wait',
      note: 'Deleting',
    });
    expect(aws.calls).not.toContain('DeleteEndpoint mlbp-sandbox-vision');
  });

  test('is idempotent: a second teardown, or one after a partial run, finishes the job and then does nothing', async () => {
    const aws = sandboxVision();
    await teardownStep(aws, scope); // interrupted after one step
    await run(aws);
    const callsAfterFirst = aws.calls.length;
    const again = await run(aws);
    expect(again.done).toBe(true);
    expect(again.actions.every((a) => a.action === 'skip')).toBe(true);
    expect(aws.calls).toHaveLength(callsAfterFirst);
  });

  test('a dry run lists what the first step would do and changes nothing', async () => {
    const aws = sandboxVision();
    const before = JSON.stringify(aws);
    const plan = await teardownStep(aws, scope, { dryRun: true });
    expect(plan.done).toBe(false);
    expect(JSON.stringify(aws)).toBe(before);
    expect(aws.calls).toEqual([]);
    expect(plan.actions.filter((a) => a.action !== 'wait' && a.action !== 'skip')).toEqual([
      { kind: 'training-job', name: 'mlbp-sandbox-vision-run-3-0', action: 'stop' },
      { kind: 'scalable-target', name: 'inference-component/mlbp-sandbox-vision-ic', action: 'deregister' },
      { kind: 'alarm', name: 'mlbp-sandbox-vision-no-capacity', action: 'delete' },
      { kind: 'inference-component', name: 'mlbp-sandbox-vision-ic', action: 'delete' },
    ]);
  });

  test('a failing call does not stop the others; the step raises all failures and the next step retries', async () => {
    const aws = sandboxVision();
    aws.failOnce.add('DeregisterScalableTarget inference-component/mlbp-sandbox-vision-ic');
    const error = await teardownStep(aws, scope).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TeardownError);
    expect((error as TeardownError).message).toBe(
      'teardown: 1 action(s) failed: deregister scalable-target inference-component/mlbp-sandbox-vision-ic: DeregisterScalableTarget inference-component/mlbp-sandbox-vision-ic was throttled',
    );
    expect(aws.calls).toContain('DeleteInferenceComponent mlbp-sandbox-vision-ic'); // attempted anyway
    expect((await run(aws)).done).toBe(true);
    expect(aws.targets).toEqual([]);
  });

  test('an instance-based endpoint: its variant target is deregistered before the endpoint goes', async () => {
    const aws = new FakeAws();
    const rec = {
      ...scope,
      caseStudy: 'recommender',
      endpointName: 'mlbp-production-recommender',
      stage: 'production',
    };
    const tags = {
      [LOOP_TAG_KEYS.stage]: 'production',
      [LOOP_TAG_KEYS.caseStudy]: 'recommender',
      [LOOP_TAG_KEYS.datasetId]: 'r1',
    };
    aws
      .add({
        kind: 'endpoint',
        name: 'mlbp-production-recommender',
        status: 'Failed',
        config: 'mlbp-production-recommender-r1',
        tags,
      })
      .add({ kind: 'endpoint-config', name: 'mlbp-production-recommender-r1', tags });
    aws.targets.push({
      resourceId: 'endpoint/mlbp-production-recommender/variant/AllTraffic',
      dimension: 'sagemaker:variant:DesiredInstanceCount',
    });
    const last = await teardownAll(aws, rec, { maxSteps: 5, pause: () => Promise.resolve() });
    expect(last.done).toBe(true);
    expect(aws.calls).toEqual([
      'DeregisterScalableTarget endpoint/mlbp-production-recommender/variant/AllTraffic',
      'DeleteEndpoint mlbp-production-recommender',
      'DeleteEndpointConfig mlbp-production-recommender-r1',
    ]);
  });

  test('without a CloudWatch client the scale-from-zero alarm is named for a deletion by hand', async () => {
    const aws = sandboxVision();
    const port: TeardownPort = { ...aws, alarms: undefined };
    const plan = await teardownStep(port, scope, { dryRun: true });
    expect(plan.actions).toContainEqual({
      kind: 'alarm',
      name: 'mlbp-sandbox-vision-no-capacity',
      action: 'skip',
      note: 'no CloudWatch client here: aws cloudwatch delete-alarms --alarm-names mlbp-sandbox-vision-no-capacity',
    });
  });

  test('ownership: the stage and case-study tags decide; without them the dataset-id tag marks older loop resources', () => {
    expect(ownedByLoop(loopTags('a'), scope)).toBe(true);
    expect(ownedByLoop({ ...loopTags('a'), [LOOP_TAG_KEYS.stage]: 'production' }, scope)).toBe(false);
    expect(ownedByLoop({ [LOOP_TAG_KEYS.datasetId]: 'a' }, scope)).toBe(true);
    expect(ownedByLoop({ owner: 'alice' }, scope)).toBe(false);
    // Training jobs carry the case study and the dataset, not the stage.
    expect(ownedByLoop({ [LOOP_TAG_KEYS.caseStudy]: 'vision', [LOOP_TAG_KEYS.datasetId]: 'a' }, scope)).toBe(true);
    expect(ownedByLoop({ [LOOP_TAG_KEYS.caseStudy]: 'recommender', [LOOP_TAG_KEYS.datasetId]: 'a' }, scope)).toBe(
      false,
    );
  });
});

describe('teardown custom resource handler', () => {
  const properties = { Stage: 'sandbox', CaseStudy: 'vision', EndpointName: 'mlbp-sandbox-vision' };

  test('onEvent names the resource stably and never deletes anything', async () => {
    const aws = sandboxVision();
    for (const RequestType of ['Create', 'Update', 'Delete'] as const) {
      await expect(handleTeardownEvent({ RequestType, ResourceProperties: properties }, aws)).resolves.toEqual({
        PhysicalResourceId: 'loop-teardown:mlbp-sandbox-vision',
        TeardownPhase: 'is-complete',
      });
    }
    expect(aws.calls).toEqual([]);
  });

  test('on Create and Update the isComplete call completes at once, touching nothing', async () => {
    const aws = sandboxVision();
    const event = { ResourceProperties: properties, TeardownPhase: 'is-complete' as const };
    await expect(handleTeardownEvent({ ...event, RequestType: 'Create' }, aws)).resolves.toEqual({ IsComplete: true });
    await expect(handleTeardownEvent({ ...event, RequestType: 'Update' }, aws)).resolves.toEqual({ IsComplete: true });
    expect(aws.calls).toEqual([]);
  });

  test('on Delete each isComplete call is one step, until the loop left nothing', async () => {
    const aws = sandboxVision();
    const event = {
      RequestType: 'Delete' as const,
      PhysicalResourceId: 'loop-teardown:mlbp-sandbox-vision',
      ResourceProperties: properties,
      TeardownPhase: 'is-complete' as const,
    };
    const answers: boolean[] = [];
    const logged: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      const r = (await handleTeardownEvent(event, aws, (_m, d) => logged.push(d))) as { IsComplete: boolean };
      answers.push(r.IsComplete);
      if (r.IsComplete) break;
    }
    // Several steps (deletions are asynchronous), then complete.
    expect(answers.length).toBeGreaterThan(2);
    expect(answers).toEqual([...answers.slice(0, -1).map(() => false), true]);
    expect(aws.resources.some((r) => r.name === 'mlbp-sandbox-vision')).toBe(false);
    expect(aws.packages).toEqual([]);
    expect(logged[0]).toMatchObject({ done: false, actions: expect.arrayContaining([expect.stringMatching(/^stop/)]) });
  });

  test('properties are required', async () => {
    await expect(
      handleTeardownEvent(
        { RequestType: 'Delete', ResourceProperties: { Stage: 'sandbox' } as never, TeardownPhase: 'is-complete' },
        sandboxVision(),
      ),
    ).rejects.toThrow(/needs Stage, CaseStudy and EndpointName; received \{"Stage":"sandbox"\}/);
  });
});

describe('npm run teardown', () => {
  test('flags: stage, case and exactly one of --confirm or --dry-run; --help needs nothing else', () => {
    expect(parseTeardownArgs(['--stage', 'production', '--case', 'vision', '--confirm'])).toEqual({
      stage: 'production',
      caseStudy: 'vision',
      mode: 'confirm',
      region: undefined,
      timeoutMinutes: 60,
    });
    expect(() => parseTeardownArgs(['--help'])).toThrow(HelpRequested);
    expect(() => parseTeardownArgs(['--help'])).toThrow(/--confirm +delete \(nothing is deleted without it\)/);
    const problems: Array<[string[], RegExp]> = [
      [
        ['--stage', 'prod', '--case', 'vision', '--confirm'],
        /--stage must be one of: sandbox, production; received "prod"/,
      ],
      [['--stage', 'sandbox', '--confirm'], /--case must be one of: recommender, vision; received null/],
      [['--stage', 'sandbox', '--case', 'vision'], /exactly one of --confirm .* or --dry-run .*; received neither/],
      [['--stage', 'sandbox', '--case', 'vision', '--confirm', '--dry-run'], /received both/],
      [['--stage', 'sandbox', '--case', 'vision', '--confirm', '--timeout-minutes', '0'], /--timeout-minutes must be/],
      [['--stage', 'sandbox', '--case', 'vision', '--force'], /Unknown option '--force'/],
    ];
    for (const [argv, message] of problems) {
      expect(() => parseTeardownArgs(argv)).toThrow(CliError);
      expect(() => parseTeardownArgs(argv)).toThrow(message);
    }
  });

  test('--dry-run lists the first actions and deletes nothing', async () => {
    const aws = sandboxVision();
    const out = await runTeardown(aws, parseTeardownArgs(['--stage', 'sandbox', '--case', 'vision', '--dry-run']), () =>
      Promise.resolve(),
    );
    expect(aws.calls).toEqual([]);
    expect(out.split('\n').slice(0, 3)).toEqual([
      'dry run: mlbp-sandbox-vision (sandbox/vision)',
      'stop       training-job        mlbp-sandbox-vision-run-3-0',
      'skip       endpoint            mlbp-sandbox-vision-manual (not tagged by this loop)',
    ]);
  });

  test('--confirm deletes everything of the loop, prints each action, and names what it left alone', async () => {
    const aws = sandboxVision();
    const printed: string[] = [];
    const out = await runTeardown(
      aws,
      parseTeardownArgs(['--stage', 'sandbox', '--case', 'vision', '--confirm']),
      () => Promise.resolve(),
      15,
      (line) => printed.push(line),
    );
    expect(aws.packages).toEqual([]);
    expect(printed).toContain('delete     endpoint            mlbp-sandbox-vision');
    expect(out).toBe(
      [
        'nothing of the retraining loop of mlbp-sandbox-vision is left',
        "left alone (not the loop's, or needs a hand):",
        'skip       endpoint            mlbp-sandbox-vision-manual (not tagged by this loop)',
        'skip       model               mlbp-sandbox-vision-other (not tagged by this loop)',
      ].join('\n'),
    );
  });

  test('an endpoint that never finishes deleting ends in a timeout that says what is left', async () => {
    const aws = sandboxVision();
    aws.deleteEndpoint = () => Promise.resolve(); // accepted, but the endpoint stays
    await expect(
      runTeardown(
        aws,
        parseTeardownArgs(['--stage', 'sandbox', '--case', 'vision', '--confirm', '--timeout-minutes', '1']),
        () => Promise.resolve(),
      ),
    ).rejects.toThrow(/still waiting after 1 minutes; rerun to resume. Left:\n.*delete +endpoint +mlbp-sandbox-vision/);
  });
});
