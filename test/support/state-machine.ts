import type { Template } from 'aws-cdk-lib/assertions';

/** Fixed values of the intrinsic functions a state machine definition uses, for local execution. */
export const FIXED = { partition: 'aws', region: 'us-east-1', account: '123456789012' };

/** Resolves CloudFormation intrinsics in a definition with fixed, recognizable values. */
export function resolveIntrinsics(value: unknown): unknown {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return value;
  }
  if (Array.isArray(value)) return value.map(resolveIntrinsics);
  const o = value as Record<string, unknown>;
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => String(resolveIntrinsics(p))).join(sep);
  }
  if ('Ref' in o) {
    const ref = o.Ref as string;
    if (ref === 'AWS::Partition') return FIXED.partition;
    if (ref === 'AWS::Region') return FIXED.region;
    if (ref === 'AWS::AccountId') return FIXED.account;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    return ref.startsWith('Notifications') ? `arn:aws:sns:us-east-1:123456789012:${ref}` : ref;
  }
  if ('Fn::GetAtt' in o) {
    const [id, attr] = o['Fn::GetAtt'] as [string, string];
    return `arn:aws:fake:us-east-1:123456789012:${id}/${attr}`;
  }
  if ('Fn::ImportValue' in o) {
    const name = String(resolveIntrinsics(o['Fn::ImportValue']));
    // Bucket ARNs: arn:aws:s3:::<export-name-in-lowercase>
    return name.endsWith('BucketArn')
      ? `arn:aws:s3:::${name.toLowerCase()}`
      : `arn:aws:kms:us-east-1:123456789012:key/${name}`;
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

/** The (only) state machine definition of a template, parsed, with intrinsics resolved. */
export function stateMachineDefinition(template: Template): Record<string, unknown> {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  if (machines.length !== 1) throw new Error(`expected one state machine; found ${machines.length}`);
  const definition = (machines[0] as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString;
  return JSON.parse(String(resolveIntrinsics(definition))) as Record<string, unknown>;
}
