/**
 * Image statistics for drift: width, height, file size and per-channel (R, G, B) mean and standard deviation of
 * one image, decoded with pure-JS decoders (pngjs, jpeg-js). One image at a time with bounded size and pixel
 * count, so a consumer or a dataset builder never holds more than one decoded image in memory.
 * No AWS imports: the image consumer Lambda, the baseline builder and tests share it.
 */
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { captureHourFolder } from '../storage/layout';

/** Formats the decoders understand. */
export type ImageFormat = 'png' | 'jpeg';

/** Bounds on one image. */
export interface ImageLimits {
  /** Largest file accepted, in bytes. */
  readonly maxBytes: number;
  /** Largest decoded image accepted, in pixels (width × height), checked before decoding. */
  readonly maxPixels: number;
}

/**
 * Bounds when none are configured: 6 MiB, the InvokeEndpoint payload limit (an image larger than that cannot be
 * classified anyway), and 25 megapixels.
 */
export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxBytes: 6_291_456, maxPixels: 25_000_000 };

/** Statistics of one image. Means and standard deviations are on the 0–255 scale. */
export interface ImageStats {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
  readonly fileSize: number;
  readonly mean: readonly [number, number, number];
  /** Population standard deviation per channel (contrast). */
  readonly std: readonly [number, number, number];
}

/** Why an image could not be measured; the consumer quarantines with this reason. */
export class ImageError extends Error {
  constructor(
    readonly reason: 'too-large' | 'too-many-pixels' | 'unknown-format' | 'undecodable',
    message: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format from the file's first bytes (never from its name or declared type). */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** MIME type of a format. */
export function contentTypeOf(format: ImageFormat): 'image/png' | 'image/jpeg' {
  return format === 'png' ? 'image/png' : 'image/jpeg';
}

/** Width and height of a PNG from its IHDR chunk, without decoding. */
function pngDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Width and height of a JPEG from its first start-of-frame marker, without decoding. */
function jpegDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1];
    const length = (bytes[i + 2] << 8) | bytes[i + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (bytes[i + 5] << 8) | bytes[i + 6], width: (bytes[i + 7] << 8) | bytes[i + 8] };
    }
    i += 2 + length;
  }
  return undefined;
}

/**
 * Decodes one image within the limits and measures it. Sizes are checked before any pixel is decoded: a file over
 * `maxBytes` or a header announcing more than `maxPixels` is rejected without allocating the image.
 */
export function imageStats(bytes: Uint8Array, limits: ImageLimits): ImageStats {
  if (bytes.length > limits.maxBytes) {
    throw new ImageError('too-large', `image is ${bytes.length} bytes; the limit is ${limits.maxBytes}`);
  }
  const format = sniffFormat(bytes);
  if (!format) throw new ImageError('unknown-format', 'not a PNG or JPEG file (magic bytes)');
  const dims = format === 'png' ? pngDimensions(bytes) : jpegDimensions(bytes);
  if (!dims || dims.width === 0 || dims.height === 0) {
    throw new ImageError('undecodable', `no readable ${format} header with the image size`);
  }
  if (dims.width * dims.height > limits.maxPixels) {
    throw new ImageError(
      'too-many-pixels',
      `image is ${dims.width}×${dims.height} = ${dims.width * dims.height} pixels; the limit is ${limits.maxPixels}`,
    );
  }
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  try {
    if (format === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      ({ width, height } = png);
      rgba = png.data;
    } else {
      const img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: Math.max(1, Math.ceil(limits.maxPixels / 1e6)),
        maxMemoryUsageInMB: Math.max(64, Math.ceil((limits.maxPixels * 8) / 1_048_576)),
      });
      ({ width, height } = img);
      rgba = img.data;
    }
  } catch (e) {
    throw new ImageError('undecodable', `${format} decoding failed: ${(e as Error).message}`);
  }
  const { mean, std } = channelStats(rgba, width * height);
  return { format, width, height, fileSize: bytes.length, mean, std };
}

/**
 * Mean and population standard deviation of R, G, B over RGBA pixels (alpha ignored). Sums of 8-bit values and of
 * their squares stay exact integers in doubles up to 2^53 (far beyond any allowed image), so the variance is exact
 * before the final division.
 */
export function channelStats(
  rgba: Uint8Array,
  pixels: number,
): { mean: [number, number, number]; std: [number, number, number] } {
  let r = 0;
  let g = 0;
  let b = 0;
  let rr = 0;
  let gg = 0;
  let bb = 0;
  for (let p = 0, i = 0; p < pixels; p++, i += 4) {
    const vr = rgba[i];
    const vg = rgba[i + 1];
    const vb = rgba[i + 2];
    r += vr;
    g += vg;
    b += vb;
    rr += vr * vr;
    gg += vg * vg;
    bb += vb * vb;
  }
  const m = (s: number) => s / pixels;
  const sd = (s: number, ss: number) => Math.sqrt(Math.max(0, ss * pixels - s * s)) / pixels;
  return { mean: [m(r), m(g), m(b)], std: [sd(r, rr), sd(g, gg), sd(b, bb)] };
}

/** Names of the image features, as the drift checker sees them (all numerical). */
export const IMAGE_FEATURES = [
  'image.width',
  'image.height',
  'image.file_size',
  'image.mean_r',
  'image.mean_g',
  'image.mean_b',
  'image.std_r',
  'image.std_g',
  'image.std_b',
] as const;

/** One image's statistics as a flat feature record (numerical features named in {@link IMAGE_FEATURES}). */
export function imageFeatures(stats: ImageStats): Record<(typeof IMAGE_FEATURES)[number], number> {
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    'image.width': stats.width,
    'image.height': stats.height,
    'image.file_size': stats.fileSize,
    'image.mean_r': round(stats.mean[0]),
    'image.mean_g': round(stats.mean[1]),
    'image.mean_b': round(stats.mean[2]),
    'image.std_r': round(stats.std[0]),
    'image.std_g': round(stats.std[1]),
    'image.std_b': round(stats.std[2]),
  };
}

/**
 * A capture-like record of one image's statistics, so the drift checker's capture reader keeps the feature names
 * and filters the record by time exactly like endpoint data capture (`eventMetadata.inferenceTime`).
 */
export function imageStatsRecord(eventId: string, time: Date, features: Record<string, number>): string {
  return JSON.stringify({
    captureData: {
      endpointInput: {
        observedContentType: 'application/json',
        mode: 'INPUT',
        data: JSON.stringify(features),
        encoding: 'JSON',
      },
    },
    eventMetadata: { eventId, inferenceTime: time.toISOString() },
    eventVersion: '0',
  });
}

/** Key of a batch of image statistics: `{prefix}{endpoint}/yyyy/mm/dd/hh/{batchId}.jsonl` (the capture layout). */
export function imageStatsKey(prefix: string, endpointName: string, time: Date, batchId: string): string {
  return `${prefix}${endpointName}/${captureHourFolder(time)}${batchId}.jsonl`;
}

/**
 * Reads a byte stream up to a limit: stops and throws as soon as more than `maxBytes` arrive, so an oversized
 * object (whatever its declared size) never sits in memory whole.
 */
export async function readBounded(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) throw new ImageError('too-large', `image exceeds the ${maxBytes}-byte limit`);
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts, total);
}
