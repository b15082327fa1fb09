/**
 * `npm run bench:recommend`: latency of the `recommend` logic with a real local model — `models/recommender/`
 * trained by the local SageMaker on a seeded task in the feature contract's width and served by its inference
 * handler behind the SageMaker runtime API (`src/local-world/sagemaker/`), called by the real SDK client — for
 * 50 and 200 candidates. The feature store is in memory, so the figures separate the handler's own work
 * (candidate generation, vectors, ranking, the slate) from the model call (the HTTP round trip, CSV parsing,
 * xgboost). Prints p50/p99 of each (recorded in docs/case-studies/recommender.md); no assertion is timed.
 *
 *   npm run bench:recommend                       # 300 requests per size after 30 of warm-up
 *   npm run bench:recommend -- --requests 100
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRng } from '../core/drift/stats/random';
import { FEATURE_VERSION, NUM_FEATURES } from '../core/recommender/contract';
import type {
  BucketList,
  CtrCounts,
  FeatureStore,
  ItemCounts,
  ItemMeta,
  ItemSighting,
  Neighbour,
  NeighbourList,
  PredictionRecord,
  RecentInteraction,
} from '../core/recommender/feature-store';
import { recommend, type Scorer, type ServingSettings } from '../core/recommender/recommend';
import { sageMakerScorer } from '../lambdas/shared/aws/sagemaker-scorer';
import { LocalSageMakerRuntime, localRuntimeClient, runTrainingJob } from '../src/local-world/sagemaker';

const NOW = new Date('2026-11-23T10:07:30.000Z');
const ITEMS = 1000;

/** A read-only in-memory feature store: popular and fresh lists, counters, meta, neighbours, recent engagements. */
class BenchStore implements FeatureStore {
  private readonly rng = createRng(11);
  readonly popularity = new Map(Array.from({ length: ITEMS }, (_, i) => [`item-${i}`, 1000 / (i + 1)]));
  async putRecent(): Promise<void> {}
  async recentInteractions(userId: string, limit: number): Promise<RecentInteraction[]> {
    return this.recentEngagements(userId, limit);
  }
  async recentEngagements(userId: string, limit: number): Promise<RecentInteraction[]> {
    return Array.from({ length: Math.min(limit, 20) }, (_, i) => ({
      userId,
      itemId: `item-${(i * 37) % ITEMS}`,
      eventType: i % 3 === 0 ? 'click' : 'view',
      eventTime: new Date(NOW.getTime() - i * 60_000).toISOString(),
      eventId: `e${i}`,
      category: `cat-${i % 8}`,
    }));
  }
  async addItemCounts(): Promise<void> {}
  async itemCounts(itemIds: readonly string[]): Promise<Map<string, ItemCounts>> {
    return new Map(
      itemIds.map((id, i) => [id, { interactions: 10 + i, impressions: 100 + 3 * i, clicks: 5 + (i % 7) }]),
    );
  }
  async mergePopular(): Promise<void> {}
  async popular(bucket: number, list: BucketList = 'popular'): Promise<Map<string, number>> {
    if (list === 'fresh')
      return new Map(Array.from({ length: 50 }, (_, i) => [`item-${ITEMS - 1 - i}`, bucket / 1000 - i]));
    return this.popularity;
  }
  async touchItems(_items: readonly ItemSighting[]): Promise<string[]> {
    return [];
  }
  async itemMeta(itemIds: readonly string[]): Promise<Map<string, ItemMeta>> {
    return new Map(itemIds.map((id, i) => [id, { category: `cat-${i % 8}`, firstSeen: 0 }]));
  }
  async putNeighbours(_lists: readonly NeighbourList[]): Promise<void> {}
  async neighbours(itemIds: readonly string[]): Promise<Map<string, Neighbour[]>> {
    return new Map(
      itemIds.map((id) => [
        id,
        Array.from({ length: 30 }, () => ({
          itemId: `item-${this.rng.nextInt(ITEMS)}`,
          strength: 1 + this.rng.nextInt(20),
        })),
      ]),
    );
  }
  async addCtr(_bucket: number, _counts: readonly CtrCounts[]): Promise<void> {}
  async ctrCounts(): Promise<CtrCounts[]> {
    return [];
  }
  async putPrediction(_p: PredictionRecord): Promise<void> {}
  async predictions(): Promise<Map<string, PredictionRecord>> {
    return new Map();
  }
}

/** A seeded ranking task in the contract's width: relevance grows with two of the columns. */
function trainingCsv(seed: number, groups: number, first: number): string {
  const rng = createRng(seed);
  const lines: string[] = [];
  for (let g = 0; g < groups; g++) {
    const rows = Array.from({ length: 10 }, () => Array.from({ length: NUM_FEATURES }, () => rng.nextFloat()));
    const utility = rows.map((r) => 2 * r[1] + r[6] + 0.3 * rng.nextNormal());
    const best = utility.indexOf(Math.max(...utility));
    rows.forEach((r, i) =>
      lines.push([i === best ? 2 : utility[i] > 1.5 ? 1 : 0, first + g, ...r.map((v) => v.toFixed(5))].join(',')),
    );
  }
  return lines.join('\n') + '\n';
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${quantile(s, 0.5).toFixed(1)} ms, p99 ${quantile(s, 0.99).toFixed(1)} ms`;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '300' } } });
  const requests = Number(values.requests);
  if (!Number.isInteger(requests) || requests < 10)
    throw new Error(`--requests must be an integer of at least 10; received "${values.requests}"`);
  const root = mkdtempSync(join(tmpdir(), 'bench-recommend-'));
  let runtime: LocalSageMakerRuntime | undefined;
  try {
    for (const [channel, seed, groups, first] of [
      ['train', 1, 400, 0],
      ['validation', 2, 100, 10_000],
    ] as const) {
      mkdirSync(join(root, channel), { recursive: true });
      writeFileSync(join(root, channel, 'part-0.csv'), trainingCsv(seed, groups, first));
    }
    const trained = await runTrainingJob({
      sourceDir: join(__dirname, '..', 'models', 'recommender'),
      entryPoint: 'train.py',
      hyperparameters: {
        num_features: NUM_FEATURES,
        feature_version: String(FEATURE_VERSION),
        num_round: 100,
        max_depth: 6,
        model_version: 'bench',
      },
      channels: { train: join(root, 'train'), validation: join(root, 'validation') },
      workDir: join(root, 'job'),
      jobName: 'bench',
    });
    runtime = await LocalSageMakerRuntime.start();
    await runtime.createEndpoint({
      name: 'bench',
      variants: [
        {
          variantName: 'AllTraffic',
          modelArtifact: trained.modelArtifact,
          env: { SAGEMAKER_PROGRAM: 'inference.py', SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code' },
        },
      ],
    });
    const client = localRuntimeClient(runtime.url);
    const store = new BenchStore();
    console.log(
      `recommend with a real local model (xgboost, ${NUM_FEATURES} features), ${cpus().length} vCPUs, Node ${process.version}`,
    );
    for (const candidates of [50, 200]) {
      const settings: ServingSettings = {
        endpointName: 'bench',
        invokeTimeoutMs: 10_000,
        candidates,
        maxK: 20,
        recentItemsPerUser: 20,
        popularityBucketMinutes: 15,
        predictionTtlHours: 48,
      };
      const real = sageMakerScorer(client, 'bench', { get: async () => 'unknown' });
      let modelMs = 0;
      const timed: Scorer = async (...args) => {
        const started = performance.now();
        try {
          return await real(...args);
        } finally {
          modelMs = performance.now() - started;
        }
      };
      const total: number[] = [];
      const model: number[] = [];
      const overhead: number[] = [];
      for (let r = 0; r < requests + 30; r++) {
        const started = performance.now();
        const outcome = await recommend({ userId: `user-${r % 97}`, k: 10 }, settings, {
          store,
          score: timed,
          newInferenceId: () => `bench-${r}`,
          now: () => NOW,
          log: () => undefined,
          logSlate: async () => undefined,
        });
        const elapsed = performance.now() - started;
        if (outcome.response.fallback) throw new Error(`request ${r} fell back: ${outcome.response.fallbackReason}`);
        if (r < 30) continue;
        total.push(elapsed);
        model.push(modelMs);
        overhead.push(elapsed - modelMs);
      }
      console.log(
        `${String(candidates).padStart(3)} candidates: total ${fmt(total)} | model call ${fmt(model)} | handler ${fmt(overhead)}  (${requests} requests)`,
      );
    }
    client.destroy();
  } finally {
    await runtime?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exitCode = 1;
});
