/**
 * Train/validation augmented manifests for the vision case study, from the Athena result of the labelled-images
 * query (CSV with a header: `image_key,label`). The split is deterministic (hash of the image key), so a rerun of
 * the same dataset ID writes the same manifests, and an image never moves between train and validation as data
 * grows. Class indices never move: the champion's `classes.json` is carried forward and new labels are appended in
 * sorted order (as `extendClassMap` does, without its review-page name rule); `classes.json` records the mapping.
 */
import { readBytes, type ObjectStore } from '../storage/object-store';
import { parseS3Uri } from '../storage/s3-uri';

/** What the manifest step receives. */
export interface ManifestInput {
  /** `s3://bucket/key.csv` of the Athena query result. */
  readonly queryResultUri: string;
  /** Where the manifests go: `s3://bucket/prefix/` (ends with `/`). */
  readonly outputUri: string;
  /** Bucket the image keys are in. */
  readonly imageBucket: string;
  /** Share of images held out for validation. */
  readonly validationFraction: number;
  /** Static hyperparameters; `num_classes` and `num_training_samples` are added. */
  readonly hyperparameters: Record<string, string>;
  /** The champion's `classes.json` (`{"classes": [...]}` or an array): its indices are kept. Absent for the first model. */
  readonly championClassesUri?: string;
}

/** The manifests written (`$.dataset`). */
export interface ManifestResult {
  readonly trainUri: string;
  readonly validationUri: string;
  readonly classesUri: string;
  /** The validation images as a SageMaker ManifestFile (for batch-transform re-scoring). */
  readonly scoringManifestUri: string;
  /** `s3://<image bucket>/`: the prefix of the scoring manifest; transform outputs are named by the key under it. */
  readonly imagePrefixUri: string;
  readonly records: number;
  readonly train: number;
  readonly validation: number;
  readonly classes: string[];
  readonly hyperparameters: Record<string, string>;
}

/** Splits `s3://bucket/key`. */
/** FNV-1a 32-bit hash, mapped to [0, 1). */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 0x1_0000_0000;
}

/** Parses Athena's CSV output (every value double-quoted, `""` escapes a quote). */
export function parseAthenaCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Builds and writes the manifests. */
export async function buildManifests(store: ObjectStore, input: ManifestInput): Promise<ManifestResult> {
  if (!(input.validationFraction > 0 && input.validationFraction < 1)) {
    throw new Error(`validationFraction must be strictly between 0 and 1; received ${input.validationFraction}`);
  }
  const source = parseS3Uri(input.queryResultUri);
  const rows = parseAthenaCsv((await readBytes(store, source.bucket, source.key)).toString('utf8'));
  const [header, ...data] = rows;
  const keyCol = header?.indexOf('image_key') ?? -1;
  const labelCol = header?.indexOf('label') ?? -1;
  if (keyCol < 0 || labelCol < 0) {
    throw new Error(`query result must have columns image_key and label; received ${JSON.stringify(header ?? [])}`);
  }
  const seen = new Set<string>();
  const records: Array<{ key: string; label: string }> = [];
  for (const row of data) {
    const key = row[keyCol];
    const label = row[labelCol];
    if (!key || !label || seen.has(key)) continue;
    seen.add(key);
    records.push({ key, label });
  }
  let championClasses: string[] = [];
  if (input.championClassesUri) {
    const c = parseS3Uri(input.championClassesUri);
    const json = JSON.parse((await readBytes(store, c.bucket, c.key)).toString('utf8')) as unknown;
    const list = Array.isArray(json) ? json : (json as { classes?: unknown } | null)?.classes;
    if (!Array.isArray(list) || !list.every((x): x is string => typeof x === 'string')) {
      throw new Error(`${input.championClassesUri} must hold the champion's class names ({"classes": [...]})`);
    }
    championClasses = list;
  }
  const known = new Set(championClasses);
  const classes = [
    ...championClasses,
    ...[...new Set(records.map((r) => r.label))].filter((label) => !known.has(label)).sort(),
  ];
  if (classes.length < 2) {
    throw new Error(`image classification needs at least 2 classes; the dataset has ${classes.length}`);
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  const train: string[] = [];
  const validation: string[] = [];
  const validationKeys: string[] = [];
  for (const r of records) {
    const line = JSON.stringify({ 'source-ref': `s3://${input.imageBucket}/${r.key}`, class: index.get(r.label) });
    const held = unitHash(r.key) < input.validationFraction;
    (held ? validation : train).push(line);
    if (held) validationKeys.push(r.key);
  }
  if (train.length === 0 || validation.length === 0) {
    throw new Error(`the split left an empty channel (train ${train.length}, validation ${validation.length})`);
  }
  const out = parseS3Uri(input.outputUri);
  const uri = (name: string) => `s3://${out.bucket}/${out.key}${name}`;
  await store.put(out.bucket, `${out.key}train.manifest`, train.join('\n') + '\n');
  await store.put(out.bucket, `${out.key}validation.manifest`, validation.join('\n') + '\n');
  await store.put(out.bucket, `${out.key}classes.json`, JSON.stringify({ classes }, null, 2));
  const imagePrefixUri = `s3://${input.imageBucket}/`;
  await store.put(
    out.bucket,
    `${out.key}validation.images.manifest`,
    JSON.stringify([{ prefix: imagePrefixUri }, ...validationKeys]),
  );
  return {
    trainUri: uri('train.manifest'),
    validationUri: uri('validation.manifest'),
    classesUri: uri('classes.json'),
    scoringManifestUri: uri('validation.images.manifest'),
    imagePrefixUri,
    records: records.length,
    train: train.length,
    validation: validation.length,
    classes,
    hyperparameters: {
      ...input.hyperparameters,
      num_classes: String(classes.length),
      num_training_samples: String(train.length),
    },
  };
}
