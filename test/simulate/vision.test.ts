/**
 * The vision simulation on a drifting seed, with real engines and real models: drift found on confidence and on
 * embeddings (MMD) measured from the trained model's own outputs, promotion decided by McNemar's exact test on the
 * fixed test set, and every `model.tar.gz` the run trained serving under the PyTorch inference contract.
 */
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '../../core/drift/stats/random';
import { readText } from '../../core/storage/object-store';
import { Emulators } from '../../src/local-world/emulators';
import { localRuntimeClient, startLocalEndpoint } from '../../src/local-world/sagemaker';
import { synthesizeSandbox, type CaseStudyBlueprint } from '../../src/simulate/blueprint';
import type { CaseContext, CaseStudyResult } from '../../src/simulate/common';
import { BASELINE_START, scenarioFor } from '../../src/simulate/run';
import { LocalObjectStore } from '../../src/simulate/store';
import { SimClock, Timeline } from '../../src/simulate/timeline';
import { simulateVision } from '../../src/simulate/vision';
import { DAY, NIGHT, paintShape } from '../../src/simulate/vision-images';

const TIMEOUT_MS = 1_200_000;
const SEED = 1;

let blueprint: CaseStudyBlueprint;
let emulators: Emulators;
let store: LocalObjectStore;
let result: CaseStudyResult;
const lines: string[] = [];
let root: string;

beforeAll(async () => {
  [blueprint] = synthesizeSandbox(['vision']);
  emulators = await Emulators.start();
  store = new LocalObjectStore();
  root = mkdtempSync(join(tmpdir(), 'vision-sim-test-'));
  const clock = new SimClock(new Date(BASELINE_START.getTime() - 7 * 86_400_000));
  const ctx: CaseContext = {
    blueprint,
    emulators,
    store,
    clock,
    timeline: new Timeline('vision', clock, (l) => lines.push(l)),
    seed: SEED,
    drift: true,
    baselineStart: BASELINE_START,
    eventsPerPeriod: 600,
    scenario: scenarioFor(SEED, 'vision'),
    outDir: root,
  };
  result = await simulateVision(ctx);
}, TIMEOUT_MS);

afterAll(async () => {
  await emulators?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('the sandbox the simulation synthesizes trains the model code on a CPU', () => {
  const text = JSON.stringify(blueprint.mlTemplate);
  expect(text).toContain('mobilenet_v3_small');
  expect(text).toContain('pytorch-training:2.6.0');
});

test('drift is found on confidence (falling) and on embeddings (MMD), measured from the model’s outputs', async () => {
  expect(result.driftDetected).toBe(true);
  expect(result.driftedFeatures).toEqual(expect.arrayContaining(['output.confidence', 'output.embedding']));
  // The report: the night camera's confidences are lower than the baseline the loop built from the first model.
  const reports: string[] = [];
  for await (const key of store.list(blueprint.buckets.artifacts, 'drift/reports/')) {
    if (key.endsWith('.json')) reports.push(key);
  }
  const doc = JSON.parse(await readText((await store.get(blueprint.buckets.artifacts, reports.sort().at(-1)!))!));
  const byName = Object.fromEntries(
    (doc.report.features as Array<{ name: string }>).map((f) => [f.name, f as Record<string, unknown>]),
  );
  const confidence = byName['output.confidence'] as {
    drifted: boolean;
    counts: { reference: number; current: number };
  };
  expect(confidence.drifted).toBe(true);
  expect(confidence.counts.reference).toBeGreaterThan(20);
  const profile = JSON.parse(
    store.text(
      blueprint.buckets.artifacts,
      `drift/baselines/${blueprint.endpointName}/history/${firstDataset()}.json`,
    )!,
  );
  expect(profile.features['output.confidence'].kind).toBe('numerical');
  expect(profile.features['output.embedding'].kind).toBe('embedding');
  expect(profile.features['output.predicted_class'].kind).toBe('categorical');
});

test('the loop trains a candidate and McNemar’s test on the fixed test set decides', () => {
  expect(result.retrainingStarted).toBe(true);
  expect(result.states).toEqual(
    expect.arrayContaining([
      'BuildManifests',
      'TrainCandidate',
      'ScoreChampion',
      'ScoreCandidate',
      'EvaluateCandidate',
    ]),
  );
  const m = result.metrics as {
    testImages: number;
    champion: { accuracy: number; classes: number };
    candidate: { accuracy: number; classes: number };
    mcnemar: { championOnlyRight: number; candidateOnlyRight: number; pCandidateBetter: number };
    gain: number;
    promote: boolean;
  };
  expect(m.testImages).toBeGreaterThan(100);
  // The star is a new class: appended to the champion's three.
  expect(m.champion.classes).toBe(3);
  expect(m.candidate.classes).toBe(4);
  // The decision is the rule applied to the measured figures (alpha 0.05, minimum gain 0.005).
  const rule = m.mcnemar.pCandidateBetter <= 0.05 && m.gain >= 0.005;
  expect(m.promote).toBe(rule);
  expect(m.gain).toBeCloseTo(m.candidate.accuracy - m.champion.accuracy, 12);
  const rollback = scenarioFor(SEED, 'vision').rollback;
  expect(result.decision).toBe(!m.promote ? 'rejected' : rollback ? 'rolled-back' : 'deployed');
  expect(lines.some((l) => /McNemar: candidate right where the champion is wrong \d+, the reverse \d+/.test(l))).toBe(
    true,
  );
});

test('every model.tar.gz the run trained answers an image with probabilities and an embedding', async () => {
  const archives: string[] = [];
  for await (const key of store.list(blueprint.buckets.artifacts, 'models/')) {
    if (key.endsWith('/output/model.tar.gz')) archives.push(key);
  }
  expect(archives.length).toBe(2); // the first model and the candidate
  const rng = createRng(3);
  for (const [i, key] of archives.entries()) {
    const file = join(root, `served-${i}.tar.gz`);
    writeFileSync(file, store.bytes(blueprint.buckets.artifacts, key)!);
    const endpoint = await startLocalEndpoint({ name: `check-${i}`, modelArtifact: file });
    try {
      const client = localRuntimeClient(endpoint.endpoint);
      for (const light of [DAY, NIGHT]) {
        const out = await client.send(
          new InvokeEndpointCommand({
            EndpointName: `check-${i}`,
            ContentType: 'application/x-image',
            Body: paintShape(rng, 'circle', light),
          }),
        );
        const answer = JSON.parse(new TextDecoder().decode(out.Body)) as {
          label: string;
          probabilities: number[];
          embedding: number[];
        };
        expect(answer.probabilities.length).toBeGreaterThanOrEqual(3);
        expect(answer.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
        expect(answer.embedding).toHaveLength(32);
        expect(answer.embedding.every(Number.isFinite)).toBe(true);
      }
    } finally {
      await endpoint.stop();
    }
  }
});

/** The first run's dataset id (its execution name). */
function firstDataset(): string {
  const line = lines.find((l) => /starting execution bootstrap-/.test(l)) ?? '';
  return /execution (bootstrap-\S+)/.exec(line)?.[1] ?? 'missing';
}
