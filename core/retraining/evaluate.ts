/**
 * Champion/challenger evaluation. With a champion, both models are re-scored on the candidate's validation data
 * (batch transform, see `scoring.ts`) and the candidate must beat the champion there by the margin; the first model
 * must pass an absolute floor on its training job's validation metric. Pure.
 */
import { z } from 'zod';
import type { ObjectStore } from '../storage/object-store';
import { scoreModel, type ScoringSource } from './scoring';

/** The promotion policy (from the stage config). */
export const evaluationPolicySchema = z.strictObject({
  metricName: z.string().min(1),
  metricDirection: z.enum(['maximize', 'minimize']),
  minImprovement: z.number().min(0),
  absoluteFloor: z.number(),
});

/** What the evaluate step receives. */
export const evaluationInputSchema = z.object({
  policy: evaluationPolicySchema,
  /** `FinalMetricDataList` of the candidate's training job. */
  candidateMetrics: z.array(z.object({ MetricName: z.string(), Value: z.number() }).loose()).default([]),
  /** Stamped on the candidate's registry metadata (dataset ID, dataset end, training job, trigger). */
  stamp: z.record(z.string(), z.string()).default({}),
  /** Both models scored on the same validation data (present when there is a champion). */
  rescored: z
    .object({
      candidate: z.object({ metric: z.string(), value: z.number(), records: z.number() }),
      champion: z.object({ metric: z.string(), value: z.number(), records: z.number() }),
    })
    .optional(),
  /** The champion as found in the registry. */
  champion: z
    .object({
      found: z.boolean(),
      modelPackageArn: z.string().optional(),
      metadata: z.record(z.string(), z.string()).optional(),
    })
    .loose(),
});

/** Input of {@link evaluateCandidate}. */
export type EvaluationInput = z.input<typeof evaluationInputSchema>;

/** The decision (`$.evaluation`). */
export interface Evaluation {
  /** Deploy the candidate. */
  readonly promote: boolean;
  readonly reason: string;
  readonly metricName: string;
  readonly candidateValue: number | null;
  readonly championValue: number | null;
  /** Registry metadata of the candidate (strings only). */
  readonly metadata: Record<string, string>;
}

/** Decides whether the candidate replaces the champion. */
export function evaluateCandidate(raw: EvaluationInput): Evaluation {
  const input = evaluationInputSchema.parse(raw);
  const { policy } = input;
  const better = (a: number, b: number) => (policy.metricDirection === 'maximize' ? a - b : b - a);
  const candidate = input.candidateMetrics.find((m) => m.MetricName === policy.metricName)?.Value;
  const championRaw = input.champion.found ? input.champion.metadata?.metricValue : undefined;
  const champion = championRaw === undefined ? undefined : Number(championRaw);
  const base = {
    metricName: policy.metricName,
    candidateValue: candidate ?? null,
    championValue: champion !== undefined && Number.isFinite(champion) ? champion : null,
  };
  const metadata = (promote: boolean): Record<string, string> => ({
    ...input.stamp,
    metricName: policy.metricName,
    metricValue: candidate === undefined ? 'missing' : String(candidate),
    championMetricValue: base.championValue === null ? 'none' : String(base.championValue),
    evaluation: promote ? 'promoted' : 'rejected',
  });
  if (candidate === undefined || !Number.isFinite(candidate)) {
    return {
      ...base,
      promote: false,
      reason: `the training job reported no ${policy.metricName} (metrics: ${input.candidateMetrics.map((m) => m.MetricName).join(', ') || 'none'})`,
      metadata: metadata(false),
    };
  }
  if (base.championValue === null) {
    const margin = better(candidate, policy.absoluteFloor);
    const promote = margin >= 0;
    return {
      ...base,
      promote,
      reason: promote
        ? `first model: ${policy.metricName} ${candidate} passes the floor ${policy.absoluteFloor}`
        : `first model: ${policy.metricName} ${candidate} does not reach the floor ${policy.absoluteFloor}`,
      metadata: metadata(promote),
    };
  }
  if (input.rescored) {
    // Same data for both: the comparison that decides. Re-scored metrics (AUC, accuracy) are larger-is-better.
    const { candidate: c, champion: h } = input.rescored;
    const gain = c.value - h.value;
    const promote = gain >= policy.minImprovement;
    const on = `${c.metric} on the same ${c.records} validation records`;
    return {
      ...base,
      candidateValue: c.value,
      championValue: h.value,
      promote,
      reason: promote
        ? `candidate ${on} ${round(c.value)} beats the champion's ${round(h.value)} by ${round(gain)} (needed ${policy.minImprovement})`
        : `candidate ${on} ${round(c.value)} does not beat the champion's ${round(h.value)} by ${policy.minImprovement} (difference ${round(gain)})`,
      metadata: {
        ...metadata(promote),
        sameDataMetric: c.metric,
        sameDataCandidate: String(c.value),
        sameDataChampion: String(h.value),
        sameDataRecords: String(c.records),
      },
    };
  }
  // No re-scoring: fall back to the champion's recorded metric (its own validation set).
  const gain = better(candidate, base.championValue);
  const promote = gain >= policy.minImprovement;
  return {
    ...base,
    promote,
    reason: promote
      ? `candidate ${policy.metricName} ${candidate} beats the champion's recorded ${base.championValue} by ${round(gain)} (needed ${policy.minImprovement})`
      : `candidate ${policy.metricName} ${candidate} does not beat the champion's recorded ${base.championValue} by ${policy.minImprovement} (difference ${round(gain)})`,
    metadata: metadata(promote),
  };
}

/** The evaluate step's input: the decision input plus where the re-scoring outputs are. */
export type EvaluationRequest = Omit<EvaluationInput, 'rescored'> & {
  readonly scoring?: { readonly candidate: ScoringSource; readonly champion: ScoringSource };
};

/** Re-scores both models (when there is a champion) and decides. */
export async function runEvaluation(store: ObjectStore, request: EvaluationRequest): Promise<Evaluation> {
  const { scoring, ...rest } = request;
  const champion = rest.champion as { found?: boolean };
  const rescored =
    champion.found && scoring
      ? { candidate: await scoreModel(store, scoring.candidate), champion: await scoreModel(store, scoring.champion) }
      : undefined;
  return evaluateCandidate({ ...rest, rescored });
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
