/**
 * The vision endpoint's response, read the way the drift checker's capture reader reads it: a JSON array of class
 * probabilities (the built-in image classification algorithm) or an object with `probabilities` (or
 * `predicted_class` + `confidence`) and an optional `embedding` (a model that returns its penultimate layer).
 * No AWS imports.
 */

/** What the consumer needs from one prediction. */
export interface Prediction {
  readonly predictedClass: number;
  readonly confidence: number;
  /** The image embedding, when the model returns one. */
  readonly embedding?: readonly number[];
}

const isNumbers = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

function argmax(p: readonly number[]): Prediction {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return { predictedClass: best, confidence: p[best] };
}

/** Parses a response body; throws with what was received when it is none of the accepted shapes. */
export function parsePrediction(body: string): Prediction {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`endpoint response is not JSON: ${body.slice(0, 200)}`);
  }
  if (isNumbers(json)) return argmax(json);
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    const o = json as Record<string, unknown>;
    const embedding = isNumbers(o.embedding) ? o.embedding : undefined;
    if (isNumbers(o.probabilities)) return { ...argmax(o.probabilities), ...(embedding ? { embedding } : {}) };
    const cls = typeof o.predicted_class === 'string' ? Number(o.predicted_class) : o.predicted_class;
    if (typeof cls === 'number' && Number.isInteger(cls) && typeof o.confidence === 'number') {
      return { predictedClass: cls, confidence: o.confidence, ...(embedding ? { embedding } : {}) };
    }
  }
  throw new Error(
    `endpoint response must be class probabilities ([p0, p1, …]) or {probabilities|predicted_class+confidence, embedding?}; received ${body.slice(0, 200)}`,
  );
}
