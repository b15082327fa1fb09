/**
 * The vision dataset that remembers: label memory by precedence across runs, the fixed human-verified test set
 * (audit labels, never trained on), the stable class map, and the files in the model's channel contract.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { MemoryObjectStore } from '../../../core/storage/object-store';
import { isAuditSample } from '../../../core/vision/active-learning';
import {
  buildVisionDataset,
  datasetLabelsQuery,
  labelsFromQuery,
  mergeMemory,
  normalizeTime,
  splitDataset,
  type MemoryLabel,
  type VisionDatasetInput,
} from '../../../core/vision/dataset';

const AUDIT = { share: 0.3, salt: 'audit-v1' };
/** Inference ids that the audit draw does and does not pick. */
const auditIds = Array.from({ length: 400 }, (_, i) => `inf-${i}`).filter((id) => isAuditSample(id, 0.3, 'audit-v1'));
const plainIds = Array.from({ length: 400 }, (_, i) => `inf-${i}`).filter((id) => !isAuditSample(id, 0.3, 'audit-v1'));

type Row = [string, string, string, string, string?];
const csv = (rows: Row[]) =>
  [
    '"image_key","label","label_source","event_time","inference_id"',
    ...rows.map((r) => r.map((v) => `"${v ?? ''}"`).join(',')),
  ].join('\n') + '\n';

function input(over: Partial<VisionDatasetInput> = {}): VisionDatasetInput {
  return {
    queryResultUri: 's3://curated/athena/q1.csv',
    outputUri: 's3://curated/datasets/d1/',
    memoryUri: 's3://curated/vision/memory/labels.jsonl',
    imagesUri: 's3://raw/images/',
    validationFraction: 0.2,
    audit: AUDIT,
    ...over,
  };
}

const jsonl = (text: string | undefined) =>
  (text ?? '')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Forty images of each class, labelled by folder. */
function prefixRows(classes: string[], day = '2026-11-20 10:00:00.000') {
  return classes.flatMap((c) => Array.from({ length: 40 }, (_, i): Row => [`images/${c}/${i}.png`, c, 'prefix', day]));
}

describe('vision dataset', () => {
  test('first run: train/validation/test in the model channel contract, classes sorted, test never trained on', async () => {
    const store = new MemoryObjectStore();
    const rows = prefixRows(['square', 'circle']);
    // Reviewers labelled two audit samples and one uncertain prediction; the audit ones form the test set.
    rows.push(['images/cam/a.png', 'circle', 'human', '2026-11-21 09:00:00.000', auditIds[0]]);
    rows.push(['images/cam/b.png', 'square', 'human', '2026-11-21 09:00:00.000', auditIds[1]]);
    rows.push(['images/cam/c.png', 'square', 'human', '2026-11-21 09:00:00.000', plainIds[0]]);
    rows.push(['elsewhere/x.png', 'square', 'prefix', '2026-11-21 09:00:00.000']);
    await store.put('curated', 'athena/q1.csv', csv(rows));
    const ds = await buildVisionDataset(store, input());
    expect(ds).toMatchObject({
      manifestsUri: 's3://curated/datasets/d1/manifests/',
      classes: ['circle', 'square'],
      newClasses: ['circle', 'square'],
      labels: 83,
      test: 2,
      perSource: { prefix: 80, human: 3 },
      skipped: { 'outside-images-prefix': 1 },
    });
    expect(ds.train + ds.validation).toBe(81);
    expect(ds.validation).toBeGreaterThan(5);
    const train = jsonl(store.text('curated', 'datasets/d1/manifests/train.jsonl'));
    const validation = jsonl(store.text('curated', 'datasets/d1/manifests/validation.jsonl'));
    const test = jsonl(store.text('curated', 'datasets/d1/test.jsonl'));
    expect(train[0]).toEqual({
      image: expect.stringMatching(/^(circle|square|cam)\//),
      label: expect.any(String),
      source: expect.any(String),
    });
    expect(test).toEqual([
      { image: 'cam/a.png', label: 'circle', source: 'human' },
      { image: 'cam/b.png', label: 'square', source: 'human' },
    ]);
    const trained = new Set([...train, ...validation].map((l) => l.image));
    for (const t of test) expect(trained.has(t.image)).toBe(false);
    expect(trained.has('cam/c.png')).toBe(true);
    expect(JSON.parse(store.text('curated', 'datasets/d1/manifests/classes.json')!)).toEqual(['circle', 'square']);
    // Nothing but the channel's files sits in the manifests channel.
    const channel: string[] = [];
    for await (const key of store.list('curated', 'datasets/d1/manifests/')) channel.push(key);
    expect(channel.sort()).toEqual([
      'datasets/d1/manifests/classes.json',
      'datasets/d1/manifests/train.jsonl',
      'datasets/d1/manifests/validation.jsonl',
    ]);
    expect(JSON.parse(store.text('curated', 'datasets/d1/scoring/test.manifest')!)).toEqual([
      { prefix: 's3://raw/images/' },
      'cam/a.png',
      'cam/b.png',
    ]);
    const candidate = JSON.parse(store.text('curated', 'datasets/d1/scoring/candidate.manifest')!) as unknown[];
    expect(candidate.length).toBe(1 + 2 + ds.baselineImages);
    expect(ds.baselineImages).toBe(ds.validation);
  });

  test('second run: a new class keeps every old index; older labels are remembered; the test set only grows', async () => {
    const store = new MemoryObjectStore();
    const first = prefixRows(['square', 'circle']);
    first.push(['images/cam/a.png', 'circle', 'human', '2026-11-21 09:00:00.000', auditIds[0]]);
    await store.put('curated', 'athena/q1.csv', csv(first));
    const d1 = await buildVisionDataset(store, input());
    // The champion was trained on d1 with its classes. The next window has only new-class and night images,
    // a human correction of a folder label, and a new audit label.
    const second = prefixRows(['triangle'], '2026-11-27 10:00:00.000');
    second.push(['images/square/3.png', 'circle', 'human', '2026-11-27 11:00:00.000', plainIds[1]]);
    second.push(['images/cam/d.png', 'triangle', 'human', '2026-11-27 11:00:00.000', auditIds[2]]);
    // A model label never beats a folder label, however recent.
    second.push(['images/square/4.png', 'triangle', 'model', '2026-11-28 11:00:00.000']);
    await store.put('curated', 'athena/q2.csv', csv(second));
    await store.put(
      'curated',
      'models/champion/classes.json',
      store.text('curated', 'datasets/d1/manifests/classes.json')!,
    );
    const d2 = await buildVisionDataset(
      store,
      input({
        queryResultUri: 's3://curated/athena/q2.csv',
        outputUri: 's3://curated/datasets/d2/',
        championClassesUri: 's3://curated/models/champion/classes.json',
      }),
    );
    expect(d1.classes).toEqual(['circle', 'square']);
    expect(d2.classes).toEqual(['circle', 'square', 'triangle']);
    expect(d2.newClasses).toEqual(['triangle']);
    expect(d2.classes.slice(0, 2)).toEqual(d1.classes);
    // All labels so far: 80 + 1 from the first window, 40 + 1 new images from the second.
    expect(d2.labels).toBe(122);
    expect(d2.test).toBe(2);
    const memory = jsonl(store.text('curated', 'vision/memory/labels.jsonl')) as unknown as MemoryLabel[];
    const byKey = new Map(memory.map((m) => [m.image_key, m]));
    expect(byKey.get('images/square/3.png')).toMatchObject({ label: 'circle', source: 'human' });
    expect(byKey.get('images/square/4.png')).toMatchObject({ label: 'square', source: 'prefix' });
    expect(byKey.get('images/circle/0.png')).toMatchObject({ label: 'circle', source: 'prefix' });
    expect(memory.filter((m) => m.test).map((m) => m.image_key)).toEqual(['images/cam/a.png', 'images/cam/d.png']);
    const test = jsonl(store.text('curated', 'datasets/d2/test.jsonl'));
    expect(test.map((t) => t.image)).toEqual(['cam/a.png', 'cam/d.png']);
    // The dataset folder keeps its own copy of the memory it was built from.
    expect(store.text('curated', 'datasets/d2/labels.jsonl')).toBe(store.text('curated', 'vision/memory/labels.jsonl'));
  });

  test('a test image stays in the test set whatever label arrives later', () => {
    const a: MemoryLabel = {
      image_key: 'images/x.png',
      label: 'a',
      source: 'human',
      at: '2026-01-01T00:00:00.000Z',
      test: true,
    };
    const later: MemoryLabel = {
      image_key: 'images/x.png',
      label: 'b',
      source: 'human',
      at: '2026-02-01T00:00:00.000Z',
    };
    expect(mergeMemory([a], [later], AUDIT)).toEqual([{ ...later, test: true }]);
    // An older human label does not replace a newer one; a labels-file label never replaces a human one.
    const older: MemoryLabel = { ...later, label: 'c', at: '2025-12-01T00:00:00.000Z' };
    const file: MemoryLabel = { ...later, label: 'd', source: 'labels-file', at: '2027-01-01T00:00:00.000Z' };
    expect(mergeMemory([later], [older, file], AUDIT)).toEqual([later]);
  });

  test('a class seen only in validation trains on its images; a champion class without images is a clear error', () => {
    const l = (key: string, label: string): MemoryLabel => ({
      image_key: key,
      label,
      source: 'prefix',
      at: '2026-01-01T00:00:00.000Z',
    });
    const memory = [...Array.from({ length: 30 }, (_, i) => l(`images/a/${i}`, 'a')), l('images/rare/0', 'rare')];
    const split = splitDataset(memory, { championClasses: [], validationFraction: 0.99 });
    expect(split.classes).toEqual(['a', 'rare']);
    expect(split.train.map((t) => t.label).sort()).toEqual(['a', 'rare']);
    expect(split.validation.length).toBe(29);
    expect(() => splitDataset(memory, { championClasses: ['gone', 'a'], validationFraction: 0.2 })).toThrow(
      'class "gone" of the champion\'s class map has no labelled image outside the test set; the model needs at least one training image per class',
    );
    expect(() => splitDataset(memory, { championClasses: [], validationFraction: 1 })).toThrow(
      'validationFraction must be strictly between 0 and 1; received 1',
    );
  });

  test('bad input: unusable rows are counted, a wrong header or a corrupt memory stops the run with one line', async () => {
    const { labels, skipped } = labelsFromQuery(
      csv([
        ['images/a/1.png', 'a', 'prefix', '2026-11-20 10:00:00.000'],
        ['images/a/2.png', 'bad/label', 'prefix', '2026-11-20 10:00:00.000'],
        ['images/a/3.png', 'a', 'oracle', '2026-11-20 10:00:00.000'],
        ['images/a/4.png', 'a', 'prefix', 'yesterday'],
      ]),
    );
    expect(labels.map((x) => x.image_key)).toEqual(['images/a/1.png']);
    expect(skipped).toEqual({ 'invalid-label': 1, 'unknown-label-source': 1, 'invalid-time': 1 });
    expect(() => labelsFromQuery('"image_key","label"\n"a","b"\n')).toThrow(
      'the dataset query result needs columns image_key, label, label_source, event_time; received ["image_key","label"]',
    );
    const store = new MemoryObjectStore();
    await store.put('curated', 'athena/q1.csv', csv(prefixRows(['a', 'b'])));
    await store.put('curated', 'vision/memory/labels.jsonl', '{"image_key":"images/a/1.png"}\n');
    await expect(buildVisionDataset(store, input())).rejects.toThrow(
      's3://curated/vision/memory/labels.jsonl line 1 is not a memory label (image_key, label, source, at)',
    );
  });

  test('capture times go from the query through the memory into the drift baseline sample (not the training manifests)', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => [
      `images/${i % 2 ? 'a' : 'b'}/${i}.png`,
      i % 2 ? 'a' : 'b',
      'prefix',
      '2026-11-22 10:00:00.000',
      '',
      `2026-11-2${i % 2 ? 1 : 0} 0${i % 10}:00:00.000`,
    ]);
    const store = new MemoryObjectStore();
    await store.put(
      'curated',
      'athena/q1.csv',
      [
        '"image_key","label","label_source","event_time","inference_id","captured_at"',
        ...rows.map((r) => r.map((v) => `"${v}"`).join(',')),
      ].join('\n') + '\n',
    );
    await buildVisionDataset(store, input());
    const sample = store
      .text('curated', 'datasets/d1/scoring/baseline.jsonl')!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { image: string; time?: string });
    expect(sample.length).toBeGreaterThan(0);
    for (const line of sample) {
      const i = Number(/(\d+)\.png$/.exec(line.image)![1]);
      expect(line.time).toBe(`2026-11-2${i % 2 ? 1 : 0}T0${i % 10}:00:00.000Z`);
    }
    // The model's own manifests keep their contract (image, label, source).
    const train = JSON.parse(store.text('curated', 'datasets/d1/manifests/train.jsonl')!.split('\n')[0]);
    expect(Object.keys(train)).toEqual(['image', 'label', 'source']);
    // The memory keeps the earliest capture time known, whichever label wins.
    const memory = store.text('curated', 'vision/memory/labels.jsonl')!;
    expect(memory).toContain('"captured_at":"2026-11-21T01:00:00.000Z"');
    const first: MemoryLabel = { image_key: 'k', label: 'a', source: 'prefix', at: '2026-11-01T00:00:00.000Z' };
    const merged = mergeMemory(
      [{ ...first, captured_at: '2026-10-31T23:00:00.000Z' }],
      [
        {
          ...first,
          label: 'b',
          source: 'human',
          at: '2026-11-02T00:00:00.000Z',
          captured_at: '2026-11-01T12:00:00.000Z',
        },
      ],
      AUDIT,
    );
    expect(merged).toEqual([expect.objectContaining({ label: 'b', captured_at: '2026-10-31T23:00:00.000Z' })]);
  });

  test('times from Athena, DuckDB and ISO are read alike', () => {
    expect(normalizeTime('2026-11-23 10:00:00.000')).toBe('2026-11-23T10:00:00.000Z');
    expect(normalizeTime('2026-11-23 10:00:00')).toBe('2026-11-23T10:00:00.000Z');
    expect(normalizeTime('2026-11-23T10:00:00.000Z')).toBe('2026-11-23T10:00:00.000Z');
    expect(normalizeTime('')).toBeUndefined();
  });

  test('the dataset query picks one label per image by precedence, with its capture time (run on DuckDB)', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      await c.run(
        'CREATE TABLE events (image_key VARCHAR, label VARCHAR, label_source VARCHAR, event_time TIMESTAMP, inference_id VARCHAR)',
      );
      await c.run(`INSERT INTO events VALUES
        ('images/a.png', NULL, NULL, '2026-11-21 03:15:00', NULL),
        ('images/a.png', 'cat', 'prefix', '2026-11-23 10:00:00', NULL),
        ('images/a.png', 'dog', 'human', '2026-11-22 10:00:00', 'i-1'),
        ('images/a.png', 'fox', 'model', '2026-11-24 10:00:00', NULL),
        ('images/b.png', 'cat', 'prefix', '2026-11-20 10:00:00', NULL),
        ('images/b.png', 'owl', 'prefix', '2026-11-21 10:00:00', NULL),
        ('images/c.png', NULL, NULL, '2026-11-21 10:00:00', NULL),
        ('images/d.png', 'cat', NULL, '2026-11-21 10:00:00', NULL)`);
      const rows = (
        await c.runAndReadAll(`${datasetLabelsQuery('events', 'TRUE')} ORDER BY image_key`)
      ).getRowObjects();
      expect(rows.map((r) => [r.image_key, r.label, r.label_source, r.inference_id])).toEqual([
        ['images/a.png', 'dog', 'human', 'i-1'],
        ['images/b.png', 'owl', 'prefix', null],
        ['images/d.png', 'cat', 'model', null],
      ]);
      // The capture time is the image's earliest event: its arrival, which carries no label.
      expect(rows.map((r) => String(r.captured_at))).toEqual([
        '2026-11-21 03:15:00',
        '2026-11-20 10:00:00',
        '2026-11-21 10:00:00',
      ]);
    } finally {
      c.closeSync();
    }
  });
});
