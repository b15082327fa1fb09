/**
 * The vision dataset that remembers. Each retraining run merges the labels of its window (one per image, from the
 * dataset query) into the **label memory** — every label collected so far, one per image by source precedence
 * (human > labels file > prefix heuristic > model; the latest among equals) — so older human labels and quiet classes
 * are never forgotten when they fall out of the window or out of the lake's retention. From the memory it writes:
 *
 * - a **fixed, human-verified test set** (`test.jsonl`): images whose label a person gave while reviewing a random
 *   audit sample (recognised by the audit draw of the prediction they reviewed, `active-learning.ts`). Once in the
 *   test set an image stays there and is never trained on; the set grows with each day's audit;
 * - `train.jsonl` and `validation.jsonl` from the rest, split by a hash of the image key (an image never moves
 *   between them as data grows), in the `manifests` channel of `models/vision/` (`{"image", "label", "source"}`, the
 *   key relative to the images channel);
 * - `classes.json`: the champion's class map with the new classes appended in sorted order (indices never move);
 * - SageMaker manifests for batch transform: the test images (scored by champion and candidate) and the test images
 *   plus a sample of validation images (scored by the candidate: the drift baseline of its own outputs).
 *
 * Pure logic over an object store port, no AWS imports.
 */
import { readBytes, type ObjectStore } from '../storage/object-store';
import { parseS3Uri } from '../storage/s3-uri';
import { parseAthenaCsv, unitHash } from '../retraining/manifests';
import { isAuditSample } from './active-learning';
import { extendClassMap } from './class-map';
import { isValidLabel, LABEL_SOURCES, type LabelSource } from './labels';

/** One image's label as the memory keeps it. */
export interface MemoryLabel {
  /** Key of the image in the images bucket. */
  readonly image_key: string;
  readonly label: string;
  readonly source: LabelSource;
  /** When the label was given (ISO-8601 UTC). */
  readonly at: string;
  /** The prediction a reviewer labelled (human labels from the review queue). */
  readonly inference_id?: string;
  /**
   * When the image was captured (ISO-8601 UTC): its earliest event in the lake. The drift baseline compares a
   * window with the images of the same hour (seasonality), so its sample carries it.
   */
  readonly captured_at?: string;
  /** In the fixed test set (sticky). */
  readonly test?: true;
}

/** What the dataset step receives. */
export interface VisionDatasetInput {
  /** `s3://…csv`: the dataset query's result (`image_key, label, label_source, event_time[, inference_id]`). */
  readonly queryResultUri: string;
  /** The run's dataset folder, `s3://<curated>/datasets/<id>/` (ends with `/`). */
  readonly outputUri: string;
  /** The label memory, `s3://…/labels.jsonl`: read when it exists, then replaced by the merged memory. */
  readonly memoryUri: string;
  /** `s3://<raw>/images/`: the images channel; keys elsewhere are skipped. */
  readonly imagesUri: string;
  /** The champion's `classes.json` (a JSON array, or `{"classes": [...]}`); absent for the first model. */
  readonly championClassesUri?: string;
  /** Share of the non-test images held out for validation, in (0, 1). */
  readonly validationFraction: number;
  /** The audit draw of active learning: human labels of audit samples join the test set. */
  readonly audit: { readonly share: number; readonly salt: string };
  /** Validation images also scored by the candidate for the drift baseline, at most. @default 2000 */
  readonly maxBaselineImages?: number;
}

/** The dataset written (`$.dataset`). */
export interface VisionDataset {
  /** The `manifests` channel (`train.jsonl`, `validation.jsonl`, `classes.json`). */
  readonly manifestsUri: string;
  readonly trainUri: string;
  readonly validationUri: string;
  readonly classesUri: string;
  /** The fixed test set, outside the training channel. */
  readonly testUri: string;
  readonly memoryUri: string;
  /** SageMaker ManifestFile of the test images (champion and candidate). */
  readonly testScoringManifestUri: string;
  /** SageMaker ManifestFile of the test images and the baseline sample (candidate). */
  readonly candidateScoringManifestUri: string;
  /** The baseline sample of validation images (`{"image", "label", "source"}` lines). */
  readonly baselineUri: string;
  /** The images channel; transform outputs are named by the key under it. */
  readonly imagesUri: string;
  readonly classes: string[];
  /** Classes appended to the champion's map by this dataset. */
  readonly newClasses: string[];
  readonly labels: number;
  readonly train: number;
  readonly validation: number;
  readonly test: number;
  readonly baselineImages: number;
  /** Labels per source in the memory. */
  readonly perSource: Record<string, number>;
  /** Query rows skipped, by reason. */
  readonly skipped: Record<string, number>;
}

const RANK: Readonly<Record<LabelSource, number>> = Object.fromEntries(LABEL_SOURCES.map((s, i) => [s, i])) as Record<
  LabelSource,
  number
>;

/** Whether `candidate` replaces `current` as the image's label: a more trusted source, or the same and not older. */
export function supersedes(candidate: MemoryLabel, current: MemoryLabel | undefined): boolean {
  if (!current) return true;
  const a = RANK[candidate.source];
  const b = RANK[current.source];
  return a > b || (a === b && candidate.at >= current.at);
}

/**
 * The dataset query: one label per image of the window by precedence (the latest among equals), with what the
 * memory needs (source, time, the reviewed inference id). Trino (Athena) and DuckDB read it alike.
 * @param table the events table, quoted: `"database"."table"`
 * @param inWindow predicate selecting the window (it may hold placeholders the caller fills in)
 */
export function datasetLabelsQuery(table: string, inWindow: string): string {
  const rank = `CASE label_source ${LABEL_SOURCES.map((s, i) => `WHEN '${s}' THEN ${i + 1}`)
    .reverse()
    .join(' ')} ELSE 1 END`;
  // The capture time is the image's earliest event (its arrival, which carries no label), so it is taken over
  // every event of the image before unlabelled rows are left out.
  return (
    `SELECT image_key, label, label_source, event_time, inference_id, captured_at FROM (` +
    `SELECT image_key, label, COALESCE(label_source, 'model') AS label_source, event_time, inference_id, ` +
    `min(event_time) OVER (PARTITION BY image_key) AS captured_at, ` +
    `row_number() OVER (PARTITION BY image_key ORDER BY CASE WHEN label IS NULL THEN 0 ELSE 1 END DESC, ` +
    `${rank} DESC, event_time DESC) AS rn ` +
    `FROM ${table} WHERE ${inWindow}) WHERE rn = 1 AND label IS NOT NULL`
  );
}

/** Athena (`2026-11-23 10:00:00.000`), DuckDB and ISO times as ISO-8601 UTC; undefined when unreadable. */
export function normalizeTime(text: string): string | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t) ? `${t.replace(' ', 'T')}Z` : t;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function isLabelSource(value: string): value is LabelSource {
  return (LABEL_SOURCES as readonly string[]).includes(value);
}

/** Parses the memory file; throws naming the first bad line (a corrupt memory must stop the run, not shrink it). */
export function parseMemory(text: string, where: string): MemoryLabel[] {
  const out: MemoryLabel[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let o: Partial<Record<keyof MemoryLabel, unknown>>;
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      throw new Error(`${where} line ${i + 1} is not JSON`);
    }
    if (
      typeof o.image_key !== 'string' ||
      typeof o.label !== 'string' ||
      !isValidLabel(o.label) ||
      typeof o.source !== 'string' ||
      !isLabelSource(o.source) ||
      typeof o.at !== 'string'
    ) {
      throw new Error(`${where} line ${i + 1} is not a memory label (image_key, label, source, at)`);
    }
    out.push(o as MemoryLabel);
  });
  return out;
}

/** The query's rows as labels; rows that cannot be used are counted by reason. */
export function labelsFromQuery(csv: string): { labels: MemoryLabel[]; skipped: Record<string, number> } {
  const [header, ...rows] = parseAthenaCsv(csv);
  const col = (name: string) => header?.indexOf(name) ?? -1;
  const [key, label, source, time, inference, captured] = [
    col('image_key'),
    col('label'),
    col('label_source'),
    col('event_time'),
    col('inference_id'),
    col('captured_at'),
  ];
  if (key < 0 || label < 0 || source < 0 || time < 0) {
    throw new Error(
      `the dataset query result needs columns image_key, label, label_source, event_time; received ${JSON.stringify(header ?? [])}`,
    );
  }
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  const labels: MemoryLabel[] = [];
  for (const row of rows) {
    const at = normalizeTime(row[time] ?? '');
    const src = row[source] || 'model';
    if (!row[key]) skip('no-image-key');
    else if (!isValidLabel(row[label] ?? '')) skip('invalid-label');
    else if (!isLabelSource(src)) skip('unknown-label-source');
    else if (!at) skip('invalid-time');
    else {
      const id = inference >= 0 ? row[inference] : '';
      const capturedAt = captured >= 0 ? normalizeTime(row[captured] ?? '') : undefined;
      labels.push({
        image_key: row[key],
        label: row[label],
        source: src,
        at,
        ...(id ? { inference_id: id } : {}),
        ...(capturedAt ? { captured_at: capturedAt } : {}),
      });
    }
  }
  return { labels, skipped };
}

/**
 * Merges new labels into the memory: one label per image by precedence; an image already in the test set stays
 * there; a human label given to an audit sample puts its image in the test set.
 */
export function mergeMemory(
  memory: readonly MemoryLabel[],
  incoming: readonly MemoryLabel[],
  audit: VisionDatasetInput['audit'],
): MemoryLabel[] {
  const byKey = new Map<string, MemoryLabel>();
  const inTest = new Set<string>();
  const consider = (label: MemoryLabel) => {
    if (label.test) inTest.add(label.image_key);
    if (label.source === 'human' && label.inference_id && isAuditSample(label.inference_id, audit.share, audit.salt)) {
      inTest.add(label.image_key);
    }
    const current = byKey.get(label.image_key);
    // The earliest capture time known of the image, whichever label wins.
    const captured = [current?.captured_at, label.captured_at].filter((t): t is string => !!t).sort()[0];
    const kept = supersedes(label, current) ? label : current!;
    byKey.set(label.image_key, captured ? { ...kept, captured_at: captured } : kept);
  };
  memory.forEach(consider);
  incoming.forEach(consider);
  return [...byKey.values()]
    .map((l): MemoryLabel => {
      const { test: _ignored, ...rest } = l;
      return inTest.has(l.image_key) ? { ...rest, test: true } : rest;
    })
    .sort((a, b) => (a.image_key < b.image_key ? -1 : a.image_key > b.image_key ? 1 : 0));
}

/** A line of the drift baseline's sample: the manifest line and, when known, when the image was captured. */
function baselineLine(label: MemoryLabel, imagesKeyPrefix: string): string {
  const line = JSON.parse(manifestLine(label, imagesKeyPrefix)) as Record<string, string>;
  return JSON.stringify(label.captured_at ? { ...line, [BASELINE_TIME_FIELD]: label.captured_at } : line);
}

/** The time field of the baseline sample's lines (the image's capture time). */
export const BASELINE_TIME_FIELD = 'time';

/** A line of the model's manifests: the key relative to the images channel. */
function manifestLine(label: MemoryLabel, imagesKeyPrefix: string): string {
  return JSON.stringify({
    image: label.image_key.slice(imagesKeyPrefix.length),
    label: label.label,
    source: label.source,
  });
}

function readClassMap(text: string, where: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not JSON`);
  }
  const list = Array.isArray(json) ? json : (json as { classes?: unknown } | null)?.classes;
  if (!Array.isArray(list) || !list.every((c): c is string => typeof c === 'string')) {
    throw new Error(`${where} must be a JSON array of class names (or {"classes": [...]})`);
  }
  return list;
}

/** Splits the memory into test, train and validation and fixes the class map. Pure. */
export function splitDataset(
  memory: readonly MemoryLabel[],
  options: { readonly championClasses: readonly string[]; readonly validationFraction: number },
): { test: MemoryLabel[]; train: MemoryLabel[]; validation: MemoryLabel[]; classes: string[] } {
  if (!(options.validationFraction > 0 && options.validationFraction < 1)) {
    throw new Error(`validationFraction must be strictly between 0 and 1; received ${options.validationFraction}`);
  }
  const test: MemoryLabel[] = [];
  const train: MemoryLabel[] = [];
  let validation: MemoryLabel[] = [];
  for (const l of memory) {
    if (l.test) test.push(l);
    else if (unitHash(l.image_key) < options.validationFraction) validation.push(l);
    else train.push(l);
  }
  const classes = extendClassMap(
    options.championClasses,
    [...train, ...validation].map((l) => l.label),
  );
  // The model needs a training image of every class: a class seen only in validation trains on one of its images.
  const trained = new Set(train.map((l) => l.label));
  const moved = new Set<MemoryLabel>();
  for (const l of validation) {
    if (!trained.has(l.label)) {
      trained.add(l.label);
      moved.add(l);
    }
  }
  if (moved.size > 0) {
    train.push(...moved);
    validation = validation.filter((l) => !moved.has(l));
    train.sort((a, b) => (a.image_key < b.image_key ? -1 : 1));
  }
  const missing = classes.filter((c) => !train.some((l) => l.label === c));
  if (missing.length > 0) {
    throw new Error(
      `class ${missing.map((c) => `"${c}"`).join(', ')} of the champion's class map has no labelled image outside the test set; the model needs at least one training image per class`,
    );
  }
  if (classes.length < 2)
    throw new Error(`image classification needs at least 2 classes; the dataset has ${classes.length}`);
  if (validation.length === 0) throw new Error(`the split left no validation image (train ${train.length})`);
  return { test, train, validation, classes };
}

/** Builds and writes the dataset (see the module comment). */
export async function buildVisionDataset(store: ObjectStore, input: VisionDatasetInput): Promise<VisionDataset> {
  if (!input.outputUri.endsWith('/')) throw new Error(`outputUri must end with "/"; received ${input.outputUri}`);
  if (!input.imagesUri.endsWith('/')) throw new Error(`imagesUri must end with "/"; received ${input.imagesUri}`);
  const images = parseS3Uri(input.imagesUri);
  const query = parseS3Uri(input.queryResultUri);
  const { labels: fromQuery, skipped } = labelsFromQuery(
    (await readBytes(store, query.bucket, query.key)).toString('utf8'),
  );
  const incoming = fromQuery.filter((l) => {
    const inside = l.image_key.startsWith(images.key) && !l.image_key.includes('..');
    if (!inside) skipped['outside-images-prefix'] = (skipped['outside-images-prefix'] ?? 0) + 1;
    return inside;
  });
  const memoryLocation = parseS3Uri(input.memoryUri);
  const stored = (await store.exists(memoryLocation.bucket, memoryLocation.key))
    ? parseMemory((await readBytes(store, memoryLocation.bucket, memoryLocation.key)).toString('utf8'), input.memoryUri)
    : [];
  const memory = mergeMemory(stored, incoming, input.audit);
  let championClasses: string[] = [];
  if (input.championClassesUri) {
    const c = parseS3Uri(input.championClassesUri);
    championClasses = readClassMap(
      (await readBytes(store, c.bucket, c.key)).toString('utf8'),
      input.championClassesUri,
    );
  }
  const { test, train, validation, classes } = splitDataset(memory, {
    championClasses,
    validationFraction: input.validationFraction,
  });
  const baseline = [...validation]
    .sort((a, b) => unitHash(`baseline/${a.image_key}`) - unitHash(`baseline/${b.image_key}`))
    .slice(0, input.maxBaselineImages ?? 2000)
    .sort((a, b) => (a.image_key < b.image_key ? -1 : 1));

  const out = parseS3Uri(input.outputUri);
  const uri = (name: string) => `s3://${out.bucket}/${out.key}${name}`;
  const put = (name: string, body: string) => store.put(out.bucket, `${out.key}${name}`, body);
  const lines = (ls: readonly MemoryLabel[]) => ls.map((l) => manifestLine(l, images.key)).join('\n') + '\n';
  const scoring = (ls: readonly MemoryLabel[]) =>
    JSON.stringify([{ prefix: input.imagesUri }, ...ls.map((l) => l.image_key.slice(images.key.length))]);
  await put('manifests/train.jsonl', lines(train));
  await put('manifests/validation.jsonl', lines(validation));
  await put('manifests/classes.json', JSON.stringify(classes));
  await put('test.jsonl', test.length > 0 ? lines(test) : '');
  await put('scoring/test.manifest', scoring(test));
  await put('scoring/candidate.manifest', scoring([...test, ...baseline]));
  await put('scoring/baseline.jsonl', baseline.map((l) => baselineLine(l, images.key)).join('\n') + '\n');
  const memoryText = memory.map((l) => JSON.stringify(l)).join('\n') + '\n';
  await put('labels.jsonl', memoryText);
  await store.put(memoryLocation.bucket, memoryLocation.key, memoryText);

  const perSource: Record<string, number> = {};
  for (const l of memory) perSource[l.source] = (perSource[l.source] ?? 0) + 1;
  return {
    manifestsUri: uri('manifests/'),
    trainUri: uri('manifests/train.jsonl'),
    validationUri: uri('manifests/validation.jsonl'),
    classesUri: uri('manifests/classes.json'),
    testUri: uri('test.jsonl'),
    memoryUri: input.memoryUri,
    testScoringManifestUri: uri('scoring/test.manifest'),
    candidateScoringManifestUri: uri('scoring/candidate.manifest'),
    baselineUri: uri('scoring/baseline.jsonl'),
    imagesUri: input.imagesUri,
    classes,
    newClasses: classes.slice(championClasses.length),
    labels: memory.length,
    train: train.length,
    validation: validation.length,
    test: test.length,
    baselineImages: baseline.length,
    perSource,
    skipped,
  };
}
