/**
 * The vision drift baseline: one streaming pass over held-out images (a manifest: `{"image", ...}` lines of the
 * model's channel contract, or `{"source-ref", ...}` lines), decoding one image at a time into the image statistics
 * features, and reading **the deployed model's own outputs** on those images (the candidate's batch transform) for
 * the output features. Labels never stand in for predictions: a baseline of predicted classes built from labels
 * would compare the model's answers with the truth, not with how the model answered before.
 *
 * The model's answer (the inference handler's JSON) is read by the drift checker's own capture reader, exactly as
 * live data capture is, so reference and live features carry the same names and kinds (`output.label`,
 * `output.embedding`, …). `output.predicted_class` (argmax index, as the reader names it) and `output.confidence`
 * (the top probability: the reference of the one-sided "confidence falls" test) are added from the probabilities.
 * `output.probabilities` and `output.top_k` are left out: the class and confidence summarise them; so is
 * `output.model_version`, which names the model rather than describing the data.
 * No AWS imports: the image source is a port.
 */
import { parseCaptureRecord } from '../drift/readers/capture';
import { parseTimeValue } from '../drift/time';
import { ProfileAccumulator, toBaselineProfile, type BaselineProfile } from '../drift/profile';
import type { FeatureRecord } from '../drift/features';
import type { ObjectStore } from '../storage/object-store';
import { readBytes, readText } from '../storage/object-store';
import { parseS3Uri } from '../storage/s3-uri';
import { ImageError, imageFeatures, imageStats, type ImageLimits } from './image-stats';
import { parseModelAnswer, type Prediction } from './prediction';

/** Reads one image (bounded: may throw an {@link ImageError} `too-large`); undefined when it is gone. */
export type ImageReader = (sourceRef: string) => Promise<Uint8Array | undefined>;

/** The model's raw answer for one image (the transform output's text); undefined when there is none. */
export type OutputReader = (sourceRef: string) => Promise<string | undefined>;

/** What the pass read and skipped. */
export interface VisionBaselineResult {
  readonly profile: BaselineProfile;
  readonly images: number;
  readonly skipped: Readonly<Record<string, number>>;
  /** Images profiled without a capture time (with a `timeField`): in the profile, not in its phases. */
  readonly untimed: number;
}

/**
 * Output fields the baseline leaves out: summarised by class and confidence, or not features at all (the model's
 * version names the model, it does not describe the data: every deployment would "drift" on it).
 */
const LEFT_OUT = new Set(['output.probabilities', 'output.top_k', 'output.model_version']);

/** The output features of one answer, read like live data capture. Throws when the answer is unreadable. */
export function outputFeatures(body: string): FeatureRecord {
  const parsed = parseCaptureRecord({
    captureData: {
      endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', data: body, encoding: 'JSON' },
    },
  });
  if (!parsed.ok) throw new Error(`model output is not readable as data capture (${parsed.reason})`);
  const record: FeatureRecord = {};
  for (const [name, value] of Object.entries(parsed.record)) {
    if (name.startsWith('output.') && !LEFT_OUT.has(name) && !name.startsWith('output.top_k.')) record[name] = value;
  }
  return { ...record, ...predictionFeatures(parseModelAnswer(body)) };
}

function predictionFeatures(prediction: Prediction): FeatureRecord {
  return {
    'output.predicted_class': String(prediction.predictedClass),
    'output.confidence': prediction.confidence,
    ...(prediction.embedding ? { 'output.embedding': [...prediction.embedding] } : {}),
  };
}

/** Options of {@link visionBaseline}. */
export interface VisionBaselineOptions {
  readonly limits: ImageLimits;
  /** @default 20000 */
  readonly maxImages?: number;
  /** `s3://bucket/prefix/` that `image` keys are relative to (lines with `image`). */
  readonly imagesUri?: string;
  /** Parsed predictions by `s3://` reference (tests and callers that already hold them). */
  readonly predictions?: ReadonlyMap<string, Prediction>;
  /** The model's raw answers by `s3://` reference (the candidate's batch transform). */
  readonly outputs?: OutputReader;
  readonly source?: string;
  readonly now?: Date;
  /**
   * The lines' capture-time field: the profile keeps per-hour data for seasonal comparisons (a night window is
   * compared with night images) and never profiles the field. A line without a readable time still counts in the
   * profile, not in its phases (`no-time` in `untimed`). @default no seasonal data
   */
  readonly timeField?: string;
}

function sourceRefOf(entry: Record<string, unknown>, imagesUri: string | undefined): string | undefined {
  if (typeof entry['source-ref'] === 'string') return entry['source-ref'];
  if (typeof entry.image === 'string' && imagesUri && !entry.image.startsWith('/') && !entry.image.includes('..')) {
    return `${imagesUri}${entry.image}`;
  }
  return undefined;
}

/**
 * Builds the baseline profile from manifest lines, at most `maxImages` images (a seeded sample is the caller's).
 * With `outputs`, an image without a readable output is skipped (`no-model-output`, `unreadable-output`), so every
 * profiled image has both its statistics and the model's answer.
 */
export async function visionBaseline(
  manifestLines: Iterable<string> | AsyncIterable<string>,
  read: ImageReader,
  options: VisionBaselineOptions,
): Promise<VisionBaselineResult> {
  const max = options.maxImages ?? 20_000;
  const acc = new ProfileAccumulator(options.timeField ? { seasonal: { timeField: options.timeField } } : {});
  let untimed = 0;
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
    const ref = sourceRefOf(entry, options.imagesUri);
    if (!ref) {
      skip('no-source-ref');
      continue;
    }
    let output: FeatureRecord = {};
    if (options.outputs) {
      const body = await options.outputs(ref);
      if (body === undefined) {
        skip('no-model-output');
        continue;
      }
      try {
        output = outputFeatures(body);
      } catch {
        skip('unreadable-output');
        continue;
      }
    } else {
      const prediction = options.predictions?.get(ref);
      if (prediction) output = predictionFeatures(prediction);
    }
    let record: FeatureRecord;
    try {
      const bytes = await read(ref);
      if (!bytes) {
        skip('missing-object');
        continue;
      }
      record = { ...imageFeatures(imageStats(bytes, options.limits)), ...output };
    } catch (e) {
      if (e instanceof ImageError) {
        skip(e.reason);
        continue;
      }
      throw e;
    }
    if (options.timeField) {
      const time = parseTimeValue(entry[options.timeField]);
      if (typeof time === 'number') acc.add(record, time);
      else {
        acc.add(record);
        untimed++;
      }
    } else acc.add(record);
    images++;
  }
  if (images === 0) throw new Error(`no usable images in the manifest (skipped: ${JSON.stringify(skipped)})`);
  return {
    profile: toBaselineProfile(acc, { invalid: 0, source: options.source, createdAt: options.now }),
    images,
    skipped,
    untimed,
  };
}

/** What the vision baseline step receives (the same shape as the loop's tabular baseline step, plus the outputs). */
export interface VisionBaselineInput {
  /** `s3://bucket/key` of the held-out images' manifest (the dataset's `scoring/baseline.jsonl`). */
  readonly sourceUri: string;
  readonly artifactsBucket: string;
  readonly endpointName: string;
  readonly datasetId: string;
  /** `s3://<raw>/images/`: what `image` keys are relative to. */
  readonly imagesUri?: string;
  /**
   * The deployed model's batch-transform outputs on those images, `<outputsUri><key under imagesUri>.out`.
   * Without it the baseline holds image statistics only.
   */
  readonly outputsUri?: string;
  /** @default 20000 */
  readonly maxImages?: number;
  /** The manifest lines' capture-time field (seasonal baseline). @default no seasonal data */
  readonly timeField?: string;
}

/** Where the baseline went (`$.baseline`). */
export interface VisionBaselineOutput {
  readonly profileUri: string;
  readonly historyUri: string;
  readonly records: number;
  readonly invalid: number;
  readonly features: string[];
  /** Whether the profile has per-phase data (built with a time field). */
  readonly seasonal: boolean;
  /** Images without a capture time (profiled, not in the phases). */
  readonly untimed: number;
}

/** Reads transform outputs named after their input (`<outputsUri><key under imagesUri>.out`). */
export function transformOutputReader(store: ObjectStore, imagesUri: string, outputsUri: string): OutputReader {
  const out = parseS3Uri(outputsUri);
  return async (ref) => {
    if (!ref.startsWith(imagesUri)) return undefined;
    const object = await store.get(out.bucket, `${out.key}${ref.slice(imagesUri.length)}.out`);
    return object ? readText(object) : undefined;
  };
}

/**
 * Builds the vision baseline from held-out images and the model's outputs on them, and writes it where the drift
 * checker reads it (`drift/baselines/<endpoint>/profile.json`, plus a copy per dataset ID).
 */
export async function refreshVisionBaseline(
  store: ObjectStore,
  read: ImageReader,
  input: VisionBaselineInput,
  limits: ImageLimits,
  now: Date,
): Promise<VisionBaselineOutput> {
  if (input.outputsUri && !input.imagesUri)
    throw new Error('outputsUri needs imagesUri (what output names are relative to)');
  const source = parseS3Uri(input.sourceUri);
  const text = (await readBytes(store, source.bucket, source.key)).toString('utf8');
  const result = await visionBaseline(text.split('\n'), read, {
    limits,
    maxImages: input.maxImages,
    imagesUri: input.imagesUri,
    outputs:
      input.outputsUri && input.imagesUri ? transformOutputReader(store, input.imagesUri, input.outputsUri) : undefined,
    source: input.sourceUri,
    now,
    timeField: input.timeField,
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
    seasonal: result.profile.seasonal !== undefined,
    untimed: result.untimed,
  };
}
