/**
 * The drift decision: compares a current window with a baseline, feature by feature, and decides whether the
 * dataset drifted.
 *
 * A feature drifts only when BOTH
 * - its effect size reaches its threshold (PSI, normalized Wasserstein or Jensen–Shannon for numerical features;
 *   Jensen–Shannon, PSI or Cramér's V for categorical ones; MMD² for embeddings), and
 * - its two-sample test (KS, chi-square, MMD permutation) is significant after multiple-testing correction
 *   (Bonferroni by default, Benjamini–Hochberg as an option) across every tested feature and signal,
 * and its current window holds at least `minWindowSize` values. Large same-distribution windows therefore do not
 * alarm (the effect stays small) and tiny shifts in huge windows do not either (significant but small).
 *
 * The dataset drifts when the share of drifted features reaches `driftedShareThreshold`, or when a key signal
 * drifts (by default: model outputs `output.*`, embeddings, and proportion signals such as click-through rate).
 *
 * Business signals are one-sided by default: a click-through rate (`ctr`, `ctr.*`) and the model's confidence
 * (`output.confidence`) drift only when they drop (one-sided z-test, one-sided KS); a rise never alarms. Every
 * feature and signal can be set to `both`, `decrease` or `increase` (`features.<name>.direction`, `ctr.*` patterns).
 *
 * With a seasonality (`daily`, `weekly`; per feature or for the whole policy) and a baseline built with a time
 * field, each feature is compared with the baseline's records at the window's phases (`seasonal.ts`).
 * See docs/drift.md and docs/drift-statistics.md.
 */
import { featureDistribution, type FeatureDistribution } from './distribution';
import type { FeatureKind } from './features';
import type { BaselineProfile, FeatureProfile, NumericalProfile } from './profile';
import {
  DEFAULT_SEASONAL_POLICY,
  matchPhases,
  rebinCurrent,
  seasonalReference,
  type FeatureReference,
  type SeasonalMatch,
  type SeasonalPolicy,
} from './seasonal';
import type { Seasonality } from './time';
import {
  chiSquareCategorical,
  jensenShannonCategorical,
  jensenShannonDistance,
  ks2Samp,
  mmdPermutationTest,
  psiCategorical,
  psiFromCounts,
  twoProportionZTest,
  wassersteinNormalized,
  DEFAULT_TOP_K,
} from './stats';

/** Effect-size measures a feature can be judged by. */
export type EffectMetric = 'psi' | 'wasserstein' | 'jensen-shannon' | 'cramers-v' | 'mmd2';

/** Effect metrics allowed per kind. */
export const EFFECTS_BY_KIND: Readonly<Record<FeatureKind, readonly EffectMetric[]>> = {
  numerical: ['psi', 'wasserstein', 'jensen-shannon'],
  categorical: ['jensen-shannon', 'psi', 'cramers-v'],
  embedding: ['mmd2'],
};

/** Which change of a feature or signal counts: any (`both`), only a drop, only a rise. */
export type Direction = 'both' | 'decrease' | 'increase';

/** How one feature is judged. */
export interface FeatureRule {
  /** Effect-size measure. */
  readonly effect?: EffectMetric;
  /** Effect threshold (in the measure's units). */
  readonly threshold?: number;
  /** A key signal drifts the dataset on its own. */
  readonly key?: boolean;
  /**
   * One-sided tests for numerical features and proportion signals. @default `decrease` for `ctr`, `ctr.*` and
   * `output.confidence`, else `both`
   */
  readonly direction?: Direction;
  /** Compare with the baseline at the same phase. @default the policy's `seasonality` */
  readonly seasonality?: Seasonality;
}

/** The default direction of a feature or signal: business signals alarm on drops only. */
export function defaultDirection(name: string): Direction {
  return name === 'ctr' || name.startsWith('ctr.') || name === 'output.confidence' ? 'decrease' : 'both';
}

/**
 * The rule of a feature or signal: patterns ending in `.*` (e.g. `ctr.*`) apply to every name under the prefix,
 * the exact name's rule on top.
 */
export function ruleFor(policy: Pick<DriftPolicy, 'features'>, name: string): FeatureRule {
  const rules = policy.features;
  if (!rules) return {};
  let rule: FeatureRule = {};
  for (const [pattern, r] of Object.entries(rules)) {
    if (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))) rule = { ...rule, ...r };
  }
  return { ...rule, ...rules[name] };
}

/** Thresholds per effect metric. */
export interface EffectThresholds {
  /** PSI (0.1 moderate, 0.2 significant shift by the usual rule of thumb). */
  readonly psi: number;
  /** Jensen–Shannon distance, base 2, in [0, 1]. */
  readonly jensenShannon: number;
  /** Wasserstein-1 in reference standard deviations. */
  readonly wassersteinNormalized: number;
  /** Cramér's V in [0, 1]. */
  readonly cramersV: number;
  /** Unbiased MMD² with the median-heuristic RBF kernel. */
  readonly mmd2: number;
  /** Relative change of a proportion signal, |p_cur − p_ref| / p_ref. */
  readonly proportionRelativeChange: number;
}

/** The decision policy. */
export interface DriftPolicy {
  /** Family-wise (Bonferroni) or false-discovery (Benjamini–Hochberg) level. */
  readonly alpha: number;
  readonly correction: 'bonferroni' | 'benjamini-hochberg';
  /** Share of drifted features that makes the dataset drift. */
  readonly driftedShareThreshold: number;
  /** A feature needs at least this many current values to be flagged. */
  readonly minWindowSize: number;
  readonly thresholds: EffectThresholds;
  /** Per-feature overrides. */
  readonly features?: Readonly<Record<string, FeatureRule>>;
  /**
   * Which features are key signals when no rule says so. @default output features (`output.*`) and embeddings
   */
  readonly keySignal?: (name: string, kind: FeatureKind) => boolean;
  /** Categorical distances fold categories beyond the top K of the reference into `__OTHER__`. */
  readonly topK?: number;
  /** MMD permutation test settings. */
  readonly mmd?: { readonly permutations?: number; readonly maxPointsPerSide?: number; readonly seed?: number };
  /** Seasonal comparison of every feature unless its rule says otherwise. @default 'none' */
  readonly seasonality?: Seasonality;
  /** Phase matching settings. @default {@link DEFAULT_SEASONAL_POLICY} */
  readonly seasonal?: Partial<SeasonalPolicy>;
}

/** Defaults of {@link DriftPolicy}. */
export const DEFAULT_POLICY: DriftPolicy = {
  alpha: 0.05,
  correction: 'bonferroni',
  driftedShareThreshold: 0.5,
  minWindowSize: 200,
  thresholds: {
    psi: 0.2,
    jensenShannon: 0.1,
    wassersteinNormalized: 0.1,
    cramersV: 0.1,
    mmd2: 0.01,
    proportionRelativeChange: 0.1,
  },
};

const DEFAULT_EFFECT: Readonly<Record<FeatureKind, EffectMetric>> = {
  numerical: 'psi',
  categorical: 'jensen-shannon',
  embedding: 'mmd2',
};

/** Statistics of one feature, as they apply to its kind. */
export interface FeatureStats {
  psi?: number;
  ks?: { statistic: number; pValue: number };
  wasserstein?: number;
  wassersteinNormalized?: number;
  jensenShannon?: number;
  chiSquare?: { statistic: number; pValue: number; dof: number };
  cramersV?: number;
  mmd2?: number;
  mmdPValue?: number;
}

/** The verdict on one feature. */
export interface FeatureResult {
  name: string;
  kind: FeatureKind;
  drifted: boolean;
  /** Test and effect used, e.g. `ks+psi`, `chi-square+jensen-shannon`, `mmd-permutation+mmd2`. */
  method: string;
  stats: FeatureStats;
  /** Values compared (non-missing) and missing per side. */
  counts: { reference: number; current: number; referenceMissing: number; currentMissing: number };
  test?: { name: string; pValue: number; adjustedPValue: number; significant: boolean };
  effect?: { metric: EffectMetric; value: number; threshold: number; passed: boolean };
  key: boolean;
  /** Which change counts (one-sided test when not `both`). */
  direction: Direction;
  /** The reference it was compared with (whole baseline, or the baseline at the window's phases). */
  reference: FeatureReference;
  /** Reference and current shares on common bins, for plots. */
  distribution?: FeatureDistribution;
  /** Why the feature was not judged, when it was not. */
  note?: string;
}

/** A proportion signal such as click-through rate. */
export interface ProportionSignal {
  readonly name: string;
  readonly reference: { readonly successes: number; readonly trials: number };
  readonly current: { readonly successes: number; readonly trials: number };
}

/** The verdict on a proportion signal (always a key signal). */
export interface ProportionResult {
  name: string;
  drifted: boolean;
  reference: number;
  current: number;
  z: number;
  pValue: number;
  adjustedPValue: number;
  /** |p_cur − p_ref| / p_ref. */
  relativeChange: number;
  /** Which change counts: a drop (`decrease`, the default for CTR), a rise, or both. */
  direction: Direction;
}

/** The drift report of one window. */
export interface DriftReport {
  drifted: boolean;
  driftedShare: number;
  records: { reference: number; current: number; invalid: number };
  features: FeatureResult[];
  proportions: ProportionResult[];
  /** Key signals that drifted. */
  keySignalsDrifted: string[];
  /** One-line reason of the verdict. */
  reason: string;
  policy: { alpha: number; correction: string; driftedShareThreshold: number; minWindowSize: number };
  /** Features in the current window that the baseline does not have (not compared). */
  unexpectedFeatures: string[];
  /** Time fields left out of the comparison (the configured one and timestamp columns). */
  timeFields?: string[];
  /** How the window's phases were matched, per seasonality used. */
  seasonal?: SeasonalMatch[];
}

/** What the current window holds (same shape as a profile's features). */
export interface WindowProfile {
  readonly records: number;
  readonly invalid: number;
  readonly features: Readonly<Record<string, FeatureProfile>>;
  /** Records per UTC hour of the week, when the records had times (seasonal comparisons). */
  readonly phaseRecords?: ArrayLike<number>;
}

interface PendingTest {
  result: FeatureResult | ProportionResult;
  pValue: number;
  setAdjusted: (adjusted: number) => void;
}

/** Adjusted p-values (Bonferroni or Benjamini–Hochberg step-up), in input order, capped at 1. */
export function adjustPValues(pValues: readonly number[], method: DriftPolicy['correction']): number[] {
  const m = pValues.length;
  if (method === 'bonferroni') return pValues.map((p) => Math.min(1, p * m));
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const [p, index] = order[rank - 1];
    running = Math.min(running, (p * m) / rank);
    adjusted[index] = Math.min(1, running);
  }
  return adjusted;
}

/** Where each effect metric's value and threshold live. */
const EFFECT_FIELDS: Readonly<
  Record<EffectMetric, { readonly stat: keyof FeatureStats; readonly threshold: keyof EffectThresholds }>
> = {
  psi: { stat: 'psi', threshold: 'psi' },
  wasserstein: { stat: 'wassersteinNormalized', threshold: 'wassersteinNormalized' },
  'jensen-shannon': { stat: 'jensenShannon', threshold: 'jensenShannon' },
  'cramers-v': { stat: 'cramersV', threshold: 'cramersV' },
  mmd2: { stat: 'mmd2', threshold: 'mmd2' },
};

function effectOf(metric: EffectMetric, stats: FeatureStats): number | undefined {
  const value = stats[EFFECT_FIELDS[metric].stat];
  return typeof value === 'number' ? value : undefined;
}

function thresholdOf(metric: EffectMetric, t: EffectThresholds): number {
  return t[EFFECT_FIELDS[metric].threshold];
}

function numericalStats(
  ref: NumericalProfile,
  cur: NumericalProfile,
  direction: Direction,
): { stats: FeatureStats; pValue: number } {
  // One-sided: scipy's `greater` with the current window first means "current tends to be smaller".
  const ks =
    direction === 'both'
      ? ks2Samp(ref.sample, cur.sample)
      : ks2Samp(cur.sample, ref.sample, { alternative: direction === 'decrease' ? 'greater' : 'less' });
  const w = wassersteinNormalized(ref.sample, cur.sample);
  return {
    stats: {
      psi: psiFromCounts(ref.binCounts, cur.binCounts),
      ks: { statistic: ks.statistic, pValue: ks.pValue },
      wasserstein: w.distance,
      wassersteinNormalized: w.normalized,
      jensenShannon: jensenShannonDistance(ref.binCounts, cur.binCounts, 2),
    },
    pValue: ks.pValue,
  };
}

/**
 * Compares a current window with a baseline. Pure: no I/O, deterministic for given inputs and policy.
 */
export function compareWindow(
  baseline: Pick<BaselineProfile, 'records' | 'features'> & Partial<Pick<BaselineProfile, 'seasonal' | 'timeFields'>>,
  current: WindowProfile,
  policy: DriftPolicy = DEFAULT_POLICY,
  proportions: readonly ProportionSignal[] = [],
): DriftReport {
  const isKey =
    policy.keySignal ?? ((name: string, kind: FeatureKind) => name.startsWith('output.') || kind === 'embedding');
  const topK = policy.topK ?? DEFAULT_TOP_K;
  const pending: PendingTest[] = [];
  const embeddingJobs: Array<() => void> = [];
  const features: FeatureResult[] = [];
  const references = new ReferenceResolver(baseline, current, policy);

  for (const [name, globalRef] of Object.entries(baseline.features)) {
    const rule = ruleFor(policy, name);
    const resolved = references.resolve(name, globalRef, current.features[name], rule.seasonality);
    const ref = resolved.reference;
    const cur = resolved.current;
    const direction = ref.kind === 'numerical' ? (rule.direction ?? defaultDirection(name)) : 'both';
    const metric = rule.effect ?? DEFAULT_EFFECT[ref.kind];
    if (!EFFECTS_BY_KIND[ref.kind].includes(metric)) {
      throw new Error(
        `feature "${name}" is ${ref.kind}; effect "${metric}" is not available for it (allowed: ${EFFECTS_BY_KIND[ref.kind].join(', ')})`,
      );
    }
    const result: FeatureResult = {
      name,
      kind: ref.kind,
      drifted: false,
      method: '',
      stats: {},
      counts: {
        reference: ref.count,
        current: cur?.count ?? 0,
        referenceMissing: ref.missing,
        currentMissing: cur ? cur.missing : current.records,
      },
      key: rule.key ?? isKey(name, ref.kind),
      direction,
      reference: resolved.description,
    };
    const distribution = featureDistribution(ref, cur);
    if (distribution) result.distribution = distribution;
    features.push(result);
    const minimum = ref.kind === 'embedding' ? 2 : 1;
    if (!cur || cur.kind !== ref.kind || cur.count < minimum || ref.count < minimum) {
      result.method =
        ref.kind === 'numerical'
          ? `ks+${metric}`
          : ref.kind === 'categorical'
            ? `chi-square+${metric}`
            : `mmd-permutation+${metric}`;
      result.note = ref.count < minimum ? 'no reference values' : 'no current values';
      continue;
    }
    const threshold = rule.threshold ?? thresholdOf(metric, policy.thresholds);
    let pValue: number;
    let testName: string;
    if (ref.kind === 'numerical' && cur.kind === 'numerical') {
      const r = numericalStats(ref, cur, direction);
      result.stats = r.stats;
      pValue = r.pValue;
      testName = 'ks';
    } else if (ref.kind === 'categorical' && cur.kind === 'categorical') {
      const chi = chiSquareCategorical(ref.counts, cur.counts);
      result.stats = {
        chiSquare: { statistic: chi.statistic, pValue: chi.pValue, dof: chi.dof },
        cramersV: chi.cramersV,
        jensenShannon: jensenShannonCategorical(ref.counts, cur.counts, { topK }).distance,
        psi: psiCategorical(ref.counts, cur.counts, { topK }).psi,
      };
      pValue = chi.pValue;
      testName = 'chi-square';
    } else {
      // Embeddings: the permutation count is fixed after the family size is known (see below).
      testName = 'mmd-permutation';
      pValue = Number.NaN;
    }
    result.method = `${testName}+${metric}`;
    const test = { name: testName, pValue, adjustedPValue: 1, significant: false };
    result.test = test;
    const entry: PendingTest = {
      result,
      pValue,
      setAdjusted: (adjusted) => {
        test.adjustedPValue = adjusted;
        test.significant = adjusted <= policy.alpha;
        const value = effectOf(metric, result.stats) ?? 0;
        const passed = value >= threshold;
        result.effect = { metric, value, threshold, passed };
        result.drifted = test.significant && passed && cur.count >= policy.minWindowSize;
        if (cur.count < policy.minWindowSize)
          result.note = `window below minWindowSize (${cur.count} < ${policy.minWindowSize})`;
      },
    };
    pending.push(entry);
    if (ref.kind === 'embedding' && cur.kind === 'embedding') {
      embeddingJobs.push(() => {
        // The smallest permutation p-value is 1/(1+B); B must let it pass the corrected level.
        const needed = Math.ceil((2 * pending.length) / policy.alpha);
        const mmd = mmdPermutationTest(ref.sample, cur.sample, {
          permutations: Math.max(policy.mmd?.permutations ?? 200, needed),
          maxPointsPerSide: policy.mmd?.maxPointsPerSide,
          seed: policy.mmd?.seed,
        });
        result.stats = { mmd2: mmd.mmd2, mmdPValue: mmd.pValue };
        entry.pValue = mmd.pValue;
        test.pValue = mmd.pValue;
      });
    }
  }

  const proportionResults: ProportionResult[] = proportions.map((signal) => {
    const direction = ruleFor(policy, signal.name).direction ?? defaultDirection(signal.name);
    const z = twoProportionZTest(
      signal.current.successes,
      signal.current.trials,
      signal.reference.successes,
      signal.reference.trials,
      direction === 'decrease' ? 'smaller' : direction === 'increase' ? 'larger' : 'two-sided',
    );
    const ref = signal.reference.trials > 0 ? signal.reference.successes / signal.reference.trials : 0;
    const cur = signal.current.trials > 0 ? signal.current.successes / signal.current.trials : 0;
    const result: ProportionResult = {
      name: signal.name,
      drifted: false,
      reference: ref,
      current: cur,
      z: z.z,
      pValue: z.pValue,
      adjustedPValue: 1,
      relativeChange: ref > 0 ? Math.abs(cur - ref) / ref : cur > 0 ? 1 : 0,
      direction,
    };
    // A one-sided signal moves the wrong way: never a drift, whatever the size of the change.
    const wayCounts = direction === 'both' || (direction === 'decrease' ? cur < ref : cur > ref);
    pending.push({
      result,
      pValue: z.pValue,
      setAdjusted: (adjusted) => {
        result.adjustedPValue = adjusted;
        result.drifted =
          wayCounts &&
          adjusted <= policy.alpha &&
          result.relativeChange >= policy.thresholds.proportionRelativeChange &&
          signal.current.trials >= policy.minWindowSize;
      },
    });
    return result;
  });

  for (const job of embeddingJobs) job();
  const adjusted = adjustPValues(
    pending.map((p) => p.pValue),
    policy.correction,
  );
  pending.forEach((p, i) => p.setAdjusted(adjusted[i]));

  const judged = features.filter((f) => f.test !== undefined);
  const drifted = judged.filter((f) => f.drifted);
  const driftedShare = judged.length > 0 ? drifted.length / judged.length : 0;
  const keySignalsDrifted = [
    ...drifted.filter((f) => f.key).map((f) => f.name),
    ...proportionResults.filter((p) => p.drifted).map((p) => p.name),
  ];
  const windowTooSmall = current.records < policy.minWindowSize;
  const shareReached = judged.length > 0 && driftedShare >= policy.driftedShareThreshold && drifted.length > 0;
  const datasetDrifted = !windowTooSmall && (shareReached || keySignalsDrifted.length > 0);
  const reason = windowTooSmall
    ? `window of ${current.records} records is below minWindowSize ${policy.minWindowSize}: metrics only`
    : datasetDrifted
      ? [
          shareReached
            ? `${drifted.length} of ${judged.length} features drifted (share ≥ ${policy.driftedShareThreshold})`
            : '',
          keySignalsDrifted.length > 0 ? `key signals drifted: ${keySignalsDrifted.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; ')
      : `${drifted.length} of ${judged.length} features drifted; no key signal drifted`;

  return {
    drifted: datasetDrifted,
    driftedShare,
    records: { reference: baseline.records, current: current.records, invalid: current.invalid },
    features,
    proportions: proportionResults,
    keySignalsDrifted,
    reason,
    policy: {
      alpha: policy.alpha,
      correction: policy.correction,
      driftedShareThreshold: policy.driftedShareThreshold,
      minWindowSize: policy.minWindowSize,
    },
    unexpectedFeatures: [],
    ...(baseline.timeFields && baseline.timeFields.length > 0 ? { timeFields: [...baseline.timeFields] } : {}),
    ...(references.matches.length > 0 ? { seasonal: references.matches } : {}),
  };
}

/**
 * Resolves each feature's reference: the whole baseline, or the baseline at the window's phases when the feature is
 * compared seasonally (phase matching computed once per seasonality).
 */
class ReferenceResolver {
  readonly matches: SeasonalMatch[] = [];
  private readonly components = new Map<Seasonality, ReturnType<typeof matchPhases>['components']>();
  private readonly seasonalPolicy: SeasonalPolicy;

  constructor(
    private readonly baseline: Partial<Pick<BaselineProfile, 'seasonal'>>,
    private readonly current: WindowProfile,
    private readonly policy: DriftPolicy,
  ) {
    this.seasonalPolicy = { ...DEFAULT_SEASONAL_POLICY, ...policy.seasonal };
  }

  resolve(
    name: string,
    reference: FeatureProfile,
    current: FeatureProfile | undefined,
    featureSeasonality: Seasonality | undefined,
  ): { reference: FeatureProfile; current: FeatureProfile | undefined; description: FeatureReference } {
    const seasonality = featureSeasonality ?? this.policy.seasonality ?? 'none';
    const whole = (why?: string) => ({
      reference,
      current,
      description: { seasonality, description: why ? `whole baseline (${why})` : 'whole baseline' },
    });
    if (seasonality === 'none') return whole();
    if (reference.kind === 'embedding') return whole('embeddings are not compared by phase');
    const seasonal = this.baseline.seasonal;
    if (!seasonal) return whole('the baseline has no per-phase data: build it with a time field');
    const phaseRecords = this.current.phaseRecords;
    if (!phaseRecords || !Array.from(phaseRecords).some((n) => n > 0)) {
      return whole('the window has no record times');
    }
    let components = this.components.get(seasonality);
    if (!components) {
      const matched = matchPhases(seasonal, phaseRecords, seasonality, this.seasonalPolicy);
      components = matched.components;
      this.components.set(seasonality, components);
      this.matches.push(matched.match);
    }
    const seasonalRef = seasonalReference(reference, seasonal, name, components);
    if (!seasonalRef) return whole('no per-phase data for this feature');
    const rebinned =
      seasonalRef.kind === 'numerical' && current?.kind === 'numerical' ? rebinCurrent(current, seasonalRef) : current;
    const match = this.matches.find((m) => m.seasonality === seasonality);
    return {
      reference: seasonalRef,
      current: rebinned,
      description: { seasonality, description: match?.description ?? seasonality },
    };
  }
}
