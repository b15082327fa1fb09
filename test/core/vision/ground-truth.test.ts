import {
  groundTruthDate,
  inputManifest,
  labelEvents,
  needsReview,
  outputManifestLine,
  parseOutputManifest,
  trainingManifest,
} from '../../../core/vision/ground-truth';
import { parsePrediction } from '../../../core/vision/prediction';
import { eventValidator, IMAGE_EVENT_SCHEMA } from '../../../core/contracts/events';

const item = (key: string, confidence = 0.41) => ({
  sourceRef: `s3://mlbp-images/images/${key}`,
  eventId: `e-${key}`,
  predictedClass: 2,
  confidence,
  predictedAt: '2026-11-23T10:00:00.000Z',
});

describe('review routing', () => {
  test('below the threshold goes to review; at or above does not; NaN always does', () => {
    expect(needsReview(0.59, 0.6)).toBe(true);
    expect(needsReview(0.6, 0.6)).toBe(false);
    expect(needsReview(Number.NaN, 0.6)).toBe(true);
  });

  test('predictions: probability arrays (built-in algorithm) and objects with an embedding', () => {
    expect(parsePrediction('[0.1, 0.7, 0.2]')).toEqual({ predictedClass: 1, confidence: 0.7 });
    expect(parsePrediction('{"probabilities":[0.9,0.1],"embedding":[0.5,-1]}')).toEqual({
      predictedClass: 0,
      confidence: 0.9,
      embedding: [0.5, -1],
    });
    expect(parsePrediction('{"predicted_class":"3","confidence":0.55}')).toEqual({
      predictedClass: 3,
      confidence: 0.55,
    });
    expect(() => parsePrediction('{"label":"cat"}')).toThrow(/must be class probabilities/);
    expect(() => parsePrediction('<html>')).toThrow(/not JSON/);
  });
});

describe('Ground Truth input manifest', () => {
  test('exact JSON Lines: one source-ref per line plus mlbp- metadata, deduplicated, newline-terminated', () => {
    const m = inputManifest([item('a.jpg'), item('b.png', 0.3), item('a.jpg', 0.2)]);
    expect(m.count).toBe(2);
    expect(m.body).toBe(
      '{"source-ref":"s3://mlbp-images/images/a.jpg","mlbp-event-id":"e-a.jpg","mlbp-predicted-class":2,"mlbp-confidence":0.41,"mlbp-predicted-at":"2026-11-23T10:00:00.000Z"}\n' +
        '{"source-ref":"s3://mlbp-images/images/b.png","mlbp-event-id":"e-b.png","mlbp-predicted-class":2,"mlbp-confidence":0.3,"mlbp-predicted-at":"2026-11-23T10:00:00.000Z"}\n',
    );
    expect(inputManifest([]).body).toBe('');
    expect(() => inputManifest([{ ...item('x'), sourceRef: 'images/x' }])).toThrow(/s3:\/\/bucket\/key/);
  });
});

describe('Ground Truth output manifest', () => {
  const created = new Date('2026-11-23T12:30:00.123Z');
  const line = (key: string, cls: number, name: string, human = true, confidence = 0.95) =>
    outputManifestLine({
      sourceRef: `s3://mlbp-images/images/${key}`,
      labelAttribute: 'vision-review',
      classIndex: cls,
      className: name,
      confidence,
      jobName: 'mlbp-sandbox-vision-review-1',
      humanAnnotated: human,
      creationDate: created,
      extra: { 'mlbp-event-id': `e-${key}` },
    });

  test('the format Ground Truth writes for image classification', () => {
    expect(groundTruthDate(created)).toBe('2026-11-23T12:30:00.123000');
    expect(JSON.parse(line('a.jpg', 1, 'dog'))).toEqual({
      'source-ref': 's3://mlbp-images/images/a.jpg',
      'mlbp-event-id': 'e-a.jpg',
      'vision-review': 1,
      'vision-review-metadata': {
        'class-name': 'dog',
        confidence: 0.95,
        type: 'groundtruth/image-classification',
        'job-name': 'labeling-job/mlbp-sandbox-vision-review-1',
        'human-annotated': 'yes',
        'creation-date': '2026-11-23T12:30:00.123000',
      },
    });
  });

  test('parsing keeps human and confident automated labels, reports the rest by line', () => {
    const text = [
      line('a.jpg', 1, 'dog'),
      line('b.jpg', 0, 'cat', false, 0.97),
      line('c.jpg', 0, 'cat', false, 0.5),
      '{"source-ref":"s3://mlbp-images/images/d.jpg"}',
      JSON.stringify({
        'source-ref': 's3://mlbp-images/images/e.jpg',
        'vision-review': 0,
        'vision-review-metadata': { type: 'groundtruth/semantic-segmentation', 'class-name': 'cat' },
      }),
      'not json',
      '',
    ].join('\n');
    const parsed = parseOutputManifest(text, 'vision-review', { minConfidence: 0.9 });
    expect(parsed.labels).toEqual([
      {
        sourceRef: 's3://mlbp-images/images/a.jpg',
        label: 'dog',
        labelSource: 'human',
        labelledAt: '2026-11-23T12:30:00.123Z',
        classIndex: 1,
        confidence: 0.95,
        jobName: 'mlbp-sandbox-vision-review-1',
        humanAnnotated: true,
      },
      expect.objectContaining({ sourceRef: 's3://mlbp-images/images/b.jpg', label: 'cat', labelSource: 'model' }),
    ]);
    expect(parsed.invalid.map((i) => i.line)).toEqual([3, 4, 5, 6]);
    expect(parsed.invalid[0].reason).toMatch(/confidence 0.5 below 0.9/);
    expect(parsed.invalid[1].reason).toMatch(/no "vision-review" label/);
    expect(parsed.invalid[2].reason).toMatch(/not groundtruth\/image-classification/);
  });
});

describe('merging reviewed labels into the next dataset', () => {
  const at = '2026-11-20T00:00:00.000Z';
  const ref = (k: string) => `s3://mlbp-images/images/${k}`;
  test('human labels override bootstrap labels; deployed class indices never move; new classes appended', () => {
    const current = [
      { sourceRef: ref('cat/1.jpg'), label: 'cat', labelSource: 'prefix' as const, labelledAt: at },
      { sourceRef: ref('cat/2.jpg'), label: 'cat', labelSource: 'prefix' as const, labelledAt: at },
      { sourceRef: ref('dog/3.jpg'), label: 'dog', labelSource: 'prefix' as const, labelledAt: at },
    ];
    const reviewed = parseOutputManifest(
      [
        outputManifestLine({
          sourceRef: ref('cat/2.jpg'),
          labelAttribute: 'review',
          classIndex: 1,
          className: 'dog',
          confidence: 0.93,
          jobName: 'j',
          humanAnnotated: true,
          creationDate: new Date('2026-11-23T00:00:00Z'),
        }),
        outputManifestLine({
          sourceRef: ref('new/4.jpg'),
          labelAttribute: 'review',
          classIndex: 2,
          className: 'lynx',
          confidence: 0.9,
          jobName: 'j',
          humanAnnotated: true,
          creationDate: new Date('2026-11-23T00:00:00Z'),
        }),
      ].join('\n'),
      'review',
    ).labels;
    const m = trainingManifest(current, reviewed, { classes: ['dog', 'cat'] });
    expect(m.classes).toEqual(['dog', 'cat', 'lynx']);
    expect(m.body).toBe(
      [
        '{"source-ref":"s3://mlbp-images/images/cat/1.jpg","class":1}',
        '{"source-ref":"s3://mlbp-images/images/cat/2.jpg","class":0}',
        '{"source-ref":"s3://mlbp-images/images/dog/3.jpg","class":0}',
        '{"source-ref":"s3://mlbp-images/images/new/4.jpg","class":2}',
        '',
      ].join('\n'),
    );
    expect(trainingManifest(current, []).classes).toEqual(['cat', 'dog']);
  });

  test('reviewed labels become valid image events with label_source "human"', () => {
    const reviewed = parseOutputManifest(
      outputManifestLine({
        sourceRef: ref('cat/2.jpg'),
        labelAttribute: 'review',
        classIndex: 1,
        className: 'dog',
        confidence: 0.93,
        jobName: 'j',
        humanAnnotated: true,
        creationDate: new Date('2026-11-23T00:00:00Z'),
      }),
      'review',
    ).labels;
    let n = 0;
    const events = labelEvents(
      reviewed,
      { imagesBucket: 'mlbp-images', source: 'ground-truth', newId: () => `id-${++n}` },
      new Map([['images/cat/2.jpg', { size: 1234, contentType: 'image/jpeg' }]]),
    );
    expect(events).toEqual([
      {
        event_id: 'id-1',
        image_key: 'images/cat/2.jpg',
        content_type: 'image/jpeg',
        size_bytes: 1234,
        source: 'ground-truth',
        event_time: '2026-11-23T00:00:00.000Z',
        label: 'dog',
        label_source: 'human',
      },
    ]);
    expect(eventValidator(IMAGE_EVENT_SCHEMA).safeParse(events[0]).success).toBe(true);
  });
});
