/**
 * The review API's AWS adapters: label events onto the image stream (the path every label takes to the lake) and
 * presigned image URLs scoped to the images prefix. The same functions serve the local server, with clients
 * pointed at kinesalite and at the local S3.
 */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** Which stream: its ARN in AWS, its name on kinesalite. */
export type StreamRef = { readonly StreamARN: string } | { readonly StreamName: string };

/** Puts events on the stream (partition key: the image key); throws when any record was refused. */
export function kinesisPublisher(kinesis: KinesisClient, stream: StreamRef) {
  return async (events: ReadonlyArray<Record<string, unknown>>): Promise<void> => {
    for (let i = 0; i < events.length; i += 500) {
      const batch = events.slice(i, i + 500);
      const out = await kinesis.send(
        new PutRecordsCommand({
          ...stream,
          Records: batch.map((e) => ({ Data: Buffer.from(JSON.stringify(e)), PartitionKey: String(e.image_key) })),
        }),
      );
      if ((out.FailedRecordCount ?? 0) > 0) {
        throw new Error(`${out.FailedRecordCount} of ${batch.length} label events were not accepted by the stream`);
      }
    }
  };
}

/**
 * GET URLs of images that expire after `seconds`, signed at the service's clock. Refuses keys outside the images
 * prefix (the function's role can read nothing else either).
 */
export function imagePresigner(s3: S3Client, bucket: string, imagesPrefix: string, seconds: number) {
  return async (key: string, now: Date): Promise<string> => {
    if (!key.startsWith(imagesPrefix) || key.includes('..')) {
      throw new Error(`image key "${key}" is not under ${imagesPrefix}`);
    }
    return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), {
      expiresIn: seconds,
      signingDate: now,
    });
  };
}
