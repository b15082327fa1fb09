/**
 * The local Athena: the Trino bridge (UNLOAD, UNNEST, macros) and DuckDB over lake files in the real layout, with
 * Athena's own refusals (an UNLOAD to a non-empty location).
 */
import { MemoryObjectStore, readBytes } from '../../../core/storage/object-store';
import { bridgeUnnest, copyStatement, parseUnload } from '../../../src/local-world/athena/dialect';
import { LocalFirehose } from '../../../src/local-world/firehose';
import { recommenderLakeAthena } from '../../support/lake-athena';

const athena = recommenderLakeAthena('athena-');
const store = new MemoryObjectStore();

test('UNLOAD is taken apart: query, destination, format, delimiter, partitions, compression', () => {
  const u = parseUnload(
    "UNLOAD (\nSELECT a, b FROM t\n) TO 's3://b/p' WITH (format = 'TEXTFILE', field_delimiter = ',', partitioned_by = ARRAY['split', 'shard'])",
  );
  expect(u).toEqual({
    query: 'SELECT a, b FROM t',
    target: 's3://b/p/',
    format: 'TEXTFILE',
    fieldDelimiter: ',',
    partitionedBy: ['split', 'shard'],
    compression: 'GZIP',
  });
  expect(parseUnload('SELECT 1')).toBeUndefined();
  expect(() => parseUnload("UNLOAD (SELECT 1) TO 's3://b/p/'")).toThrow(/needs `\) TO 's3:\/\/…' WITH/);
  expect(copyStatement(u!, '/x')).toBe(
    "COPY (SELECT a, b FROM t) TO '/x' (FORMAT CSV, HEADER false, DELIMITER ',', QUOTE '', ESCAPE '', COMPRESSION gzip, PARTITION_BY (split, shard), FILENAME_PATTERN 'part-{i}')",
  );
});

test('UNNEST of rows into named columns becomes a struct unnest', () => {
  expect(bridgeUnnest('FROM s CROSS JOIN UNNEST(s.items) AS i (item_id, features) WHERE x')).toBe(
    'FROM s CROSS JOIN (SELECT unnest(u) FROM (SELECT unnest(s.items) AS u)) AS i (item_id, features) WHERE x',
  );
});

test('the lake in its layout: Trino functions, nested slates, hive partitions; UNLOAD writes back to S3', async () => {
  const firehose = new LocalFirehose(store);
  const arrival = new Date('2026-11-23T10:01:00.000Z');
  const slate = {
    record_type: 'served_slate',
    inference_id: 'i-1',
    event_time: '2026-11-23T10:00:00.000Z',
    user_id: 'u1',
    surface: 'home',
    model_version: 'm',
    feature_version: 2,
    fallback: false,
    candidates: 2,
    items: [
      { item_id: 'a', position: 0, score: 0.9, source: 'covisit', features: [1.5, 2] },
      { item_id: 'b', position: 1, score: 0.1, source: 'trending', features: [3, 4] },
    ],
  };
  const click = {
    event_id: 'e1',
    event_type: 'click',
    user_id: 'u1',
    item_id: 'b',
    event_time: '2026-11-23T10:00:30.500Z',
    surface: 'home',
    inference_id: 'i-1',
  };
  const records = [slate, click, 'not json'].map((r) => ({
    data: typeof r === 'string' ? r : JSON.stringify(r),
    arrival,
  }));
  const events = await firehose.deliver(
    { name: 'events', bucket: 'raw', prefix: 'events/', accepts: (r) => r.record_type === undefined },
    records,
  );
  const slates = await firehose.deliver(
    { name: 'slates', bucket: 'raw', prefix: 'slates/', accepts: (r) => r.record_type === 'served_slate' },
    records,
  );
  expect(events).toMatchObject({
    delivered: 1,
    failed: 1,
    objects: ['events/dt=2026-11-23/hour=10/events-000001.json'],
  });
  expect(slates.delivered).toBe(1);

  const joined = await athena().run(
    `SELECT i.item_id, i.features[2] AS second, e.event_type, s.dt, to_unixtime(s.event_time) AS t, day_of_week(s.event_time) AS dow
FROM "db"."served_slate_events" s CROSS JOIN UNNEST(s.items) AS i (item_id, position, score, source, features)
LEFT JOIN "db"."interaction_events" e ON e.inference_id = s.inference_id AND e.item_id = i.item_id
WHERE s.feature_version = 2 AND s.event_time > from_iso8601_timestamp('2026-11-23T09:00:00Z') AND cardinality(i.features) = 2
ORDER BY i.item_id`,
    store,
  );
  expect(joined.rows).toEqual([
    ['item_id', 'second', 'event_type', 'dt', 't', 'dow'],
    ['a', '2', '', '2026-11-23', '1795428000', '1'],
    ['b', '4', 'click', '2026-11-23', '1795428000', '1'],
  ]);

  const unload =
    "UNLOAD (SELECT event_id, item_id FROM \"db\".\"interaction_events\" WHERE event_type IS NOT NULL) TO 's3://curated/out/' WITH (format = 'TEXTFILE', field_delimiter = ',')";
  expect((await athena().run(unload, store)).summary).toMatch(/UNLOAD 1 rows \(TEXTFILE\)/);
  expect((await readBytes(store, 'curated', 'out/part-00000.csv.gz')).toString()).toBe('e1,b\n');
  await expect(athena().run(unload, store)).rejects.toThrow(/HIVE_PATH_ALREADY_EXISTS|not empty/);
});
