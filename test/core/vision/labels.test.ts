import {
  bootstrapLabel,
  labelFromPrefix,
  mergeLabels,
  parseLabelsFile,
  type LabelledImage,
} from '../../../core/vision/labels';

describe('bootstrap labels (heuristic)', () => {
  test('the first folder under the images prefix is the label', () => {
    expect(labelFromPrefix('images/cat/0001.jpg', 'images/')).toBe('cat');
    expect(labelFromPrefix('images/cat/2026/0001.jpg', 'images/')).toBe('cat');
    expect(labelFromPrefix('images/0001.jpg', 'images/')).toBeUndefined();
    expect(labelFromPrefix('other/cat/0001.jpg', 'images/')).toBeUndefined();
    expect(labelFromPrefix('images/c@t/1.jpg', 'images/')).toBeUndefined();
  });

  test('a labels file in CSV or JSON lines; bad lines are reported, last label wins', () => {
    const f = parseLabelsFile(
      [
        'key,label',
        'images/a.jpg,cat',
        'images/b.jpg , dog',
        '{"key":"images/c.jpg","label":"bird"}',
        'nocomma',
        'images/a.jpg,lynx',
        'images/d.jpg,b@d',
      ].join('\n'),
    );
    expect([...f.labels]).toEqual([
      ['images/a.jpg', 'lynx'],
      ['images/b.jpg', 'dog'],
      ['images/c.jpg', 'bird'],
    ]);
    expect(f.invalid).toEqual([
      { line: 5, reason: 'expected key,label' },
      { line: 7, reason: 'invalid label "b@d"' },
    ]);
  });

  test('the labels file wins over the prefix', () => {
    const labelsFile = parseLabelsFile('images/cat/1.jpg,dog');
    expect(bootstrapLabel('images/cat/1.jpg', { imagesPrefix: 'images/', labelsFile })).toEqual({
      label: 'dog',
      labelSource: 'labels-file',
    });
    expect(bootstrapLabel('images/cat/2.jpg', { imagesPrefix: 'images/', labelsFile })).toEqual({
      label: 'cat',
      labelSource: 'prefix',
    });
    expect(bootstrapLabel('images/2.jpg', { imagesPrefix: 'images/' })).toBeUndefined();
  });
});

describe('label merging (active learning)', () => {
  const l = (ref: string, label: string, labelSource: LabelledImage['labelSource'], at: string): LabelledImage => ({
    sourceRef: `s3://images/${ref}`,
    label,
    labelSource,
    labelledAt: at,
  });

  test('human > labels file > prefix > model; equal trust: latest wins; output sorted', () => {
    const merged = mergeLabels(
      [
        l('b.jpg', 'cat', 'prefix', '2026-01-01T00:00:00.000Z'),
        l('a.jpg', 'dog', 'model', '2026-01-03T00:00:00.000Z'),
        l('c.jpg', 'cat', 'labels-file', '2026-01-01T00:00:00.000Z'),
      ],
      [
        l('b.jpg', 'lynx', 'human', '2026-01-02T00:00:00.000Z'),
        l('a.jpg', 'cat', 'prefix', '2026-01-01T00:00:00.000Z'),
        l('c.jpg', 'dog', 'prefix', '2026-01-05T00:00:00.000Z'),
        l('b.jpg', 'cat', 'human', '2026-01-04T00:00:00.000Z'),
        l('b.jpg', 'dog', 'human', '2026-01-03T00:00:00.000Z'),
      ],
    );
    expect(merged.map((m) => [m.sourceRef, m.label, m.labelSource])).toEqual([
      ['s3://images/a.jpg', 'cat', 'prefix'],
      ['s3://images/b.jpg', 'cat', 'human'],
      ['s3://images/c.jpg', 'cat', 'labels-file'],
    ]);
  });
});
