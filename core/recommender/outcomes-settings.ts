/**
 * The slate-outcome writer's settings from its environment (set by `lib/case-studies/recommender/slate-outcomes.ts`);
 * each missing or invalid variable fails with its name, what was received and what is allowed.
 */
import { DEFAULT_OUTCOMES_PREFIX } from '../drift/quality';
import { quotedTable } from './outcomes';
import type { SlateOutcomeWriterSettings } from './outcomes-writer';

/** Everything the Lambda runs with. */
export interface SlateOutcomeLambdaSettings extends SlateOutcomeWriterSettings {
  readonly caseStudy: string;
  readonly stage: string;
  /** Athena workgroup the statements run in (its result location and encryption are enforced). */
  readonly workGroup: string;
  /** Longest wait for one statement; the query is stopped after it. */
  readonly maxQueryWaitSeconds: number;
}

/** The environment variables, by name. */
export const SLATE_OUTCOME_ENV = [
  'CASE_STUDY',
  'STAGE',
  'ENDPOINT_NAME',
  'ARTIFACTS_BUCKET',
  'OUTCOMES_PREFIX',
  'DATABASE',
  'EVENTS_TABLE',
  'SLATES_TABLE',
  'RAW_BUCKET',
  'SLATES_PREFIX',
  'WORK_GROUP',
  'ATTRIBUTION_MINUTES',
  'DELIVERY_ALLOWANCE_MINUTES',
  'CATCH_UP_HOURS',
  'MAX_QUERY_WAIT_SECONDS',
] as const;

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

function integer(env: Env, name: string, min: number, max: number): number {
  const raw = required(env, name);
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new Error(`environment variable ${name} must be an integer from ${min} to ${max}; received "${raw}"`);
  }
  return value;
}

function matching(env: Env, name: string, pattern: RegExp, what: string): string {
  const value = required(env, name);
  if (!pattern.test(value)) throw new Error(`environment variable ${name} must be ${what}; received "${value}"`);
  return value;
}

const PREFIX = /^(?:[A-Za-z0-9._=-]+\/)+$/;

/** Parses and validates the writer's environment. */
export function slateOutcomeSettingsFromEnv(env: Env): SlateOutcomeLambdaSettings {
  const database = required(env, 'DATABASE');
  const table = (name: string) => {
    try {
      return quotedTable(database, required(env, name));
    } catch (e) {
      throw new Error(`environment variables DATABASE and ${name}: ${(e as Error).message}`);
    }
  };
  const outcomesPrefix = env.OUTCOMES_PREFIX ?? DEFAULT_OUTCOMES_PREFIX;
  if (!PREFIX.test(outcomesPrefix)) {
    throw new Error(
      `environment variable OUTCOMES_PREFIX must be a key prefix ending with "/"; received "${outcomesPrefix}"`,
    );
  }
  // No quote, slash or space: the name goes into the statement's `s3://` destination.
  const bucket = /^[A-Za-z0-9._-]{1,255}$/;
  return {
    caseStudy: required(env, 'CASE_STUDY'),
    stage: required(env, 'STAGE'),
    endpointName: matching(env, 'ENDPOINT_NAME', /^[A-Za-z0-9-]{1,63}$/, 'an endpoint name'),
    artifactsBucket: matching(env, 'ARTIFACTS_BUCKET', bucket, 'a bucket name'),
    outcomesPrefix,
    events: table('EVENTS_TABLE'),
    slates: table('SLATES_TABLE'),
    lake: {
      bucket: matching(env, 'RAW_BUCKET', bucket, 'a bucket name'),
      slatesPrefix: matching(env, 'SLATES_PREFIX', PREFIX, 'a key prefix ending with "/"'),
    },
    workGroup: matching(env, 'WORK_GROUP', /^[A-Za-z0-9._-]{1,128}$/, 'an Athena workgroup name'),
    attributionMinutes: integer(env, 'ATTRIBUTION_MINUTES', 1, 1440),
    deliveryAllowanceMinutes: integer(env, 'DELIVERY_ALLOWANCE_MINUTES', 0, 1440),
    catchUpHours: integer(env, 'CATCH_UP_HOURS', 1, 168),
    maxQueryWaitSeconds: integer(env, 'MAX_QUERY_WAIT_SECONDS', 10, 840),
  };
}
