/**
 * Merges the labels of a finished Ground Truth job back into the data (active learning): reads the job's output
 * manifest, keeps human labels (and automated ones at or above a confidence), and publishes them as image events
 * with `label_source: "human"` (or `"model"`) on the stream, so they land in the lake and the next dataset prefers
 * them (human > labels file > prefix > model).
 */
import { eventValidator, IMAGE_EVENT_SCHEMA } from '../contracts/events';
import { LABEL_UPDATE_SOURCE } from './ingest';
import { labelEvents, parseOutputManifest } from './ground-truth';

/** What the merger is invoked with. */
export interface LabelMergeInput {
  /** `s3://bucket/key` of the job's `output.manifest`. */
  readonly outputManifestUri: string;
  /** @default the configured label attribute */
  readonly labelAttribute?: string;
}

/** Settings. */
export interface LabelMergerSettings {
  readonly imagesBucket: string;
  readonly labelAttribute: string;
  /** Only output manifests under this prefix of this bucket are read. */
  readonly reviewBucket: string;
  readonly reviewOutputPrefix: string;
  /** Automated labels below this confidence are ignored. */
  readonly minAutoConfidence: number;
}

/** Ports. */
export interface LabelMergerPorts {
  readText(bucket: string, key: string): Promise<string>;
  head(bucket: string, key: string): Promise<{ size: number; contentType: string } | undefined>;
  publish(events: ReadonlyArray<Record<string, unknown>>): Promise<void>;
  newId(): string;
}

/** What was merged. */
export interface LabelMergeResult {
  readonly labels: number;
  readonly published: number;
  readonly invalid: ReadonlyArray<{ readonly line: number; readonly reason: string }>;
  readonly missingImages: number;
}

const validate = eventValidator(IMAGE_EVENT_SCHEMA);

/** Runs one merge. */
export async function mergeReviewedLabels(
  input: LabelMergeInput,
  settings: LabelMergerSettings,
  ports: LabelMergerPorts,
): Promise<LabelMergeResult> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(input.outputManifestUri);
  if (!m || m[1] !== settings.reviewBucket || !m[2].startsWith(settings.reviewOutputPrefix)) {
    throw new Error(
      `outputManifestUri must be under s3://${settings.reviewBucket}/${settings.reviewOutputPrefix}; received "${input.outputManifestUri}"`,
    );
  }
  const parsed = parseOutputManifest(
    await ports.readText(m[1], m[2]),
    input.labelAttribute ?? settings.labelAttribute,
    { minConfidence: settings.minAutoConfidence },
  );
  const prefix = `s3://${settings.imagesBucket}/`;
  const facts = new Map<string, { size: number; contentType: string }>();
  let missing = 0;
  for (const label of parsed.labels) {
    if (!label.sourceRef.startsWith(prefix)) {
      missing++;
      continue;
    }
    const key = label.sourceRef.slice(prefix.length);
    const head = await ports.head(settings.imagesBucket, key);
    if (head) facts.set(key, head);
    else missing++;
  }
  const events = labelEvents(
    parsed.labels,
    { imagesBucket: settings.imagesBucket, source: LABEL_UPDATE_SOURCE, newId: ports.newId },
    facts,
  ).filter((e) => validate.safeParse(e).success);
  for (let i = 0; i < events.length; i += 500) await ports.publish(events.slice(i, i + 500));
  return { labels: parsed.labels.length, published: events.length, invalid: parsed.invalid, missingImages: missing };
}
