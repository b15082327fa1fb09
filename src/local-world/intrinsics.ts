/**
 * CloudFormation intrinsics resolved the way the local world deploys a template: fixed partition, region and
 * account; the physical names it gave to the resources it created (its DynamoDB tables); recognizable ARNs for the
 * rest. The one resolver of the project's local tools and tests.
 */

type Json = Record<string, unknown>;

/** Fixed values of the pseudo parameters. */
export const FIXED = { partition: 'aws', region: 'us-east-1', account: '123456789012' } as const;

/** How a template's own resources resolve. */
export interface ResolveContext {
  /** Logical ID → resource type (a `Ref` or `GetAtt` of a known type gets that type's name or ARN). */
  readonly types?: Readonly<Record<string, string>>;
  /** Logical ID → physical name of resources the local world created (`Ref` of a table is its name). */
  readonly physicalNames?: Readonly<Record<string, string>>;
}

const arnOf = (service: string, resource: string) =>
  `arn:${FIXED.partition}:${service}:${FIXED.region}:${FIXED.account}:${resource}`;

function ref(id: string, ctx: ResolveContext): string {
  if (id === 'AWS::Partition') return FIXED.partition;
  if (id === 'AWS::Region') return FIXED.region;
  if (id === 'AWS::AccountId') return FIXED.account;
  if (id === 'AWS::URLSuffix') return 'amazonaws.com';
  const physical = ctx.physicalNames?.[id];
  if (physical) return physical;
  const type = ctx.types?.[id];
  // A topic's Ref is its ARN; without the template, topics are recognized by the blueprint's logical ID.
  if (type === 'AWS::SNS::Topic' || (!type && id.startsWith('Notifications'))) return arnOf('sns', id);
  return id;
}

function getAtt(id: string, attr: string, ctx: ResolveContext): string {
  const name = ctx.physicalNames?.[id] ?? id;
  if (attr === 'Arn') {
    switch (ctx.types?.[id]) {
      case 'AWS::Lambda::Function':
        return arnOf('lambda', `function:${name}`);
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        return arnOf('dynamodb', `table/${name}`);
      case 'AWS::IAM::Role':
        return `arn:${FIXED.partition}:iam::${FIXED.account}:role/${name}`;
      default:
    }
  }
  return arnOf('fake', `${id}/${attr}`);
}

/**
 * Resolves the intrinsics of a template value. Imported bucket ARNs become `arn:aws:s3:::<export name in lower
 * case>` and other imports a KMS key ARN named after the export, so that names read back from ARNs are stable.
 */
export function resolveIntrinsics(value: unknown, ctx: ResolveContext = {}): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, ctx));
  const o = value as Json;
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => String(resolveIntrinsics(p, ctx))).join(sep);
  }
  if ('Ref' in o) return ref(String(o.Ref), ctx);
  if ('Fn::GetAtt' in o) {
    const [id, attr] = o['Fn::GetAtt'] as [string, string];
    return getAtt(id, attr, ctx);
  }
  if ('Fn::ImportValue' in o) {
    const name = String(resolveIntrinsics(o['Fn::ImportValue'], ctx));
    return name.endsWith('BucketArn') ? `arn:aws:s3:::${name.toLowerCase()}` : arnOf('kms', `key/${name}`);
  }
  if ('Fn::Select' in o) {
    const [index, list] = o['Fn::Select'] as [number, unknown];
    return (resolveIntrinsics(list, ctx) as unknown[])[index];
  }
  if ('Fn::Split' in o) {
    const [sep, source] = o['Fn::Split'] as [string, unknown];
    return String(resolveIntrinsics(source, ctx)).split(sep);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveIntrinsics(v, ctx)]));
}
