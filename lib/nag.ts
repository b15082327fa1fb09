import { Stack, Token, Validations } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag AwsSolutions finding on one construct, fully qualified as the plugin reports it
 * (`AwsSolutions::AwsSolutions-IAM5[Action::s3:List*]`). Put it on the narrowest construct and give a reason a
 * reviewer would accept.
 */
export function acknowledgeNag(construct: IConstruct, finding: string, reason: string): void {
  Validations.of(construct).acknowledge({ id: `AwsSolutions::AwsSolutions-${finding}`, reason });
}

/**
 * How cdk-nag names an ARN in IAM5 findings: `<LogicalId.Arn>` for an attribute of a resource of the same stack,
 * `<AWS::AccountId>` (and the like) for a reference, the export name for an imported value, literals as they are,
 * and the parts of a joined value in order (e.g. an ARN built from the stack's partition, region and account).
 */
export function nagArnName(scope: IConstruct, arn: string): string {
  if (!Token.isUnresolved(arn)) return arn;
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    if (part && typeof part === 'object') {
      const o = part as Record<string, unknown>;
      if (typeof o.Ref === 'string') return `<${o.Ref}>`;
      const getAtt = o['Fn::GetAtt'];
      if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
      const sub = o['Fn::Sub'];
      if (typeof sub === 'string') return sub.replace(/\$\{([^}]+)\}/g, '<$1>');
      const imported = o['Fn::ImportValue'];
      if (typeof imported === 'string') return imported;
      const join = o['Fn::Join'];
      if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
        return (join[1] as unknown[]).map(render).join(join[0]);
      }
    }
    throw new Error(`cannot name ARN ${JSON.stringify(part)} for a cdk-nag acknowledgement`);
  };
  return render(Stack.of(scope).resolve(arn));
}

/** What an S3 grant gave a principal, for {@link acknowledgeBucketGrants}. */
export interface BucketGrantScope {
  readonly bucket: s3.IBucket;
  /** Key prefixes the grants were limited to (the grants end them with `*`). */
  readonly prefixes: readonly string[];
  /** `grantPut`/`grantWrite` or `grantReadWrite` was used too. */
  readonly write?: 'put' | 'read-write';
  /** The bucket is SSE-KMS: the grants include the key. */
  readonly encrypted?: boolean;
}

/**
 * Acknowledges, finding by finding, the wildcards that the aws-cdk-lib S3 grants put in a principal's policy:
 * action families (`s3:GetObject*` …) and object-key patterns under the granted prefixes. Each is scoped to the one
 * bucket (and its key) that was granted.
 */
export function acknowledgeBucketGrants(policy: IConstruct, grants: readonly BucketGrantScope[]): void {
  const actions = new Map<string, string>([
    ['s3:GetObject*', 'S3 read grant (GetObject, versions, tags) limited to the granted bucket prefixes.'],
    ['s3:GetBucket*', 'S3 read grant: bucket location and settings of the granted bucket only.'],
    ['s3:List*', 'S3 read grant: listing the granted bucket only (needed to find objects under a prefix).'],
  ]);
  for (const g of grants) {
    if (g.write === 'put' || g.write === 'read-write') {
      actions.set('s3:Abort*', 'S3 write grant: aborting its own multipart uploads in the granted bucket prefixes.');
    }
    if (g.write === 'read-write') {
      actions.set('s3:DeleteObject*', 'S3 read/write grant limited to the granted bucket prefixes.');
    }
    if (g.encrypted) {
      actions.set('kms:GenerateDataKey*', 'Writing SSE-KMS objects needs data keys; scoped to the bucket key.');
      actions.set(
        'kms:ReEncrypt*',
        'Part of the KMS encrypt grant that goes with SSE-KMS writes; scoped to the bucket key.',
      );
    }
    const arn = nagArnName(policy, g.bucket.bucketArn);
    for (const prefix of g.prefixes) {
      acknowledgeNag(
        policy,
        `IAM5[Resource::${arn}/${prefix}*]`,
        `Objects under the ${prefix || 'root'} prefix of one bucket, which this principal owns the use of.`,
      );
    }
  }
  for (const [action, reason] of actions) acknowledgeNag(policy, `IAM5[Action::${action}]`, reason);
}
