/**
 * Simulated users with learnable structure, for the local simulation and the end-to-end tests: a catalogue of
 * items in categories (each with its own appeal), users with latent tastes over the categories, organic browsing
 * (views within the user's favourite categories, which gives co-visitation and recent history), and the users'
 * response to a served slate with position bias. A ranker that learns category affinity and co-visitation from the
 * served features measurably beats popularity here; nothing else about a model is scripted.
 *
 * Deterministic for a seed. `drift: true` moves every user's tastes to the neighbouring categories, halves the
 * click-through and moves devices to mobile.
 */
import { createRng, type Rng } from '../../core/drift/stats/random';
import { DEVICES, SURFACES } from '../../core/recommender/contract';
import { weightedPick, ZipfSampler, type SyntheticEvent } from './synthetic';

/** Options of {@link Shoppers}. */
export interface ShopperOptions {
  /** @default 600 */
  readonly items?: number;
  /** @default 8 */
  readonly categories?: number;
  /** @default 400 */
  readonly users?: number;
  /** Zipf exponent of item popularity (organic browsing). @default 0.9 */
  readonly itemSkew?: number;
  /** Zipf exponent of user activity. @default 0.6 */
  readonly userSkew?: number;
  /** Shift tastes, halve clicks, mobile-heavy. @default false */
  readonly drift?: boolean;
  /** @default 7 */
  readonly seed?: number;
}

/** An item of the catalogue. */
export interface CatalogueItem {
  readonly itemId: string;
  readonly category: string;
  /** Appeal in (0, 1]: how likely an interested user clicks it. */
  readonly appeal: number;
}

/** A served slate as the user sees it. */
export interface ShownSlate {
  readonly inferenceId: string;
  readonly modelVersion: string;
  readonly items: readonly string[];
}

/** Examination probability of a position (position bias): users look at the top more. */
export const examination = (position: number): number => 1 / Math.pow(1 + position, 0.7);

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Users, items and their behaviour. */
export class Shoppers {
  readonly items: readonly CatalogueItem[];
  private readonly byId: ReadonlyMap<string, CatalogueItem>;
  private readonly byCategory: ReadonlyMap<string, CatalogueItem[]>;
  private readonly tastes: Float64Array[];
  private readonly userZipf: ZipfSampler;
  private readonly itemZipf: ZipfSampler;
  private readonly rng: Rng;
  private readonly drift: boolean;
  private readonly categories: number;
  private events = 0;

  constructor(options: ShopperOptions = {}) {
    const o = {
      items: 600,
      categories: 12,
      users: 400,
      itemSkew: 0.9,
      userSkew: 0.6,
      drift: false,
      seed: 7,
      ...options,
    };
    // The world (catalogue, tastes) depends on the seed only; behaviour draws come from a second stream.
    const world = createRng(o.seed * 7919 + 1);
    this.rng = createRng(o.seed * 104_729 + (o.drift ? 2 : 3));
    this.drift = o.drift;
    this.categories = o.categories;
    this.items = Array.from({ length: o.items }, (_, k) => ({
      itemId: `item-${pad(k, 6)}`,
      category: `cat-${pad(world.nextInt(o.categories), 2)}`,
      appeal: 0.25 + 0.75 * world.nextFloat(),
    }));
    this.byId = new Map(this.items.map((i) => [i.itemId, i]));
    const byCategory = new Map<string, CatalogueItem[]>();
    for (const item of this.items) byCategory.set(item.category, [...(byCategory.get(item.category) ?? []), item]);
    this.byCategory = byCategory;
    // Each user likes two categories a lot and the rest hardly.
    this.tastes = Array.from({ length: o.users }, () => {
      const t = new Float64Array(o.categories).fill(0.01);
      const first = world.nextInt(o.categories);
      const second = (first + 1 + world.nextInt(o.categories - 1)) % o.categories;
      t[first] = 0.7;
      t[second] = 0.25;
      return t;
    });
    this.userZipf = new ZipfSampler(o.users, o.userSkew);
    this.itemZipf = new ZipfSampler(o.items, o.itemSkew);
  }

  /** The item with this id (undefined for an unknown id). */
  item(itemId: string): CatalogueItem | undefined {
    return this.byId.get(itemId);
  }

  /** How much a user likes a category (drift moves tastes to the next category). */
  taste(userIndex: number, category: string): number {
    const c = Number(category.slice(4));
    const shifted = this.drift ? (c + this.categories - 1) % this.categories : c;
    return this.tastes[userIndex][shifted];
  }

  /** Click probability of an examined item: appeal × interest in its category, halved under drift. */
  attraction(userIndex: number, itemId: string): number {
    const item = this.byId.get(itemId);
    if (!item) return 0;
    return Math.min(1, item.appeal * (0.05 + 0.95 * this.taste(userIndex, item.category))) * (this.drift ? 0.5 : 1);
  }

  /** Number of users. */
  get userCount(): number {
    return this.tastes.length;
  }

  /** The user of an index. */
  userAt(index: number): { index: number; userId: string } {
    return { index, userId: `user-${pad(index, 6)}` };
  }

  /** A user by activity (Zipf). */
  nextUser(): { index: number; userId: string } {
    return this.userAt(this.userZipf.rank(this.rng.nextFloat()));
  }

  /** The request context of a session. */
  nextContext(): { surface: string; device: string } {
    return {
      surface: weightedPick(this.rng, SURFACES, [6, 2, 1, 0.5, 0.5]),
      device: weightedPick(this.rng, DEVICES, this.drift ? [8, 1, 0.5, 0.5] : [4, 4, 1, 1]),
    };
  }

  /**
   * Organic browsing: a few views (and some watches) of items the user finds by themselves — popular items of the
   * categories they like — close together in time (they become recent history and co-visitation pairs).
   */
  browse(
    user: { index: number; userId: string },
    at: Date,
    context: { surface: string; device: string },
  ): SyntheticEvent[] {
    const out: SyntheticEvent[] = [];
    const n = 2 + this.rng.nextInt(3);
    let t = at.getTime();
    for (let k = 0; k < n; k++) {
      const item = this.organicItem(user.index);
      t += 5_000 + this.rng.nextInt(60_000);
      out.push(this.event('view', user.userId, item, new Date(t), { ...context, surface: 'search' }));
      if (this.rng.nextFloat() < 0.3) {
        t += 10_000 + this.rng.nextInt(60_000);
        out.push(
          this.event(
            'watch',
            user.userId,
            item,
            new Date(t),
            { ...context, surface: 'detail' },
            {
              value: Math.round(30 + this.rng.nextFloat() * 1800),
            },
          ),
        );
      }
    }
    return out;
  }

  /**
   * The user's response to a served slate: an impression per item, then for each position an examination (position
   * bias) and a click with the item's attraction; clicks may lead to a watch and rarely a purchase. Every event
   * carries the slate's inference id and model version.
   */
  respond(
    user: { index: number; userId: string },
    slate: ShownSlate,
    at: Date,
    context: { surface: string; device: string },
  ): SyntheticEvent[] {
    const out: SyntheticEvent[] = [];
    const served = { inference_id: slate.inferenceId, model_version: slate.modelVersion };
    let t = at.getTime() + 200;
    slate.items.forEach((itemId, position) => {
      const item = this.byId.get(itemId);
      out.push(this.event('impression', user.userId, itemId, new Date(t), context, { position, ...served }, item));
    });
    slate.items.forEach((itemId, position) => {
      if (this.rng.nextFloat() >= examination(position)) return;
      if (this.rng.nextFloat() >= this.attraction(user.index, itemId)) return;
      const item = this.byId.get(itemId);
      t += 2_000 + this.rng.nextInt(20_000);
      out.push(this.event('click', user.userId, itemId, new Date(t), context, { position, ...served }, item));
      if (this.rng.nextFloat() < 0.5) {
        t += 5_000 + this.rng.nextInt(30_000);
        const value = Math.round(30 + this.rng.nextFloat() * 1800);
        out.push(this.event('watch', user.userId, itemId, new Date(t), context, { value, ...served }, item));
      }
      if (this.rng.nextFloat() < 0.05) {
        t += 5_000 + this.rng.nextInt(30_000);
        const value = Math.round((1 + this.rng.nextFloat() * 49) * 100) / 100;
        out.push(this.event('purchase', user.userId, itemId, new Date(t), context, { value, ...served }, item));
      }
    });
    return out;
  }

  private organicItem(userIndex: number): CatalogueItem {
    // Pick a category by taste, then a popular item in it.
    const weights = Array.from({ length: this.categories }, (_, c) => this.taste(userIndex, `cat-${pad(c, 2)}`));
    const category = `cat-${pad(weightedPick(this.rng, [...weights.keys()], weights), 2)}`;
    const candidates = this.byCategory.get(category) ?? this.items;
    for (let attempt = 0; attempt < 50; attempt++) {
      const item = this.items[this.itemZipf.rank(this.rng.nextFloat())];
      if (item.category === category) return item;
    }
    return candidates[this.rng.nextInt(candidates.length)];
  }

  private event(
    type: string,
    userId: string,
    item: CatalogueItem | string,
    at: Date,
    context: { surface: string; device: string },
    extra: Record<string, string | number> = {},
    known?: CatalogueItem,
  ): SyntheticEvent {
    const it = typeof item === 'string' ? known : item;
    const itemId = typeof item === 'string' ? item : item.itemId;
    return {
      event_id: `ev-${pad(++this.events, 9)}-${this.rng.nextUint32().toString(16)}`,
      event_type: type,
      user_id: userId,
      item_id: itemId,
      event_time: at.toISOString(),
      surface: context.surface,
      device: context.device,
      ...(it ? { category: it.category } : {}),
      ...extra,
    };
  }
}
