/**
 * The vision drift baseline: one streaming pass over a training-style manifest (`{"source-ref", "class"}` lines),
 * decoding one image at a time into the image statistics features, with the labelled class as the reference of
 * `output.predicted_class` (the class index as a string, as the capture reader names argmax classes) and, when
 * reference predictions are given (a batch transform over the validation set), `output.confidence` and
 * `output.embedding`. No AWS imports: the image source is a port.
 */
import { ProfileAccumulator, toBaselineProfile, type BaselineProfile } from '../drift/profile';
import type { FeatureRecord } from '../drift/features';
import type { ObjectStore } from '../storage/object-store';
import { readBytes } from '../storage/object-store';
import { parseS3Uri } from '../storage/s3-uri';
import { ImageError, imageFeatures, imageStats, type ImageLimits } from './image-stats';
import type { Prediction } from './prediction';

/** Reads one image (bounded: may throw an {@link ImageError} `too-large`); undefined when it is gone. */
export type ImageReader = (sourceRef: string) => Promise<Uint8Array | undefined>;

/** What the pass read and skipped. */
export interface VisionBaselineResult {
  readonly profile: BaselineProfile;
  readonly images: number;
  readonly skipped: Readonly<Record<string, number>>;
}

/** Builds the baseline profile from manifest lines, at most `maxImages` images (a seeded sample is the caller's). */
export async function visionBaseline(
  manifestLines: Iterable<string> | AsyncIterable<string>,
  read: ImageReader,
  options: {
    readonly limits: ImageLimits;
    readonly maxImages?: number;
    readonly labelAttribute?: string;
    readonly predictions?: ReadonlyMap<string, Prediction>;
    readonly source?: string;
    readonly now?: Date;
  },
): Promise<VisionBaselineResult> {
  const attribute = options.labelAttribute ?? 'class';
  const max = options.maxImages ?? 20_000;
  const acc = new ProfileAccumulator();
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  let images = 0;
  for await (const line of manifestLines) {
    if (images >= max) break;
    if (!line.trim()) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      skip('not-json');
      continue;
    }
    const ref = entry['source-ref'];
    if (typeof ref !== 'string') {
      skip('no-source-ref');
      continue;
    }
    let record: FeatureRecord;
    try {
      const bytes = await read(ref);
      if (!bytes) {
        skip('missing-object');
        continue;
      }
      record = { ...imageFeatures(imageStats(bytes, options.limits)) };
    } catch (e) {
      if (e instanceof ImageError) {
        skip(e.reason);
        continue;
      }
      throw e;
    }
    const cls = entry[attribute];
    if (typeof cls === 'number') record['output.predicted_class'] = String(cls);
    const prediction = options.predictions?.get(ref);
    if (prediction) {
      record['output.predicted_class'] = String(prediction.predictedClass);
      record['output.confidence'] = prediction.confidence;
      if (prediction.embedding) record['output.embedding'] = [...prediction.embedding];
    }
    acc.add(record);
    images++;
  }
  if (images === 0) throw new Error(`no usable images in the manifest (skipped: ${JSON.stringify(skipped)})`);
  return {
    profile: toBaselineProfile(acc, { invalid: 0, source: options.source, createdAt: options.now }),
    images,
    skipped,
  };
}

/** What the vision baseline step receives (the same shape as the loop's tabular baseline step). */
export interface VisionBaselineInput {
  /** `s3://bucket/key` of the validation manifest. */
  readonly sourceUri: string;
  readonly artifactsBucket: string;
  readonly endpointName: string;
  readonly datasetId: string;
  /** @default 20000 */
  readonly maxImages?: number;
}

/** Where the baseline went (`$.baseline`). */
export interface VisionBaselineOutput {
  readonly profileUri: string;
  readonly historyUri: string;
  readonly records: number;
  readonly invalid: number;
  readonly features: string[];
}

/**
 * Builds the vision baseline from a validation manifest and writes it where the drift checker reads it
 * (`drift/baselines/<endpoint>/profile.json`, plus a copy per dataset ID).
 */
export async function refreshVisionBaseline(
  store: ObjectStore,
  read: ImageReader,
  input: VisionBaselineInput,
  limits: ImageLimits,
  now: Date,
): Promise<VisionBaselineOutput> {
  const source = parseS3Uri(input.sourceUri);
  const text = (await readBytes(store, source.bucket, source.key)).toString('utf8');
  const result = await visionBaseline(text.split('\n'), read, {
    limits,
    maxImages: input.maxImages,
    source: input.sourceUri,
    now,
  });
  const base = `drift/baselines/${input.endpointName}/`;
  const body = JSON.stringify(result.profile);
  await store.put(input.artifactsBucket, `${base}history/${input.datasetId}.json`, body, {
    contentType: 'application/json',
  });
  await store.put(input.artifactsBucket, `${base}profile.json`, body, { contentType: 'application/json' });
  return {
    profileUri: `s3://${input.artifactsBucket}/${base}profile.json`,
    historyUri: `s3://${input.artifactsBucket}/${base}history/${input.datasetId}.json`,
    records: result.images,
    invalid: Object.values(result.skipped).reduce((a, b) => a + b, 0),
    features: Object.keys(result.profile.features),
  };
}
