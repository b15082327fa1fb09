/**
 * `npm run simulate`: the whole loop on this machine. Synthesizes the sandbox stage once, starts kinesalite and
 * dynalite on loopback, and runs each case study: a baseline period and a second period (drifted or not) through
 * the real producer and consumer code, the real drift checker against a baseline from the real baseline builder,
 * and, when retraining is requested, the synthesized retraining state machine with local services. Everything is
 * in simulated time and seeded, so the result is a function of (seed, drift).
 */
import '../local-world/polyfill';
import { createRng } from '../../core/drift/stats/random';
import type { CaseStudyName } from '../../lib/config';
import { synthesizeSandbox, type CaseStudyBlueprint } from './blueprint';
import { PERIOD_GAP_MS, type CaseContext, type CaseStudyResult, type ServiceScenario } from './common';
import { Emulators } from '../local-world/emulators';
import { simulateRecommender } from './recommender';
import { LocalObjectStore } from './store';
import { SimClock, Timeline, type TimelineSink } from './timeline';
import { simulateVision } from './vision';

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** @default both */
  readonly caseStudies?: readonly CaseStudyName[];
  /** @default 1 */
  readonly seed?: number;
  /** Whether the second period drifts. @default the seed is odd */
  readonly drift?: boolean;
  /** Timeline lines. @default none */
  readonly sink?: TimelineSink;
  /** Pre-synthesized blueprints (tests synthesize once for several runs). @default synthesized here */
  readonly blueprints?: readonly CaseStudyBlueprint[];
  /** Events (recommender) per period. @default 3000 */
  readonly events?: number;
  /** Images (vision) per period (three periods; a real model trains on them, on this machine's CPU). @default 700 */
  readonly images?: number;
  /** Keep the local world's files here (the recommender: S3 layout, jobs). @default a temporary folder, removed */
  readonly outDir?: string;
}

/** The `--json` document. */
export interface SimulationResult {
  readonly caseStudies: CaseStudyResult[];
}

/** The baseline period: a Monday morning; the second period is the next Monday, same hour. */
export const BASELINE_START = new Date('2026-11-16T09:00:00.000Z');

/** Whether a seed drifts when neither --drift nor --no-drift is given: odd seeds do. */
export const driftsByDefault = (seed: number) => Math.abs(seed) % 2 === 1;

/**
 * How the simulated training and deployment go for a seed: the candidate beats the champion (then its rollout may
 * trip an alarm and roll back) or it does not (rejected). Deterministic per seed and case study.
 */
export function scenarioFor(seed: number, caseStudy: CaseStudyName): ServiceScenario {
  const rng = createRng(seed * 1009 + (caseStudy === 'recommender' ? 1 : 2));
  const championQuality = caseStudy === 'recommender' ? 0.7 : 0.78;
  const u = rng.nextFloat();
  const better = u >= 0.3;
  const candidateQuality = better ? championQuality + 0.08 : championQuality - 0.08;
  return {
    championQuality,
    candidateQuality,
    candidateMetric: Math.round((candidateQuality + 0.02 * rng.nextFloat()) * 10_000) / 10_000,
    trainingMinutes: 20 + rng.nextInt(25),
    rollback: better && rng.nextFloat() < 0.35,
    seed,
  };
}

/** Runs the simulation; emulators are closed at the end, also on error. */
export async function simulate(options: SimulateOptions = {}): Promise<SimulationResult> {
  const caseStudies = options.caseStudies ?? (['recommender', 'vision'] as const);
  const seed = options.seed ?? 1;
  const drift = options.drift ?? driftsByDefault(seed);
  const sink = options.sink ?? (() => undefined);
  sink(
    `ml-blueprint simulation: seed ${seed}, second period ${drift ? 'drifts' : 'does not drift'}; case studies: ${caseStudies.join(', ')}`,
  );
  const blueprints = options.blueprints ?? synthesizeSandbox(caseStudies);
  sink(`synthesized the sandbox stage: ${blueprints.map((b) => `${b.dataStack}, ${b.mlStack}`).join(', ')}`);
  const emulators = await Emulators.start();
  sink('emulators: kinesalite and dynalite on 127.0.0.1 (ephemeral ports); S3 in memory');
  try {
    const results: CaseStudyResult[] = [];
    for (const caseStudy of caseStudies) {
      const blueprint = blueprints.find((b) => b.caseStudy === caseStudy);
      if (!blueprint) throw new Error(`no synthesized blueprint for ${caseStudy}`);
      // Both start a week earlier (hours more for the recommender's first dataset): no model serves yet.
      const clock = new SimClock(new Date(BASELINE_START.getTime() - PERIOD_GAP_MS - 6 * 3_600_000));
      const ctx: CaseContext = {
        blueprint,
        emulators,
        store: new LocalObjectStore(),
        clock,
        timeline: new Timeline(caseStudy, clock, sink),
        seed,
        drift,
        baselineStart: BASELINE_START,
        eventsPerPeriod: caseStudy === 'recommender' ? (options.events ?? 3000) : (options.images ?? 700),
        scenario: scenarioFor(seed, caseStudy),
        ...(options.outDir !== undefined ? { outDir: options.outDir } : {}),
      };
      const result = caseStudy === 'recommender' ? await simulateRecommender(ctx) : await simulateVision(ctx);
      ctx.timeline.log(
        'result',
        `${result.eventsIngested} events ingested, ${result.invalidEvents} invalid; drift ${result.driftDetected ? `detected (${result.driftedFeatures.join(', ')})` : 'not detected'}; retraining ${result.retrainingStarted ? 'started' : 'not started'}; decision: ${result.decision}`,
      );
      results.push(result);
    }
    return { caseStudies: results };
  } finally {
    await emulators.close();
  }
}
