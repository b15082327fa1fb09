/**
 * What the simulation takes from the synthesized sandbox templates: per case study, the stream, the consumer's
 * batch size and settings, the feature table, the drift checker's settings, the buckets (intrinsics resolved to
 * fixed, recognizable values), and the ML stack's template, which the local world deploys (lock table, state
 * machine).
 */
import { synthesizeStacks, type CfnResource, type StackTemplate } from '../synth/assembly';
import { resolveIntrinsics } from '../local-world/intrinsics';
import type { TemplateLike } from '../local-world/world';
import type { CaseStudyName, ConfigOverrides } from '../../lib/config';
import { VISION_SIMULATION_OVERRIDES } from './vision';

type Json = Record<string, unknown>;

/** One case study's resources, as the simulation needs them. */
export interface CaseStudyBlueprint {
  readonly caseStudy: CaseStudyName;
  readonly dataStack: string;
  readonly mlStack: string;
  /** Local stream name (the stream's name is generated at deploy time). */
  readonly streamName: string;
  /** Provisioned shard count, or 2 locally for an on-demand stream. */
  readonly shards: number;
  readonly streamMode: string;
  /** Batch size of the stream consumer's event source mapping. */
  readonly batchSize: number;
  /** Environment of the stream consumer function (recommender) or image consumer (vision). */
  readonly consumerEnv: Record<string, string>;
  /** Environment of the drift checker function. */
  readonly driftEnv: Record<string, string>;
  /** Environment of the `recommend` API function (recommender). */
  readonly servingEnv?: Record<string, string>;
  /** The Glue database of the lake tables (`ml_blueprint_<stage>_<case>`). */
  readonly databaseName: string;
  /** Key schema and name of the feature table (recommender). */
  readonly featureTable?: { name: string; keys: Array<{ name: string; type: 'HASH' | 'RANGE' }> };
  /** Bucket names (raw, curated, artifacts, capture). */
  readonly buckets: { raw: string; curated: string; artifacts: string; capture: string };
  readonly endpointName: string;
  /** The ML stack's template: the local world deploys it (lock table, state machine). */
  readonly mlTemplate: TemplateLike;
}

const find = (stack: StackTemplate, type: string, idPrefix?: string): Array<[string, CfnResource]> =>
  Object.entries(stack.resources).filter(([id, r]) => r.Type === type && (!idPrefix || id.startsWith(idPrefix)));

function only(stack: StackTemplate, type: string, idPrefix?: string): [string, CfnResource] {
  const found = find(stack, type, idPrefix);
  if (found.length !== 1) {
    throw new Error(
      `${stack.stackName}: expected one ${type}${idPrefix ? ` ${idPrefix}*` : ''}; found ${found.length}`,
    );
  }
  return found[0];
}

const props = (r: CfnResource): Json => resolveIntrinsics(r.Properties ?? {}) as Json;

function envOf(stack: StackTemplate, idPrefix: string): Record<string, string> {
  const [, fn] = only(stack, 'AWS::Lambda::Function', idPrefix);
  const env = (props(fn).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

function keysOf(p: Json): Array<{ name: string; type: 'HASH' | 'RANGE' }> {
  return (p.KeySchema as Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>).map((k) => ({
    name: k.AttributeName,
    type: k.KeyType,
  }));
}

/** Extracts a case study's blueprint from its synthesized Data and ML stacks. */
export function caseStudyBlueprint(caseStudy: CaseStudyName, stacks: readonly StackTemplate[]): CaseStudyBlueprint {
  const data = stacks.find((s) => s.caseStudy === caseStudy && s.stackName.endsWith('-Data'));
  const ml = stacks.find((s) => s.caseStudy === caseStudy && s.stackName.endsWith('-ML'));
  if (!data || !ml) throw new Error(`no Data and ML stacks for ${caseStudy}`);
  const stream = props(only(data, 'AWS::Kinesis::Stream')[1]);
  const mode = String((stream.StreamModeDetails as Json | undefined)?.StreamMode ?? 'PROVISIONED');
  const consumerPrefix = caseStudy === 'recommender' ? 'RecommenderServingConsumerFunction' : 'VisionIngestionFunction';
  const [consumerId] = only(ml, 'AWS::Lambda::Function', consumerPrefix);
  const mappings = find(ml, 'AWS::Lambda::EventSourceMapping').filter(([, r]) => props(r).FunctionName === consumerId);
  if (mappings.length !== 1) throw new Error(`${ml.stackName}: expected one event source mapping of ${consumerId}`);
  const mapping = props(mappings[0][1]);
  const driftEnv = envOf(ml, 'DriftMonitorFunction');
  const consumerEnv = envOf(ml, consumerPrefix);
  let featureTable: CaseStudyBlueprint['featureTable'];
  let servingEnv: Record<string, string> | undefined;
  if (caseStudy === 'recommender') {
    servingEnv = envOf(ml, 'RecommenderServingApiFunction');
    const [id, table] = only(ml, 'AWS::DynamoDB::Table', 'RecommenderServingFeatures');
    featureTable = { name: id, keys: keysOf(props(table)) };
  }
  const capture = driftEnv.CAPTURE_BUCKET;
  const artifacts = driftEnv.ARTIFACTS_BUCKET;
  const raw = caseStudy === 'recommender' ? consumerEnv.RAW_BUCKET : consumerEnv.IMAGES_BUCKET;
  return {
    caseStudy,
    dataStack: data.stackName,
    mlStack: ml.stackName,
    streamName: `${data.stackName}-Events`,
    streamMode: mode,
    shards: mode === 'ON_DEMAND' ? 2 : Number(stream.ShardCount ?? 1),
    batchSize: Number(mapping.BatchSize ?? 100),
    consumerEnv,
    driftEnv,
    featureTable,
    servingEnv,
    databaseName: String((props(only(data, 'AWS::Glue::Database')[1]).DatabaseInput as Json).Name),
    buckets: { raw, curated: raw.replace(/rawbucketarn$/, 'curatedbucketarn'), artifacts, capture },
    endpointName: driftEnv.ENDPOINT_NAME,
    mlTemplate: { Resources: ml.resources },
  };
}

/**
 * What the simulation changes in the sandbox: the vision model sized for a CPU (see
 * `VISION_SIMULATION_OVERRIDES`); the recommender is the sandbox's own.
 */
export const SIMULATION_OVERRIDES: ConfigOverrides = { vision: VISION_SIMULATION_OVERRIDES };

/** Synthesizes the sandbox stage once, in-process (no bundling, no cdk-nag), and extracts every case study. */
export function synthesizeSandbox(
  caseStudies: readonly CaseStudyName[],
  overrides: ConfigOverrides = SIMULATION_OVERRIDES,
): CaseStudyBlueprint[] {
  const stacks = synthesizeStacks('sandbox', { caseStudies, overrides });
  return caseStudies.map((c) => caseStudyBlueprint(c, stacks));
}
