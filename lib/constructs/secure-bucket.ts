import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/** Properties of a {@link SecureBucket}. */
export interface SecureBucketProps {
  /**
   * Customer-managed key for SSE-KMS. Only the access-log bucket may omit it: S3 server access logs cannot be
   * delivered to an SSE-KMS bucket, so that bucket uses SSE-S3.
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
   * @default SSE-S3
   */
  readonly encryptionKey?: kms.IKey;
  /** Where S3 server access logs go. @default no access logs (only for the access-log bucket itself) */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /** Key prefix of this bucket's access logs in the log bucket. @default no prefix */
  readonly serverAccessLogsPrefix?: string;
  /** Lifecycle rules in addition to the noncurrent-version expiry. @default none */
  readonly lifecycleRules?: s3.LifecycleRule[];
  /** Delete noncurrent object versions this long after they become noncurrent. @default Duration.days(30) */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * What happens to the bucket when it leaves the stack. With `DESTROY` its objects are deleted too, so a
   * sandbox tears down cleanly. @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An S3 bucket with the blueprint's baseline: SSE-KMS with a bucket key (or SSE-S3 for log buckets),
 * TLS-only (1.2+) bucket policy, all public access blocked, ACLs disabled, versioning on, noncurrent versions
 * expired, incomplete multipart uploads aborted, server access logs.
 */
export class SecureBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: SecureBucketProps = {}) {
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    super(scope, id, {
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: props.encryptionKey ? true : undefined,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsPrefix,
      lifecycleRules: [
        {
          id: 'housekeeping',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          expiredObjectDeleteMarker: true,
        },
        ...(props.lifecycleRules ?? []),
      ],
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
  }
}
