import { mergeReviewedLabels, type LabelMergerSettings } from '../../../core/vision/label-merger';
import { routeReviews } from '../../../core/vision/review-router';
import { outputManifestLine } from '../../../core/vision/ground-truth';

const item = (key: string) => ({
  sourceRef: `s3://raw/images/${key}`,
  eventId: `e-${key}`,
  predictedClass: 0,
  confidence: 0.3,
  predictedAt: '2026-11-23T10:00:00.000Z',
});

describe('review router', () => {
  test('one Ground Truth input manifest per batch; malformed messages fail (then the DLQ)', async () => {
    const puts: Array<[string, string, string]> = [];
    const r = await routeReviews(
      [
        { id: 'm-1', body: JSON.stringify(item('a.jpg')) },
        { id: 'm-2', body: '{"sourceRef": 3}' },
        { id: 'm-3', body: JSON.stringify(item('b.jpg')) },
      ],
      { endpointName: 'mlbp-sandbox-vision', bucket: 'artifacts', prefix: 'review/input/' },
      async (b, k, body) => {
        puts.push([b, k, body]);
      },
      new Date('2026-11-23T10:20:00.000Z'),
    );
    expect(r).toEqual({
      manifestUri:
        's3://artifacts/review/input/mlbp-sandbox-vision/dt=2026-11-23/2026-11-23T10-20-00-000Z-m-1.manifest',
      items: 2,
      failures: ['m-2'],
    });
    expect(
      puts[0][2]
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)['source-ref']),
    ).toEqual(['s3://raw/images/a.jpg', 's3://raw/images/b.jpg']);
  });

  test('a batch of only malformed messages writes nothing', async () => {
    const put = jest.fn();
    const r = await routeReviews(
      [{ id: 'x', body: 'nope' }],
      { endpointName: 'e', bucket: 'b', prefix: 'p/' },
      put,
      new Date(),
    );
    expect(r).toEqual({ items: 0, failures: ['x'] });
    expect(put).not.toHaveBeenCalled();
  });
});

describe('label merger', () => {
  const settings: LabelMergerSettings = {
    imagesBucket: 'raw',
    labelAttribute: 'vision-review',
    reviewBucket: 'artifacts',
    reviewOutputPrefix: 'review/output/',
    minAutoConfidence: 0.95,
  };
  const line = (key: string, name: string, human: boolean, confidence: number) =>
    outputManifestLine({
      sourceRef: `s3://raw/images/${key}`,
      labelAttribute: 'vision-review',
      classIndex: 0,
      className: name,
      confidence,
      jobName: 'job-1',
      humanAnnotated: human,
      creationDate: new Date('2026-11-23T12:00:00Z'),
    });

  test('publishes human (and confident automated) labels as image events for the lake', async () => {
    const published: Array<Record<string, unknown>> = [];
    let n = 0;
    const r = await mergeReviewedLabels(
      { outputManifestUri: 's3://artifacts/review/output/job-1/manifests/output/output.manifest' },
      settings,
      {
        readText: async () =>
          [line('a.jpg', 'dog', true, 0.8), line('b.jpg', 'cat', false, 0.5), line('gone.jpg', 'cat', true, 0.9)].join(
            '\n',
          ),
        head: async (_b, key) => (key === 'images/gone.jpg' ? undefined : { size: 2048, contentType: 'image/jpeg' }),
        publish: async (events) => {
          published.push(...events);
        },
        newId: () => `id-${++n}`,
      },
    );
    expect(r).toMatchObject({ labels: 2, published: 1, missingImages: 1 });
    expect(r.invalid).toHaveLength(1);
    expect(published).toEqual([
      expect.objectContaining({
        image_key: 'images/a.jpg',
        label: 'dog',
        label_source: 'human',
        source: 'ground-truth',
      }),
    ]);
  });

  test('refuses manifests outside the review output prefix', async () => {
    await expect(
      mergeReviewedLabels({ outputManifestUri: 's3://other/x.manifest' }, settings, {
        readText: jest.fn(),
        head: jest.fn(),
        publish: jest.fn(),
        newId: () => 'x',
      }),
    ).rejects.toThrow(/must be under s3:\/\/artifacts\/review\/output\//);
  });
});
