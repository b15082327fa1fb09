import { findLabelConflicts, type LabelledEvent } from '../../../core/review/conflicts';
import { parseReviewRequest } from '../../../core/review/request';

const e = (key: string, label: string, source: string): LabelledEvent => ({
  image_key: key,
  content_type: 'image/png',
  size_bytes: 100,
  label,
  label_source: source,
});

describe('findLabelConflicts', () => {
  test('finds images whose sources disagree and leaves agreeing, single-source and human-labelled ones', () => {
    const found = findLabelConflicts([
      e('images/b.png', 'cat', 'prefix'),
      e('images/b.png', 'dog', 'labels-file'),
      e('images/a.png', 'cat', 'prefix'),
      e('images/a.png', 'cat', 'labels-file'),
      e('images/c.png', 'cat', 'prefix'),
      e('images/d.png', 'cat', 'prefix'),
      e('images/d.png', 'dog', 'model'),
      e('images/d.png', 'dog', 'human'),
      { image_key: 'images/e.png', content_type: 'image/png', size_bytes: 1, label: null, label_source: null },
    ]);
    expect(found).toEqual([
      {
        imageKey: 'images/b.png',
        contentType: 'image/png',
        sizeBytes: 100,
        topK: [],
        reason: 'conflict',
        labels: [
          { label: 'dog', source: 'labels-file' },
          { label: 'cat', source: 'prefix' },
        ],
      },
    ]);
    // What it finds is a valid review request.
    expect(() => parseReviewRequest(found[0], 'images/')).not.toThrow();
  });

  test("a source's latest label counts", () => {
    const found = findLabelConflicts([
      e('images/x.png', 'dog', 'prefix'),
      e('images/x.png', 'cat', 'labels-file'),
      e('images/x.png', 'cat', 'prefix'),
    ]);
    expect(found).toEqual([]);
  });
});
