import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DataLake } from '../../../lib/constructs/data-lake';
import { EventStream } from '../../../lib/constructs/event-stream';
import { EventTable } from '../../../lib/constructs/event-table';
import { LakeDelivery } from '../../../lib/constructs/lake-delivery';
import { INTERACTION_EVENT_SCHEMA } from '../../../core/contracts/events';

function stack() {
  return new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
}

describe('construct validation', () => {
  test('EventStream rejects retention outside 24–8760 hours', () => {
    const s = stack();
    const encryptionKey = new kms.Key(s, 'K');
    expect(() => new EventStream(s, 'A', { encryptionKey, retention: Duration.hours(12) })).toThrow(
      'retention must be between 24 and 8760 hours; received 12',
    );
    expect(() => new EventStream(s, 'B', { encryptionKey, retention: Duration.days(400) })).toThrow(
      'retention must be between 24 and 8760 hours; received 9600',
    );
  });

  test('EventStream rejects a non-positive shard count', () => {
    const s = stack();
    expect(
      () =>
        new EventStream(s, 'A', {
          encryptionKey: new kms.Key(s, 'K'),
          capacity: { mode: 'provisioned', shardCount: 0 },
        }),
    ).toThrow('capacity.shardCount must be a positive integer; received 0');
  });

  test('DataLake rejects an IA transition under 30 days and expiry before it', () => {
    expect(
      () =>
        new DataLake(stack(), 'L', {
          databaseName: 'db',
          workGroupName: 'wg',
          lifecycle: { rawInfrequentAccessAfter: Duration.days(10) },
        }),
    ).toThrow('lifecycle.rawInfrequentAccessAfter must be at least 30 days (S3 Standard-IA minimum); received 10 days');
    expect(
      () =>
        new DataLake(stack(), 'L', {
          databaseName: 'db',
          workGroupName: 'wg',
          lifecycle: { rawExpireAfter: Duration.days(30) },
        }),
    ).toThrow('lifecycle.rawExpireAfter must be longer than rawInfrequentAccessAfter (30 days); received 30 days');
  });

  test('DataLake rejects a database name Athena cannot query', () => {
    expect(() => new DataLake(stack(), 'L', { databaseName: 'My-Lake', workGroupName: 'wg' })).toThrow(
      /databaseName must be lowercase letters, digits and underscores.*received "My-Lake"/,
    );
  });

  test('EventTable rejects an empty schema and a bad prefix', () => {
    const s = stack();
    const database = new glue.CfnDatabase(s, 'D', { catalogId: '123456789012', databaseInput: { name: 'db' } });
    const bucket = new s3.Bucket(s, 'B');
    const empty = { ...INTERACTION_EVENT_SCHEMA, fields: [] };
    expect(() => new EventTable(s, 'T1', { database, databaseName: 'db', bucket, schema: empty })).toThrow(
      'schema "interaction" has no fields; an event table needs at least one column',
    );
    expect(
      () =>
        new EventTable(s, 'T2', {
          database,
          databaseName: 'db',
          bucket,
          schema: INTERACTION_EVENT_SCHEMA,
          prefix: 'events',
        }),
    ).toThrow('prefix must end with "/" and not start with "/"; received "events"');
  });

  test('LakeDelivery rejects buffering outside the Parquet conversion limits', () => {
    const s = stack();
    const encryptionKey = new kms.Key(s, 'K');
    const database = new glue.CfnDatabase(s, 'D', { catalogId: '123456789012', databaseInput: { name: 'db' } });
    const bucket = new s3.Bucket(s, 'B');
    const table = new EventTable(s, 'T', { database, databaseName: 'db', bucket, schema: INTERACTION_EVENT_SCHEMA });
    const source = new EventStream(s, 'S', { encryptionKey }).stream;
    expect(
      () =>
        new LakeDelivery(s, 'D1', {
          source,
          destination: bucket,
          table,
          encryptionKey,
          bufferingSize: Size.mebibytes(5),
        }),
    ).toThrow('bufferingSize must be between 64 and 128 MiB when converting to Parquet; received 5 MiB');
    expect(
      () =>
        new LakeDelivery(s, 'D2', {
          source,
          destination: bucket,
          table,
          encryptionKey,
          bufferingInterval: Duration.minutes(20),
        }),
    ).toThrow('bufferingInterval must be between 0 and 900 seconds; received 1200');
  });
});
