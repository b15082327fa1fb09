import { Match, type Template } from 'aws-cdk-lib/assertions';
import { synthesize, synthesizedStage, type SynthesizedStage } from '../../support/synth';

let sandbox: SynthesizedStage;
let production: SynthesizedStage;
let sbx: Template;
let prd: Template;

beforeAll(() => {
  sandbox = synthesizedStage('sandbox');
  production = synthesizedStage('production');
  sbx = sandbox.template('Sandbox-Recommender-Data');
  prd = production.template('Production-Recommender-Data');
});

type Resources = Record<string, { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string }>;
const resources = (t: Template, type: string): Resources => t.findResources(type) as Resources;

/** The four lake buckets encrypted with the lake key (everything but the access-log bucket). */
function lakeBuckets(t: Template): Resources {
  return Object.fromEntries(
    Object.entries(resources(t, 'AWS::S3::Bucket')).filter(([id]) => !id.startsWith('DataLakeAccessLogs')),
  );
}

describe('stack naming and selection', () => {
  test('stack names carry the stage and the case study', () => {
    expect(sandbox.stackNames).toEqual(expect.arrayContaining(['Sandbox-Recommender-Data', 'Sandbox-Vision-Data']));
    expect(production.stackNames.filter((name) => name.endsWith('-Data'))).toEqual([
      'Production-Recommender-Data',
      'Production-Vision-Data',
    ]);
  });

  test('one case study can be synthesized alone', () => {
    const only = synthesize('sandbox', { caseStudies: ['vision'] });
    expect(only.caseStudies.map((c) => c.data.stackName)).toEqual(['Sandbox-Vision-Data']);
  });

  test('production stacks are termination-protected, sandbox stacks are not', () => {
    expect(production.stackNames.every((name) => production.stack(name).terminationProtection)).toBe(true);
    expect(sandbox.stackNames.some((name) => sandbox.stack(name).terminationProtection)).toBe(false);
  });
});

describe('KMS', () => {
  test.each([['sandbox'], ['production']])('%s: one customer-managed key with rotation', (stage) => {
    const t = stage === 'sandbox' ? sbx : prd;
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('CloudWatch Logs may use the key only for this account’s log groups', () => {
    sbx.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudWatchLogsOfThisAccount',
            Principal: { Service: 'logs.us-east-1.amazonaws.com' },
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  test('key is retained in production and deleted in sandbox', () => {
    prd.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    sbx.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });
});

describe('S3 buckets', () => {
  test('raw, curated, artifacts and capture buckets plus one access-log bucket', () => {
    sbx.resourceCountIs('AWS::S3::Bucket', 5);
    expect(Object.keys(lakeBuckets(sbx)).sort()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DataLakeRaw/),
        expect.stringMatching(/^DataLakeCurated/),
        expect.stringMatching(/^DataLakeArtifacts/),
        expect.stringMatching(/^DataLakeCapture/),
      ]),
    );
  });

  test.each([['sandbox'], ['production']])(
    '%s: lake buckets use SSE-KMS with the lake key and a bucket key',
    (stage) => {
      const t = stage === 'sandbox' ? sbx : prd;
      const keyId = Object.keys(resources(t, 'AWS::KMS::Key'))[0];
      for (const bucket of Object.values(lakeBuckets(t))) {
        expect(bucket.Properties?.BucketEncryption).toEqual({
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
              },
            },
          ],
        });
      }
    },
  );

  test('the access-log bucket uses SSE-S3 (log delivery cannot write SSE-KMS)', () => {
    const logs = Object.entries(resources(sbx, 'AWS::S3::Bucket')).find(([id]) => id.startsWith('DataLakeAccessLogs'));
    expect(logs?.[1].Properties?.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  test('every bucket blocks public access, disables ACLs and is versioned', () => {
    for (const bucket of Object.values(resources(prd, 'AWS::S3::Bucket'))) {
      expect(bucket.Properties?.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties?.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties?.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    }
  });

  test('every bucket policy denies non-TLS and TLS < 1.2 requests', () => {
    const policies = resources(prd, 'AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(5);
    for (const policy of Object.values(policies)) {
      const statements = policy.Properties?.PolicyDocument.Statement as Array<Record<string, any>>;
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          expect.objectContaining({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      );
    }
  });

  test('lake buckets log access to the access-log bucket under their own prefix', () => {
    const logBucketId = Object.keys(resources(sbx, 'AWS::S3::Bucket')).find((id) =>
      id.startsWith('DataLakeAccessLogs'),
    );
    const prefixes = Object.values(lakeBuckets(sbx)).map((b) => {
      expect(b.Properties?.LoggingConfiguration?.DestinationBucketName).toEqual({ Ref: logBucketId });
      return b.Properties?.LoggingConfiguration?.LogFilePrefix;
    });
    expect(prefixes.sort()).toEqual(['artifacts/', 'capture/', 'curated/', 'raw/']);
  });

  test('raw events move to Standard-IA then expire; noncurrent versions and uploads are cleaned up', () => {
    prd.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { LogFilePrefix: 'raw/' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'housekeeping',
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }),
          Match.objectLike({
            Id: 'age-raw-events',
            Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
            ExpirationInDays: 730,
          }),
        ]),
      },
    });
    sbx.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { LogFilePrefix: 'capture/' },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 30 })]) },
    });
  });

  test('production retains buckets; sandbox deletes them with their objects', () => {
    for (const bucket of Object.values(resources(prd, 'AWS::S3::Bucket'))) expect(bucket.DeletionPolicy).toBe('Retain');
    for (const bucket of Object.values(resources(sbx, 'AWS::S3::Bucket'))) expect(bucket.DeletionPolicy).toBe('Delete');
    sbx.resourceCountIs('Custom::S3AutoDeleteObjects', 5);
    prd.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });
});

describe('Kinesis stream', () => {
  test('encrypted with the lake key', () => {
    const keyId = Object.keys(resources(sbx, 'AWS::KMS::Key'))[0];
    sbx.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    });
  });

  test('sandbox: one provisioned shard, 24 h retention', () => {
    sbx.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      RetentionPeriodHours: 24,
      ShardCount: 1,
    });
  });

  test('production: provisioned from the capacity plan, 7-day retention', () => {
    prd.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      ShardCount: 3,
      RetentionPeriodHours: 168,
    });
    production.template('Production-Vision-Data').hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 1 });
  });

  test('a shard-count override reaches the template', () => {
    const b = synthesize('production', {
      caseStudies: ['recommender'],
      overrides: { recommender: { ingestion: { shardCount: 12 } } },
    });
    b.template('Production-Recommender-Data').hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 12 });
  });
});

describe('Firehose delivery', () => {
  test('reads the stream and writes date/hour partitions and a typed error prefix to the raw bucket', () => {
    const rawId = Object.keys(resources(sbx, 'AWS::S3::Bucket')).find((id) => id.startsWith('DataLakeRaw'));
    const streamId = Object.keys(resources(sbx, 'AWS::Kinesis::Stream'))[0];
    sbx.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: { KinesisStreamARN: { 'Fn::GetAtt': [streamId, 'Arn'] } },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: { 'Fn::GetAtt': [rawId, 'Arn'] },
        Prefix: 'events/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
        ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/',
      }),
    });
  });

  test('encrypts delivered objects with the lake key and logs errors', () => {
    const keyId = Object.keys(resources(sbx, 'AWS::KMS::Key'))[0];
    sbx.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: { 'Fn::GetAtt': [keyId, 'Arn'] } } },
        CloudWatchLoggingOptions: Match.objectLike({ Enabled: true }),
      }),
    });
  });

  test('converts JSON to Snappy Parquet with the Glue table schema', () => {
    sbx.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        DataFormatConversionConfiguration: Match.objectLike({
          Enabled: true,
          SchemaConfiguration: Match.objectLike({
            DatabaseName: 'ml_blueprint_sandbox_recommender',
            TableName: { Ref: Match.stringLikeRegexp('^EventTable') },
          }),
          InputFormatConfiguration: { Deserializer: { HiveJsonSerDe: Match.objectLike({}) } },
          OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
        }),
      }),
    });
  });

  test.each([
    ['sandbox', 60, 64],
    ['production', 300, 128],
  ])('%s: buffering from config (%i s, %i MiB)', (stage, seconds, mib) => {
    (stage === 'sandbox' ? sbx : prd).hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BufferingHints: { IntervalInSeconds: seconds, SizeInMBs: mib },
      }),
    });
  });

  test('the delivery log group is encrypted with the lake key, with a retention', () => {
    sbx.hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeKey[0-9A-F]{8}$'), 'Arn'] },
      RetentionInDays: 30,
    });
  });
});

describe('Glue catalog and Athena', () => {
  test('a Parquet table with date/hour partition projection matching the Firehose prefix', () => {
    sbx.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: 'ml_blueprint_sandbox_recommender',
      TableInput: Match.objectLike({
        Name: 'interaction_events',
        PartitionKeys: [Match.objectLike({ Name: 'dt' }), Match.objectLike({ Name: 'hour' })],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.hour.type': 'integer',
          'projection.hour.digits': '2',
          'storage.location.template': {
            'Fn::Join': [
              '',
              ['s3://', { Ref: Match.stringLikeRegexp('^DataLakeRaw') }, '/events/dt=${dt}/hour=${hour}/'],
            ],
          },
        }),
        StorageDescriptor: Match.objectLike({
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        }),
      }),
    });
  });

  test('table columns come from the event schema of each case study', () => {
    const columns = (t: Template) =>
      (
        Object.values(resources(t, 'AWS::Glue::Table'))[0].Properties?.TableInput.StorageDescriptor.Columns as Array<{
          Name: string;
          Type: string;
        }>
      ).map((c) => `${c.Name}:${c.Type}`);
    expect(columns(sbx)).toEqual(
      expect.arrayContaining(['event_id:string', 'user_id:string', 'item_id:string', 'event_time:timestamp']),
    );
    expect(columns(sandbox.template('Sandbox-Vision-Data'))).toEqual(
      expect.arrayContaining(['image_key:string', 'content_type:string', 'size_bytes:bigint', 'label:string']),
    );
  });

  test('the Athena workgroup enforces KMS-encrypted results in the curated bucket', () => {
    sbx.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 1099511627776,
        ResultConfiguration: {
          OutputLocation: Match.objectLike({
            'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^DataLakeCurated') }, '/athena-results/']],
          }),
          EncryptionConfiguration: {
            EncryptionOption: 'SSE_KMS',
            KmsKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataLakeKey[0-9A-F]{8}$'), 'Arn'] },
          },
        },
      }),
      RecursiveDeleteOption: true,
    });
    prd.hasResourceProperties('AWS::Athena::WorkGroup', { RecursiveDeleteOption: false });
  });
});

describe('stable logical IDs of stateful resources', () => {
  // Renaming any of these replaces a bucket, key, stream or table: data loss in production.
  const pinned: Array<[string, string]> = [
    ['AWS::KMS::Key', 'DataLakeKey6ACD72F9'],
    ['AWS::S3::Bucket', 'DataLakeAccessLogs1DA51325'],
    ['AWS::S3::Bucket', 'DataLakeRaw1F82835B'],
    ['AWS::S3::Bucket', 'DataLakeCuratedD6D7CE2D'],
    ['AWS::S3::Bucket', 'DataLakeArtifactsB270B651'],
    ['AWS::S3::Bucket', 'DataLakeCaptureC9A6B1EF'],
    ['AWS::Kinesis::Stream', 'Events948F067E'],
    ['AWS::Glue::Database', 'DataLakeDatabase9214E306'],
    ['AWS::Glue::Table', 'EventTable3F3CD4B2'],
    ['AWS::KinesisFirehose::DeliveryStream', 'Delivery202F2198'],
  ];
  test.each(['Production-Recommender-Data', 'Production-Vision-Data', 'Sandbox-Recommender-Data'])('%s', (name) => {
    const t = (name.startsWith('Production') ? production : sandbox).template(name);
    for (const [type, id] of pinned) expect(Object.keys(resources(t, type))).toContain(id);
  });
});

describe('snapshots (normalized)', () => {
  test.each([
    ['sandbox', 'Sandbox-Recommender-Data'],
    ['sandbox', 'Sandbox-Vision-Data'],
    ['production', 'Production-Recommender-Data'],
    ['production', 'Production-Vision-Data'],
  ])('%s %s', (stage, name) => {
    expect((stage === 'sandbox' ? sandbox : production).template(name).toJSON()).toMatchSnapshot();
  });
});
