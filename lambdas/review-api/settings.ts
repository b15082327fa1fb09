/** The review Lambdas' settings from their environment, checked once at cold start with one-line errors. */
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
  };
}
