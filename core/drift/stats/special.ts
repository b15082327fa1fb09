/**
 * Special functions used by the drift statistics: log-gamma, the regularized incomplete gamma functions, the
 * normal and chi-square tails and the limiting Kolmogorov distribution. Pure TypeScript, double precision,
 * no dependencies. Each function names the scipy function it reproduces; `test/fixtures/drift/stats.json`
 * holds scipy's values for a grid of arguments.
 */

// Hot loops: local bindings avoid repeated global lookups (slow inside vm contexts such as Jest).
const { abs, ceil, exp, log, max, min, pow, sqrt } = Math;

const LOG_SQRT_2PI = 0.5 * log(2 * Math.PI);

/** Stirling-series coefficients B_{2k} / (2k (2k - 1)), k = 1..8. */
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400] as const;

/**
 * Natural logarithm of the gamma function for `x > 0`, matching `scipy.special.gammaln` (relative error about
 * 1e-15). Arguments below 10 are shifted up with the recurrence Γ(x+1) = xΓ(x) and the Stirling series is used
 * from 10 on. Returns `Infinity` at 0 and `NaN` for negative or NaN input (not needed by the drift statistics).
 */
export function logGamma(x: number): number {
  if (Number.isNaN(x) || x < 0) return Number.NaN;
  if (x === 0) return Number.POSITIVE_INFINITY;
  if (x === Number.POSITIVE_INFINITY) return x;
  let shift = 0;
  let z = x;
  if (z < 10) {
    let product = 1;
    while (z < 10) {
      product *= z;
      z += 1;
    }
    shift = log(product);
  }
  const inv = 1 / z;
  const inv2 = inv * inv;
  let series = 0;
  for (let k = STIRLING.length - 1; k >= 0; k--) series = series * inv2 + STIRLING[k];
  return (z - 0.5) * log(z) - z + LOG_SQRT_2PI + series * inv - shift;
}

const GAMMA_EPS = 1e-16;
const GAMMA_TINY = 1e-300;

/** log of x^a e^-x / Γ(a), the common prefactor of both incomplete gamma expansions. */
function gammaPrefactorLog(a: number, x: number): number {
  return a * log(x) - x - logGamma(a);
}

/** Series for P(a, x); converges quickly for x < a + 1. */
function gammaSeries(a: number, x: number): number {
  let ap = a;
  let term = 1 / a;
  let sum = term;
  const maxIter = 10000 + ceil(10 * sqrt(a));
  for (let i = 0; i < maxIter; i++) {
    ap += 1;
    term *= x / ap;
    sum += term;
    if (abs(term) < abs(sum) * GAMMA_EPS) break;
  }
  return sum * exp(gammaPrefactorLog(a, x));
}

/** Continued fraction (modified Lentz) for Q(a, x); converges quickly for x >= a + 1. */
function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / GAMMA_TINY;
  let d = 1 / b;
  let h = d;
  const maxIter = 10000 + ceil(10 * sqrt(a));
  for (let i = 1; i <= maxIter; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (abs(d) < GAMMA_TINY) d = GAMMA_TINY;
    c = b + an / c;
    if (abs(c) < GAMMA_TINY) c = GAMMA_TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (abs(delta - 1) < GAMMA_EPS) break;
  }
  return exp(gammaPrefactorLog(a, x)) * h;
}

function checkGammaArgs(fn: string, a: number, x: number): void {
  if (!(a > 0) || !Number.isFinite(a)) {
    throw new RangeError(`${fn}: argument \`a\` must be a finite number > 0; received ${a}`);
  }
  if (!(x >= 0)) {
    throw new RangeError(`${fn}: argument \`x\` must be a number >= 0; received ${x}`);
  }
}

/**
 * Regularized lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a), matching `scipy.special.gammainc(a, x)`
 * (relative error about 1e-14 for the arguments the drift statistics use). Throws `RangeError` for `a <= 0`,
 * `x < 0` or NaN.
 */
export function regularizedGammaP(a: number, x: number): number {
  checkGammaArgs('regularizedGammaP', a, x);
  if (x === 0) return 0;
  if (x === Number.POSITIVE_INFINITY) return 1;
  if (x < a + 1) return min(1, gammaSeries(a, x));
  return max(0, 1 - gammaContinuedFraction(a, x));
}

/**
 * Regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a) = 1 - P(a, x), matching
 * `scipy.special.gammaincc(a, x)`. Computed directly (not as 1 - P) in the upper tail, so small tail
 * probabilities keep their relative accuracy. Throws `RangeError` for `a <= 0`, `x < 0` or NaN.
 */
export function regularizedGammaQ(a: number, x: number): number {
  checkGammaArgs('regularizedGammaQ', a, x);
  if (x === 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  if (x < a + 1) return max(0, 1 - gammaSeries(a, x));
  return min(1, gammaContinuedFraction(a, x));
}

/**
 * Standard normal survival function P(Z > z), matching `scipy.stats.norm.sf(z)`. Uses
 * erfc(t) = Q(1/2, t²), so the upper tail keeps its relative accuracy (down to the subnormal range).
 * NaN in, NaN out.
 */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z === Number.POSITIVE_INFINITY) return 0;
  if (z === Number.NEGATIVE_INFINITY) return 1;
  const half = 0.5 * regularizedGammaQ(0.5, 0.5 * z * z);
  return z >= 0 ? half : 1 - half;
}

/** Standard normal CDF P(Z <= z), matching `scipy.stats.norm.cdf(z)` (`normalSf(-z)`). */
export function normalCdf(z: number): number {
  return normalSf(-z);
}

/**
 * Standard normal quantile, matching `scipy.stats.norm.ppf(p)`: Acklam's rational approximation refined by two
 * Halley steps on {@link normalCdf} (relative error ~1e-15). ±Infinity at 0 and 1, NaN outside [0, 1].
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = sqrt(-2 * log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = sqrt(-2 * log(1 - p));
    x =
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  for (let i = 0; i < 2; i++) {
    // Halley's method on the tail that keeps relative accuracy.
    const e = p < 0.5 ? normalCdf(x) - p : 1 - p - normalSf(x);
    const u = e * sqrt(2 * Math.PI) * exp((x * x) / 2);
    x = x - u / (1 + (x * u) / 2);
  }
  return x;
}

/**
 * Chi-square survival function P(X > x) for `dof` degrees of freedom, matching `scipy.stats.chi2.sf(x, dof)`
 * (= `gammaincc(dof / 2, x / 2)`). Returns 1 for `x <= 0`. Throws `RangeError` unless `dof > 0`.
 */
export function chiSquareSf(x: number, dof: number): number {
  if (!(dof > 0) || !Number.isFinite(dof)) {
    throw new RangeError(`chiSquareSf: argument \`dof\` must be a finite number > 0; received ${dof}`);
  }
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  return regularizedGammaQ(dof / 2, x / 2);
}

/** Cut-over between the two series of the Kolmogorov distribution (as in scipy's cephes `kolmogorov`). */
const KOLMOG_CUTOVER = 0.82;
/** Below this x the Kolmogorov survival function is 1 to double precision (exp underflows). */
const KOLMOG_MIN_X = Math.PI / sqrt((708 + 38) * 8);

interface KolmogorovProbs {
  readonly sf: number;
  readonly cdf: number;
  readonly pdf: number;
}

function kolmogorovProbs(x: number): KolmogorovProbs {
  if (x <= KOLMOG_MIN_X) return { sf: 1, cdf: 0, pdf: 0 };
  let P = 1;
  let D = 0;
  let sf: number;
  let cdf: number;
  let pdf: number;
  if (x <= KOLMOG_CUTOVER) {
    // u = e^(-pi^2/(8x^2)), w = sqrt(2pi)/x, P = w*u*(1 + u^8 + u^24 + u^48 + ...)
    const w = sqrt(2 * Math.PI) / x;
    const logu8 = (-Math.PI * Math.PI) / (x * x);
    const u = exp(logu8 / 8);
    if (u === 0) {
      P = exp(logu8 / 8 + log(w));
      D = 0;
    } else {
      const u8 = exp(logu8);
      const u8cub = pow(u8, 3);
      P = 1 + u8cub * P;
      D = 5 * 5 + u8cub * D;
      P = 1 + u8 * u8 * P;
      D = 3 * 3 + u8 * u8 * D;
      P = 1 + u8 * P;
      D = 1 * 1 + u8 * D;
      D = ((Math.PI * Math.PI) / 4 / (x * x)) * D - P;
      D *= (w * u) / x;
      P = w * u * P;
    }
    cdf = P;
    sf = 1 - P;
    pdf = D;
  } else {
    // v = e^(-2x^2), P = 2(v - v^4 + v^9 - v^16 + ...)
    const v = exp(-2 * x * x);
    const vsq = v * v;
    const v3 = pow(v, 3);
    let vpwr = v3 * v3 * v;
    P = 1 - vpwr * P;
    D = 3 * 3 - vpwr * D;
    vpwr = v3 * vsq;
    P = 1 - vpwr * P;
    D = 2 * 2 - vpwr * D;
    vpwr = v3;
    P = 1 - vpwr * P;
    D = 1 * 1 - vpwr * D;
    P = 2 * v * P;
    D = 8 * v * x * D;
    sf = P;
    cdf = 1 - sf;
    pdf = D;
  }
  return { sf: clamp01(sf), cdf: clamp01(cdf), pdf: max(0, pdf) };
}

/** Clamps to [0, 1]; NaN stays NaN. */
export function clamp01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/**
 * Survival function of the limiting Kolmogorov distribution, P(K > x) with
 * K = lim sqrt(n) D_n, matching `scipy.special.kolmogorov(x)` (= `scipy.stats.kstwobign.sf(x)`). This is the
 * classical asymptotic two-sided KS p-value `kolmogorov(sqrt(en) * d)`. Note that scipy 1.17's `ks_2samp`
 * asymptotic branch does not use it; it uses `kstwo.sf(d, round(en))` (see {@link kstwoSf} in
 * `ks-distribution.ts`). NaN in, NaN out; 1 for x <= 0.
 */
export function kolmogorov(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  return kolmogorovProbs(x).sf;
}

/** CDF of the limiting Kolmogorov distribution, P(K <= x), matching `scipy.special.kolmogc(x)`. */
export function kolmogorovCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 0;
  return kolmogorovProbs(x).cdf;
}

/**
 * Inverse of {@link kolmogorov}: the x with `kolmogorov(x) = p`, matching `scipy.special.kolmogi(p)` (bracketed
 * Newton iteration, as in scipy's cephes implementation). Returns `Infinity` for p = 0 and 0 for p = 1; throws
 * `RangeError` for p outside [0, 1] or NaN.
 */
export function kolmogi(p: number): number {
  if (!(p >= 0 && p <= 1)) {
    throw new RangeError(`kolmogi: argument \`p\` must be a probability in [0, 1]; received ${p}`);
  }
  const psf = p;
  const pcdf = 1 - p;
  if (pcdf === 0) return 0;
  if (psf === 0) return Number.POSITIVE_INFINITY;
  let a: number;
  let b: number;
  let x: number;
  if (pcdf <= 0.5) {
    const logpcdf = log(pcdf);
    const c = Math.PI / (2 * Math.SQRT2);
    a = c / sqrt(-(logpcdf + logpcdf / 2 - LOG_SQRT_2PI));
    b = c / sqrt(-(logpcdf + 0 - LOG_SQRT_2PI));
    a = c / sqrt(-(logpcdf + log(a) - LOG_SQRT_2PI));
    b = c / sqrt(-(logpcdf + log(b) - LOG_SQRT_2PI));
    x = (a + b) / 2;
  } else {
    const jiggerb = 256 * Number.EPSILON;
    const pba = psf / (1 - exp(-4)) / 2;
    const pbb = (psf * (1 - jiggerb)) / 2;
    a = sqrt(-0.5 * log(pba));
    b = sqrt(-0.5 * log(pbb));
    const q = psf / 2;
    const q2 = q * q;
    const q3 = q * q * q;
    const q0 = q * (1 + q3 * (1 + q3 * (4 + q2 * (-1 + q * (22 + q2 * (-13 + 140 * q))))));
    x = sqrt(-log(q0) / 2);
    if (x < a || x > b) x = (a + b) / 2;
  }
  const withinTol = (u: number, v: number): boolean => abs(u - v) <= Number.EPSILON + 2 * Number.EPSILON * abs(v);
  for (let iter = 0; iter <= 500; iter++) {
    const x0 = x;
    const probs = kolmogorovProbs(x0);
    const df = pcdf < 0.5 ? pcdf - probs.cdf : probs.sf - psf;
    if (df === 0) break;
    if (df > 0 && x > a) a = x;
    else if (df < 0 && x < b) b = x;
    const dfdx = -probs.pdf;
    if (abs(dfdx) <= 0) {
      x = (a + b) / 2;
    } else {
      x = x0 - df / dfdx;
    }
    if (x >= a && x <= b) {
      if (withinTol(x, x0)) break;
      if (x === a || x === b) {
        x = (a + b) / 2;
        if (x === a || x === b) break;
      }
    } else {
      x = (a + b) / 2;
      if (withinTol(x, x0)) break;
    }
  }
  return x;
}
