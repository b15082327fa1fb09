/**
 * The seasonal part of a baseline profile: per UTC hour of the week (see `time.ts`), what a phase-matched reference
 * needs for each numerical and categorical feature — the count of values, a seeded sample (numerical) or the
 * category counts (categorical). Built in the same streaming pass as the rest of the profile, in memory bounded by
 * 168 × (per-phase sample size) per feature.
 */
import { z } from 'zod';
import { NumberReservoir, type SeededRandom } from './reservoir';
import { OTHER_CATEGORY, sortFloat64 } from './stats';
import { PHASES_PER_WEEK } from './time';

/** Per-phase data of a numerical feature. */
export interface SeasonalNumerical {
  readonly kind: 'numerical';
  /** Values per hour of the week. */
  readonly counts: number[];
  /** A seeded sample of each phase's values, sorted ascending. */
  readonly samples: number[][];
}

/** Per-phase data of a categorical feature. */
export interface SeasonalCategorical {
  readonly kind: 'categorical';
  /** Values per hour of the week. */
  readonly counts: number[];
  /** Category counts per hour of the week. */
  readonly categories: Array<Record<string, number>>;
}

/** Per-phase data of one feature. */
export type SeasonalFeature = SeasonalNumerical | SeasonalCategorical;

/** The `seasonal` section of a baseline profile. */
export interface SeasonalProfile {
  /** The time field the phases come from (`inferenceTime` for data capture). */
  readonly timeField: string;
  /** Values kept per feature and phase. */
  readonly sampleSize: number;
  /** Records per hour of the week (168 entries, Monday 00:00 UTC first). */
  readonly records: number[];
  readonly features: Record<string, SeasonalFeature>;
}

/** Options of the seasonal accumulation. */
export interface SeasonalOptions {
  /** The time field (never profiled as a feature). */
  readonly timeField: string;
  /**
   * Values kept per feature and hour of the week. @default max(200, ceil(2 · sampleSize / 168)): a daily phase
   * pools seven of them.
   */
  readonly sampleSize?: number;
  /** Distinct categories counted per phase; later new ones count as `__OTHER__`. @default 1000 */
  readonly maxCategories?: number;
}

/** The per-phase sample size for a global sample size. */
export function defaultPhaseSampleSize(sampleSize: number): number {
  return Math.max(200, Math.ceil((2 * sampleSize) / PHASES_PER_WEEK));
}

/** Plain-data state of a {@link PhaseTracker}. */
export interface PhaseSnapshot {
  readonly numberCounts: Float64Array | null;
  readonly numbers: Array<{ readonly seen: number; readonly sample: Float64Array } | null>;
  readonly categoryCounts: Float64Array | null;
  readonly categories: Array<Array<[string, number]> | null>;
}

/** Accumulates one feature's values per phase (numerical and categorical values alike; the kind is chosen later). */
export class PhaseTracker {
  private numbers: Array<NumberReservoir | undefined> | undefined;
  private numberCounts: Float64Array | undefined;
  private categories: Array<Map<string, number> | undefined> | undefined;
  private categoryCounts: Float64Array | undefined;

  constructor(
    private readonly sampleSize: number,
    private readonly maxCategories: number,
    private readonly seed: number,
  ) {}

  addNumber(phase: number, value: number): void {
    const reservoirs = (this.numbers ??= new Array<NumberReservoir | undefined>(PHASES_PER_WEEK));
    const counts = (this.numberCounts ??= new Float64Array(PHASES_PER_WEEK));
    counts[phase]++;
    (reservoirs[phase] ??= new NumberReservoir(this.sampleSize, (this.seed + phase * 0x9e3779b1) >>> 0)).add(value);
  }

  addCategory(phase: number, value: string): void {
    const maps = (this.categories ??= new Array<Map<string, number> | undefined>(PHASES_PER_WEEK));
    const counts = (this.categoryCounts ??= new Float64Array(PHASES_PER_WEEK));
    counts[phase]++;
    const map = (maps[phase] ??= new Map());
    const current = map.get(value);
    if (current !== undefined) map.set(value, current + 1);
    else if (map.size < this.maxCategories) map.set(value, 1);
    else map.set(OTHER_CATEGORY, (map.get(OTHER_CATEGORY) ?? 0) + 1);
  }

  snapshot(): PhaseSnapshot {
    return {
      numberCounts: this.numberCounts ? this.numberCounts.slice() : null,
      numbers: this.numbers ? Array.from(this.numbers, (r) => (r ? { seen: r.seen, sample: r.values() } : null)) : [],
      categoryCounts: this.categoryCounts ? this.categoryCounts.slice() : null,
      categories: this.categories ? Array.from(this.categories, (m) => (m ? [...m.entries()] : null)) : [],
    };
  }

  /** Adds another part's per-phase values (samples merged uniformly per phase). */
  absorb(s: PhaseSnapshot, random: SeededRandom): void {
    if (s.numberCounts) {
      const counts = (this.numberCounts ??= new Float64Array(PHASES_PER_WEEK));
      const reservoirs = (this.numbers ??= new Array<NumberReservoir | undefined>(PHASES_PER_WEEK));
      for (let p = 0; p < PHASES_PER_WEEK; p++) {
        counts[p] += s.numberCounts[p];
        const part = s.numbers[p];
        if (!part) continue;
        (reservoirs[p] ??= new NumberReservoir(this.sampleSize, (this.seed + p * 0x9e3779b1) >>> 0)).absorb(
          part.sample,
          part.seen,
          random,
        );
      }
    }
    if (s.categoryCounts) {
      const counts = (this.categoryCounts ??= new Float64Array(PHASES_PER_WEEK));
      for (let p = 0; p < PHASES_PER_WEEK; p++) {
        counts[p] += s.categoryCounts[p];
        for (const [k, v] of s.categories[p] ?? []) {
          const maps = (this.categories ??= new Array<Map<string, number> | undefined>(PHASES_PER_WEEK));
          const map = (maps[p] ??= new Map());
          const current = map.get(k);
          if (current !== undefined) map.set(k, current + v);
          else if (map.size < this.maxCategories) map.set(k, v);
          else map.set(OTHER_CATEGORY, (map.get(OTHER_CATEGORY) ?? 0) + v);
        }
      }
    }
  }

  /** The per-phase data of the chosen kind, or undefined when the feature has none. */
  finish(kind: 'numerical' | 'categorical' | 'embedding'): SeasonalFeature | undefined {
    if (kind === 'numerical' && this.numbers && this.numberCounts) {
      const samples: number[][] = [];
      for (let p = 0; p < PHASES_PER_WEEK; p++) {
        samples.push(this.numbers[p] ? Array.from(sortFloat64(this.numbers[p]!.values())) : []);
      }
      return { kind, counts: Array.from(this.numberCounts), samples };
    }
    if (kind === 'categorical' && this.categories && this.categoryCounts) {
      const categories: Array<Record<string, number>> = [];
      for (let p = 0; p < PHASES_PER_WEEK; p++) {
        const out: Record<string, number> = {};
        for (const [k, v] of this.categories[p] ?? []) out[k] = v;
        categories.push(out);
      }
      return { kind, counts: Array.from(this.categoryCounts), categories };
    }
    return undefined;
  }
}

const count = z.number().finite().min(0);
const phases = <T extends z.ZodType>(item: T) => z.array(item).length(PHASES_PER_WEEK);

/** zod schema of {@link SeasonalProfile}. */
export const seasonalProfileSchema = z.strictObject({
  timeField: z.string().min(1),
  sampleSize: z.number().int().positive(),
  records: phases(count),
  features: z.record(
    z.string(),
    z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('numerical'), counts: phases(count), samples: phases(z.array(z.number())) }),
      z.strictObject({
        kind: z.literal('categorical'),
        counts: phases(count),
        categories: phases(z.record(z.string(), count)),
      }),
    ]),
  ),
});
