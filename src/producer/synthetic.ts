/**
 * Synthetic recommender traffic: users and items with realistic skew (Zipf item popularity and user activity),
 * sessions of impressions with position-biased clicks, then views, watches and purchases. Deterministic for a seed.
 * `drift: true` shifts the distribution (the popular items change, clicks drop, the device mix moves to mobile) so
 * the drift checker and the CTR signal can be exercised. Used by `npm run produce` and the local simulation.
 */
import { createRng, type Rng } from '../../core/drift/stats/random';
import { DEVICES, SURFACES } from '../../core/recommender/features';

/** One of `values`, drawn with probability proportional to its weight (one `nextFloat` of `rng`). */
export function weightedPick<T>(rng: Rng, values: readonly T[], weights: readonly number[]): T {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.nextFloat() * total;
  for (let i = 0; i < values.length; i++) {
    u -= weights[i];
    if (u < 0) return values[i];
  }
  return values[values.length - 1];
}

/** Options of the generator. */
export interface SyntheticOptions {
  /** @default 10_000 */
  readonly items?: number;
  /** @default 50_000 */
  readonly users?: number;
  /** Zipf exponent of item popularity. @default 1.1 */
  readonly itemSkew?: number;
  /** Zipf exponent of user activity. @default 0.8 */
  readonly userSkew?: number;
  /** Items shown per session. @default 5 */
  readonly slate?: number;
  /** Shift the distribution. @default false */
  readonly drift?: boolean;
  /** @default 42 */
  readonly seed?: number;
  /** Event time source. @default () => new Date() */
  readonly clock?: () => Date;
}

/** An interaction event as the stream carries it (see core/contracts/events.ts). */
export type SyntheticEvent = Record<string, string | number>;

/** Samples ranks 0..n-1 with P(rank) ∝ 1 / (rank + 1)^s, by binary search on the cumulative distribution. */
export class ZipfSampler {
  private readonly cdf: Float64Array;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer; received ${n}`);
    if (!(s > 0)) throw new RangeError(`s must be positive; received ${s}`);
    this.cdf = new Float64Array(n);
    let total = 0;
    for (let k = 0; k < n; k++) {
      total += 1 / Math.pow(k + 1, s);
      this.cdf[k] = total;
    }
    for (let k = 0; k < n; k++) this.cdf[k] /= total;
  }

  /** A rank for a uniform draw u in [0, 1). */
  rank(u: number): number {
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Probability of a rank. */
  probability(rank: number): number {
    return this.cdf[rank] - (rank > 0 ? this.cdf[rank - 1] : 0);
  }
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The catalogue category of an item id (one of 8, stable). */
export function categoryOf(itemId: string): string {
  let h = 0;
  for (const ch of itemId) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `cat-${pad(h % 8, 2)}`;
}

function uuid(rng: Rng): string {
  const hex = Array.from({ length: 4 }, () => rng.nextUint32().toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** An endless, deterministic stream of interaction events. */
export class SyntheticTraffic {
  private readonly rng: Rng;
  private readonly items: ZipfSampler;
  private readonly users: ZipfSampler;
  private readonly queue: SyntheticEvent[] = [];
  private readonly o: Required<Omit<SyntheticOptions, 'clock'>> & { clock: () => Date };

  constructor(options: SyntheticOptions = {}) {
    this.o = {
      items: 10_000,
      users: 50_000,
      itemSkew: 1.1,
      userSkew: 0.8,
      slate: 5,
      drift: false,
      seed: 42,
      clock: () => new Date(),
      ...options,
    };
    this.rng = createRng(this.o.seed);
    this.items = new ZipfSampler(this.o.items, this.o.itemSkew);
    this.users = new ZipfSampler(this.o.users, this.o.userSkew);
  }

  /** Item id of a popularity rank; under drift the ranking is rotated by a third of the catalogue. */
  itemOfRank(rank: number): string {
    const shifted = this.o.drift ? (rank + Math.floor(this.o.items / 3)) % this.o.items : rank;
    return `item-${pad(shifted, 6)}`;
  }

  /** The next event. */
  next(): SyntheticEvent {
    if (this.queue.length === 0) this.session();
    return this.queue.shift() as SyntheticEvent;
  }

  /** The next `n` events. */
  take(n: number): SyntheticEvent[] {
    return Array.from({ length: n }, () => this.next());
  }

  private session(): void {
    const rng = this.rng;
    const now = this.o.clock();
    const user = `user-${pad(this.users.rank(rng.nextFloat()), 7)}`;
    const surface = weightedPick(this.rng, SURFACES, [6, 2, 1, 0.5, 0.5]);
    const device = weightedPick(this.rng, DEVICES, this.o.drift ? [8, 1, 0.5, 0.5] : [4, 4, 1, 1]);
    const sessionId = uuid(rng);
    const inferenceId = uuid(rng);
    const shown = new Set<number>();
    while (shown.size < Math.min(this.o.slate, this.o.items)) shown.add(this.items.rank(rng.nextFloat()));
    const base = {
      user_id: user,
      surface,
      device,
      session_id: sessionId,
      inference_id: inferenceId,
    };
    let t = now.getTime();
    const at = () => new Date((t += 50 + rng.nextInt(2000))).toISOString();
    [...shown].forEach((rank, position) => {
      const item_id = this.itemOfRank(rank);
      // The item's catalogue category travels with its events (category affinity, docs/event-schemas.md).
      const item = { item_id, category: categoryOf(item_id) };
      this.queue.push({ event_id: uuid(rng), event_type: 'impression', ...item, event_time: at(), position, ...base });
      // Position bias × item appeal (popular items are clicked more); drift halves the click-through.
      const appeal = 0.08 + 0.12 / Math.sqrt(rank + 1);
      const pClick = (appeal / (1 + position * 0.5)) * (this.o.drift ? 0.5 : 1);
      if (rng.nextFloat() >= pClick) return;
      this.queue.push({ event_id: uuid(rng), event_type: 'click', ...item, event_time: at(), position, ...base });
      if (rng.nextFloat() < 0.6) {
        this.queue.push({ event_id: uuid(rng), event_type: 'view', ...item, event_time: at(), ...base });
      }
      if (rng.nextFloat() < 0.3) {
        const value = Math.round(30 + rng.nextFloat() * 3600);
        this.queue.push({ event_id: uuid(rng), event_type: 'watch', ...item, event_time: at(), value, ...base });
      }
      if (rng.nextFloat() < 0.05) {
        const value = Math.round((1 + rng.nextFloat() * 49) * 100) / 100;
        this.queue.push({ event_id: uuid(rng), event_type: 'purchase', ...item, event_time: at(), value, ...base });
      }
    });
  }
}
