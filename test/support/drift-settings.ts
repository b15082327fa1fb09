import type { DriftCheckerSettings } from '../../core/drift/checker';
import { DEFAULT_POLICY } from '../../core/drift/engine';

/** Drift-checker settings of the sandbox recommender endpoint, as the Lambda would read them; override as needed. */
export function driftCheckerSettings(overrides: Partial<DriftCheckerSettings> = {}): DriftCheckerSettings {
  return {
    caseStudy: 'recommender',
    stage: 'sandbox',
    endpointName: 'mlbp-sandbox-recommender',
    captureBucket: 'capture',
    capturePrefix: 'datacapture/',
    artifactsBucket: 'artifacts',
    baselineKey: 'drift/baselines/mlbp-sandbox-recommender/profile.json',
    reportPrefix: 'drift/reports/',
    statePrefix: 'drift/state/',
    windowMinutes: 60,
    policy: DEFAULT_POLICY,
    retraining: { windowsRequired: 1, windowsConsidered: 1, cooldownHours: 6 },
    ...overrides,
  };
}
