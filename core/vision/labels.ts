/**
 * Labels for the vision case study: the bootstrap path of an MVP (heuristic labels from the key prefix or a labels
 * file) and the human-in-the-loop path (Ground Truth reviews), merged with a fixed precedence into the labelled set
 * the next dataset is built from. No AWS imports.
 *
 * Bootstrap labels are heuristics: a folder name says where an uploader put a file, not what the image shows. They
 * get a model started; human reviews override them.
 */

/** Where a label came from, in increasing order of trust. */
export const LABEL_SOURCES = ['model', 'prefix', 'labels-file', 'human'] as const;
export type LabelSource = (typeof LABEL_SOURCES)[number];

/** A labelled image. */
export interface LabelledImage {
  /** `s3://bucket/key` of the image. */
  readonly sourceRef: string;
  readonly label: string;
  readonly labelSource: LabelSource;
  /** When the label was given (ISO-8601); breaks ties between labels of equal trust (latest wins). */
  readonly labelledAt: string;
}

const LABEL = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,127}$/;

/** Whether a string is an acceptable class label (letters, digits, space, `_ . -`; at most 128 characters). */
export function isValidLabel(label: string): boolean {
  return LABEL.test(label);
}

/**
 * Heuristic label from the key: the first folder under the images prefix (`images/cat/0001.jpg` → `cat`).
 * Undefined when the image is not in a folder or the folder name is not a valid label.
 */
export function labelFromPrefix(key: string, imagesPrefix: string): string | undefined {
  if (!key.startsWith(imagesPrefix)) return undefined;
  const parts = key.slice(imagesPrefix.length).split('/');
  if (parts.length < 2 || !parts[0] || !parts[parts.length - 1]) return undefined;
  return isValidLabel(parts[0]) ? parts[0] : undefined;
}

/** A parsed labels file and the lines it could not use. */
export interface LabelsFile {
  readonly labels: ReadonlyMap<string, string>;
  readonly invalid: ReadonlyArray<{ readonly line: number; readonly reason: string }>;
}

/**
 * Parses a labels file: CSV lines `key,label` (an optional `key,label` header) or JSON lines
 * `{"key": "...", "label": "..."}`. A key listed twice keeps its last label.
 */
export function parseLabelsFile(text: string): LabelsFile {
  const labels = new Map<string, string>();
  const invalid: Array<{ line: number; reason: string }> = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || (i === 0 && /^key\s*,\s*label$/i.test(line))) continue;
    let key: unknown;
    let label: unknown;
    if (line.startsWith('{')) {
      try {
        ({ key, label } = JSON.parse(line) as { key?: unknown; label?: unknown });
      } catch {
        invalid.push({ line: i + 1, reason: 'not JSON' });
        continue;
      }
    } else {
      const comma = line.lastIndexOf(',');
      if (comma < 0) {
        invalid.push({ line: i + 1, reason: 'expected key,label' });
        continue;
      }
      key = line.slice(0, comma).trim();
      label = line.slice(comma + 1).trim();
    }
    if (typeof key !== 'string' || !key) {
      invalid.push({ line: i + 1, reason: 'missing key' });
    } else if (typeof label !== 'string' || !isValidLabel(label)) {
      invalid.push({ line: i + 1, reason: `invalid label ${JSON.stringify(label)}` });
    } else labels.set(key, label);
  }
  return { labels, invalid };
}

/**
 * The bootstrap label of an image: the labels file first (someone wrote it down), then the key prefix.
 * Undefined when neither applies.
 */
export function bootstrapLabel(
  key: string,
  options: { readonly imagesPrefix: string; readonly labelsFile?: LabelsFile },
): { label: string; labelSource: 'labels-file' | 'prefix' } | undefined {
  const fromFile = options.labelsFile?.labels.get(key);
  if (fromFile) return { label: fromFile, labelSource: 'labels-file' };
  const fromPrefix = labelFromPrefix(key, options.imagesPrefix);
  return fromPrefix ? { label: fromPrefix, labelSource: 'prefix' } : undefined;
}

/**
 * Merges label sets (active learning): one label per image, the most trusted source wins (human > labels file >
 * prefix > model); among equally trusted labels the latest wins. The result is sorted by `sourceRef`, so the same
 * inputs always give the same dataset.
 */
export function mergeLabels(...sets: ReadonlyArray<Iterable<LabelledImage>>): LabelledImage[] {
  const rank = (s: LabelSource) => LABEL_SOURCES.indexOf(s);
  const best = new Map<string, LabelledImage>();
  for (const set of sets) {
    for (const item of set) {
      const current = best.get(item.sourceRef);
      if (
        !current ||
        rank(item.labelSource) > rank(current.labelSource) ||
        (rank(item.labelSource) === rank(current.labelSource) && item.labelledAt >= current.labelledAt)
      ) {
        best.set(item.sourceRef, item);
      }
    }
  }
  return [...best.values()].sort((a, b) => (a.sourceRef < b.sourceRef ? -1 : a.sourceRef > b.sourceRef ? 1 : 0));
}
