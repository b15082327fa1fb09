import { z } from 'zod';
import { CASE_STUDY_SPECS } from '../case-studies';
import { planShards, type ShardPlan } from './capacity';
import { ConfigError, describeValue } from './errors';
import {
  blueprintConfigSchema,
  CASE_STUDIES,
  STAGES,
  type CaseStudyName,
  type StageName,
  type ValidatedConfig,
} from './schema';
import { STAGE_PRESETS } from './stages';

/** The configuration of one case study in one stage, validated, with derived values. */
export type BlueprintConfig = ValidatedConfig & {
  /** Shard count and its derivation; `undefined` for on-demand streams. */
  readonly shardPlan?: ShardPlan & { readonly overridden: boolean };
};

/** Overrides for one stage: per case study, or `"*"` for every case study. */
export type ConfigOverrides = Readonly<Record<string, unknown>>;

type Json = Record<string, unknown>;

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge where objects merge and everything else (arrays included) replaces. */
export function deepMerge(...layers: unknown[]): Json {
  const out: Json = {};
  for (const layer of layers) {
    if (!isPlainObject(layer)) continue;
    for (const [key, value] of Object.entries(layer)) {
      out[key] =
        isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key], value) : structuredCloneJson(value);
    }
  }
  return out;
}

function structuredCloneJson(value: unknown): unknown {
  return isPlainObject(value) ? deepMerge(value) : Array.isArray(value) ? value.map(structuredCloneJson) : value;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
}

/** The schema inside optional, nullable and default wrappers. */
function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) {
    s = s.unwrap() as z.ZodType;
  }
  return s;
}

/** Every key the schema allows at a path (optional ones included), or undefined when it is not an object there. */
export function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let s = unwrap(schema);
  for (const key of path) {
    if (s instanceof z.ZodObject) s = unwrap((s.shape as Record<string, z.ZodType>)[String(key)]);
    else if (s instanceof z.ZodArray && typeof key === 'number') s = unwrap(s.element as z.ZodType);
    else return undefined;
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
}

/**
 * Turns zod issues into one line each: field, what is allowed, what was received. An unknown key lists every key
 * the schema allows there (optional ones too), else the keys of the input that were accepted.
 */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  schema: z.ZodType = blueprintConfigSchema,
): string[] {
  return issues.map((issue) => {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const allowed =
        allowedKeysAt(schema, issue.path) ??
        Object.keys(valueAt(input, issue.path) ?? {}).filter((k) => !issue.keys.includes(k));
      return `${path || 'the configuration'} has unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys
        .map((k) => `"${k}"`)
        .join(', ')}; allowed: ${allowed.join(', ')}`;
    }
    return `${path} ${issue.message}; received ${describeValue(valueAt(input, issue.path))}`;
  });
}

/** Parses the `stage` context value; unknown stages fail with the allowed list. */
export function parseStage(raw: unknown): StageName {
  const value = raw === undefined ? 'sandbox' : raw;
  if (typeof value === 'string' && (STAGES as readonly string[]).includes(value)) return value as StageName;
  throw new ConfigError('context', [`stage must be one of: ${STAGES.join(', ')}; received ${describeValue(value)}`]);
}

/** Parses the `caseStudies` context value (`recommender,vision`); default both, order kept, no duplicates. */
export function parseCaseStudies(raw: unknown): CaseStudyName[] {
  if (raw === undefined) return [...CASE_STUDIES];
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [raw];
  const names = items.map((item) => (typeof item === 'string' ? item.trim() : item));
  const bad = names.filter((n) => typeof n !== 'string' || !(CASE_STUDIES as readonly string[]).includes(n));
  if (bad.length > 0 || names.length === 0) {
    throw new ConfigError('context', [
      `caseStudies must be a comma-separated list of: ${CASE_STUDIES.join(', ')}; received ${describeValue(raw)}`,
    ]);
  }
  return [...new Set(names as CaseStudyName[])];
}

/**
 * Parses the `notifyEmail` context value: one address or several separated by commas, each subscribed to the
 * notification topic of every ML stack. Absent or empty: no subscription.
 */
export function parseNotifyEmails(raw: unknown): string[] {
  if (raw === undefined || raw === '') return [];
  const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : [raw];
  const bad = items.filter((e) => typeof e !== 'string' || !/^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/.test(e));
  if (bad.length > 0) {
    throw new ConfigError('context', [
      `notifyEmail must be an email address such as you@example.com (or several, comma-separated); received ${describeValue(raw)}`,
    ]);
  }
  return [...new Set(items as string[])];
}

/** Parses the `overrides` context value: a JSON object (or its string form) keyed by case study or `"*"`. */
export function parseOverrides(raw: unknown): ConfigOverrides {
  if (raw === undefined) return {};
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new ConfigError('context', [
        `overrides must be a JSON object; could not parse it: ${(e as Error).message}`,
      ]);
    }
  }
  if (!isPlainObject(value)) {
    throw new ConfigError('context', [`overrides must be a JSON object; received ${describeValue(value)}`]);
  }
  const allowed = ['*', ...CASE_STUDIES];
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError('context', [
      `overrides must be keyed by case study; unknown key ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${allowed.join(', ')}`,
    ]);
  }
  return value;
}

/**
 * Builds and validates the configuration of one case study in one stage:
 * stage preset ← case-study preset ← overrides["*"] ← overrides[caseStudy].
 * @throws ConfigError naming every invalid field, its value and what is allowed.
 */
export function resolveConfig(
  stage: StageName,
  caseStudy: CaseStudyName,
  overrides: ConfigOverrides = {},
): BlueprintConfig {
  const spec = CASE_STUDY_SPECS[caseStudy];
  const merged = deepMerge(
    STAGE_PRESETS[stage],
    { stage, caseStudy, eventSchema: spec.eventSchema },
    spec.presets[stage],
    overrides['*'],
    overrides[caseStudy],
  );
  const parsed = blueprintConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(`stage "${stage}", case study "${caseStudy}"`, describeIssues(parsed.error.issues, merged));
  }
  const config = parsed.data;
  if (config.ingestion.capacityMode === 'on-demand') return config;
  const plan = planShards(config.ingestion.traffic);
  const override = config.ingestion.shardCount;
  return {
    ...config,
    shardPlan: { ...plan, shardCount: override ?? plan.shardCount, overridden: override !== undefined },
  };
}
