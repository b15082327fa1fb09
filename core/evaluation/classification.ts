/**
 * Classification metrics over a fixed test set: accuracy, per-class precision/recall/F1 and macro-F1 (sklearn's
 * definition: the unweighted mean over the classes present in the truth or the predictions; a class with no
 * prediction has precision 0). The vision case study reports them overall, per class and per label source.
 */

/** One test example: its true class, the predicted class and where its label came from. */
export interface Prediction {
  readonly truth: string;
  readonly predicted: string;
  /** Label source (e.g. `human`, `labels-file`): for the per-source breakdown. @default 'unknown' */
  readonly source?: string;
}

/** Per-class figures. */
export interface ClassMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** True examples of the class. */
  readonly support: number;
}

/** What {@link classificationMetrics} reports. */
export interface ClassificationMetrics {
  readonly accuracy: number;
  readonly macroF1: number;
  readonly examples: number;
  readonly perClass: Record<string, ClassMetrics>;
  readonly perSource: Record<string, { readonly accuracy: number; readonly examples: number }>;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Metrics of one model's predictions on the test set. */
export function classificationMetrics(predictions: readonly Prediction[]): ClassificationMetrics {
  const classes = [...new Set(predictions.flatMap((p) => [p.truth, p.predicted]))].sort();
  const perClass: Record<string, ClassMetrics> = {};
  for (const cls of classes) {
    const tp = predictions.filter((p) => p.truth === cls && p.predicted === cls).length;
    const predicted = predictions.filter((p) => p.predicted === cls).length;
    const support = predictions.filter((p) => p.truth === cls).length;
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    perClass[cls] = { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  }
  const perSource: Record<string, { accuracy: number; examples: number }> = {};
  const sources = [...new Set(predictions.map((p) => p.source ?? 'unknown'))].sort();
  for (const source of sources) {
    const own = predictions.filter((p) => (p.source ?? 'unknown') === source);
    perSource[source] = {
      accuracy: ratio(own.filter((p) => p.truth === p.predicted).length, own.length),
      examples: own.length,
    };
  }
  const f1s = classes.map((c) => perClass[c].f1);
  return {
    accuracy: ratio(predictions.filter((p) => p.truth === p.predicted).length, predictions.length),
    macroF1: f1s.length === 0 ? 0 : f1s.reduce((s, f) => s + f, 0) / f1s.length,
    examples: predictions.length,
    perClass,
    perSource,
  };
}
