import { Aws, Duration, RemovalPolicy, Size, Stack, Token } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag';
import { allowCloudWatchLogs } from './key-policies';
import { SecureBucket } from './secure-bucket';

/** How long data lives in each zone of the lake. */
export interface LakeLifecycle {
  /** Move raw events to S3 Standard-IA after this long (S3 requires at least 30 days). */
  readonly rawInfrequentAccessAfter: Duration;
  /** Delete raw events after this long. */
  readonly rawExpireAfter: Duration;
  /** Delete curated datasets and Athena query results after this long. */
  readonly curatedExpireAfter: Duration;
  /** Delete endpoint data capture after this long. */
  readonly captureExpireAfter: Duration;
  /** Delete noncurrent object versions after this long. */
  readonly noncurrentVersionExpireAfter: Duration;
  /** Delete S3 server access logs after this long. */
  readonly accessLogsExpireAfter: Duration;
}

/** Defaults of {@link LakeLifecycle}. */
export const DEFAULT_LAKE_LIFECYCLE: LakeLifecycle = {
  rawInfrequentAccessAfter: Duration.days(30),
  rawExpireAfter: Duration.days(730),
  curatedExpireAfter: Duration.days(365),
  captureExpireAfter: Duration.days(180),
  noncurrentVersionExpireAfter: Duration.days(30),
  accessLogsExpireAfter: Duration.days(365),
};

/** Properties of a {@link DataLake}. */
export interface DataLakeProps {
  /**
   * Glue database name. Athena SQL refers to it, so it is a readable, query-safe name rather than a generated one.
   * @see https://docs.aws.amazon.com/athena/latest/ug/tables-databases-columns-names.html
   */
  readonly databaseName: string;
  /** Athena workgroup name (the resource type requires one). */
  readonly workGroupName: string;
  /** Retention of each zone. @default DEFAULT_LAKE_LIFECYCLE */
  readonly lifecycle?: Partial<LakeLifecycle>;
  /** Customer-managed key for everything in the lake. @default a new key with yearly rotation */
  readonly encryptionKey?: kms.IKey;
  /** Keep (`RETAIN`) or delete with their objects (`DESTROY`) the key and buckets. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Athena stops a query that scans more than this. @default Size.tebibytes(1) */
  readonly bytesScannedCutoffPerQuery?: Size;
}

/**
 * The encrypted data lake of one case study: a customer-managed KMS key, buckets for raw events, curated
 * datasets, model artifacts and endpoint data capture (each SSE-KMS, TLS-only, private, versioned, with
 * lifecycle rules and access logs), a dedicated access-log bucket, a Glue database and an Athena workgroup
 * whose results are encrypted with the lake key.
 */
export class DataLake extends Construct {
  /** The lake's customer-managed key. */
  public readonly key: kms.IKey;
  /** Destination of every bucket's S3 server access logs (SSE-S3: log delivery does not support SSE-KMS). */
  public readonly accessLogs: s3.Bucket;
  /** Raw events delivered by Firehose, partitioned by date and hour. */
  public readonly raw: s3.Bucket;
  /** Datasets built from the raw events, and Athena query results. */
  public readonly curated: s3.Bucket;
  /** Model artifacts, training checkpoints, baselines and reports. */
  public readonly artifacts: s3.Bucket;
  /** SageMaker endpoint data capture, the drift checker's input. */
  public readonly capture: s3.Bucket;
  /** The Glue database holding the event tables. */
  public readonly database: glue.CfnDatabase;
  /** The Glue database name. */
  public readonly databaseName: string;
  /** Athena workgroup with enforced, encrypted result location. */
  public readonly workGroup: athena.CfnWorkGroup;
  /** The Athena workgroup name (queries name it). */
  public readonly workGroupName: string;
  /** Prefix of Athena query results in the curated bucket. */
  public readonly athenaResultsPrefix = 'athena-results/';

  constructor(scope: Construct, id: string, props: DataLakeProps) {
    super(scope, id);
    const lifecycle: LakeLifecycle = { ...DEFAULT_LAKE_LIFECYCLE, ...props.lifecycle };
    validateLifecycle(lifecycle);
    if (!Token.isUnresolved(props.databaseName) && !/^[a-z][a-z0-9_]{0,254}$/.test(props.databaseName)) {
      throw new Error(
        `databaseName must be lowercase letters, digits and underscores, starting with a letter; received "${props.databaseName}"`,
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    const key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: `ml-blueprint data lake key (${props.databaseName})`,
        enableKeyRotation: true,
        removalPolicy,
        pendingWindow: removalPolicy === RemovalPolicy.DESTROY ? Duration.days(7) : Duration.days(30),
      });
    this.key = key;
    if (key instanceof kms.Key) allowCloudWatchLogs(key);

    this.accessLogs = new SecureBucket(this, 'AccessLogs', {
      removalPolicy,
      noncurrentVersionExpiration: lifecycle.noncurrentVersionExpireAfter,
      lifecycleRules: [{ id: 'expire-logs', expiration: lifecycle.accessLogsExpireAfter }],
    });
    acknowledgeNag(
      this.accessLogs,
      'S1',
      'This is the server access log destination; logging its own access would create a delivery loop.',
    );

    const zone = (zoneId: string, rules: s3.LifecycleRule[]) =>
      new SecureBucket(this, zoneId, {
        encryptionKey: key,
        serverAccessLogsBucket: this.accessLogs,
        serverAccessLogsPrefix: `${zoneId.toLowerCase()}/`,
        noncurrentVersionExpiration: lifecycle.noncurrentVersionExpireAfter,
        lifecycleRules: rules,
        removalPolicy,
      });

    this.raw = zone('Raw', [
      {
        id: 'age-raw-events',
        transitions: [
          { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: lifecycle.rawInfrequentAccessAfter },
        ],
        expiration: lifecycle.rawExpireAfter,
      },
    ]);
    this.curated = zone('Curated', [{ id: 'expire-datasets', expiration: lifecycle.curatedExpireAfter }]);
    // Model artifacts are the registry's source of truth; they are kept as long as the bucket is.
    this.artifacts = zone('Artifacts', []);
    this.capture = zone('Capture', [{ id: 'expire-capture', expiration: lifecycle.captureExpireAfter }]);

    this.databaseName = props.databaseName;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: props.databaseName,
        description: 'ml-blueprint event tables (raw events delivered by Firehose as Parquet)',
      },
    });
    this.database.applyRemovalPolicy(removalPolicy);

    this.workGroupName = props.workGroupName;
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName,
      description: 'Queries over the data lake; results encrypted with the lake key',
      recursiveDeleteOption: removalPolicy === RemovalPolicy.DESTROY,
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: (props.bytesScannedCutoffPerQuery ?? Size.tebibytes(1)).toBytes(),
        resultConfiguration: {
          outputLocation: this.curated.s3UrlForObject(this.athenaResultsPrefix),
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: key.keyArn },
        },
      },
    });
  }

  /** ARN of the Glue Data Catalog. */
  public get catalogArn(): string {
    return Stack.of(this).formatArn({ service: 'glue', resource: 'catalog' });
  }

  /** Lets a grantee read raw events (and decrypt them). */
  public grantReadRaw(grantee: iam.IGrantable): iam.Grant {
    return this.raw.grantRead(grantee);
  }

  /** Lets a grantee write raw events (and encrypt them). */
  public grantWriteRaw(grantee: iam.IGrantable): iam.Grant {
    return this.raw.grantWrite(grantee);
  }

  /** Lets a grantee read and write curated datasets. */
  public grantReadWriteCurated(grantee: iam.IGrantable): iam.Grant {
    return this.curated.grantReadWrite(grantee);
  }

  /** Lets a grantee read endpoint data capture. */
  public grantReadCapture(grantee: iam.IGrantable): iam.Grant {
    return this.capture.grantRead(grantee);
  }
}

function validateLifecycle(l: LakeLifecycle): void {
  const days = (d: Duration) => d.toDays();
  if (days(l.rawInfrequentAccessAfter) < 30) {
    throw new Error(
      `lifecycle.rawInfrequentAccessAfter must be at least 30 days (S3 Standard-IA minimum); received ${days(l.rawInfrequentAccessAfter)} days`,
    );
  }
  if (days(l.rawExpireAfter) <= days(l.rawInfrequentAccessAfter)) {
    throw new Error(
      `lifecycle.rawExpireAfter must be longer than rawInfrequentAccessAfter (${days(l.rawInfrequentAccessAfter)} days); received ${days(l.rawExpireAfter)} days`,
    );
  }
}
