import { Fn } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { DataPlaneExports } from './data-stack';

/**
 * The data plane of a case study as seen from another stack: imported by export name, with the lake key attached
 * so that grants on buckets and stream include the key permissions.
 */
export class ImportedDataPlane extends Construct {
  public readonly key: kms.IKey;
  public readonly raw: s3.IBucket;
  public readonly curated: s3.IBucket;
  public readonly artifacts: s3.IBucket;
  public readonly capture: s3.IBucket;
  public readonly stream: kinesis.IStream;

  constructor(scope: Construct, id: string, exports: DataPlaneExports) {
    super(scope, id);
    this.key = kms.Key.fromKeyArn(this, 'LakeKey', Fn.importValue(exports.lakeKeyArn));
    const bucket = (name: string, exportName: string) =>
      s3.Bucket.fromBucketAttributes(this, name, { bucketArn: Fn.importValue(exportName), encryptionKey: this.key });
    this.raw = bucket('Raw', exports.rawBucketArn);
    this.curated = bucket('Curated', exports.curatedBucketArn);
    this.artifacts = bucket('Artifacts', exports.artifactsBucketArn);
    this.capture = bucket('Capture', exports.captureBucketArn);
    this.stream = kinesis.Stream.fromStreamAttributes(this, 'Stream', {
      streamArn: Fn.importValue(exports.streamArn),
      encryptionKey: this.key,
    });
  }
}
