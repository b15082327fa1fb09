/**
 * The vision promotion rule: McNemar's exact test on the fixed test set and the minimum gain, with predictions
 * named through each model's own class map. The answers here are fixtures for the rule; the simulation's vision
 * run decides on models it really trained.
 */
import { MemoryObjectStore } from '../../../core/storage/object-store';
import {
  decidePromotion,
  runVisionEvaluation,
  type ModelAnswers,
  type TestExample,
  type VisionPromotionPolicy,
} from '../../../core/vision/promotion';
import type { Prediction } from '../../../core/vision/prediction';

const POLICY: VisionPromotionPolicy = { alpha: 0.05, minImprovement: 0.01, absoluteFloor: 0.6 };

/** `n` test images of two classes; the candidate is right on the first `right` of them. */
function simple(n: number, right: number) {
  const test: TestExample[] = Array.from({ length: n }, (_, i) => ({
    image: `cam/${i}.png`,
    label: i % 2 ? 'b' : 'a',
    source: 'human',
  }));
  const answers = new Map<string, Prediction>(
    test.map((t, i) => [t.image, { predictedClass: (t.label === 'a') === i < right ? 0 : 1, confidence: 0.9 }]),
  );
  return { test, candidate: { classes: ['a', 'b'], answers } as ModelAnswers };
}

describe('decidePromotion', () => {
  test('each model is read through its own class map: a class the champion lacks counts as its error', () => {
    const labels = ['circle', 'square', 'triangle'];
    const test: TestExample[] = Array.from({ length: 18 }, (_, i) => ({
      image: `cam/${i}.png`,
      label: labels[i % 3],
      source: i < 9 ? 'human' : 'audit',
    }));
    // The champion's map, in another order than the candidate's (the rule maps by name, not by index).
    const champion: ModelAnswers = {
      classes: ['square', 'circle'],
      answers: new Map(
        test.map((t) => [t.image, { predictedClass: t.label === 'square' ? 0 : 1, confidence: 0.9 }] as const),
      ),
    };
    const candidate: ModelAnswers = {
      classes: ['circle', 'square', 'triangle'],
      answers: new Map(
        test.map((t) => [t.image, { predictedClass: labels.indexOf(t.label), confidence: 0.8 }] as const),
      ),
    };
    const r = decidePromotion({ test, candidate, champion, policy: POLICY });
    expect(r.championToCandidate).toEqual([1, 0]);
    expect(r.champion!.metrics.accuracy).toBeCloseTo(12 / 18, 12);
    expect(r.champion!.metrics.perClass.triangle).toMatchObject({ recall: 0, support: 6 });
    expect(r.candidate.metrics).toMatchObject({ accuracy: 1, macroF1: 1 });
    expect(r.candidate.metrics.perSource).toEqual({
      audit: { accuracy: 1, examples: 9 },
      human: { accuracy: 1, examples: 9 },
    });
    // b = 0, c = 6: p = 1/64.
    expect(r.mcnemar).toMatchObject({ b: 0, c: 6 });
    expect(r.mcnemar!.pCandidateBetter).toBeCloseTo(1 / 64, 12);
    expect(r.promote).toBe(true);
    expect(r.reason).toMatch(/^promote: accuracy 1 vs 0.6667 \(gain 0.3333, needed 0.01\); McNemar on 18 test images/);
  });

  test('exact counts: b = 2, c = 14 gives the one-sided p of scipy.stats.binomtest(14, 16, alternative="greater")', () => {
    const test: TestExample[] = Array.from({ length: 40 }, (_, i) => ({
      image: `${i}`,
      label: i % 2 ? 'a' : 'b',
      source: 'human',
    }));
    const right = (t: TestExample): Prediction => ({ predictedClass: t.label === 'a' ? 0 : 1, confidence: 1 });
    const wrong = (t: TestExample): Prediction => ({ predictedClass: t.label === 'a' ? 1 : 0, confidence: 1 });
    const champion = new Map<string, Prediction>();
    const candidate = new Map<string, Prediction>();
    test.forEach((t, i) => {
      const [h, c] = i < 18 ? [true, true] : i < 20 ? [true, false] : i < 34 ? [false, true] : [false, false];
      champion.set(t.image, h ? right(t) : wrong(t));
      candidate.set(t.image, c ? right(t) : wrong(t));
    });
    const classes = ['a', 'b'];
    const r = decidePromotion({
      test,
      candidate: { classes, answers: candidate },
      champion: { classes, answers: champion },
      policy: POLICY,
    });
    expect(r.mcnemar).toMatchObject({ b: 2, c: 14, discordant: 16 });
    expect(r.mcnemar!.pCandidateBetter).toBeCloseTo(0.0020904541015625, 12);
    expect(r.mcnemar!.pTwoSided).toBeCloseTo(0.004180908203125, 12);
    expect(r.candidate.metrics.accuracy).toBe(0.8);
    expect(r.champion!.metrics.accuracy).toBe(0.5);
    expect(r.gain).toBeCloseTo(0.3, 12);
    expect(r.promote).toBe(true);

    // b = 4, c = 6: a 5-point gain that McNemar cannot tell from noise (p = 0.377): the champion stays.
    test.forEach((t, i) => {
      const [h, c] = i < 20 ? [true, true] : i < 24 ? [true, false] : i < 30 ? [false, true] : [false, false];
      champion.set(t.image, h ? right(t) : wrong(t));
      candidate.set(t.image, c ? right(t) : wrong(t));
    });
    const noise = decidePromotion({
      test,
      candidate: { classes, answers: candidate },
      champion: { classes, answers: champion },
      policy: POLICY,
    });
    expect(noise.mcnemar).toMatchObject({ b: 4, c: 6 });
    expect(noise.mcnemar!.pCandidateBetter).toBeCloseTo(0.376953125, 12);
    expect(noise.gain).toBeCloseTo(0.05, 12);
    expect(noise.promote).toBe(false);
    expect(noise.reason).toMatch(/not significant$/);
  });

  test('significant but below the minimum gain: b = 20, c = 40 of 1000 images (p = 0.0067), gain 0.02 < 0.05', () => {
    const test: TestExample[] = Array.from({ length: 1000 }, (_, i) => ({
      image: `${i}`,
      label: 'a',
      source: 'human',
    }));
    const classes = ['a', 'b'];
    const pick = (ok: boolean): Prediction => ({ predictedClass: ok ? 0 : 1, confidence: 0.8 });
    const champion = new Map(test.map((t, i) => [t.image, pick(i < 900 || (i >= 940 && i < 960))]));
    const candidate = new Map(test.map((t, i) => [t.image, pick(i < 940)]));
    const r = decidePromotion({
      test,
      candidate: { classes, answers: candidate },
      champion: { classes, answers: champion },
      policy: { ...POLICY, minImprovement: 0.05 },
    });
    expect(r.mcnemar).toMatchObject({ b: 20, c: 40 });
    expect(r.mcnemar!.pCandidateBetter).toBeCloseTo(0.00674464686559593, 12);
    expect(r.promote).toBe(false);
    expect(r.reason).toMatch(/gain below the minimum$/);
    // The same figures pass with a smaller minimum gain.
    expect(
      decidePromotion({
        test,
        candidate: { classes, answers: candidate },
        champion: { classes, answers: champion },
        policy: POLICY,
      }).promote,
    ).toBe(true);
  });

  test('the first model: the floor on test accuracy, or on the training metric while the test set is empty', () => {
    const s = simple(10, 9);
    const first = decidePromotion({ test: s.test, candidate: s.candidate, policy: POLICY });
    expect(first).toMatchObject({ promote: true, champion: null, mcnemar: null });
    expect(first.reason).toBe('first model: accuracy on the 10 test images 0.9 reaches the floor 0.6');
    const empty = decidePromotion({
      test: [],
      candidate: s.candidate,
      policy: POLICY,
      trainingMetric: { name: 'validation:accuracy', value: 0.55 },
    });
    expect(empty).toMatchObject({ promote: false, trainingMetric: { value: 0.55 } });
    expect(empty.reason).toBe('first model: validation:accuracy 0.55 does not reach the floor 0.6');
    expect(decidePromotion({ test: [], candidate: s.candidate, policy: POLICY }).promote).toBe(false);
  });

  test('an empty test set never replaces a champion', () => {
    const s = simple(0, 0);
    const r = decidePromotion({ test: [], candidate: s.candidate, champion: s.candidate, policy: POLICY });
    expect(r.promote).toBe(false);
    expect(r.reason).toMatch(/test set is empty/);
  });

  test('bad input: a missing output or an index outside the map is one clear error', () => {
    const s = simple(3, 3);
    (s.candidate.answers as Map<string, Prediction>).delete('cam/1.png');
    expect(() => decidePromotion({ test: s.test, candidate: s.candidate, policy: POLICY })).toThrow(
      `the candidate's transform has no output for test image "cam/1.png"`,
    );
    (s.candidate.answers as Map<string, Prediction>).set('cam/1.png', { predictedClass: 7, confidence: 1 });
    expect(() => decidePromotion({ test: s.test, candidate: s.candidate, policy: POLICY })).toThrow(
      `the candidate predicted class index 7 for "cam/1.png", outside its map of 2 classes`,
    );
    expect(() => decidePromotion({ test: [], candidate: s.candidate, policy: { ...POLICY, alpha: 0 } })).toThrow(
      'alpha must be in (0, 1); received 0',
    );
  });
});

describe('runVisionEvaluation', () => {
  test('reads both transforms, writes the report and returns the registry metadata', async () => {
    const store = new MemoryObjectStore();
    const test = ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'].map((label, i) => ({
      image: `x/${i}.png`,
      label,
      source: 'human',
    }));
    await store.put('curated', 'datasets/d2/test.jsonl', test.map((t) => JSON.stringify(t)).join('\n') + '\n');
    await store.put('curated', 'datasets/d1/manifests/classes.json', JSON.stringify(['a', 'b']));
    await store.put('curated', 'datasets/d2/manifests/classes.json', JSON.stringify(['a', 'b', 'c']));
    test.forEach((t, i) => {
      // Model outputs in the inference handler's JSON (probabilities in classes.json order).
      const champion = { label: 'a', probabilities: [0.7, 0.3] };
      const candidate = { label: t.label, probabilities: t.label === 'a' ? [0.8, 0.1, 0.1] : [0.1, 0.8, 0.1] };
      void store.put('curated', `datasets/d2/scores/champion/x/${i}.png.out`, JSON.stringify(champion));
      void store.put('curated', `datasets/d2/scores/candidate/x/${i}.png.out`, JSON.stringify(candidate));
    });
    const evaluation = await runVisionEvaluation(store, {
      policy: POLICY,
      testUri: 's3://curated/datasets/d2/test.jsonl',
      candidate: {
        outputUri: 's3://curated/datasets/d2/scores/candidate/',
        classesUri: 's3://curated/datasets/d2/manifests/classes.json',
      },
      champion: {
        outputUri: 's3://curated/datasets/d2/scores/champion/',
        classesUri: 's3://curated/datasets/d1/manifests/classes.json',
      },
      reportUri: 's3://curated/datasets/d2/evaluation.json',
      stamp: { datasetId: 'd2' },
    });
    // c = 4 (the b images), b = 0: p = 1/16 > 0.05.
    expect(evaluation).toMatchObject({
      promote: false,
      metricName: 'test:accuracy',
      candidateValue: 1,
      championValue: 0.5,
      reportUri: 's3://curated/datasets/d2/evaluation.json',
      metadata: {
        datasetId: 'd2',
        evaluation: 'rejected',
        testImages: '8',
        mcnemarB: '0',
        mcnemarC: '4',
      },
    });
    expect(Number(evaluation.metadata.mcnemarPValue)).toBeCloseTo(1 / 16, 12);
    const report = JSON.parse(store.text('curated', 'datasets/d2/evaluation.json')!);
    expect(report).toMatchObject({
      kind: 'ml-blueprint/vision-evaluation',
      testSet: { images: 8, perSource: { human: 8 } },
      candidate: { classes: 3, metrics: { accuracy: 1, macroF1: 1 } },
      champion: { classes: 2, metrics: { accuracy: 0.5 } },
      championToCandidate: [0, 1],
      mcnemar: { b: 0, c: 4, discordant: 4 },
    });
  });
});
