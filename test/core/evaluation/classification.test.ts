import { classificationMetrics } from '../../../core/evaluation/classification';

describe('classification metrics', () => {
  const truth = ['a', 'a', 'b', 'b', 'c', 'c', 'c'];
  const predicted = ['a', 'b', 'b', 'b', 'c', 'a', 'd'];
  const sources = ['human', 'human', 'labels-file', 'human', 'labels-file', 'human', 'labels-file'];
  const m = classificationMetrics(truth.map((t, i) => ({ truth: t, predicted: predicted[i], source: sources[i] })));

  test('macro-F1 equals sklearn f1_score(average="macro") over classes in truth or predictions', () => {
    expect(m.macroF1).toBeCloseTo(0.45, 12); // sklearn 1.2 on the same labels
    expect(m.accuracy).toBeCloseTo(4 / 7, 12);
  });

  test('per-class precision, recall and support', () => {
    expect(m.perClass.b).toEqual({ precision: 2 / 3, recall: 1, f1: 0.8, support: 2 });
    expect(m.perClass.d).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(m.perClass.c.recall).toBeCloseTo(1 / 3, 12);
  });

  test('per-source accuracy', () => {
    expect(m.perSource.human).toEqual({ accuracy: 0.5, examples: 4 });
    expect(m.perSource['labels-file'].accuracy).toBeCloseTo(2 / 3, 12);
  });

  test('an empty test set gives zeros, not NaN', () => {
    expect(classificationMetrics([])).toEqual({ accuracy: 0, macroF1: 0, examples: 0, perClass: {}, perSource: {} });
  });
});
