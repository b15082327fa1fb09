import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Attribute DynamoDB TTL deletes expired items by (epoch seconds). */
export const FEATURE_TTL_ATTRIBUTE = 'expiresAt';

/** Properties of a {@link FeatureStore}. */
export interface FeatureStoreProps {
  /** Customer-managed key of the table (user and item ids are personal data). */
  readonly encryptionKey: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Refuse to delete the table through the API. @default true when removalPolicy is RETAIN */
  readonly deletionProtection?: boolean;
}

/**
 * The recommender's real-time feature store: one on-demand DynamoDB table (`pk`, `sk`) encrypted with a
 * customer-managed key, point-in-time recovery on, items expiring by TTL on `expiresAt`. The item layout is
 * documented in `core/recommender/feature-store.ts`.
 *
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
 */
export class FeatureStore extends Construct {
  /** The table. */
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: FeatureStoreProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.table = new dynamodb.Table(this, 'Resource', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: FEATURE_TTL_ATTRIBUTE,
      removalPolicy,
      deletionProtection: props.deletionProtection ?? removalPolicy === RemovalPolicy.RETAIN,
    });
  }

  /** Read access (and decrypt) for serving and the drift checker. */
  public grantReadData(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadData(grantee);
  }

  /** Read/write access (and the key) for the stream consumer and the serving function. */
  public grantReadWriteData(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadWriteData(grantee);
  }

  /** Throttled requests on the table (all operations). */
  public metricThrottledRequests(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.table.metricThrottledRequestsForOperations({ period: Duration.minutes(5), ...props });
  }
}
