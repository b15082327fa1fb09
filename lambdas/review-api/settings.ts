/** The review Lambdas' settings from their environment, checked once at cold start with one-line errors. */
import { OUTCOMES_PREFIX, type OutcomeDestination } from '../../core/review/outcome';
import { DEFAULT_REVIEW_POLICY, validatePolicy, type ReviewPolicy } from '../../core/review/policy';

/** What the review API and intake read from the environment. */
export interface ReviewEnvSettings {
  readonly tableName: string;
  readonly imagesPrefix: string;
  readonly policy: ReviewPolicy;
  /** The API only: the raw bucket of the images and the image stream of label events. */
  readonly imagesBucket?: string;
  readonly streamArn?: string;
  /** Lifetime of an image URL, in seconds. */
  readonly imageUrlSeconds: number;
  /**
   * The API only: where accepted audit items' outcome records go (the drift checker's outcomes prefix of the
   * artifacts bucket, under the endpoint it checks). Set together or not at all.
   */
  readonly outcomes?: OutcomeDestination;
}

/** The environment variable names, shared with the construct. */
export const REVIEW_ENV = {
  tableName: 'REVIEW_TABLE',
  imagesPrefix: 'IMAGES_PREFIX',
  imagesBucket: 'IMAGES_BUCKET',
  streamArn: 'STREAM_ARN',
  leaseSeconds: 'LEASE_SECONDS',
  auditAgreement: 'AUDIT_AGREEMENT',
  conflictAgreement: 'CONFLICT_AGREEMENT',
  maxVotes: 'MAX_VOTES',
  imageUrlSeconds: 'IMAGE_URL_SECONDS',
  outcomesBucket: 'OUTCOMES_BUCKET',
  outcomesPrefix: 'OUTCOMES_PREFIX',
  outcomesEndpoint: 'OUTCOMES_ENDPOINT',
} as const;

function required(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

function integer(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`environment variable ${name} must be a whole number; received "${raw}"`);
  return Number(raw);
}

/** The outcome destination: bucket and endpoint together (the prefix has the checker's default), or none. */
function outcomesOf(env: Readonly<Record<string, string | undefined>>): OutcomeDestination | undefined {
  const bucket = env[REVIEW_ENV.outcomesBucket] || undefined;
  const endpointName = env[REVIEW_ENV.outcomesEndpoint] || undefined;
  const prefix = env[REVIEW_ENV.outcomesPrefix] || undefined;
  if (!bucket && !endpointName && !prefix) return undefined;
  if (!bucket || !endpointName) {
    const missing = !bucket ? REVIEW_ENV.outcomesBucket : REVIEW_ENV.outcomesEndpoint;
    throw new Error(
      `environment variable ${missing} is required when ${[REVIEW_ENV.outcomesBucket, REVIEW_ENV.outcomesEndpoint, REVIEW_ENV.outcomesPrefix].filter((n) => env[n]).join(' or ')} is set (audit outcomes need a bucket and an endpoint)`,
    );
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(`${REVIEW_ENV.outcomesBucket} must be an S3 bucket name; received "${bucket}"`);
  }
  if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(endpointName)) {
    throw new Error(`${REVIEW_ENV.outcomesEndpoint} must be a SageMaker endpoint name; received "${endpointName}"`);
  }
  const outcomesPrefix = prefix ?? OUTCOMES_PREFIX;
  if (!outcomesPrefix.endsWith('/') || outcomesPrefix.startsWith('/')) {
    throw new Error(
      `${REVIEW_ENV.outcomesPrefix} must end with "/" and not start with "/"; received "${outcomesPrefix}"`,
    );
  }
  return { bucket, prefix: outcomesPrefix, endpointName };
}

/** Reads and validates the settings. */
export function reviewSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): ReviewEnvSettings {
  const d = DEFAULT_REVIEW_POLICY;
  const policy = validatePolicy({
    leaseSeconds: integer(env, REVIEW_ENV.leaseSeconds, d.leaseSeconds),
    agreement: {
      uncertain: d.agreement.uncertain,
      audit: integer(env, REVIEW_ENV.auditAgreement, d.agreement.audit),
      conflict: integer(env, REVIEW_ENV.conflictAgreement, d.agreement.conflict),
    },
    maxVotes: integer(env, REVIEW_ENV.maxVotes, d.maxVotes),
  });
  const imageUrlSeconds = integer(env, REVIEW_ENV.imageUrlSeconds, 300);
  if (imageUrlSeconds < 10 || imageUrlSeconds > 3600) {
    throw new Error(`${REVIEW_ENV.imageUrlSeconds} must be between 10 and 3600 seconds; received ${imageUrlSeconds}`);
  }
  const imagesPrefix = required(env, REVIEW_ENV.imagesPrefix);
  if (!imagesPrefix.endsWith('/')) {
    throw new Error(`${REVIEW_ENV.imagesPrefix} must end with "/"; received "${imagesPrefix}"`);
  }
  return {
    tableName: required(env, REVIEW_ENV.tableName),
    imagesPrefix,
    policy,
    imagesBucket: env[REVIEW_ENV.imagesBucket] || undefined,
    streamArn: env[REVIEW_ENV.streamArn] || undefined,
    imageUrlSeconds,
    outcomes: outcomesOf(env),
  };
}
