/**
 * The slate-outcome statement executed for real: the local world's Athena (DuckDB with the Trino bridge) runs the
 * exact UNLOAD over served slates and interactions delivered into the lake by the local Firehose; the rows are the
 * outcome records, and the drift checker's `readOutcomes` reads them back into the CTR and nDCG@10 computed here by
 * hand.
 */
import { gzipSync } from 'node:zlib';
import { readOutcomes } from '../../../core/drift/checker-quality';
import {
  quotedTable,
  slateOutcomesStatement,
  slatesFolder,
  slatesMarkerKey,
  wholeHour,
} from '../../../core/recommender/outcomes';
import { writeSlateOutcomes } from '../../../core/recommender/outcomes-writer';
import { MemoryObjectStore, readBytes } from '../../../core/storage/object-store';
import { bridgeJsonCasts } from '../../../src/local-world/athena/dialect';
import { LocalFirehose } from '../../../src/local-world/firehose';
import { recommenderLakeAthena } from '../../support/lake-athena';

const ENDPOINT = 'mlbp-sandbox-recommender';
const HOUR = new Date('2026-11-23T10:00:00.000Z');
const SQL = {
  events: quotedTable('db', 'interaction_events'),
  slates: quotedTable('db', 'served_slate_events'),
  attributionMinutes: 10,
  deliveryAllowanceMinutes: 5,
};

const athena = recommenderLakeAthena('slate-outcomes-');

const at = (hhmmss: string) => `2026-11-23T${hhmmss}.000Z`;

function slate(id: string, time: string, items: Array<[string, number]>, extra: Record<string, unknown> = {}) {
  return {
    record_type: 'served_slate',
    inference_id: id,
    event_time: at(time),
    user_id: 'u1',
    surface: 'home',
    model_version: 'v3',
    feature_version: 2,
    fallback: false,
    candidates: items.length,
    items: items.map(([item_id, position]) => ({
      item_id,
      position,
      score: 1 - position / 10,
      source: 'covisit',
      features: [0.5],
    })),
    ...extra,
  };
}

let n = 0;
function click(inference: string, item: string, time: string, type = 'click') {
  return {
    event_id: `e${++n}`,
    event_type: type,
    user_id: 'u1',
    item_id: item,
    event_time: at(time),
    surface: 'home',
    inference_id: inference,
  };
}

/** A lake with the fixtures, delivered by arrival time as Firehose does. */
async function lake(): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore();
  const firehose = new LocalFirehose(store);
  const deliver = async (prefix: string, records: object[], arrival: string) =>
    firehose.deliver(
      { name: prefix.replace('/', ''), bucket: 'raw', prefix, accepts: () => true },
      records.map((r) => ({ data: JSON.stringify(r), arrival: new Date(at(arrival)) })),
    );
  const s1 = slate('i-1', '10:05:00', [
    ['c', 2],
    ['a', 0],
    ['b', 1],
  ]);
  await deliver(
    'slates/',
    [
      s1,
      slate('i-2', '10:30:00', [
        ['d', 0],
        ['e', 1],
      ]),
      // Popularity fallback: its version is written as `fallback` whatever the record says.
      slate(
        'i-3',
        '10:45:00',
        [
          ['f', 0],
          ['g', 1],
        ],
        { fallback: true, fallback_reason: 'timeout', model_version: 'v3' },
      ),
      // Another hour on both sides.
      slate('i-0', '09:59:59', [['x', 0]]),
    ],
    '10:50:00',
  );
  await deliver(
    'slates/',
    [
      // Served in the last second of the hour, arrived in the next hour's partition.
      slate('i-4', '10:59:59', [['h', 0]]),
      slate('i-5', '11:00:00', [['y', 0]]),
      // At-least-once: the same slate again.
      s1,
    ],
    '11:00:30',
  );
  await deliver(
    'events/',
    [
      click('i-1', 'b', '10:07:00'),
      click('i-1', 'b', '10:08:00'), // clicked twice: once in `clicked`
      click('i-1', 'c', '10:15:01'), // 10 min 1 s after serving: outside the attribution window
      click('i-1', 'z', '10:06:00'), // not an item of the slate
      click('i-1', 'a', '10:06:00', 'view'), // not a click
      click('i-2', 'e', '10:31:00'),
      click('i-2', 'd', '10:32:00'),
      click('i-3', 'f', '10:46:00'),
      click('i-9', 'e', '10:31:00'), // no such slate
    ],
    '10:50:00',
  );
  return store;
}

const EXPECTED = [
  { kind: 'slate', time: '2026-11-23T10:05:00.000Z', modelVersion: 'v3', items: ['a', 'b', 'c'], clicked: ['b'] },
  { kind: 'slate', time: '2026-11-23T10:30:00.000Z', modelVersion: 'v3', items: ['d', 'e'], clicked: ['d', 'e'] },
  { kind: 'slate', time: '2026-11-23T10:45:00.000Z', modelVersion: 'fallback', items: ['f', 'g'], clicked: ['f'] },
  { kind: 'slate', time: '2026-11-23T10:59:59.000Z', modelVersion: 'v3', items: ['h'], clicked: [] },
];

async function linesUnder(store: MemoryObjectStore, bucket: string, prefix: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const key of store.list(bucket, prefix)) {
    lines.push(...(await readBytes(store, bucket, key)).toString('utf8').split('\n').filter(Boolean));
  }
  return lines;
}

describe('the slate-outcome UNLOAD on the local Athena', () => {
  test('one gzip JSON line per distinct slate of the hour: items in position order, attributed clicks only', async () => {
    const store = await lake();
    const folder = slatesFolder(ENDPOINT, HOUR);
    expect(folder).toBe(`drift/outcomes/${ENDPOINT}/2026/11/23/10/slates/`);
    const sql = slateOutcomesStatement(SQL, HOUR, `s3://artifacts/${folder}`);
    const result = await athena().run(sql, store);
    expect(result.summary).toMatch(/UNLOAD 4 rows \(TEXTFILE\)/);
    const keys: string[] = [];
    for await (const key of store.list('artifacts', folder)) keys.push(key);
    expect(keys).toEqual([`${folder}part-00000.csv.gz`]);
    expect(store.bytes('artifacts', keys[0])!.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const lines = await linesUnder(store, 'artifacts', folder);
    expect(lines.map((l) => JSON.parse(l))).toEqual(EXPECTED);
    // Exactly the record's keys, in the documented order.
    expect(lines[0]).toBe(
      '{"kind":"slate","time":"2026-11-23T10:05:00.000Z","modelVersion":"v3","items":["a","b","c"],"clicked":["b"]}',
    );
    // Athena refuses a non-empty destination; so does the local one.
    await expect(athena().run(sql, store)).rejects.toThrow(/not empty/);
  });

  test('readOutcomes reads the gzip objects back into the CTR and nDCG@10 computed by hand (fallback left out)', async () => {
    const store = await lake();
    const folder = slatesFolder(ENDPOINT, HOUR);
    await athena().run(slateOutcomesStatement(SQL, HOUR, `s3://artifacts/${folder}`), store);
    // A marker beside the folder is hidden from the checker.
    await store.put('artifacts', slatesMarkerKey(ENDPOINT, HOUR), '{"kind":"ml-blueprint/slate-outcomes"}');
    const { observations, invalid } = await readOutcomes(store, 'artifacts', `drift/outcomes/${ENDPOINT}/`, {
      start: HOUR,
      end: new Date(HOUR.getTime() + 3_600_000),
    });
    expect(invalid).toEqual({});
    // Model slates i-1, i-2, i-4: impressions 3 + 2 + 1, clicks 1 + 2 + 0.
    expect(observations[0]).toEqual({ name: 'ctr', current: { kind: 'proportion', successes: 3, trials: 6 } });
    // nDCG@10: i-1 clicked at rank 2 of 1 relevant → (1/log2 3) / 1; i-2 both relevant at ranks 1-2 → 1; i-4 → 0.
    const i1 = 1 / Math.log2(3);
    const ndcg = observations[1];
    expect(ndcg.name).toBe('ndcg@10');
    expect(ndcg.current.kind).toBe('mean');
    if (ndcg.current.kind !== 'mean') return;
    expect(ndcg.current.n).toBe(3);
    expect(ndcg.current.sum).toBeCloseTo(i1 + 1, 12);
    expect(ndcg.current.sumSquares).toBeCloseTo(i1 * i1 + 1, 12);
  });

  test('the writer with the local Athena as its query port: writes the hour, then finds it written', async () => {
    const store = await lake();
    const ports = {
      store,
      runQuery: async (sql: string) => {
        await athena().run(sql, store);
        return {};
      },
      deleteObjects: async () => {
        throw new Error('nothing to delete');
      },
    };
    const settings = {
      ...SQL,
      artifactsBucket: 'artifacts',
      endpointName: ENDPOINT,
      lake: { bucket: 'raw', slatesPrefix: 'slates/' },
      catchUpHours: 2,
    };
    // 11:15 + 15 minutes of settling: 10:00 has settled, 11:00 not yet; 09:00 holds i-0 (arrived at 10:50).
    const now = new Date('2026-11-23T11:16:00.000Z');
    const first = await writeSlateOutcomes(ports, settings, now);
    expect(first.map((h) => [h.hour, h.status])).toEqual([
      ['2026-11-23T10:00:00.000Z', 'written'],
      ['2026-11-23T09:00:00.000Z', 'written'],
    ]);
    expect((await linesUnder(store, 'artifacts', slatesFolder(ENDPOINT, HOUR))).map((l) => JSON.parse(l))).toEqual(
      EXPECTED,
    );
    expect(
      (await linesUnder(store, 'artifacts', slatesFolder(ENDPOINT, new Date('2026-11-23T09:00:00Z')))).map(
        (l) => JSON.parse(l).items,
      ),
    ).toEqual([['x']]);
    const second = await writeSlateOutcomes(ports, settings, now);
    expect(second.map((h) => h.status)).toEqual(['already-written', 'already-written']);
  });
});

describe('statement', () => {
  test('prunes by arrival date, reads only whole hours, refuses unsafe names', () => {
    const sql = slateOutcomesStatement(SQL, new Date('2026-11-23T23:00:00Z'), 's3://artifacts/x/');
    // Slates served 23:00–24:00 arrive until 00:05 the next day; clicks (from 22:59) until 00:15.
    expect(sql).toContain(
      "WHERE ((dt = '2026-11-23' AND hour IN ('23')) OR (dt = '2026-11-24' AND hour IN ('00'))) AND event_time >=",
    );
    expect(sql).toContain(
      "WHERE ((dt = '2026-11-23' AND hour IN ('22', '23')) OR (dt = '2026-11-24' AND hour IN ('00'))) AND event_time >=",
    );
    expect(sql).toContain("WITH (format = 'TEXTFILE')");
    expect(() => slateOutcomesStatement(SQL, new Date('2026-11-23T10:30:00Z'), 's3://a/b/')).toThrow(/whole UTC hour/);
    expect(() => wholeHour(new Date('nope'))).toThrow(/whole UTC hour/);
    expect(() => quotedTable('db', 'x"; DROP')).toThrow(/lowercase letters/);
    expect(() => slateOutcomesStatement({ ...SQL, attributionMinutes: 0 }, HOUR, 's3://a/b/')).toThrow(
      /attributionMinutes must be a positive integer/,
    );
    expect(() => slateOutcomesStatement(SQL, HOUR, "s3://a/b'/")).toThrow(/destination/);
  });

  test('the JSON cast bridge rewrites nested casts and leaves others alone', () => {
    expect(bridgeJsonCasts("json_format(CAST(concat(f(x), 'Z') AS JSON)), CAST(y AS double)")).toBe(
      "json_format(to_json(concat(f(x), 'Z'))), CAST(y AS double)",
    );
    expect(bridgeJsonCasts('CAST(CAST(a AS JSON) AS varchar)')).toBe('CAST(to_json(a) AS varchar)');
  });
});

test('readOutcomes reads plain and gzip objects alike and skips hidden ones', async () => {
  const store = new MemoryObjectStore();
  const line = (t: string, clicked: string[]) =>
    JSON.stringify({ kind: 'slate', time: t, modelVersion: 'v1', items: ['a', 'b'], clicked });
  const prefix = 'drift/outcomes/e/2026/11/23/10/';
  await store.put('b', `${prefix}plain.jsonl`, `${line('2026-11-23T10:01:00Z', ['a'])}\n`);
  await store.put('b', `${prefix}slates/part.gz`, gzipSync(`${line('2026-11-23T10:02:00Z', [])}\n`));
  await store.put('b', `${prefix}_slates.json`, '{"not":"an outcome"}');
  await store.put('b', `${prefix}slates/.tmp`, 'garbage');
  const { observations, invalid } = await readOutcomes(store, 'b', 'drift/outcomes/e/', {
    start: HOUR,
    end: new Date(HOUR.getTime() + 3_600_000),
  });
  expect(invalid).toEqual({});
  expect(observations[0]).toEqual({ name: 'ctr', current: { kind: 'proportion', successes: 1, trials: 4 } });
});
