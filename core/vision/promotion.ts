/**
 * The vision promotion rule, on the fixed human-verified test set (`dataset.ts`):
 *
 * - both models' batch-transform outputs are read per test image; each model's predicted index is named through
 *   **its own** `classes.json`, so a champion and a candidate with different class maps (a class appended) are
 *   compared class by class, and a test image of a class a model does not know counts as its error;
 * - accuracy, macro-F1, per-class and per-label-source metrics of each (`core/evaluation/classification.ts`);
 * - **McNemar's exact test** on the paired correctness: promote only when the one-sided p-value (candidate better)
 *   is at most `alpha` **and** the gain in the chosen metric reaches `minImprovement`. A gain without significance
 *   is noise on a small test set; significance without the gain is not worth a deployment;
 * - the first model (no champion) must reach `absoluteFloor` in accuracy on the test set, or, while the test set
 *   is still empty, on its training job's validation metric.
 *
 * The decision and every figure behind it go into one report (`ml-blueprint/vision-evaluation`), written next to
 * the dataset and registered as the model package's metrics. I/O through the object store port; no AWS imports.
 */
import { classificationMetrics, type ClassificationMetrics } from '../evaluation/classification';
import { mcnemarExact, type McNemarResult } from '../evaluation/mcnemar';
import { readBytes, readText, type ObjectStore } from '../storage/object-store';
import { parseS3Uri } from '../storage/s3-uri';
import { remapIndex } from './class-map';
import { parseModelAnswer, type Prediction } from './prediction';

/** The `kind` of the evaluation report. */
export const VISION_EVALUATION_KIND = 'ml-blueprint/vision-evaluation' as const;

/** How a candidate is judged (from the stage config). */
export interface VisionPromotionPolicy {
  /** Level of McNemar's one-sided exact test. */
  readonly alpha: number;
  /** Gain over the champion the candidate must reach, in `gainMetric` (absolute, e.g. 0.01 = one point). */
  readonly minImprovement: number;
  /** @default 'accuracy' */
  readonly gainMetric?: 'accuracy' | 'macroF1';
  /** The first model's accuracy floor. */
  readonly absoluteFloor: number;
}

/** One image of the test set (a line of `test.jsonl`). */
export interface TestExample {
  /** Key relative to the images channel. */
  readonly image: string;
  readonly label: string;
  readonly source: string;
}

/** One model's answers per test image. */
export interface ModelAnswers {
  readonly classes: readonly string[];
  /** By image (relative key). */
  readonly answers: ReadonlyMap<string, Prediction>;
}

/** One model's figures on the test set. */
export interface ModelReport {
  readonly classes: number;
  readonly metrics: ClassificationMetrics;
}

/** The report (also the model package's metrics). */
export interface VisionEvaluationReport {
  readonly kind: typeof VISION_EVALUATION_KIND;
  readonly version: 1;
  readonly policy: Required<VisionPromotionPolicy>;
  readonly testSet: { readonly images: number; readonly perSource: Record<string, number> };
  readonly candidate: ModelReport;
  readonly champion: ModelReport | null;
  /** Index in the candidate's map of each champion class (-1: unknown to the candidate). */
  readonly championToCandidate: number[] | null;
  readonly mcnemar: (McNemarResult & { readonly discordant: number }) | null;
  /** Candidate minus champion in the gain metric. */
  readonly gain: number | null;
  /** The first model judged on its training job's metric (empty test set). */
  readonly trainingMetric: { readonly name: string; readonly value: number } | null;
  readonly promote: boolean;
  readonly reason: string;
}

const DEFAULT_GAIN_METRIC = 'accuracy';

function checkPolicy(policy: VisionPromotionPolicy): Required<VisionPromotionPolicy> {
  if (!(policy.alpha > 0 && policy.alpha < 1)) throw new Error(`alpha must be in (0, 1); received ${policy.alpha}`);
  if (!(policy.minImprovement >= 0 && policy.minImprovement <= 1)) {
    throw new Error(`minImprovement must be in [0, 1]; received ${policy.minImprovement}`);
  }
  return { gainMetric: DEFAULT_GAIN_METRIC, ...policy };
}

/** The name of each test image's predicted class, through the model's own class map. */
export function predictedNames(test: readonly TestExample[], model: ModelAnswers, who: string): string[] {
  return test.map((t) => {
    const answer = model.answers.get(t.image);
    if (!answer) throw new Error(`the ${who}'s transform has no output for test image "${t.image}"`);
    const name = model.classes[answer.predictedClass];
    if (name === undefined) {
      throw new Error(
        `the ${who} predicted class index ${answer.predictedClass} for "${t.image}", outside its map of ${model.classes.length} classes`,
      );
    }
    return name;
  });
}

function report(test: readonly TestExample[], names: readonly string[], classes: number): ModelReport {
  return {
    classes,
    metrics: classificationMetrics(test.map((t, i) => ({ truth: t.label, predicted: names[i], source: t.source }))),
  };
}

const fmt = (x: number) => (Math.round(x * 1e4) / 1e4).toString();

/** Decides on the test set. `trainingMetric` judges a first model while the test set is empty. */
export function decidePromotion(input: {
  readonly test: readonly TestExample[];
  readonly candidate: ModelAnswers;
  readonly champion?: ModelAnswers;
  readonly policy: VisionPromotionPolicy;
  readonly trainingMetric?: { readonly name: string; readonly value: number };
}): VisionEvaluationReport {
  const policy = checkPolicy(input.policy);
  const { test } = input;
  const perSource: Record<string, number> = {};
  for (const t of test) perSource[t.source] = (perSource[t.source] ?? 0) + 1;
  const candidateNames = predictedNames(test, input.candidate, 'candidate');
  const candidate = report(test, candidateNames, input.candidate.classes.length);
  const base = {
    kind: VISION_EVALUATION_KIND,
    version: 1 as const,
    policy,
    testSet: { images: test.length, perSource },
  };
  const metricOf = (r: ModelReport) => (policy.gainMetric === 'accuracy' ? r.metrics.accuracy : r.metrics.macroF1);

  if (!input.champion) {
    const onTest = test.length > 0;
    const value = onTest ? candidate.metrics.accuracy : input.trainingMetric?.value;
    const what = onTest ? `accuracy on the ${test.length} test images` : input.trainingMetric?.name;
    const promote = value !== undefined && Number.isFinite(value) && value >= policy.absoluteFloor;
    return {
      ...base,
      candidate,
      champion: null,
      championToCandidate: null,
      mcnemar: null,
      gain: null,
      trainingMetric: onTest ? null : (input.trainingMetric ?? null),
      promote,
      reason:
        value === undefined
          ? 'first model: the test set is empty and the training job reported no validation metric'
          : `first model: ${what} ${fmt(value)} ${promote ? 'reaches' : 'does not reach'} the floor ${policy.absoluteFloor}`,
    };
  }

  const championMap = input.champion.classes;
  const championNames = predictedNames(test, input.champion, 'champion');
  const champion = report(test, championNames, championMap.length);
  const test2 = mcnemarExact(
    test.map((t, i) => championNames[i] === t.label),
    test.map((t, i) => candidateNames[i] === t.label),
  );
  const mcnemar = { ...test2, discordant: test2.b + test2.c };
  const gain = metricOf(candidate) - metricOf(champion);
  const significant = test.length > 0 && mcnemar.pCandidateBetter <= policy.alpha;
  const enough = gain >= policy.minImprovement;
  const promote = significant && enough;
  const figures =
    `${policy.gainMetric} ${fmt(metricOf(candidate))} vs ${fmt(metricOf(champion))} (gain ${fmt(gain)}, needed ` +
    `${policy.minImprovement}); McNemar on ${test.length} test images: candidate right/champion wrong ${mcnemar.c}, ` +
    `the reverse ${mcnemar.b}, one-sided p = ${mcnemar.pCandidateBetter.toPrecision(3)} (alpha ${policy.alpha})`;
  return {
    ...base,
    candidate,
    champion,
    championToCandidate: championMap.map((_, i) => remapIndex(i, championMap, input.candidate.classes)),
    mcnemar,
    gain,
    trainingMetric: null,
    promote,
    reason:
      test.length === 0
        ? 'the fixed test set is empty: no paired comparison with the champion is possible, the champion stays'
        : `${promote ? 'promote' : 'keep the champion'}: ${figures}${
            promote ? '' : !significant ? ' — not significant' : ' — gain below the minimum'
          }`,
  };
}

/** Parses `test.jsonl`. */
export function parseTestSet(text: string, where: string): TestExample[] {
  return text
    .split('\n')
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => line.trim())
    .map(({ line, i }) => {
      const o = JSON.parse(line) as Partial<TestExample>;
      if (typeof o.image !== 'string' || typeof o.label !== 'string') {
        throw new Error(`${where} line ${i + 1} needs "image" and "label"`);
      }
      return { image: o.image, label: o.label, source: typeof o.source === 'string' ? o.source : 'unknown' };
    });
}

/** A `classes.json` (array or `{"classes": [...]}`). */
export async function readClasses(store: ObjectStore, uri: string): Promise<string[]> {
  const { bucket, key } = parseS3Uri(uri);
  const json = JSON.parse((await readBytes(store, bucket, key)).toString('utf8')) as unknown;
  const list = Array.isArray(json) ? json : (json as { classes?: unknown } | null)?.classes;
  if (!Array.isArray(list) || !list.every((c) => typeof c === 'string')) {
    throw new Error(`${uri} must be a JSON array of class names`);
  }
  return list as string[];
}

/** Reads a model's batch-transform outputs (`<outputUri><image>.out`) for the given images, a batch at a time. */
export async function readTransformAnswers(
  store: ObjectStore,
  outputUri: string,
  images: readonly string[],
  concurrency = 32,
): Promise<Map<string, Prediction>> {
  const out = parseS3Uri(outputUri);
  const answers = new Map<string, Prediction>();
  for (let i = 0; i < images.length; i += concurrency) {
    const batch = images.slice(i, i + concurrency);
    const read = await Promise.all(
      batch.map(async (image) => {
        const object = await store.get(out.bucket, `${out.key}${image}.out`);
        return object ? parseModelAnswer(await readText(object)) : undefined;
      }),
    );
    read.forEach((answer, j) => {
      if (answer) answers.set(batch[j], answer);
    });
  }
  return answers;
}

/** What the vision evaluate step receives. */
export interface VisionEvaluationRequest {
  readonly policy: VisionPromotionPolicy;
  /** `test.jsonl` of the dataset. */
  readonly testUri: string;
  readonly candidate: { readonly outputUri: string; readonly classesUri: string };
  /** Present when there is a champion to beat. */
  readonly champion?: { readonly outputUri: string; readonly classesUri: string };
  /** `FinalMetricDataList` of the candidate's training job (judges a first model while the test set is empty). */
  readonly candidateMetrics?: ReadonlyArray<{ readonly MetricName: string; readonly Value: number }>;
  /** The training metric that judges a first model. @default 'validation:accuracy' */
  readonly trainingMetricName?: string;
  /** Where the report goes: `s3://…/evaluation.json`. */
  readonly reportUri: string;
  /** Stamped on the candidate's registry metadata (dataset id, training job, trigger). */
  readonly stamp?: Readonly<Record<string, string>>;
}

/** The decision (`$.evaluation`), the shape the loop's choice and registry states read. */
export interface VisionEvaluation {
  readonly promote: boolean;
  readonly reason: string;
  readonly metricName: string;
  readonly candidateValue: number | null;
  readonly championValue: number | null;
  readonly reportUri: string;
  /** Registry metadata of the candidate (strings only). */
  readonly metadata: Record<string, string>;
}

/** Reads the outputs, decides, writes the report. */
export async function runVisionEvaluation(
  store: ObjectStore,
  request: VisionEvaluationRequest,
): Promise<VisionEvaluation> {
  const testLocation = parseS3Uri(request.testUri);
  const test = parseTestSet(
    (await readBytes(store, testLocation.bucket, testLocation.key)).toString('utf8'),
    request.testUri,
  );
  const images = test.map((t) => t.image);
  const load = async (m: { outputUri: string; classesUri: string }): Promise<ModelAnswers> => ({
    classes: await readClasses(store, m.classesUri),
    answers: test.length > 0 ? await readTransformAnswers(store, m.outputUri, images) : new Map(),
  });
  const metricName = request.trainingMetricName ?? 'validation:accuracy';
  const trainingValue = request.candidateMetrics?.find((m) => m.MetricName === metricName)?.Value;
  const result = decidePromotion({
    test,
    candidate: await load(request.candidate),
    champion: request.champion ? await load(request.champion) : undefined,
    policy: request.policy,
    trainingMetric: trainingValue === undefined ? undefined : { name: metricName, value: trainingValue },
  });
  const where = parseS3Uri(request.reportUri);
  await store.put(where.bucket, where.key, JSON.stringify(result, null, 2), { contentType: 'application/json' });
  const gainMetric = result.policy.gainMetric;
  const valueOf = (r: ModelReport | null) => (r ? r.metrics[gainMetric] : null);
  const candidateValue = result.trainingMetric ? result.trainingMetric.value : valueOf(result.candidate);
  return {
    promote: result.promote,
    reason: result.reason,
    metricName: result.trainingMetric ? result.trainingMetric.name : `test:${gainMetric}`,
    candidateValue,
    championValue: valueOf(result.champion),
    reportUri: request.reportUri,
    metadata: {
      ...request.stamp,
      evaluation: result.promote ? 'promoted' : 'rejected',
      metricName: result.trainingMetric ? result.trainingMetric.name : `test:${gainMetric}`,
      metricValue: candidateValue === null ? 'missing' : String(candidateValue),
      championMetricValue: result.champion ? String(valueOf(result.champion)) : 'none',
      testImages: String(result.testSet.images),
      testAccuracy: String(result.candidate.metrics.accuracy),
      testMacroF1: String(result.candidate.metrics.macroF1),
      ...(result.mcnemar
        ? {
            mcnemarB: String(result.mcnemar.b),
            mcnemarC: String(result.mcnemar.c),
            mcnemarPValue: String(result.mcnemar.pCandidateBetter),
          }
        : {}),
      evaluationReport: request.reportUri,
    },
  };
}

/** One model's scores as the loop's evaluate state describes them (`ScoringSpec.source` of the vision study). */
export interface LoopScoringSource {
  readonly kind: 'vision-test-set';
  readonly outputUri: string;
  readonly testUri: string;
  /** The model's class map (null for a champion that does not exist). */
  readonly classesUri: string | null;
  readonly reportUri: string;
}

/** The loop's evaluate payload (the generic evaluate state's shape). */
export interface LoopEvaluationRequest {
  readonly policy: { readonly metricName: string; readonly minImprovement: number; readonly absoluteFloor: number };
  readonly candidateMetrics?: ReadonlyArray<{ readonly MetricName: string; readonly Value: number }>;
  readonly champion: { readonly found: boolean };
  readonly stamp?: Readonly<Record<string, string>>;
  readonly scoring: { readonly candidate: LoopScoringSource; readonly champion: LoopScoringSource };
}

/** Maps the loop's payload (plus McNemar's alpha from the function's configuration) to the vision evaluation. */
export function fromLoopRequest(request: LoopEvaluationRequest, alpha: number): VisionEvaluationRequest {
  const { candidate, champion } = request.scoring;
  if (candidate?.kind !== 'vision-test-set') {
    throw new Error(`the vision evaluation reads vision-test-set scores; received ${JSON.stringify(candidate?.kind)}`);
  }
  if (!candidate.classesUri) throw new Error("the candidate's classesUri is missing from the dataset");
  if (request.champion.found && !champion.classesUri) {
    throw new Error("there is a champion but the dataset names no championClassesUri (the champion's class map)");
  }
  return {
    policy: {
      alpha,
      minImprovement: request.policy.minImprovement,
      absoluteFloor: request.policy.absoluteFloor,
    },
    testUri: candidate.testUri,
    candidate: { outputUri: candidate.outputUri, classesUri: candidate.classesUri },
    ...(request.champion.found && champion.classesUri
      ? { champion: { outputUri: champion.outputUri, classesUri: champion.classesUri } }
      : {}),
    candidateMetrics: request.candidateMetrics,
    trainingMetricName: request.policy.metricName,
    reportUri: candidate.reportUri,
    stamp: request.stamp,
  };
}
