/**
 * Drift checker settings from the Lambda environment, validated: bucket names and prefixes as plain variables,
 * the drift and retraining policies as one JSON variable written at synth time from the stage config.
 */
import { z } from 'zod';
import { DEFAULT_POLICY, EFFECTS_BY_KIND, type DriftPolicy } from './engine';
import { DEFAULT_LATE_POLICY, type DriftCheckerSettings } from './checker';
import { DEFAULT_QUALITY_SETTINGS } from './checker-quality';
import { DEFAULT_SEASONAL_POLICY } from './seasonal';
import { issuesText } from '../contracts/issues';

const fraction = z.number().min(0).max(1);
const seasonality = z.enum(['none', 'daily', 'weekly']);
const direction = z.enum(['both', 'decrease', 'increase']);
const effects = [...new Set(Object.values(EFFECTS_BY_KIND).flat())] as [string, ...string[]];

/** The `DRIFT_POLICY` variable. */
export const policyDocumentSchema = z.strictObject({
  alpha: z.number().gt(0).lt(1),
  correction: z.enum(['bonferroni', 'benjamini-hochberg']),
  driftedShareThreshold: fraction,
  minWindowSize: z.number().int().positive(),
  thresholds: z.strictObject({
    psi: z.number().min(0),
    jensenShannon: fraction,
    wassersteinNormalized: z.number().min(0),
    cramersV: fraction,
    mmd2: z.number().min(0).optional(),
    proportionRelativeChange: z.number().min(0).optional(),
  }),
  features: z
    .record(
      z.string(),
      z.strictObject({
        effect: z.enum(effects).optional(),
        threshold: z.number().min(0).optional(),
        key: z.boolean().optional(),
        direction: direction.optional(),
        seasonality: seasonality.optional(),
      }),
    )
    .optional(),
  /** Seasonal comparison of every feature unless its rule says otherwise. */
  seasonality: seasonality.optional(),
  seasonal: z
    .strictObject({
      minReferenceRecords: z.number().int().positive().optional(),
      maxBandHours: z.number().int().min(0).max(84).optional(),
    })
    .optional(),
  /** A window is checked once it ended this long ago. */
  settleMinutes: z.number().int().min(0).max(1440).optional(),
  /** Re-check a window when late records exceed this share; watch windows this long. */
  late: z.strictObject({ share: fraction, horizonHours: z.number().int().min(1).max(168) }).optional(),
  /** Realised quality: when a window's labels have settled, and what counts as a drop. */
  quality: z
    .strictObject({
      settleMinutes: z.number().int().min(0).max(10_080).optional(),
      windowMinutes: z.number().int().min(5).max(10_080).optional(),
      relativeDrop: fraction.optional(),
      minSamples: z.number().int().positive().optional(),
      referenceWindows: z.number().int().positive().max(720).optional(),
    })
    .optional(),
  retraining: z.strictObject({
    windowsRequired: z.number().int().positive(),
    windowsConsidered: z.number().int().positive(),
    cooldownHours: z.number().min(0),
  }),
});

/** The JSON document in `DRIFT_POLICY`. */
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

/** Reads and validates the settings; throws naming the variable and the problem. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): DriftCheckerSettings {
  let json: unknown;
  try {
    json = JSON.parse(required(env, 'DRIFT_POLICY'));
  } catch (e) {
    throw new Error(`environment variable DRIFT_POLICY is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = policyDocumentSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`environment variable DRIFT_POLICY is invalid: ${issuesText(parsed.error)}`);
  }
  const doc = parsed.data;
  const policy: DriftPolicy = {
    ...DEFAULT_POLICY,
    alpha: doc.alpha,
    correction: doc.correction,
    driftedShareThreshold: doc.driftedShareThreshold,
    minWindowSize: doc.minWindowSize,
    thresholds: { ...DEFAULT_POLICY.thresholds, ...doc.thresholds },
    features: doc.features as DriftPolicy['features'],
    ...(doc.seasonality ? { seasonality: doc.seasonality } : {}),
    ...(doc.seasonal ? { seasonal: { ...DEFAULT_SEASONAL_POLICY, ...doc.seasonal } } : {}),
  };
  const quality = doc.quality ?? {};
  const windowMinutes = Number(required(env, 'WINDOW_MINUTES'));
  if (!Number.isInteger(windowMinutes) || windowMinutes < 1) {
    throw new Error(`environment variable WINDOW_MINUTES must be a positive integer; received "${env.WINDOW_MINUTES}"`);
  }
  const endpointName = required(env, 'ENDPOINT_NAME');
  return {
    caseStudy: required(env, 'CASE_STUDY'),
    stage: required(env, 'STAGE'),
    endpointName,
    captureBucket: required(env, 'CAPTURE_BUCKET'),
    capturePrefix: env.CAPTURE_PREFIX ?? 'datacapture/',
    ...(env.EXTRA_CAPTURE_PREFIX ? { extraPrefix: env.EXTRA_CAPTURE_PREFIX } : {}),
    artifactsBucket: required(env, 'ARTIFACTS_BUCKET'),
    baselineKey: env.BASELINE_KEY ?? `drift/baselines/${endpointName}/profile.json`,
    reportPrefix: env.REPORT_PREFIX ?? 'drift/reports/',
    statePrefix: env.STATE_PREFIX ?? 'drift/state/',
    windowMinutes,
    policy,
    retraining: doc.retraining,
    settleMinutes: doc.settleMinutes ?? 0,
    late: doc.late ?? DEFAULT_LATE_POLICY,
    quality: {
      outcomesPrefix: env.OUTCOMES_PREFIX ?? DEFAULT_QUALITY_SETTINGS.outcomesPrefix,
      settleMinutes: quality.settleMinutes ?? DEFAULT_QUALITY_SETTINGS.settleMinutes,
      ...(quality.windowMinutes !== undefined ? { windowMinutes: quality.windowMinutes } : {}),
      referenceWindows: quality.referenceWindows ?? DEFAULT_QUALITY_SETTINGS.referenceWindows,
      policy: {
        ...DEFAULT_QUALITY_SETTINGS.policy,
        alpha: doc.alpha,
        correction: doc.correction,
        ...(quality.relativeDrop !== undefined ? { relativeDrop: quality.relativeDrop } : {}),
        ...(quality.minSamples !== undefined ? { minSamples: quality.minSamples } : {}),
      },
    },
  };
}
