/**
 * The retraining loop in the local world, for tests: one ML stack template deployed into a {@link LocalWorld}
 * (its lock table on dynalite), and a {@link Scenario} per execution that scripts what the world cannot know: how
 * good the models are, how deployments go, what the approver answers. Every AWS call is the world's own, by
 * service and action; a scenario only chooses behaviours and replaces the few results that need a real lake
 * (the new-record count, the vision manifests, the baseline).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { featureIndex, NUM_FEATURES } from '../../core/recommender/contract';
import { parseS3Uri } from '../../core/storage/s3-uri';
import type { Emulators } from '../../src/local-world/emulators';
import { TaskError } from '../../src/local-world/errors';
import type { QueryEngine } from '../../src/local-world/services/athena';
import { loopQueryEngine } from '../../src/local-world/services/athena-loop-queries';
import { loopFunctions } from '../../src/local-world/services/lambda';
import type { Json, JobContext, ModelRuntime, RolloutBehaviour } from '../../src/local-world/types';
import { LocalWorld, type RunRecord, type TemplateLike } from '../../src/local-world/world';

/** What one execution sees of the world and how it behaves. */
export interface Scenario {
  /** Records counted since the champion's dataset. @default 50000 */
  newRecords?: number;
  /** Candidate's validation metric (training job), or a training failure. @default 0.8 */
  candidateMetric?: number | 'fail';
  /**
   * Quality of candidate and champion re-scored on the same validation data: the share of the holdout's requests
   * ranked with the engaged item first (recommender; popularity gets 0.5) or the accuracy (vision), in hundredths. @default candidate 0.8, champion 0.7
   */
  sameData?: { candidate: number; champion: number };
  /** Statuses DescribeEndpoint returns, in order (the last repeats). @default Creating/Updating, then InService */
  endpointStatuses?: string[];
  /** The update rolls back: the endpoint returns to its previous config. @default false */
  rollback?: boolean;
  /** Manual approval answer, or nobody answers before the approval timeout. @default approve */
  approval?: { approve: true; approver: string } | { approve: false; comment: string } | { timeout: true };
  /** The endpoint's deployment (create or update) ends `Failed` with this reason. @default it comes up */
  endpointFailure?: string;
  /**
   * Statuses DescribeInferenceComponent returns while it deploys, in order (`Failed` last fails it).
   * @default Creating/Updating, then InService
   */
  componentStatuses?: string[];
  /** The rolling update of the inference component rolls back to the previous model. @default false */
  componentRollback?: boolean;
  /** The references writer fails with this message (after the deployment). @default it writes them */
  referencesFailure?: string;
  /** Called when training starts; resolve to let it finish (for concurrency tests). */
  trainingGate?: () => Promise<void>;
}

const SETTLED = new Set(['InService', 'Failed']);
/** Polls before a status list settles (`['Updating', 'Updating', 'InService']` → 2). */
const pollsOf = (statuses: string[] | undefined) => {
  if (!statuses) return undefined;
  const polls = statuses.findIndex((s) => SETTLED.has(s));
  return polls < 0 ? statuses.length : polls;
};

/** Requests of the scripted recommender holdout: each has one engaged item (`p<k>`) and one skipped (`n<k>`). */
const HOLDOUT_REQUESTS = 100;
/** Requests where the served popularity ranks the engaged item first (the popularity baseline's share right). */
const POPULARITY_RIGHT = 50;

/**
 * The recommender's scoring set over the scripted lake: `label,group_id,item_id,<features>` rows, all features 0
 * but `item_popularity`, which puts the engaged item first in the first {@link POPULARITY_RIGHT} requests.
 */
function scriptedScoringSet(): string {
  const popularity = featureIndex('item_popularity');
  const row = (label: number, group: number, item: string, pop: number) => {
    const features = Array.from({ length: NUM_FEATURES }, (_, k) => (k === popularity ? pop : 0));
    return [label, group, item, ...features].join(',');
  };
  return Array.from({ length: HOLDOUT_REQUESTS }, (_, k) => {
    const first = k < POPULARITY_RIGHT;
    return [row(1, k + 1, `p${k + 1}`, first ? 0.9 : 0.1), row(0, k + 1, `n${k + 1}`, 0.5)].join('\n');
  }).join('\n');
}

/**
 * The scripted lake's Athena: the loop's own statements (`loopQueryEngine`), and the recommender's dataset
 * statements (`UNLOAD (WITH …)`), which need a lake of real events, answered by what they write: co-visitation
 * neighbour lists, the training channels, the scoring set of {@link scriptedScoringSet} and a baseline sample.
 */
const scriptedAthena: QueryEngine = {
  async execute(query, world) {
    const target = /\) TO '(s3:\/\/[^']+)' WITH \(format = '(\w+)'[^)]*\)\s*$/s.exec(query);
    if (!/^UNLOAD \(\s*WITH /.test(query) || !target) return loopQueryEngine.execute(query, world);
    const { bucket, key } = parseS3Uri(target[1]);
    const folder = /\/(\w+)\/$/.exec(key)?.[1];
    const body =
      folder === 'covisitation'
        ? [
            JSON.stringify({ item_id: 'p1', neighbours: ['p2', 'p3'], strengths: [3, 2] }),
            JSON.stringify({ item_id: 'p2', neighbours: ['p1'], strengths: [3] }),
          ].join('\n')
        : folder === 'scoring'
          ? scriptedScoringSet()
          : folder === 'channels'
            ? scriptedScoringSet()
                .split('\n')
                .map((l) =>
                  l
                    .split(',')
                    .filter((_, k) => k !== 2)
                    .join(','),
                )
                .join('\n')
            : JSON.stringify({ label: 1 });
    const file = folder === 'channels' ? `${key}split=train/part-00000` : `${key}part-00000`;
    await world.store.put(bucket, file, body + '\n');
    return { summary: `UNLOAD (scripted ${folder ?? 'dataset'}) to ${target[1]}` };
  },
};

/**
 * Scripted models: a training job that reports the scenario's metric (or fails), batch transforms whose outputs
 * give exactly the scenario's quality (recommender: the 100 requests of the scoring set, the engaged item ranked
 * first in that share; vision: 100 images, that share right).
 */
function scriptedModels(s: Scenario): ModelRuntime {
  return {
    async train(i: Json) {
      if (s.trainingGate) await s.trainingGate();
      if (s.candidateMetric === 'fail') {
        throw new TaskError(
          'States.TaskFailed',
          `Training job ${String(i.TrainingJobName)} failed: AlgorithmError: out of memory`,
        );
      }
      const metric = ((i.AlgorithmSpecification as Json).MetricDefinitions as Array<{ Name: string }>)[0].Name;
      return { metrics: [{ name: metric, value: s.candidateMetric ?? 0.8 }] };
    },
    async transform(i: Json, job: JobContext) {
      const champion = job.state === 'ScoreChampion';
      const quality = champion ? (s.sameData?.champion ?? 0.7) : (s.sameData?.candidate ?? 0.8);
      const out = parseS3Uri(String((i.TransformOutput as Json).S3OutputPath));
      const input = ((i.TransformInput as Json).DataSource as { S3DataSource: { S3DataType: string } }).S3DataSource;
      const right = Math.round(quality * 100);
      if (input.S3DataType === 'S3Prefix') {
        // The scoring set's requests joined to their scores: the engaged item first in `right` of the 100.
        const lines = Array.from({ length: HOLDOUT_REQUESTS }, (_, k) => {
          const g = k + 1;
          return [`1,${g},p${g},${k < right ? 0.9 : 0.1}`, `0,${g},n${g},0.5`].join('\n');
        });
        await job.store.put(out.bucket, `${out.key}part-0.csv.out`, lines.join('\n'));
        return { records: 2 * HOLDOUT_REQUESTS };
      }
      for (let k = 0; k < 100; k++) {
        const truth = k % 2;
        const predicted = k < right ? truth : 1 - truth;
        await job.store.put(
          out.bucket,
          `${out.key}images/${k}.jpg.out`,
          JSON.stringify(predicted === 0 ? [0.9, 0.1] : [0.1, 0.9]),
        );
      }
      return { records: 100 };
    },
  };
}

/** The path of a run that finds the lock held by a run still in progress: it ends without touching that lock. */
export const ALREADY_RUNNING_PATH = [
  'PlanRun',
  'AcquireLock',
  'ReadLock',
  'LockHolderKnown?',
  'DescribeLockHolder',
  'LockHolderRunning?',
  'AlreadyRunning',
];

/** The loop deployed in a local world. */
export class LoopWorld {
  private constructor(
    readonly world: LocalWorld,
    readonly definition: Json,
    /** Physical name of the lock table on dynalite. */
    readonly lockTable: string,
    private readonly lockKey: string,
  ) {}

  /** Deploys a case study's ML stack template into a new world on the given emulators. */
  static async deploy(
    emulators: Emulators,
    template: Template | TemplateLike,
    caseStudy: 'recommender' | 'vision',
  ): Promise<LoopWorld> {
    const json = ('toJSON' in template ? template.toJSON() : template) as TemplateLike;
    const world = new LocalWorld({ dynamo: emulators.dynamo, queryEngine: scriptedAthena });
    world.deployFunctions(loopFunctions(world, { caseStudy }));
    const { definition, tables } = await world.deploy(json, 'Loop');
    const [lockId, lockTable] = Object.entries(tables).find(([id]) => id.startsWith('RetrainingLockTable')) ?? [];
    if (!lockId || !lockTable) throw new Error('the template has no retraining lock table');
    const schema = json.Resources?.[lockId]?.Properties?.KeySchema as Array<{ AttributeName: string; KeyType: string }>;
    const lockKey = schema.find((k) => k.KeyType === 'HASH')?.AttributeName ?? 'lockId';
    return new LoopWorld(world, definition, lockTable, lockKey);
  }

  /** Runs one execution with a scenario. */
  run(scenario: Scenario = {}, execution = 'run-1', input: Json = {}): Promise<RunRecord> {
    const endpointPolls = pollsOf(scenario.endpointStatuses);
    const componentPolls = pollsOf(scenario.componentStatuses);
    const rollout: RolloutBehaviour = {
      endpointPolls: endpointPolls === undefined ? undefined : { create: endpointPolls, update: endpointPolls },
      endpointRollback: scenario.rollback,
      endpointFailure: scenario.endpointFailure,
      componentPolls: componentPolls === undefined ? undefined : { create: componentPolls, update: componentPolls },
      componentRollback: scenario.componentRollback,
      componentFailure: scenario.componentStatuses?.includes('Failed')
        ? 'CannotStartContainerError: model failed to load'
        : undefined,
    };
    return this.world.run(this.definition, {
      execution,
      input,
      models: scriptedModels(scenario),
      rollout,
      approver: () => {
        const a = scenario.approval ?? { approve: true, approver: 'alice' };
        if ('timeout' in a) throw new TaskError('States.Timeout', 'no answer within the approval timeout');
        if (!a.approve) throw new TaskError('ModelRejected', a.comment);
        return { approved: true, approver: a.approver };
      },
      overrides: {
        // The lake is empty: the count the loop reads back is the scenario's.
        'athena:getQueryResults': (_input, ctx) =>
          ctx.state === 'ReadNewRecordCount'
            ? {
                ResultSet: {
                  Rows: [
                    { Data: [{ VarCharValue: 'n' }] },
                    { Data: [{ VarCharValue: String(scenario.newRecords ?? 50_000) }] },
                  ],
                },
              }
            : ctx.fallback(),
      },
      functions: {
        ...(scenario.referencesFailure === undefined
          ? {}
          : {
              References: async () => {
                throw new Error(scenario.referencesFailure);
              },
            }),
        // The vision dataset of 5,000 labelled images: a fixed test set of 100 human-verified images (what the
        // scripted transforms answer), one class map for champion and candidate, and the training channels.
        Manifests: async (p) => {
          const outputUri = String(p.outputUri);
          const out = parseS3Uri(outputUri);
          const test = Array.from({ length: 100 }, (_, k) =>
            JSON.stringify({ image: `images/${k}.jpg`, label: k % 2 === 0 ? 'cat' : 'dog', source: 'human' }),
          );
          await this.world.store.put(out.bucket, `${out.key}test.jsonl`, test.join('\n') + '\n');
          await this.world.store.put(out.bucket, `${out.key}manifests/classes.json`, JSON.stringify(['cat', 'dog']));
          const champion = (p.champion ?? {}) as { found?: boolean };
          const channel = (name: string, uri: string, mode = 'File') => ({
            ChannelName: name,
            InputMode: mode,
            DataSource: {
              S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uri, S3DataDistributionType: 'FullyReplicated' },
            },
          });
          const code = p.code as { name: string; s3Url: string } | undefined;
          return {
            manifestsUri: `${outputUri}manifests/`,
            trainUri: `${outputUri}manifests/train.jsonl`,
            validationUri: `${outputUri}manifests/validation.jsonl`,
            classesUri: `${outputUri}manifests/classes.json`,
            testUri: `${outputUri}test.jsonl`,
            candidateScoringManifestUri: `${outputUri}scoring/candidate.manifest`,
            baselineUri: `${outputUri}scoring/baseline.jsonl`,
            imagesUri: 's3://raw/',
            championClassesUri: champion.found ? `${outputUri}manifests/classes.json` : null,
            championModelUri: null,
            reportUri: `${outputUri}evaluation.json`,
            labels: 5000,
            train: 4500,
            validation: 400,
            test: 100,
            classes: ['cat', 'dog'],
            channels: [
              channel('images', 's3://raw/images/', 'FastFile'),
              channel('manifests', `${outputUri}manifests/`),
              ...(code ? [channel(code.name, code.s3Url)] : []),
            ],
            hyperparameters: p.hyperparameters as Json,
          };
        },
        Baseline: (p) => ({
          profileUri: `s3://artifacts/drift/baselines/${String(p.endpointName)}/profile.json`,
          records: 1000,
          features: ['f0'],
        }),
      },
    });
  }

  /** Adds an approved champion to the registry and an endpoint serving it. */
  addChampion(metricValue: number, o: { endpointName: string; configName: string; datasetEnd?: string }): void {
    const champion = this.world.registry.add(o.endpointName, 'Approved', {
      datasetId: 'previous-run',
      datasetEnd: o.datasetEnd ?? '2026-11-01T00:00:00.000Z',
      trainingJobName: `${o.endpointName}-previous-run`,
      metricName: 'validation:auc',
      metricValue: String(metricValue),
    });
    // What serves: the endpoint's config names a model (named like the config) tagged with its package.
    this.world.hosting.addEndpoint(o.endpointName, o.configName, { packageArn: champion.arn });
  }

  /** Adds the inference component that serves the champion on its endpoint. */
  addInferenceComponent(name: string, endpointName: string, modelName: string): void {
    const champion = [...this.world.registry.packages].reverse().find((p) => p.status === 'Approved');
    this.world.hosting.addModel(modelName, champion?.arn);
    this.world.hosting.addInferenceComponent(name, endpointName, modelName);
  }

  /** The locks held, by lock ID (items as DynamoDB JSON, read from dynalite). */
  async locks(): Promise<Map<string, Json>> {
    const items = await this.world.items(this.lockTable);
    // The table also keeps the back-off record (`<endpoint>#backoff`), which is not a lock.
    return new Map(
      items
        .filter((item) => !String(item[this.lockKey]?.S).endsWith('#backoff'))
        .map((item) => [String(item[this.lockKey]?.S), item as Json]),
    );
  }

  /** The back-off record after rejections (`<endpoint>#backoff`), as plain values, if any. */
  async backoff(): Promise<Record<string, string | number> | undefined> {
    const items = await this.world.items(this.lockTable);
    const item = items.find((i) => String(i[this.lockKey]?.S).endsWith('#backoff'));
    if (!item) return undefined;
    return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.N !== undefined ? Number(v.N) : String(v.S)]));
  }

  get packages() {
    return this.world.registry.packages;
  }
  get endpoint() {
    return this.world.hosting.endpoint;
  }
  get inferenceComponent() {
    return this.world.hosting.inferenceComponent;
  }
  get notifications() {
    return this.world.notifications;
  }
  get alarms() {
    return this.world.messaging.alarms;
  }
  get trainingJobs() {
    return this.world.jobs.trainingJobs;
  }
  get queries() {
    return this.world.queries;
  }
}
