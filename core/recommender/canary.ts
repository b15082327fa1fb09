/**
 * The online check of a blue/green canary: during the bake, is the canary's click-through rate not worse than the
 * champion's beyond a tolerance? Both versions serve the same traffic in the same window (the consumer counts
 * impressions and clicks per model version, as the model names itself in its answers); the canary is the version
 * with fewer impressions. One-sided test of non-inferiority with a relative margin δ:
 *
 *   H0: p_canary ≥ (1 − δ) · p_champion   against   H1: p_canary < (1 − δ) · p_champion,
 *   z = (p̂_c − (1 − δ) p̂_h) / √(p̂_c(1 − p̂_c)/n_c + (1 − δ)² p̂_h(1 − p̂_h)/n_h),  p = Φ(z).
 *
 * `inferior` (H0 rejected at α) feeds the rollback alarm (`CanaryCtrInferior`). Fewer impressions than
 * `minImpressions` on either side decide nothing. Pure.
 */
import { normalCdf } from '../drift/stats/special';
import type { CtrCounts } from './feature-store';

/** The check's settings. */
export interface CanaryCheckOptions {
  /** Relative CTR loss tolerated (0.1: the canary may be up to 10 % below). @default 0.1 */
  readonly tolerance?: number;
  /** Level of the one-sided test. @default 0.05 */
  readonly alpha?: number;
  /** Impressions each side needs before anything is decided. @default 500 */
  readonly minImpressions?: number;
}

/** The outcome for one window. */
export interface CanaryCheck {
  readonly champion: string;
  readonly canary: string;
  readonly championCtr: number;
  readonly canaryCtr: number;
  readonly impressions: { readonly champion: number; readonly canary: number };
  readonly z: number;
  readonly pValue: number;
  /** The canary is significantly worse than the champion beyond the tolerance. */
  readonly inferior: boolean;
}

const NOT_A_MODEL = new Set(['fallback', 'unknown']);

/** Checks the two model versions that served a window; undefined when fewer than two served enough. */
export function canaryCtrCheck(
  counts: readonly CtrCounts[],
  options: CanaryCheckOptions = {},
): CanaryCheck | undefined {
  const delta = options.tolerance ?? 0.1;
  const alpha = options.alpha ?? 0.05;
  const min = options.minImpressions ?? 500;
  if (!(delta >= 0 && delta < 1)) throw new Error(`tolerance must be in [0, 1); received ${delta}`);
  if (!(alpha > 0 && alpha < 1)) throw new Error(`alpha must be in (0, 1); received ${alpha}`);
  const byVersion = new Map<string, { impressions: number; clicks: number }>();
  for (const c of counts) {
    if (NOT_A_MODEL.has(c.modelVersion)) continue;
    const t = byVersion.get(c.modelVersion) ?? { impressions: 0, clicks: 0 };
    t.impressions += c.impressions;
    t.clicks += c.clicks;
    byVersion.set(c.modelVersion, t);
  }
  const ranked = [...byVersion].sort((a, b) => b[1].impressions - a[1].impressions || (a[0] < b[0] ? -1 : 1));
  if (ranked.length < 2) return undefined;
  const [[champion, h], [canary, c]] = ranked;
  if (h.impressions < min || c.impressions < min) return undefined;
  const ph = Math.min(1, h.clicks / h.impressions);
  const pc = Math.min(1, c.clicks / c.impressions);
  const bound = (1 - delta) * ph;
  const se = Math.sqrt((pc * (1 - pc)) / c.impressions + ((1 - delta) ** 2 * ph * (1 - ph)) / h.impressions);
  const z = se > 0 ? (pc - bound) / se : pc < bound ? -Infinity : 0;
  const pValue = normalCdf(z);
  return {
    champion,
    canary,
    championCtr: ph,
    canaryCtr: pc,
    impressions: { champion: h.impressions, canary: c.impressions },
    z,
    pValue,
    inferior: pValue < alpha,
  };
}
