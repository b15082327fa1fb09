import { gzipSync } from 'node:zlib';
import { MemoryObjectStore, type ObjectStore } from '../../../core/storage/object-store';
import { refreshBaseline } from '../../../core/retraining/baseline';
import { buildManifests, parseAthenaCsv, unitHash } from '../../../core/retraining/manifests';
import { parseBaselineProfile } from '../../../core/drift/profile';

describe('buildManifests', () => {
  const csv = [
    '"image_key","label"',
    ...Array.from(
      { length: 400 },
      (_, i) => `"images/${i}.jpg","${i % 3 === 0 ? 'cat' : i % 3 === 1 ? 'dog' : 'bird, small'}"`,
    ),
    '"images/0.jpg","cat"',
  ].join('\n');

  test('writes deterministic train/validation manifests with class indices and the dynamic hyperparameters', async () => {
    const store = new MemoryObjectStore();
    await store.put('curated', 'athena-results/q.csv', csv);
    const input = {
      queryResultUri: 's3://curated/athena-results/q.csv',
      outputUri: 's3://curated/datasets/run-1/',
      imageBucket: 'raw',
      validationFraction: 0.1,
      hyperparameters: { epochs: '15' },
    };
    const result = await buildManifests(store, input);
    expect(result.records).toBe(400); // the duplicate key is dropped
    expect(result.train + result.validation).toBe(400);
    expect(result.validation).toBeGreaterThan(10);
    expect(result.validation).toBeLessThan(80);
    expect(result.classes).toEqual(['bird, small', 'cat', 'dog']);
    expect(result.hyperparameters).toEqual({
      epochs: '15',
      num_classes: '3',
      num_training_samples: String(result.train),
    });
    const lines = store
      .text('curated', 'datasets/run-1/train.manifest')!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({
      'source-ref': expect.stringMatching(/^s3:\/\/raw\/images\/\d+\.jpg$/),
      class: expect.any(Number),
    });
    const again = new MemoryObjectStore();
    await again.put('curated', 'athena-results/q.csv', csv);
    await buildManifests(again, input);
    expect(again.text('curated', 'datasets/run-1/validation.manifest')).toBe(
      store.text('curated', 'datasets/run-1/validation.manifest'),
    );
  });

  test('fails clearly on a result without the expected columns or with one class', async () => {
    const store = new MemoryObjectStore();
    await store.put('b', 'bad.csv', '"key","label"\n"a","x"\n');
    const input = {
      queryResultUri: 's3://b/bad.csv',
      outputUri: 's3://b/o/',
      imageBucket: 'raw',
      validationFraction: 0.1,
      hyperparameters: {},
    };
    await expect(buildManifests(store, input)).rejects.toThrow(
      /must have columns image_key and label; received \["key","label"\]/,
    );
    await store.put('b', 'one.csv', '"image_key","label"\n"a","x"\n"b","x"\n');
    await expect(buildManifests(store, { ...input, queryResultUri: 's3://b/one.csv' })).rejects.toThrow(
      /at least 2 classes; the dataset has 1/,
    );
  });

  test('parses Athena CSV quoting and hashes stably', () => {
    expect(parseAthenaCsv('"a","b ""q"", c"\r\n"1",""\n')).toEqual([
      ['a', 'b "q", c'],
      ['1', ''],
    ]);
    expect(unitHash('images/1.jpg')).toBe(unitHash('images/1.jpg'));
    expect(unitHash('x')).toBeGreaterThanOrEqual(0);
    expect(unitHash('x')).toBeLessThan(1);
  });
});

describe('refreshBaseline', () => {
  test('profiles gzipped JSON lines under the dataset prefix and writes the profile where the drift checker reads it', async () => {
    const objects = new Map<string, Buffer>();
    const lines = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ f0: i % 10, f1: i % 2 ? 'home' : 'search', label: i % 2 }),
    );
    objects.set('datasets/run-1/baseline/part-0.gz', gzipSync(lines.slice(0, 150).join('\n')));
    objects.set('datasets/run-1/baseline/part-1.gz', gzipSync(lines.slice(150).join('\n') + '\nnot json\n'));
    const written = new Map<string, string>();
    const store: ObjectStore = {
      async get(_bucket, key) {
        const body = objects.get(key);
        return body
          ? {
              body: (async function* () {
                yield new Uint8Array(body);
              })(),
            }
          : undefined;
      },
      async exists(_b, key) {
        return objects.has(key);
      },
      async put(_b, key, body) {
        written.set(key, body);
      },
      async *list(_b, prefix) {
        for (const k of objects.keys()) if (k.startsWith(prefix)) yield k;
      },
      async children() {
        return [];
      },
    };
    const result = await refreshBaseline(
      store,
      {
        sourceUri: 's3://curated/datasets/run-1/baseline/',
        artifactsBucket: 'artifacts',
        endpointName: 'mlbp-sandbox-recommender',
        datasetId: 'run-1',
        exclude: ['label'],
      },
      new Date('2026-11-23T10:00:00Z'),
    );
    expect(result).toMatchObject({ records: 300, invalid: 1, features: ['f0', 'f1'] });
    expect(result.profileUri).toBe('s3://artifacts/drift/baselines/mlbp-sandbox-recommender/profile.json');
    const profile = parseBaselineProfile(
      JSON.parse(written.get('drift/baselines/mlbp-sandbox-recommender/profile.json')!),
    );
    expect(profile.features.f0.kind).toBe('numerical');
    expect(profile.features.f1).toMatchObject({ kind: 'categorical', counts: { home: 150, search: 150 } });
    expect(written.get('drift/baselines/mlbp-sandbox-recommender/history/run-1.json')).toBe(
      written.get('drift/baselines/mlbp-sandbox-recommender/profile.json'),
    );
  });

  test('with a time field: per-hour data for seasonal comparisons, the time never profiled, bad times invalid by reason', async () => {
    const store = new MemoryObjectStore();
    const start = Date.UTC(2026, 10, 2); // a Monday, 00:00 UTC
    // 14 days × 24 hours × 2 requests, served-time in epoch seconds as the dataset SQL exports it (daily cycle).
    const lines = Array.from({ length: 14 * 24 * 2 }, (_, i) => {
      const hour = Math.floor(i / 2) % 24;
      const t = start / 1000 + Math.floor(i / 2) * 3600 + (i % 2) * 60;
      return JSON.stringify({ ctx_hour: hour, item_ctr: hour < 6 ? 0.01 : 0.05, event_time: t });
    });
    lines.push(JSON.stringify({ ctx_hour: 3, item_ctr: 0.01 }));
    lines.push(JSON.stringify({ ctx_hour: 3, item_ctr: 0.01, event_time: 'yesterday' }));
    await store.put('curated', 'datasets/run-2/baseline/part-0', lines.join('\n'));
    const input = {
      sourceUri: 's3://curated/datasets/run-2/baseline/',
      artifactsBucket: 'artifacts',
      endpointName: 'ep',
      datasetId: 'run-2',
      exclude: [],
      timeField: 'event_time',
    };
    const result = await refreshBaseline(store, input, new Date('2026-11-23T10:00:00Z'));
    expect(result).toMatchObject({
      records: 672,
      invalid: 2,
      invalidReasons: { 'time-missing': 1, 'time-unparsable': 1 },
      features: ['ctx_hour', 'item_ctr'],
      seasonal: true,
    });
    const profile = parseBaselineProfile(JSON.parse(store.text('artifacts', 'drift/baselines/ep/profile.json')!));
    expect(profile.seasonal?.timeField).toBe('event_time');
    // Two records in each hour of the two weeks: 4 per hour of the week.
    expect(profile.seasonal?.records).toEqual(Array.from({ length: 168 }, () => 4));
    expect(Object.keys(profile.seasonal?.features ?? {}).sort()).toEqual(['ctx_hour', 'item_ctr']);

    // A time field that is in no record is a clear error.
    await expect(
      refreshBaseline(store, { ...input, timeField: 'served_at' }, new Date('2026-11-23T10:00:00Z')),
    ).rejects.toThrow(
      'no usable records under s3://curated/datasets/run-2/baseline/ (invalid lines: 674 time-missing); the time field "served_at" is in no record',
    );
  });

  test('an empty dataset prefix fails naming it', async () => {
    await expect(
      refreshBaseline(
        new MemoryObjectStore(),
        { sourceUri: 's3://c/datasets/x/', artifactsBucket: 'a', endpointName: 'e', datasetId: 'x', exclude: [] },
        new Date(),
      ),
    ).rejects.toThrow('no dataset objects under s3://c/datasets/x/');
  });
});
