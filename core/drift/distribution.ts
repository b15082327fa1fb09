/**
 * What a report shows of each feature's distributions: reference and current shares on common bins, for plotting
 * one over the other (the HTML report). Numerical features: 30 equal-width bins over the central 99 % of both
 * samples pooled (values outside go to the outer bins); categorical features: the 12 categories with the largest
 * share on either side, the rest summed as `__OTHER__`. Presentation only: no statistic is computed from it.
 */
import type { FeatureProfile } from './profile';
import { isSorted, OTHER_CATEGORY, quantileSorted, sortFloat64 } from './stats';

/** Shares per bin or category, reference and current. */
export type FeatureDistribution =
  | {
      readonly kind: 'bins';
      /** Bin edges, one more than the shares. */
      readonly edges: number[];
      readonly reference: number[];
      readonly current: number[];
    }
  | {
      readonly kind: 'categories';
      readonly categories: string[];
      readonly reference: number[];
      readonly current: number[];
    };

const BINS = 30;
const TOP_CATEGORIES = 12;

const round = (x: number) => Number(x.toPrecision(6));

/** Two ascending samples merged into one ascending array, O(n) (profile samples are stored sorted). */
function mergeSorted(a: readonly number[], b: readonly number[]): Float64Array {
  if (!isSorted(a) || !isSorted(b)) return sortFloat64(Float64Array.from([...a, ...b]));
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i] <= b[j] ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

function shares(sample: readonly number[], lo: number, width: number): number[] {
  const counts = new Array<number>(BINS).fill(0);
  for (const v of sample) {
    const i = width > 0 ? Math.floor((v - lo) / width) : 0;
    counts[Math.min(BINS - 1, Math.max(0, i))]++;
  }
  return counts.map((c) => round(sample.length > 0 ? c / sample.length : 0));
}

/** The plot data of one feature, or undefined for embeddings and features without values on both sides. */
export function featureDistribution(
  reference: FeatureProfile,
  current: FeatureProfile | undefined,
): FeatureDistribution | undefined {
  if (!current || current.kind !== reference.kind) return undefined;
  if (reference.kind === 'numerical' && current.kind === 'numerical') {
    if (reference.sample.length === 0 || current.sample.length === 0) return undefined;
    const pooled = mergeSorted(reference.sample, current.sample);
    let lo = quantileSorted(pooled, 0.005);
    let hi = quantileSorted(pooled, 0.995);
    if (!(hi > lo)) {
      lo = pooled[0] - 0.5;
      hi = pooled[pooled.length - 1] + 0.5;
    }
    const width = (hi - lo) / BINS;
    return {
      kind: 'bins',
      edges: Array.from({ length: BINS + 1 }, (_, i) => round(lo + i * width)),
      reference: shares(reference.sample, lo, width),
      current: shares(current.sample, lo, width),
    };
  }
  if (reference.kind === 'categorical' && current.kind === 'categorical') {
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0) || 1;
    const refTotal = total(reference.counts);
    const curTotal = total(current.counts);
    const names = new Set([...Object.keys(reference.counts), ...Object.keys(current.counts)]);
    const ranked = [...names]
      .map((name) => ({
        name,
        ref: (reference.counts[name] ?? 0) / refTotal,
        cur: (current.counts[name] ?? 0) / curTotal,
      }))
      .sort((a, b) => Math.max(b.ref, b.cur) - Math.max(a.ref, a.cur) || (a.name < b.name ? -1 : 1));
    const kept = ranked.filter((r) => r.name !== OTHER_CATEGORY).slice(0, TOP_CATEGORIES);
    const keptNames = new Set(kept.map((k) => k.name));
    const rest = ranked.filter((r) => !keptNames.has(r.name));
    const categories = kept.map((k) => k.name);
    const reference_ = kept.map((k) => round(k.ref));
    const current_ = kept.map((k) => round(k.cur));
    if (rest.length > 0) {
      categories.push(OTHER_CATEGORY);
      reference_.push(round(rest.reduce((a, r) => a + r.ref, 0)));
      current_.push(round(rest.reduce((a, r) => a + r.cur, 0)));
    }
    return { kind: 'categories', categories, reference: reference_, current: current_ };
  }
  return undefined;
}
