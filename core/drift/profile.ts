/**
 * Baseline profiles and window accumulators.
 *
 * One streaming pass over records builds, per feature, what the drift statistics need, in memory bounded by the
 * sample sizes (never by the number of records):
 * - numerical: count, missing, mean/std (Welford), min/max, a seeded reservoir sample (for KS and Wasserstein),
 *   and, once reference decile edges are known, exact bin counts (for PSI and Jensen–Shannon);
 * - categorical: exact category counts (up to a cap of distinct categories, the rest counted as `__OTHER__`);
 * - embedding: a seeded reservoir of vectors, projected to a lower dimension when large (for MMD).
 *
 * A baseline profile is the finalized reference, saved as JSON (`kind: "ml-blueprint/baseline-profile"`).
 */
import { z } from 'zod';
import {
  conformValue,
  valueKind,
  type FeatureKind,
  type FeatureRecord,
  type FeatureSchema,
  type FeatureValue,
} from './features';
import { NumberReservoir, SeededRandom, VectorReservoir } from './reservoir';
import {
  defaultPhaseSampleSize,
  PhaseTracker,
  type PhaseSnapshot,
  seasonalProfileSchema,
  type SeasonalOptions,
  type SeasonalProfile,
} from './seasonal-profile';
import { binCounts, decileEdges, OTHER_CATEGORY, sortFloat64 } from './stats';
import { hourOfWeek, looksLikeTimestamp, PHASES_PER_WEEK } from './time';
import { issuesText } from '../contracts/issues';

/** The `kind` of a baseline profile document. */
export const BASELINE_PROFILE_KIND = 'ml-blueprint/baseline-profile';
/** Version of the profile format. */
export const BASELINE_PROFILE_VERSION = 1;

/** Sampling settings of an accumulator. */
export interface SamplingOptions {
  /** Numerical values kept per feature for KS and Wasserstein. @default 10000 */
  readonly sampleSize?: number;
  /** Vectors kept per embedding feature for MMD. @default 500 */
  readonly embeddingSampleSize?: number;
  /** Distinct categories counted exactly per feature; later new ones count as `__OTHER__`. @default 10000 */
  readonly maxCategories?: number;
  /** Embeddings longer than this are randomly projected to this many dimensions. @default 32 */
  readonly projectionDimension?: number;
  /** Seed of every sampler and of the projection. @default 42 */
  readonly seed?: number;
}

/** Resolved {@link SamplingOptions}. */
export type Sampling = Required<SamplingOptions>;

/** Defaults of {@link SamplingOptions}. */
export const DEFAULT_SAMPLING: Sampling = {
  sampleSize: 10_000,
  embeddingSampleSize: 500,
  maxCategories: 10_000,
  projectionDimension: 32,
  seed: 42,
};

/** Profile of a numerical feature. */
export interface NumericalProfile {
  readonly kind: 'numerical';
  /** Records with a usable value. */
  readonly count: number;
  /** Records where it was absent, null, NaN or of another kind. */
  readonly missing: number;
  readonly mean: number;
  /** Population standard deviation (ddof = 0). */
  readonly std: number;
  readonly min: number;
  readonly max: number;
  /** Reference decile edges (deduplicated); there are `edges.length + 1` bins, outer ones open. */
  readonly edges: number[];
  /** Counts per bin. */
  readonly binCounts: number[];
  /** Seeded uniform sample of the values, sorted ascending. */
  readonly sample: number[];
}

/** Profile of a categorical feature. */
export interface CategoricalProfile {
  readonly kind: 'categorical';
  readonly count: number;
  readonly missing: number;
  /** Count per category. */
  readonly counts: Record<string, number>;
}

/** Random projection of an embedding: a seeded Gaussian matrix, regenerated from its seed. */
export interface ProjectionSpec {
  readonly seed: number;
  readonly inputDimension: number;
  readonly outputDimension: number;
}

/** Profile of an embedding feature. */
export interface EmbeddingProfile {
  readonly kind: 'embedding';
  readonly count: number;
  readonly missing: number;
  /** Length of the vectors as they arrive. */
  readonly dimension: number;
  /** Projection applied to the sample, or null when vectors are kept as they are. */
  readonly projection: ProjectionSpec | null;
  /** Seeded sample of the (projected) vectors. */
  readonly sample: number[][];
}

/** Profile of one feature. */
export type FeatureProfile = NumericalProfile | CategoricalProfile | EmbeddingProfile;

/** A baseline profile document. */
export interface BaselineProfile {
  readonly kind: typeof BASELINE_PROFILE_KIND;
  readonly version: typeof BASELINE_PROFILE_VERSION;
  /** When it was built (ISO-8601). */
  readonly createdAt: string;
  /** Free text: dataset id, model version, file name. */
  readonly source?: string;
  /** Records profiled. */
  readonly records: number;
  /** Malformed records skipped while profiling. */
  readonly invalid: number;
  readonly sampling: Sampling;
  readonly features: Record<string, FeatureProfile>;
  /**
   * Fields that hold times and are never profiled: the configured time field and columns of ISO 8601 timestamps
   * found while profiling. A window compared with this baseline skips them too.
   */
  readonly timeFields?: string[];
  /** Per-phase data for seasonal comparisons, when the baseline was built with a time field. */
  readonly seasonal?: SeasonalProfile;
}

// ---------------------------------------------------------------------------------------------------------------

class NumericalAccumulator {
  count = 0;
  private mean = 0;
  private m2 = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private readonly reservoir: NumberReservoir;
  private readonly edges: Float64Array | undefined;
  private readonly bins: Float64Array | undefined;

  constructor(sampleSize: number, seed: number, edges?: readonly number[]) {
    this.reservoir = new NumberReservoir(sampleSize, seed);
    if (edges) {
      this.edges = Float64Array.from(edges);
      this.bins = new Float64Array(edges.length + 1);
    }
  }

  add(v: number): void {
    this.count++;
    const delta = v - this.mean;
    this.mean += delta / this.count;
    this.m2 += delta * (v - this.mean);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.reservoir.add(v);
    const edges = this.edges;
    if (edges && this.bins) {
      // Bin i holds edges[i-1] < v <= edges[i] (searchsorted side='left'), matching binCounts.
      let lo = 0;
      let hi = edges.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (edges[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      this.bins[lo]++;
    }
  }

  snapshot(): NumericalSnapshot {
    return {
      count: this.count,
      mean: this.mean,
      m2: this.m2,
      min: this.min,
      max: this.max,
      seen: this.reservoir.seen,
      sample: this.reservoir.values(),
      bins: this.bins ? this.bins.slice() : null,
    };
  }

  /** Adds another part's values (Chan et al.'s parallel mean and variance; bins add; samples merge uniformly). */
  absorb(s: NumericalSnapshot, random: SeededRandom): void {
    if (s.count === 0) return;
    const n = this.count + s.count;
    const delta = s.mean - this.mean;
    this.mean += (delta * s.count) / n;
    this.m2 += s.m2 + (delta * delta * this.count * s.count) / n;
    this.count = n;
    if (s.min < this.min) this.min = s.min;
    if (s.max > this.max) this.max = s.max;
    if (this.bins && s.bins) for (let i = 0; i < this.bins.length; i++) this.bins[i] += s.bins[i];
    this.reservoir.absorb(s.sample, s.seen, random);
  }

  finish(missing: number): NumericalProfile {
    // Stored sorted: the order of a uniform sample carries no information, and sorted samples spare the
    // statistics (KS, Wasserstein, deciles) their own sorts.
    const sample = sortFloat64(this.reservoir.values());
    let edges: number[];
    let counts: number[];
    if (this.edges && this.bins) {
      edges = Array.from(this.edges);
      counts = Array.from(this.bins);
    } else if (sample.length > 0) {
      edges = Array.from(decileEdges(sample));
      // Without known edges the bins are counted on the sample, which is the whole data up to sampleSize.
      counts = Array.from(binCounts(sample, edges));
      const scale = this.count / sample.length;
      if (scale !== 1) counts = counts.map((c) => c * scale);
    } else {
      edges = [];
      counts = [0];
    }
    return {
      kind: 'numerical',
      count: this.count,
      missing,
      mean: this.count > 0 ? this.mean : 0,
      std: this.count > 0 ? Math.sqrt(this.m2 / this.count) : 0,
      min: this.count > 0 ? this.min : 0,
      max: this.count > 0 ? this.max : 0,
      edges,
      binCounts: counts,
      sample: Array.from(sample),
    };
  }
}

class CategoricalAccumulator {
  count = 0;
  private readonly counts = new Map<string, number>();

  constructor(private readonly maxCategories: number) {}

  add(v: string): void {
    this.count++;
    const current = this.counts.get(v);
    if (current !== undefined) this.counts.set(v, current + 1);
    else if (this.counts.size < this.maxCategories) this.counts.set(v, 1);
    else this.counts.set(OTHER_CATEGORY, (this.counts.get(OTHER_CATEGORY) ?? 0) + 1);
  }

  snapshot(): CategoricalSnapshot {
    return { count: this.count, keys: [...this.counts.keys()], values: [...this.counts.values()] };
  }

  absorb(s: CategoricalSnapshot): void {
    this.count += s.count;
    for (let i = 0; i < s.keys.length; i++) {
      const k = s.keys[i];
      const current = this.counts.get(k);
      if (current !== undefined) this.counts.set(k, current + s.values[i]);
      else if (this.counts.size < this.maxCategories) this.counts.set(k, s.values[i]);
      else this.counts.set(OTHER_CATEGORY, (this.counts.get(OTHER_CATEGORY) ?? 0) + s.values[i]);
    }
  }

  finish(missing: number): CategoricalProfile {
    const counts: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const [k, v] of [...this.counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
      counts[k] = v;
    }
    return { kind: 'categorical', count: this.count, missing, counts: { ...counts } };
  }
}

class EmbeddingAccumulator {
  count = 0;
  /** Vectors of another length than the first one seen. */
  mismatched = 0;
  private reservoir: VectorReservoir | undefined;

  constructor(
    private readonly sampleSize: number,
    private readonly seed: number,
    private readonly sampling: Sampling,
    private readonly fixedDimension?: number,
    private readonly projection?: ProjectionSpec | null,
  ) {}

  add(v: readonly number[]): void {
    if (!this.reservoir) {
      this.reservoir = new VectorReservoir(this.sampleSize, this.fixedDimension ?? v.length, this.seed);
    }
    if (this.reservoir.add(v)) this.count++;
    else this.mismatched++;
  }

  snapshot(): EmbeddingSnapshot {
    return {
      count: this.count,
      mismatched: this.mismatched,
      dimension: this.reservoir?.dimension ?? 0,
      seen: this.reservoir?.seen ?? 0,
      flat: this.reservoir?.flat() ?? new Float64Array(0),
    };
  }

  absorb(s: EmbeddingSnapshot, random: SeededRandom): void {
    if (s.count === 0 && s.mismatched === 0) return;
    if (s.dimension > 0 && !this.reservoir) {
      this.reservoir = new VectorReservoir(this.sampleSize, this.fixedDimension ?? s.dimension, this.seed);
    }
    if (this.reservoir && s.dimension === this.reservoir.dimension) {
      this.reservoir.absorb(s.flat, s.seen, 0, random);
      this.count += s.count;
      this.mismatched += s.mismatched;
    } else {
      // Vectors of another length than the ones seen first count as mismatched, as when streaming.
      this.mismatched += s.count + s.mismatched;
    }
  }

  finish(missing: number): EmbeddingProfile {
    const dimension = this.reservoir?.dimension ?? this.fixedDimension ?? 0;
    const vectors = this.reservoir?.vectors() ?? [];
    const projection =
      this.projection !== undefined
        ? this.projection
        : dimension > this.sampling.projectionDimension
          ? { seed: this.seed, inputDimension: dimension, outputDimension: this.sampling.projectionDimension }
          : null;
    const sample = projection ? projectVectors(vectors, projection) : vectors.map((v) => Array.from(v));
    return { kind: 'embedding', count: this.count, missing: missing + this.mismatched, dimension, projection, sample };
  }
}

/** A seeded Gaussian random projection matrix (rows = output dimensions), scaled by 1/√k. */
export function projectionMatrix(spec: ProjectionSpec): Float64Array {
  const { inputDimension: d, outputDimension: k } = spec;
  const rng = new SeededRandom(spec.seed ^ 0x9e3779b9);
  const m = new Float64Array(k * d);
  const scale = 1 / Math.sqrt(k);
  for (let i = 0; i < m.length; i += 2) {
    // Box–Muller: two standard normals per pair of uniforms.
    const r = Math.sqrt(-2 * Math.log(rng.nextOpen()));
    const t = 2 * Math.PI * rng.next();
    m[i] = r * Math.cos(t) * scale;
    if (i + 1 < m.length) m[i + 1] = r * Math.sin(t) * scale;
  }
  return m;
}

/** Projects vectors with {@link projectionMatrix}. */
export function projectVectors(vectors: ReadonlyArray<ArrayLike<number>>, spec: ProjectionSpec): number[][] {
  const m = projectionMatrix(spec);
  const { inputDimension: d, outputDimension: k } = spec;
  return vectors.map((v) => {
    const out = new Array<number>(k);
    for (let r = 0; r < k; r++) {
      let s = 0;
      const row = r * d;
      for (let c = 0; c < d; c++) s += m[row + c] * v[c];
      out[r] = s;
    }
    return out;
  });
}

/** A stable 32-bit hash of a feature name, so each feature's sampler has its own seed. */
function hashName(name: string, seed: number): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

/** What an accumulator knows about a feature before seeing data (from a schema or a baseline). */
export interface FeatureExpectation {
  readonly kind: FeatureKind;
  /** Reference decile edges: bins are then counted exactly while streaming. */
  readonly edges?: readonly number[];
  /** Embedding length. */
  readonly dimension?: number;
  /** Embedding projection to apply (from the baseline), or null for none. */
  readonly projection?: ProjectionSpec | null;
}

class FeatureTracker {
  nulls = 0;
  private numerical: NumericalAccumulator | undefined;
  private categorical: CategoricalAccumulator | undefined;
  private embedding: EmbeddingAccumulator | undefined;
  /** Inferred categorical values that look like ISO 8601 timestamps, and whether any did not. */
  private timestamps = 0;
  private notTimestamps = false;
  /** Per-phase values (seasonal baselines only). */
  phases: PhaseTracker | undefined;

  constructor(
    readonly name: string,
    private readonly sampling: Sampling,
    private readonly expected?: FeatureExpectation,
  ) {}

  /** Whether any value (usable or not) was added. */
  get seen(): boolean {
    return (
      this.nulls +
        (this.numerical?.count ?? 0) +
        (this.categorical?.count ?? 0) +
        (this.embedding?.count ?? 0) +
        (this.embedding?.mismatched ?? 0) >
      0
    );
  }

  snapshot(): TrackerSnapshot {
    return {
      name: this.name,
      nulls: this.nulls,
      timestamps: this.timestamps,
      notTimestamps: this.notTimestamps,
      numerical: this.numerical?.snapshot() ?? null,
      categorical: this.categorical?.snapshot() ?? null,
      embedding: this.embedding?.snapshot() ?? null,
      phases: this.phases?.snapshot() ?? null,
    };
  }

  /** Adds another part's values of this feature (`random` drives the sample merges). */
  absorb(s: TrackerSnapshot, random: SeededRandom): void {
    this.nulls += s.nulls;
    this.timestamps += s.timestamps;
    this.notTimestamps ||= s.notTimestamps;
    if (s.numerical) {
      (this.numerical ??= new NumericalAccumulator(this.sampling.sampleSize, this.seed(), this.expected?.edges)).absorb(
        s.numerical,
        random,
      );
    }
    if (s.categorical)
      (this.categorical ??= new CategoricalAccumulator(this.sampling.maxCategories)).absorb(s.categorical);
    if (s.embedding) {
      this.embeddingAccumulator().absorb(s.embedding, random);
    }
    if (s.phases) this.phases?.absorb(s.phases, random);
  }

  /** A column whose values are all ISO 8601 timestamps is a time field, not a categorical feature. */
  get isTimestampColumn(): boolean {
    return this.expected === undefined && !this.notTimestamps && this.timestamps > 0;
  }

  /** Adds a value to its hour-of-the-week phase (seasonal baselines). */
  addPhase(phase: number, value: unknown): void {
    const phases = this.phases;
    if (phases === undefined) return;
    const kind = this.expected?.kind;
    if (typeof value === 'number') {
      if (value - value === 0 && (kind === undefined || kind === 'numerical')) phases.addNumber(phase, value);
    } else if (kind === undefined || kind === 'categorical') {
      if (typeof value === 'string') phases.addCategory(phase, value);
      else if (typeof value === 'boolean') phases.addCategory(phase, value ? 'true' : 'false');
    }
  }

  add(value: unknown): void {
    // Hot path: a finite number for a numerical feature.
    if (typeof value === 'number' && value - value === 0 && this.numerical !== undefined) {
      this.numerical.add(value);
      return;
    }
    const fixed = this.expected?.kind;
    const kind = fixed ?? valueKind(value);
    if (kind === null) {
      this.nulls++;
      return;
    }
    const v = fixed ? conformValue(fixed, value) : (value as number | string | number[]);
    if (v === null) {
      this.nulls++;
      return;
    }
    switch (kind) {
      case 'numerical':
        (this.numerical ??= new NumericalAccumulator(this.sampling.sampleSize, this.seed(), this.expected?.edges)).add(
          v as number,
        );
        break;
      case 'categorical':
        if (fixed === undefined && !this.notTimestamps) {
          if (looksLikeTimestamp(v as string)) this.timestamps++;
          else this.notTimestamps = true;
        }
        (this.categorical ??= new CategoricalAccumulator(this.sampling.maxCategories)).add(v as string);
        break;
      case 'embedding':
        this.embeddingAccumulator().add(v as number[]);
        break;
    }
  }

  private seed(): number {
    return hashName(this.name, this.sampling.seed);
  }

  /** The feature's embedding accumulator, created at its first value (or absorbed part). */
  private embeddingAccumulator(): EmbeddingAccumulator {
    return (this.embedding ??= new EmbeddingAccumulator(
      this.sampling.embeddingSampleSize,
      this.seed(),
      this.sampling,
      this.expected?.dimension,
      this.expected?.projection,
    ));
  }

  /** The majority kind's profile; values of other kinds count as missing. */
  finish(records: number): FeatureProfile {
    const counts: Array<[FeatureKind, number]> = [
      ['numerical', this.numerical?.count ?? 0],
      ['categorical', this.categorical?.count ?? 0],
      ['embedding', (this.embedding?.count ?? 0) + (this.embedding?.mismatched ?? 0)],
    ];
    const kind =
      this.expected?.kind ??
      counts.reduce((best, c) => (c[1] > best[1] ? c : best), counts[0] as [FeatureKind, number])[0];
    const present = kind === 'numerical' ? this.numerical : kind === 'categorical' ? this.categorical : this.embedding;
    const used = kind === 'embedding' ? (this.embedding?.count ?? 0) : (present?.count ?? 0);
    const missing = records - used - (kind === 'embedding' ? (this.embedding?.mismatched ?? 0) : 0);
    if (kind === 'numerical') {
      return (this.numerical ?? new NumericalAccumulator(1, 0, this.expected?.edges)).finish(missing);
    }
    if (kind === 'categorical') return (this.categorical ?? new CategoricalAccumulator(1)).finish(missing);
    return (
      this.embedding ??
      new EmbeddingAccumulator(1, 0, this.sampling, this.expected?.dimension, this.expected?.projection)
    ).finish(missing);
  }
}

/**
 * Accumulates records into per-feature profiles in one pass. Without expectations, feature kinds are inferred
 * (number → numerical, string/boolean → categorical, number array → embedding; the majority kind wins and
 * values of other kinds count as missing). With expectations (a schema, or a baseline for the current window),
 * kinds are fixed and numerical bins are counted exactly on the reference edges.
 */
export class ProfileAccumulator {
  /** Records added. */
  records = 0;
  private readonly trackers = new Map<string, FeatureTracker>();
  private readonly fixedFeatures: boolean;
  /** Names seen in records that are not among the expected features (only with fixed features). */
  readonly unexpected = new Set<string>();
  readonly sampling: Sampling;
  /** Fields never profiled (time fields). */
  private readonly skip: ReadonlySet<string>;
  /** Records per hour of the week, when records come with times (see {@link add}). */
  readonly phaseRecords: Float64Array | undefined;
  private readonly seasonal: Required<SeasonalOptions> | undefined;

  constructor(options: ProfileAccumulatorOptions = {}) {
    this.sampling = { ...DEFAULT_SAMPLING, ...options.sampling };
    this.fixedFeatures = options.expectations !== undefined;
    const seasonal = options.seasonal;
    this.seasonal = seasonal && {
      timeField: seasonal.timeField,
      sampleSize: seasonal.sampleSize ?? defaultPhaseSampleSize(this.sampling.sampleSize),
      maxCategories: seasonal.maxCategories ?? 1000,
    };
    this.skip = new Set([...(options.skip ?? []), ...(seasonal ? [seasonal.timeField] : [])]);
    if (seasonal || options.trackPhases) this.phaseRecords = new Float64Array(PHASES_PER_WEEK);
    for (const [name, expectation] of options.expectations ?? []) {
      if (this.skip.has(name)) continue;
      this.trackers.set(name, this.newTracker(name, expectation));
    }
  }

  private newTracker(name: string, expectation?: FeatureExpectation): FeatureTracker {
    const tracker = new FeatureTracker(name, this.sampling, expectation);
    if (this.seasonal && expectation?.kind !== 'embedding') {
      tracker.phases = new PhaseTracker(
        this.seasonal.sampleSize,
        this.seasonal.maxCategories,
        hashName(name, this.sampling.seed),
      );
    }
    return tracker;
  }

  /** Key order of the previous record and its trackers: records of one source share their shape. */
  private shapeKeys: string[] = [];
  private shapeTrackers: Array<FeatureTracker | undefined> = [];

  /**
   * Adds one record. With a time (epoch milliseconds, as the readers' `ReadRecord.time`), the record is also counted
   * in its hour of the week, and a seasonal baseline keeps its values per phase.
   */
  add(record: Readonly<FeatureRecord>, time?: number): void {
    if (time !== undefined && time === time && this.phaseRecords !== undefined) this.addTimed(record, time);
    else this.addRecord(record);
  }

  private addTimed(record: Readonly<FeatureRecord>, time: number): void {
    const phase = hourOfWeek(time);
    this.phaseRecords![phase]++;
    this.addRecord(record);
    if (this.seasonal === undefined) return;
    for (const name in record) this.trackers.get(name)?.addPhase(phase, record[name]);
  }

  /** The trackers of a list of columns (undefined for skipped and, with fixed features, unexpected names). */
  columnTrackers(names: readonly string[]): Array<FeatureTracker | undefined> {
    return names.map((name) => this.trackerFor(name));
  }

  /**
   * Adds one record given as column values (see `RecordSink`) plus the rest of its fields: the columnar path of
   * one-row CSV captures, with no record object per line.
   */
  addColumns(
    trackers: ReadonlyArray<FeatureTracker | undefined>,
    values: readonly FeatureValue[],
    rest: Readonly<FeatureRecord>,
    time: number,
  ): void {
    if (time === time && this.phaseRecords !== undefined) {
      const phase = hourOfWeek(time);
      this.phaseRecords[phase]++;
      if (this.seasonal !== undefined) {
        for (let i = 0; i < trackers.length; i++) trackers[i]?.addPhase(phase, values[i]);
        for (const name in rest) this.trackers.get(name)?.addPhase(phase, rest[name]);
      }
    }
    for (let i = 0; i < trackers.length; i++) {
      const tracker = trackers[i];
      if (tracker !== undefined) tracker.add(values[i]);
    }
    this.addRecord(rest);
  }

  private addRecord(record: Readonly<FeatureRecord>): void {
    this.records++;
    const keys = this.shapeKeys;
    const trackers = this.shapeTrackers;
    let i = 0;
    for (const name in record) {
      if (i < keys.length && keys[i] === name) {
        const known = trackers[i++];
        if (known !== undefined) known.add(record[name]);
        continue;
      }
      // A new shape: rebuild the cache from here on.
      keys.length = i;
      trackers.length = i;
      const tracker = this.trackerFor(name);
      keys.push(name);
      trackers.push(tracker);
      i++;
      if (tracker !== undefined) tracker.add(record[name]);
    }
  }

  private trackerFor(name: string): FeatureTracker | undefined {
    let tracker = this.trackers.get(name);
    if (!tracker) {
      if (this.skip.has(name)) return undefined;
      if (this.fixedFeatures) {
        this.unexpected.add(name);
        return undefined;
      }
      tracker = this.newTracker(name);
      this.trackers.set(name, tracker);
    }
    return tracker;
  }

  /** Per-feature profiles, in first-seen (or expectation) order; timestamp columns are left out. */
  features(): Record<string, FeatureProfile> {
    const out: Record<string, FeatureProfile> = {};
    for (const [name, tracker] of this.trackers) {
      if (tracker.isTimestampColumn) continue;
      out[name] = tracker.finish(this.records);
    }
    return out;
  }

  /** The accumulated state as plain data (typed arrays transferable between threads), see {@link absorb}. */
  snapshot(): AccumulatorSnapshot {
    return {
      records: this.records,
      unexpected: [...this.unexpected],
      phaseRecords: this.phaseRecords ? this.phaseRecords.slice() : null,
      trackers: [...this.trackers.values()].map((t) => t.snapshot()),
    };
  }

  /**
   * Adds the state of an accumulator built with the same options over another part of the data (a chunk of a
   * file, read by a worker). Parts absorbed in the same order give the same result whoever read them; samples are
   * merged into uniform samples of the whole with a generator seeded by `part`.
   */
  absorb(s: AccumulatorSnapshot, part: number): void {
    this.records += s.records;
    for (const name of s.unexpected) this.unexpected.add(name);
    if (this.phaseRecords && s.phaseRecords) {
      for (let i = 0; i < this.phaseRecords.length; i++) this.phaseRecords[i] += s.phaseRecords[i];
    }
    for (const t of s.trackers) {
      const tracker = this.trackerFor(t.name);
      if (!tracker) continue;
      tracker.absorb(
        t,
        new SeededRandom((hashName(t.name, this.sampling.seed) ^ Math.imul(part + 1, 0x9e3779b1)) >>> 0),
      );
    }
  }

  /** Names of the features that received at least one value (usable or not). */
  seenFeatures(): Set<string> {
    return new Set([...this.trackers].filter(([, t]) => t.seen).map(([name]) => name));
  }

  /** Fields never profiled: the configured ones and columns found to hold ISO 8601 timestamps. */
  timeFields(): string[] {
    const found = [...this.trackers].filter(([, t]) => t.isTimestampColumn).map(([name]) => name);
    return [...new Set([...this.skip, ...found])].sort();
  }

  /** The per-phase data of a seasonal baseline (undefined unless built with `seasonal`). */
  seasonalProfile(features: Readonly<Record<string, FeatureProfile>>): SeasonalProfile | undefined {
    if (!this.seasonal || !this.phaseRecords) return undefined;
    const out: SeasonalProfile['features'] = {};
    for (const [name, profile] of Object.entries(features)) {
      const data = this.trackers.get(name)?.phases?.finish(profile.kind);
      if (data) out[name] = data;
    }
    return {
      timeField: this.seasonal.timeField,
      sampleSize: this.seasonal.sampleSize,
      records: Array.from(this.phaseRecords),
      features: out,
    };
  }
}

/** Plain-data state of a numerical feature (see {@link ProfileAccumulator.snapshot}). */
export interface NumericalSnapshot {
  readonly count: number;
  readonly mean: number;
  readonly m2: number;
  readonly min: number;
  readonly max: number;
  readonly seen: number;
  readonly sample: Float64Array;
  readonly bins: Float64Array | null;
}

/** Plain-data state of a categorical feature. */
export interface CategoricalSnapshot {
  readonly count: number;
  readonly keys: string[];
  readonly values: number[];
}

/** Plain-data state of an embedding feature. */
export interface EmbeddingSnapshot {
  readonly count: number;
  readonly mismatched: number;
  readonly dimension: number;
  readonly seen: number;
  readonly flat: Float64Array;
}

/** Plain-data state of one feature. */
export interface TrackerSnapshot {
  readonly name: string;
  readonly nulls: number;
  readonly timestamps: number;
  readonly notTimestamps: boolean;
  readonly numerical: NumericalSnapshot | null;
  readonly categorical: CategoricalSnapshot | null;
  readonly embedding: EmbeddingSnapshot | null;
  readonly phases: PhaseSnapshot | null;
}

/** Plain-data state of a {@link ProfileAccumulator}. */
export interface AccumulatorSnapshot {
  readonly records: number;
  readonly unexpected: string[];
  readonly phaseRecords: Float64Array | null;
  readonly trackers: TrackerSnapshot[];
}

/** The typed arrays of a snapshot, to transfer rather than copy between threads. */
export function transferables(s: AccumulatorSnapshot): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (a: Float64Array | null | undefined) => {
    if (a && a.buffer instanceof ArrayBuffer) out.add(a.buffer);
  };
  add(s.phaseRecords);
  for (const t of s.trackers) {
    add(t.numerical?.sample);
    add(t.numerical?.bins);
    add(t.embedding?.flat);
    for (const p of t.phases?.numbers ?? []) add(p?.sample);
    add(t.phases?.numberCounts);
    add(t.phases?.categoryCounts);
  }
  return [...out];
}

/**
 * A record sink (`readers`' `RecordSink`) adding to an accumulator; one-row CSV captures with the named columns
 * `columns` arrive as column values and skip the record object.
 */
export function accumulatorSink(
  acc: ProfileAccumulator,
  columns: readonly string[] | undefined,
): (record: FeatureRecord, time: number, values: readonly FeatureValue[] | undefined) => void {
  let trackers: ReturnType<ProfileAccumulator['columnTrackers']> | undefined;
  return (record, time, values) => {
    if (values !== undefined && columns !== undefined) {
      trackers ??= acc.columnTrackers(columns);
      acc.addColumns(trackers, values, record, time);
    } else acc.add(record, time);
  };
}

/** Options of a {@link ProfileAccumulator}. */
export interface ProfileAccumulatorOptions {
  readonly sampling?: SamplingOptions;
  /** Fixed features (from a schema or a baseline): others are only listed as unexpected. */
  readonly expectations?: ReadonlyMap<string, FeatureExpectation>;
  /** Fields never profiled (time fields). */
  readonly skip?: Iterable<string>;
  /** Keep per-phase data for seasonal comparisons (baselines). */
  readonly seasonal?: SeasonalOptions;
  /** Count records per hour of the week (current windows compared seasonally). */
  readonly trackPhases?: boolean;
}

/** Expectations from a feature schema (kinds and embedding lengths fixed; no edges yet). */
export function expectationsFromSchema(schema: FeatureSchema): Map<string, FeatureExpectation> {
  return new Map(schema.features.map((f) => [f.name, { kind: f.kind, dimension: f.dimension }]));
}

/** Expectations for a current window compared with a baseline: same kinds, reference edges, same projection. */
export function expectationsFromBaseline(baseline: BaselineProfile): Map<string, FeatureExpectation> {
  const out = new Map<string, FeatureExpectation>();
  for (const [name, f] of Object.entries(baseline.features)) {
    if (f.kind === 'numerical') out.set(name, { kind: 'numerical', edges: f.edges });
    else if (f.kind === 'categorical') out.set(name, { kind: 'categorical' });
    else out.set(name, { kind: 'embedding', dimension: f.dimension, projection: f.projection });
  }
  return out;
}

/** Finalizes an accumulator into a baseline profile document. */
export function toBaselineProfile(
  acc: ProfileAccumulator,
  meta: { invalid?: number; source?: string; createdAt?: Date } = {},
): BaselineProfile {
  const features = acc.features();
  const timeFields = acc.timeFields();
  const seasonal = acc.seasonalProfile(features);
  return {
    kind: BASELINE_PROFILE_KIND,
    version: BASELINE_PROFILE_VERSION,
    createdAt: (meta.createdAt ?? new Date()).toISOString(),
    ...(meta.source ? { source: meta.source } : {}),
    records: acc.records,
    invalid: meta.invalid ?? 0,
    sampling: acc.sampling,
    features,
    ...(timeFields.length > 0 ? { timeFields } : {}),
    ...(seasonal ? { seasonal } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Validation of profile documents read from files or S3.

const count = z.number().finite().min(0);
const projectionSchema = z.strictObject({
  seed: z.number().int(),
  inputDimension: z.number().int().positive(),
  outputDimension: z.number().int().positive(),
});
const featureProfileSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('numerical'),
    count,
    missing: count,
    mean: z.number(),
    std: z.number().min(0),
    min: z.number(),
    max: z.number(),
    edges: z.array(z.number().finite()),
    binCounts: z.array(count),
    sample: z.array(z.number().finite()),
  }),
  z.strictObject({ kind: z.literal('categorical'), count, missing: count, counts: z.record(z.string(), count) }),
  z.strictObject({
    kind: z.literal('embedding'),
    count,
    missing: count,
    dimension: z.number().int().min(0),
    projection: projectionSchema.nullable(),
    sample: z.array(z.array(z.number().finite())),
  }),
]);
const baselineProfileSchema = z.strictObject({
  kind: z.literal(BASELINE_PROFILE_KIND),
  version: z.literal(BASELINE_PROFILE_VERSION),
  createdAt: z.string(),
  source: z.string().optional(),
  records: count,
  invalid: count,
  sampling: z.strictObject({
    sampleSize: z.number().int().positive(),
    embeddingSampleSize: z.number().int().positive(),
    maxCategories: z.number().int().positive(),
    projectionDimension: z.number().int().positive(),
    seed: z.number().int(),
  }),
  features: z.record(z.string(), featureProfileSchema),
  timeFields: z.array(z.string()).optional(),
  seasonal: seasonalProfileSchema.optional(),
});

/** Validates a parsed baseline profile; throws an Error naming each invalid field. */
export function parseBaselineProfile(input: unknown): BaselineProfile {
  const parsed = baselineProfileSchema.safeParse(input);
  if (parsed.success) {
    for (const [name, f] of Object.entries(parsed.data.features)) {
      if (f.kind === 'numerical' && f.binCounts.length !== f.edges.length + 1) {
        throw new Error(
          `invalid baseline profile: features.${name}.binCounts must have edges.length + 1 (${f.edges.length + 1}) entries; received ${f.binCounts.length}`,
        );
      }
    }
    return parsed.data as BaselineProfile;
  }
  throw new Error(`invalid baseline profile: ${issuesText(parsed.error, '(document)', 5)}`);
}
