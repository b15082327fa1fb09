/** Image consumer settings from the Lambda environment, validated (the ingestion policy is one JSON variable). */
import { z } from 'zod';
import type { ImageConsumerSettings } from './image-consumer';
import { issuesText } from '../contracts/issues';

const policySchema = z.strictObject({
  contentTypes: z.array(z.string()).min(1),
  minBytes: z.number().int().min(0),
  maxBytes: z.number().int().positive(),
  maxPixels: z.number().int().positive(),
  knownSources: z.array(z.string()).min(1),
  imagesPrefix: z.string(),
});

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

/**
 * Reads and validates the settings; throws naming the variable and the problem. `PREDICTION_LOG_BUCKET` (with
 * `PREDICTIONS_PREFIX` and `DEFERRED_PREFIX`) turns on the prediction log for active learning and the backfill.
 */
export function consumerSettingsFromEnv(env: NodeJS.ProcessEnv): ImageConsumerSettings {
  let json: unknown;
  try {
    json = JSON.parse(required(env, 'INGEST_POLICY'));
  } catch (e) {
    throw new Error(`environment variable INGEST_POLICY is not valid JSON: ${(e as Error).message}`);
  }
  const policy = policySchema.safeParse(json);
  if (!policy.success) {
    throw new Error(`environment variable INGEST_POLICY is invalid: ${issuesText(policy.error)}`);
  }
  const threshold = Number(required(env, 'CONFIDENCE_THRESHOLD'));
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new Error(
      `environment variable CONFIDENCE_THRESHOLD must be from 0 to 1; received "${env.CONFIDENCE_THRESHOLD}"`,
    );
  }
  const logBucket = env.PREDICTION_LOG_BUCKET;
  return {
    ...(logBucket
      ? {
          predictionLog: {
            bucket: logBucket,
            predictionsPrefix: required(env, 'PREDICTIONS_PREFIX'),
            deferredPrefix: required(env, 'DEFERRED_PREFIX'),
          },
        }
      : {}),
    endpointName: required(env, 'ENDPOINT_NAME'),
    imagesBucket: required(env, 'IMAGES_BUCKET'),
    quarantinePrefix: required(env, 'QUARANTINE_PREFIX'),
    statsBucket: required(env, 'STATS_BUCKET'),
    statsPrefix: required(env, 'STATS_PREFIX'),
    policy: policy.data,
    confidenceThreshold: threshold,
  };
}
