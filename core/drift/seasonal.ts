/**
 * Phase-matched references: for a window compared seasonally, each feature's reference is the baseline's records at
 * the same phases as the window's records (hour of day for `daily`, hour of week for `weekly`), mixed in the
 * window's own proportions. A phase with too few baseline records is widened to a band of neighbouring hours
 * (±1 h, ±2 h, … up to `maxBandHours`), and past that compared with the whole baseline; the report says which.
 *
 * Numerical features: the reference sample is the mixture of the phases' samples (evenly spaced order statistics
 * of each, in proportion to the window's phase shares), and PSI/Jensen–Shannon use the deciles of that sample, both
 * sides binned from their samples. Categorical features: the phases' category shares, mixed the same way, scaled to
 * the effective reference size. Embeddings are always compared with the whole baseline.
 */
import type { CategoricalProfile, FeatureProfile, NumericalProfile } from './profile';
import type { SeasonalCategorical, SeasonalNumerical, SeasonalProfile } from './seasonal-profile';
import { binCounts, decileEdges } from './stats';
import { phaseIn, phaseLabel, phasesOf, PHASES_PER_WEEK, type Seasonality } from './time';

/** Settings of the phase matching. */
export interface SeasonalPolicy {
  /** A phase's reference needs at least this many baseline records (times the phase's share of the window). */
  readonly minReferenceRecords: number;
  /** Widest band of neighbouring hours tried before falling back to the whole baseline. */
  readonly maxBandHours: number;
}

/** Defaults of {@link SeasonalPolicy}. */
export const DEFAULT_SEASONAL_POLICY: SeasonalPolicy = { minReferenceRecords: 500, maxBandHours: 3 };

/** How one phase of the window was matched. */
export interface PhaseMatch {
  /** `02:00` or `Tue 02:00`. */
  readonly phase: string;
  readonly currentRecords: number;
  /** Half-width of the band of hours used (0 = the phase alone); null when the whole baseline was used. */
  readonly bandHours: number | null;
  /** Baseline records in the band (all baseline records when `bandHours` is null). */
  readonly referenceRecords: number;
}

/** The phase matching of one seasonality, for the report. */
export interface SeasonalMatch {
  readonly seasonality: Exclude<Seasonality, 'none'>;
  readonly phases: PhaseMatch[];
  /** One line: which reference was used and any fallback. */
  readonly description: string;
}

/** Which reference a feature was compared with. */
export interface FeatureReference {
  readonly seasonality: Seasonality;
  /** e.g. `baseline at 02:00 (±1 h for 1 of 1 phases)`, `whole baseline`. */
  readonly description: string;
}

interface Component {
  /** Share of the window's records. */
  readonly weight: number;
  /** Hours of the week pooled, or null for the whole baseline. */
  readonly weekHours: number[] | null;
}

/** Folds 168 hour-of-week values into the phases of a period. */
function fold(values: ArrayLike<number>, seasonality: Exclude<Seasonality, 'none'>): Float64Array {
  const out = new Float64Array(phasesOf(seasonality));
  for (let h = 0; h < PHASES_PER_WEEK; h++) out[phaseIn(seasonality, h)] += values[h];
  return out;
}

/** Hours of the week whose phase is within `band` of `phase` (circular in the period). */
function bandHours(seasonality: Exclude<Seasonality, 'none'>, phase: number, band: number): number[] {
  const period = phasesOf(seasonality);
  const wanted = new Set<number>();
  for (let d = -band; d <= band; d++) wanted.add((((phase + d) % period) + period) % period);
  const out: number[] = [];
  for (let h = 0; h < PHASES_PER_WEEK; h++) if (wanted.has(phaseIn(seasonality, h))) out.push(h);
  return out;
}

/**
 * Matches the window's phases with the baseline's: per phase present in the window, the narrowest band with enough
 * baseline records. Returns the mixture components and the report section.
 */
export function matchPhases(
  seasonal: SeasonalProfile,
  windowPhaseRecords: ArrayLike<number>,
  seasonality: Exclude<Seasonality, 'none'>,
  policy: SeasonalPolicy = DEFAULT_SEASONAL_POLICY,
): { components: Component[]; match: SeasonalMatch } {
  const current = fold(windowPhaseRecords, seasonality);
  const reference = fold(seasonal.records, seasonality);
  const total = current.reduce((a, b) => a + b, 0);
  const period = phasesOf(seasonality);
  const allRecords = reference.reduce((a, b) => a + b, 0);
  const components: Component[] = [];
  const phases: PhaseMatch[] = [];
  for (let phase = 0; phase < period; phase++) {
    if (current[phase] === 0) continue;
    const weight = current[phase] / total;
    const needed = policy.minReferenceRecords * weight;
    let chosen: number | null = null;
    let records = allRecords;
    for (let band = 0; band <= policy.maxBandHours && 2 * band + 1 <= period; band++) {
      let n = 0;
      for (let d = -band; d <= band; d++) n += reference[(((phase + d) % period) + period) % period];
      if (n >= needed && n > 0) {
        chosen = band;
        records = n;
        break;
      }
    }
    components.push({ weight, weekHours: chosen === null ? null : bandHours(seasonality, phase, chosen) });
    phases.push({
      phase: phaseLabel(seasonality, phase),
      currentRecords: current[phase],
      bandHours: chosen,
      referenceRecords: records,
    });
  }
  return { components, match: { seasonality, phases, description: describe(seasonality, phases, policy) } };
}

function describe(seasonality: Exclude<Seasonality, 'none'>, phases: PhaseMatch[], policy: SeasonalPolicy): string {
  const names = phases.length <= 3 ? phases.map((p) => p.phase).join(', ') : `${phases.length} phases`;
  const widened = phases.filter((p) => p.bandHours !== null && p.bandHours > 0);
  const whole = phases.filter((p) => p.bandHours === null);
  const parts = [`${seasonality} reference: baseline records at ${names}`];
  if (widened.length > 0) {
    const widest = Math.max(...widened.map((p) => p.bandHours ?? 0));
    parts.push(
      `widened to ±${widest} h for ${widened.length} of ${phases.length} phases (fewer than ${policy.minReferenceRecords} records)`,
    );
  }
  if (whole.length > 0) {
    parts.push(
      `whole baseline for ${whole.length} of ${phases.length} phases (fewer than ${policy.minReferenceRecords} records within ±${policy.maxBandHours} h)`,
    );
  }
  return parts.join('; ');
}

/** `k` evenly spaced order statistics of a sorted sample (deterministic thinning that keeps its shape). */
export function thin(sorted: readonly number[], k: number): number[] {
  const n = sorted.length;
  if (k >= n) return [...sorted];
  const out = new Array<number>(k);
  for (let i = 0; i < k; i++) out[i] = sorted[Math.floor(((i + 0.5) * n) / k)];
  return out;
}

/**
 * A sample of the union of groups of sizes `count` from their samples: the whole union when every sample is
 * complete, otherwise each group thinned in proportion to its size.
 */
function pool(groups: ReadonlyArray<{ count: number; sample: readonly number[] }>): number[] {
  const live = groups.filter((g) => g.count > 0 && g.sample.length > 0);
  if (live.every((g) => g.sample.length >= g.count)) return live.flatMap((g) => g.sample);
  const total = live.reduce((a, g) => a + g.count, 0);
  const size = Math.min(...live.map((g) => (g.sample.length * total) / g.count));
  return live.flatMap((g) => thin(g.sample, Math.round((size * g.count) / total)));
}

/** Mixes samples with weights: as large as possible while each contributes its share. */
function mix(parts: ReadonlyArray<{ weight: number; sample: number[] }>): number[] {
  const live = parts.filter((p) => p.weight > 0 && p.sample.length > 0);
  if (live.length === 0) return [];
  const size = Math.min(...live.map((p) => p.sample.length / p.weight));
  return live.flatMap((p) => thin(p.sample, Math.max(1, Math.round(size * p.weight))));
}

function seasonalNumerical(
  global: NumericalProfile,
  data: SeasonalNumerical,
  components: readonly Component[],
): NumericalProfile {
  const parts = components.map((c) => ({
    weight: c.weekHours === null ? 0 : c.weight,
    sample:
      c.weekHours === null ? [] : pool(c.weekHours.map((h) => ({ count: data.counts[h], sample: data.samples[h] }))),
  }));
  // Components falling back to the whole baseline mix in its sample.
  for (let i = 0; i < components.length; i++) {
    if (components[i].weekHours === null) parts[i] = { weight: components[i].weight, sample: global.sample };
  }
  const sample = mix(parts).sort((a, b) => a - b);
  if (sample.length === 0) return { ...global, count: 0, sample: [], edges: [], binCounts: [0] };
  const edges = Array.from(decileEdges(sample));
  let sum = 0;
  for (const v of sample) sum += v;
  const mean = sum / sample.length;
  let m2 = 0;
  for (const v of sample) m2 += (v - mean) * (v - mean);
  return {
    kind: 'numerical',
    count: sample.length,
    missing: 0,
    mean,
    std: Math.sqrt(m2 / sample.length),
    min: sample[0],
    max: sample[sample.length - 1],
    edges,
    binCounts: Array.from(binCounts(sample, edges)),
    sample,
  };
}

function seasonalCategorical(
  global: CategoricalProfile,
  data: SeasonalCategorical,
  components: readonly Component[],
): CategoricalProfile {
  const shares = components.map((c) => {
    const counts = new Map<string, number>();
    let total = 0;
    if (c.weekHours === null) {
      for (const [k, v] of Object.entries(global.counts)) counts.set(k, v);
      total = global.count;
    } else {
      for (const h of c.weekHours) {
        for (const [k, v] of Object.entries(data.categories[h])) counts.set(k, (counts.get(k) ?? 0) + v);
        total += data.counts[h];
      }
    }
    return { weight: c.weight, counts, total };
  });
  const live = shares.filter((s) => s.total > 0);
  const size = live.length > 0 ? Math.min(...live.map((s) => s.total / s.weight)) : 0;
  const counts: Record<string, number> = {};
  for (const s of live) {
    for (const [k, v] of s.counts) counts[k] = (counts[k] ?? 0) + (s.weight * size * v) / s.total;
  }
  return { kind: 'categorical', count: Math.round(size), missing: 0, counts };
}

/** The current window's numerical profile re-binned on the seasonal reference's edges (from its sample). */
export function rebinCurrent(current: NumericalProfile, reference: NumericalProfile): NumericalProfile {
  const counts = binCounts(current.sample, reference.edges);
  const scale = current.sample.length > 0 ? current.count / current.sample.length : 0;
  return { ...current, edges: reference.edges, binCounts: Array.from(counts, (c) => c * scale) };
}

/**
 * The phase-matched reference of one feature, or undefined when it has no per-phase data (embeddings, or a feature
 * the seasonal section does not cover): the caller then uses the whole baseline.
 */
export function seasonalReference(
  global: FeatureProfile,
  seasonal: SeasonalProfile,
  name: string,
  components: readonly Component[],
): FeatureProfile | undefined {
  const data = seasonal.features[name];
  if (!data || data.kind !== global.kind) return undefined;
  if (global.kind === 'numerical' && data.kind === 'numerical') return seasonalNumerical(global, data, components);
  if (global.kind === 'categorical' && data.kind === 'categorical') {
    return seasonalCategorical(global, data, components);
  }
  return undefined;
}
