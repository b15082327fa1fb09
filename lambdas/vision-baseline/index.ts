/**
 * Retraining loop, vision drift baseline: image statistics (and the labelled class) of the validation manifest,
 * one image at a time ({@link refreshVisionBaseline}). Same input and output shape as `retraining-baseline`.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { S3ObjectStore } from '../shared/aws/s3-object-store';
import { parseS3Uri } from '../../core/storage/s3-uri';
import { refreshVisionBaseline, type VisionBaselineInput, type VisionBaselineOutput } from '../../core/vision/baseline';
import { DEFAULT_IMAGE_LIMITS, readBounded } from '../../core/vision/image-stats';

const logger = new Logger();
const tracer = new Tracer();
const s3 = tracer.captureAWSv3Client(new S3Client({}));
const store = new S3ObjectStore(s3);
const limits = {
  maxBytes: Number(process.env.MAX_IMAGE_BYTES ?? DEFAULT_IMAGE_LIMITS.maxBytes),
  maxPixels: Number(process.env.MAX_IMAGE_PIXELS ?? DEFAULT_IMAGE_LIMITS.maxPixels),
};

async function readImage(sourceRef: string): Promise<Uint8Array | undefined> {
  const { bucket, key } = parseS3Uri(sourceRef);
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${limits.maxBytes}` }));
    return await readBounded(out.Body as AsyncIterable<Uint8Array>, limits.maxBytes);
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
    throw e;
  }
}

/** The Lambda entry point. */
export async function handler(event: VisionBaselineInput): Promise<VisionBaselineOutput> {
  const result = await refreshVisionBaseline(store, readImage, event, limits, new Date());
  logger.info('vision baseline written', { ...result });
  return result;
}
