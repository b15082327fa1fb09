/**
 * SageMaker Ground Truth manifests for the human-in-the-loop path, and the augmented manifest the built-in image
 * classification algorithm trains on. No AWS imports.
 *
 * - Input manifest (what reviewers label): JSON Lines, one `{"source-ref": "s3://bucket/key", ...}` per line; other
 *   attributes are metadata Ground Truth carries through.
 * - Output (augmented) manifest of an image-classification job: the input line plus `<attr>: <class index>` and
 *   `<attr>-metadata: {class-name, confidence, type: "groundtruth/image-classification", job-name,
 *   human-annotated, creation-date}`.
 * - Training manifest: `{"source-ref": ..., "class": <index>}`, read with `AttributeNames: ["source-ref", "class"]`.
 *
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/sms-input-data-input-manifest.html
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/sms-data-output.html#sms-output-class
 */
import { isValidLabel, mergeLabels, type LabelledImage } from './labels';

/** A prediction below the confidence threshold, waiting for a person. */
export interface ReviewItem {
  /** `s3://bucket/key` of the image. */
  readonly sourceRef: string;
  /** The arrival event. */
  readonly eventId: string;
  /** Index of the predicted class and its probability. */
  readonly predictedClass: number;
  readonly confidence: number;
  /** When the prediction was made (ISO-8601). */
  readonly predictedAt: string;
}

/** The type Ground Truth writes for single-label image classification. */
export const IMAGE_CLASSIFICATION_TYPE = 'groundtruth/image-classification';

const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+$/;

/** Whether a prediction needs review: its confidence is below the threshold. */
export function needsReview(confidence: number, threshold: number): boolean {
  return !(confidence >= threshold);
}

/**
 * One input-manifest line. Metadata attributes are prefixed `mlbp-` so they never collide with the label attribute
 * Ground Truth adds.
 */
export function inputManifestLine(item: ReviewItem): string {
  if (!S3_URI.test(item.sourceRef))
    throw new Error(`source-ref must be an s3://bucket/key URI; received "${item.sourceRef}"`);
  return JSON.stringify({
    'source-ref': item.sourceRef,
    'mlbp-event-id': item.eventId,
    'mlbp-predicted-class': item.predictedClass,
    'mlbp-confidence': item.confidence,
    'mlbp-predicted-at': item.predictedAt,
  });
}

/** An input manifest: one line per image (an image queued twice is reviewed once, first occurrence kept). */
export function inputManifest(items: Iterable<ReviewItem>): { body: string; count: number } {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const item of items) {
    if (seen.has(item.sourceRef)) continue;
    seen.add(item.sourceRef);
    lines.push(inputManifestLine(item));
  }
  return { body: lines.length > 0 ? lines.join('\n') + '\n' : '', count: lines.length };
}

/** Ground Truth's `creation-date` format: ISO-8601 with microseconds and no zone (UTC). */
export function groundTruthDate(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

/** One line of an image-classification output manifest, as Ground Truth writes it (for fixtures and simulation). */
export function outputManifestLine(args: {
  readonly sourceRef: string;
  readonly labelAttribute: string;
  readonly classIndex: number;
  readonly className: string;
  readonly confidence: number;
  readonly jobName: string;
  readonly humanAnnotated: boolean;
  readonly creationDate: Date;
  readonly extra?: Record<string, unknown>;
}): string {
  return JSON.stringify({
    'source-ref': args.sourceRef,
    ...args.extra,
    [args.labelAttribute]: args.classIndex,
    [`${args.labelAttribute}-metadata`]: {
      'class-name': args.className,
      confidence: args.confidence,
      type: IMAGE_CLASSIFICATION_TYPE,
      'job-name': `labeling-job/${args.jobName}`,
      'human-annotated': args.humanAnnotated ? 'yes' : 'no',
      'creation-date': groundTruthDate(args.creationDate),
    },
  });
}

/** A label read from an output manifest. */
export interface ReviewedLabel extends LabelledImage {
  readonly classIndex: number;
  readonly confidence: number;
  readonly jobName: string;
  readonly humanAnnotated: boolean;
}

/** What {@link parseOutputManifest} read. */
export interface ParsedOutputManifest {
  readonly labels: ReviewedLabel[];
  readonly invalid: ReadonlyArray<{ readonly line: number; readonly reason: string }>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads an image-classification output manifest. Lines without a label (the worker skipped the image), with the
 * wrong type, or auto-labelled below `minConfidence` are reported as invalid and left out. Labels from automated
 * labelling (`human-annotated: "no"`) are labelled `model`; human ones `human`.
 */
export function parseOutputManifest(
  text: string,
  labelAttribute: string,
  options: { readonly minConfidence?: number } = {},
): ParsedOutputManifest {
  const labels: ReviewedLabel[] = [];
  const invalid: Array<{ line: number; reason: string }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (!raw) continue;
    const bad = (reason: string) => invalid.push({ line: i + 1, reason });
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      bad('not JSON');
      continue;
    }
    if (!isObject(json)) {
      bad('not a JSON object');
      continue;
    }
    const sourceRef = json['source-ref'];
    const classIndex = json[labelAttribute];
    const meta = json[`${labelAttribute}-metadata`];
    if (typeof sourceRef !== 'string' || !S3_URI.test(sourceRef)) {
      bad('source-ref is not an s3:// URI');
      continue;
    }
    if (!isObject(meta) || classIndex === undefined) {
      bad(`no "${labelAttribute}" label (not labelled, or another label attribute)`);
      continue;
    }
    if (meta.type !== IMAGE_CLASSIFICATION_TYPE) {
      bad(`type is ${JSON.stringify(meta.type)}, not ${IMAGE_CLASSIFICATION_TYPE}`);
      continue;
    }
    if (meta['failure-reason'] !== undefined) {
      bad(`labelling failed: ${String(meta['failure-reason'])}`);
      continue;
    }
    const className = meta['class-name'];
    if (typeof classIndex !== 'number' || !Number.isInteger(classIndex) || classIndex < 0) {
      bad(`"${labelAttribute}" must be a class index; received ${JSON.stringify(classIndex)}`);
      continue;
    }
    if (typeof className !== 'string' || !isValidLabel(className)) {
      bad(`class-name ${JSON.stringify(className)} is not a valid label`);
      continue;
    }
    const confidence = typeof meta.confidence === 'number' ? meta.confidence : Number.NaN;
    const human = meta['human-annotated'] === 'yes';
    if (!human && options.minConfidence !== undefined && !(confidence >= options.minConfidence)) {
      bad(`auto-labelled with confidence ${confidence} below ${options.minConfidence}`);
      continue;
    }
    const date = typeof meta['creation-date'] === 'string' ? meta['creation-date'] : '';
    const parsedDate = Date.parse(/Z|[+-]\d\d:\d\d$/.test(date) ? date : `${date}Z`);
    if (Number.isNaN(parsedDate)) {
      bad(`creation-date ${JSON.stringify(meta['creation-date'])} is not a date`);
      continue;
    }
    const jobName = typeof meta['job-name'] === 'string' ? meta['job-name'].replace(/^labeling-job\//, '') : '';
    labels.push({
      sourceRef,
      label: className,
      labelSource: human ? 'human' : 'model',
      labelledAt: new Date(parsedDate).toISOString(),
      classIndex,
      confidence,
      jobName,
      humanAnnotated: human,
    });
  }
  return { labels, invalid };
}

/** A training manifest and its class mapping. */
export interface TrainingManifest {
  /** JSON Lines `{"source-ref": ..., "<attribute>": <index>}`, newline-terminated. */
  readonly body: string;
  /** Class names; a class's index is its position. */
  readonly classes: string[];
  readonly count: number;
}

/**
 * The augmented manifest the next training job reads, from the current labelled set merged with reviewed labels
 * ({@link mergeLabels}: human reviews override bootstrap and model labels). Class indices follow `classes` when
 * given (new class names are appended, so indices of a deployed model never move), else sorted names.
 */
export function trainingManifest(
  labelled: Iterable<LabelledImage>,
  reviewed: Iterable<LabelledImage>,
  options: { readonly attribute?: string; readonly classes?: readonly string[] } = {},
): TrainingManifest {
  const attribute = options.attribute ?? 'class';
  const merged = mergeLabels(labelled, reviewed);
  const classes = [...(options.classes ?? [])];
  const fresh = [...new Set(merged.map((m) => m.label))].filter((c) => !classes.includes(c)).sort();
  classes.push(...fresh);
  const index = new Map(classes.map((c, i) => [c, i]));
  const lines = merged.map((m) => JSON.stringify({ 'source-ref': m.sourceRef, [attribute]: index.get(m.label) }));
  return { body: lines.length > 0 ? lines.join('\n') + '\n' : '', classes, count: lines.length };
}

/**
 * Reviewed labels as image-arrival events (`label_source: "human"`) for the stream: they land in the lake like any
 * event, and the retraining loop's dataset query picks the most trusted label per image.
 */
export function labelEvents(
  reviewed: Iterable<ReviewedLabel>,
  args: { readonly imagesBucket: string; readonly source: string; readonly newId: () => string },
  sizes: ReadonlyMap<string, { size: number; contentType: string }>,
): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const prefix = `s3://${args.imagesBucket}/`;
  for (const r of reviewed) {
    if (!r.sourceRef.startsWith(prefix)) continue;
    const key = r.sourceRef.slice(prefix.length);
    const facts = sizes.get(key);
    if (!facts) continue;
    out.push({
      event_id: args.newId(),
      image_key: key,
      content_type: facts.contentType,
      size_bytes: facts.size,
      source: args.source,
      event_time: r.labelledAt,
      label: r.label,
      label_source: r.labelSource,
    });
  }
  return out;
}
