/**
 * The drift monitor's settings (`drift` in the config schema): windows, thresholds, corrections, seasonality,
 * late records, realised quality and the checker's memory.
 */
import { z } from 'zod';
import { between, positiveInt, fraction } from './validators';

export const driftConfigSchema = z.strictObject({
  /** How often the drift checker runs. */
  scheduleMinutes: between(5, 1440, 'minutes'),
  /** Below this many current records, metrics are reported but no drift is flagged. */
  minWindowSize: positiveInt('records'),
  /** Significance level before multiple-testing correction. */
  alpha: between(0, 1, '(exclusive)', false).refine((a) => a > 0 && a < 1, {
    error: 'must be strictly between 0 and 1',
  }),
  correction: z.enum(['bonferroni', 'benjamini-hochberg'], {
    error: 'must be "bonferroni" or "benjamini-hochberg"',
  }),
  /** Share of drifted features that makes the dataset drift. */
  driftedShareThreshold: fraction(),
  thresholds: z.strictObject({
    psi: between(0, 10, '', false),
    jensenShannon: fraction(),
    wassersteinNormalized: between(0, 100, '(reference standard deviations)', false),
    cramersV: fraction(),
  }),
  /** Retrain only when drift holds in `windowsRequired` of the last `windowsConsidered` windows. */
  windowsRequired: positiveInt('windows'),
  windowsConsidered: positiveInt('windows'),
  /** No retraining request within this long after the last one. */
  cooldownHours: between(0, 720, 'hours'),
  /**
   * A window is checked this long after it ends, once late captures have arrived. In the sandbox it must stay
   * within the five minutes `npm run simulate` waits after a window.
   */
  settleMinutes: between(0, 1440, 'minutes'),
  /**
   * Compare each window with the baseline's records at the same hour of day (`daily`) or hour of week
   * (`weekly`), UTC, when the baseline was built with a time field; `none` compares with the whole baseline.
   * See docs/drift-statistics.md.
   */
  seasonality: z.enum(['none', 'daily', 'weekly'], { error: 'must be "none", "daily" or "weekly"' }),
  /**
   * Per feature or signal (`ctr.*` patterns allowed): its seasonality, and which change counts — `decrease`
   * alarms on drops only (the default for `ctr.*` and `output.confidence`), `both` on any change.
   * @default none
   */
  features: z
    .record(
      z.string().min(1),
      z.strictObject({
        seasonality: z.enum(['none', 'daily', 'weekly']).optional(),
        direction: z.enum(['both', 'decrease', 'increase']).optional(),
      }),
    )
    .optional(),
  /** A checked window that receives more than `share` late records is checked again (report versioned). */
  late: z.strictObject({
    share: fraction(),
    /** Windows are watched for late records this long after they end. */
    horizonHours: between(1, 168, 'hours'),
  }),
  /** Realised quality (served model's CTR, nDCG@10, audit accuracy) from outcome records. */
  quality: z.strictObject({
    /** A window's quality is judged this long after it ends (labels arrive later than captures). */
    settleMinutes: between(0, 10_080, 'minutes'),
    /**
     * Length of a quality window when it differs from the drift window: a day suits audit labels, which are few
     * and come after a daily review. @default the drift window (`scheduleMinutes`)
     */
    windowMinutes: between(5, 10_080, 'minutes').optional(),
    /** Smallest relative drop that counts (with a significant one-sided test). */
    relativeDrop: fraction(),
    /** Fewest samples (slates, impressions, labels) for a drop to count. */
    minSamples: positiveInt('samples'),
    /** Without a quality baseline, the reference is the pooled preceding windows. */
    referenceWindows: between(1, 720, 'windows'),
  }),
  /**
   * Memory of the checker function: Lambda gives one vCPU per 1,769 MB (up to 6 at 10,240 MB), and the checker
   * reads capture objects on every vCPU. @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
   */
  checkerMemoryMiB: between(1769, 10_240, 'MB'),
});
