/**
 * The vision endpoint's response, read the way the drift checker's capture reader reads it. The model of
 * `models/vision/` answers `{"label", "probabilities", "top_k", "embedding", "model_version"?}` (probabilities in
 * `classes.json` order; `model_version` the training job's name, absent for artifacts that record none); older
 * shapes are still read: a JSON array of class probabilities, or an object with `predicted_class` + `confidence` and
 * an optional `embedding`. No AWS imports.
 */

/**
 * What a model version may look like: the review request's rule (`core/review/request.ts`), which SageMaker training
 * job names satisfy. A version outside it is dropped (the prediction stays, unattributed) rather than carried into
 * a request the review queue would refuse.
 */
export const MODEL_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/;

/** Whether a value is a model version ({@link MODEL_VERSION_PATTERN}). */
export const isModelVersion = (v: unknown): v is string => typeof v === 'string' && MODEL_VERSION_PATTERN.test(v);

/** What the consumer, the baseline and active learning need from one prediction. */
export interface Prediction {
  readonly predictedClass: number;
  readonly confidence: number;
  /** The predicted class's name, when the model says it (`label`). */
  readonly label?: string;
  /** Class probabilities in the model's class-map order, when the model returns them. */
  readonly probabilities?: readonly number[];
  /** The image embedding, when the model returns one. */
  readonly embedding?: readonly number[];
  /** The model's most probable classes with their names (`top_k`), most probable first. */
  readonly topK?: ReadonlyArray<{ readonly label: string; readonly probability: number }>;
  /** The version of the model that answered (`model_version`: its training job's name), when it says so. */
  readonly modelVersion?: string;
}

const isNumbers = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Index of the largest value (the first among equals). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function parseTopK(value: unknown): Prediction['topK'] {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const out: Array<{ label: string; probability: number }> = [];
  for (const v of value) {
    const o = v as { label?: unknown; probability?: unknown } | null;
    if (!o || typeof o.label !== 'string' || typeof o.probability !== 'number') return undefined;
    out.push({ label: o.label, probability: o.probability });
  }
  return out;
}

function fromProbabilities(p: readonly number[]): Prediction {
  const best = argmax(p);
  return { predictedClass: best, confidence: p[best], probabilities: p };
}

/**
 * Parses a response body with everything it holds (probabilities and the class name too); throws with what was
 * received when it is none of the accepted shapes.
 */
export function parseModelAnswer(body: string): Prediction {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`endpoint response is not JSON: ${body.slice(0, 200)}`);
  }
  if (isNumbers(json)) return fromProbabilities(json);
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    const o = json as Record<string, unknown>;
    const topK = parseTopK(o.top_k);
    const extra = {
      ...(isNumbers(o.embedding) ? { embedding: o.embedding } : {}),
      ...(typeof o.label === 'string' && o.label ? { label: o.label } : {}),
      ...(topK ? { topK } : {}),
      ...(isModelVersion(o.model_version) ? { modelVersion: o.model_version } : {}),
    };
    if (isNumbers(o.probabilities)) return { ...fromProbabilities(o.probabilities), ...extra };
    const cls = typeof o.predicted_class === 'string' ? Number(o.predicted_class) : o.predicted_class;
    if (typeof cls === 'number' && Number.isInteger(cls) && typeof o.confidence === 'number') {
      return { predictedClass: cls, confidence: o.confidence, ...extra };
    }
  }
  throw new Error(
    `endpoint response must be class probabilities ([p0, p1, …]) or {probabilities|predicted_class+confidence, label?, embedding?, model_version?}; received ${body.slice(0, 200)}`,
  );
}

/** Parses a response body into class, confidence and embedding (what the drift reader keeps). */
export function parsePrediction(body: string): Prediction {
  const { predictedClass, confidence, embedding } = parseModelAnswer(body);
  return { predictedClass, confidence, ...(embedding ? { embedding } : {}) };
}
