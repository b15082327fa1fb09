/**
 * What the simulation takes from the synthesized sandbox templates: per case study, the stream, the consumer's
 * batch size and settings, the feature table, the drift checker's settings, the buckets, the lock table and the
 * retraining state machine definition (intrinsics resolved to fixed, recognizable values).
 */
import { synthesizeStacks, type CfnResource, type StackTemplate } from '../cost/assembly';
import type { CaseStudyName } from '../../lib/config';

type Json = Record<string, unknown>;

/** Fixed values of the intrinsics a template uses, for local execution. */
export const FIXED = { partition: 'aws', region: 'us-east-1', account: '123456789012' };

/** Resolves CloudFormation intrinsics with fixed values: imported bucket ARNs become `arn:aws:s3:::<export name>`. */
export function resolveIntrinsics(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(resolveIntrinsics);
  const o = value as Json;
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => String(resolveIntrinsics(p))).join(sep);
  }
  if ('Ref' in o) {
    const ref = String(o.Ref);
    if (ref === 'AWS::Partition') return FIXED.partition;
    if (ref === 'AWS::Region') return FIXED.region;
    if (ref === 'AWS::AccountId') return FIXED.account;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    return ref.startsWith('Notifications') ? `arn:aws:sns:${FIXED.region}:${FIXED.account}:${ref}` : ref;
  }
  if ('Fn::GetAtt' in o) {
    const [id, attr] = o['Fn::GetAtt'] as [string, string];
    return `arn:aws:fake:${FIXED.region}:${FIXED.account}:${id}/${attr}`;
  }
  if ('Fn::ImportValue' in o) {
    const name = String(resolveIntrinsics(o['Fn::ImportValue']));
    return name.endsWith('BucketArn')
      ? `arn:aws:s3:::${name.toLowerCase()}`
      : `arn:aws:kms:${FIXED.region}:${FIXED.account}:key/${name}`;
  }
  if ('Fn::Select' in o) {
    const [index, list] = o['Fn::Select'] as [number, unknown];
    return (resolveIntrinsics(list) as unknown[])[index];
  }
  if ('Fn::Split' in o) {
    const [sep, source] = o['Fn::Split'] as [string, unknown];
    return String(resolveIntrinsics(source)).split(sep);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveIntrinsics(v)]));
}

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
  /** Key schema and name of the feature table (recommender). */
  readonly featureTable?: { name: string; keys: Array<{ name: string; type: 'HASH' | 'RANGE' }> };
  /** Key schema and name of the retraining lock table. */
  readonly lockTable: { name: string; keys: Array<{ name: string; type: 'HASH' | 'RANGE' }> };
  /** Bucket names (raw, curated, artifacts, capture). */
  readonly buckets: { raw: string; curated: string; artifacts: string; capture: string };
  readonly endpointName: string;
  /** The retraining state machine definition. */
  readonly definition: Json;
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
  const machine = props(only(ml, 'AWS::StepFunctions::StateMachine')[1]);
  const [lockId, lock] = only(ml, 'AWS::DynamoDB::GlobalTable', 'RetrainingLockTable');
  // Table names are generated at deploy time; locally each stack's lock table gets its own name.
  const lockName = `${ml.stackName}-${lockId}`;
  const definition = JSON.parse(String(machine.DefinitionString).split(`"${lockId}"`).join(`"${lockName}"`)) as Json;
  const consumerEnv = envOf(ml, consumerPrefix);
  let featureTable: CaseStudyBlueprint['featureTable'];
  if (caseStudy === 'recommender') {
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
    lockTable: { name: lockName, keys: keysOf(props(lock)) },
    buckets: { raw, curated: raw.replace(/rawbucketarn$/, 'curatedbucketarn'), artifacts, capture },
    endpointName: driftEnv.ENDPOINT_NAME,
    definition,
  };
}

/** Synthesizes the sandbox stage once, in-process (no bundling, no cdk-nag), and extracts every case study. */
export function synthesizeSandbox(caseStudies: readonly CaseStudyName[]): CaseStudyBlueprint[] {
  const stacks = synthesizeStacks('sandbox', { caseStudies });
  return caseStudies.map((c) => caseStudyBlueprint(c, stacks));
}
