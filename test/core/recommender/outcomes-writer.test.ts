/**
 * The slate-outcome writer's hour selection and bookkeeping with a fake query port over a MemoryObjectStore:
 * settled hours only, written hours skipped, the catch-up bound, empty hours, interrupted attempts, failures and
 * the time budget; and the Athena runner's bounded wait.
 */
import { quotedTable, slatesFolder, slatesMarkerKey } from '../../../core/recommender/outcomes';
import { athenaQueryRunner, type AthenaQueryState } from '../../../core/recommender/outcomes-athena';
import {
  arrivalPartitions,
  settledHours,
  summarize,
  writeSlateOutcomes,
  type SlateOutcomeWriterSettings,
} from '../../../core/recommender/outcomes-writer';
import { MemoryObjectStore } from '../../../core/storage/object-store';

const ENDPOINT = 'mlbp-sandbox-recommender';
const SETTINGS: SlateOutcomeWriterSettings = {
  events: quotedTable('db', 'interaction_events'),
  slates: quotedTable('db', 'served_slate_events'),
  attributionMinutes: 10,
  deliveryAllowanceMinutes: 5,
  artifactsBucket: 'artifacts',
  endpointName: ENDPOINT,
  lake: { bucket: 'raw', slatesPrefix: 'slates/' },
  catchUpHours: 3,
};
const iso = (s: string) => new Date(s).toISOString();

/** A memory store whose objects can be deleted (as S3 DeleteObjects would). */
class DeletingStore extends MemoryObjectStore {
  private readonly gone = new Set<string>();
  delete(bucket: string, keys: readonly string[]): void {
    for (const key of keys) this.gone.add(`${bucket}/${key}`);
  }
  override async put(bucket: string, key: string, body: string | Uint8Array): Promise<void> {
    this.gone.delete(`${bucket}/${key}`);
    await super.put(bucket, key, body);
  }
  override async exists(bucket: string, key: string): Promise<boolean> {
    return !this.gone.has(`${bucket}/${key}`) && (await super.exists(bucket, key));
  }
  override async *list(bucket: string, prefix: string): AsyncIterable<string> {
    for await (const key of super.list(bucket, prefix)) if (!this.gone.has(`${bucket}/${key}`)) yield key;
  }
}

/**
 * A fake Athena: records the statements and "writes" one object into each UNLOAD destination, refusing a non-empty
 * one as Athena does.
 */
function fakePorts(store: MemoryObjectStore, fail: (sql: string) => string | undefined = () => undefined) {
  const statements: string[] = [];
  const deleted: string[] = [];
  return {
    statements,
    deleted,
    ports: {
      store,
      runQuery: async (sql: string) => {
        statements.push(sql);
        const error = fail(sql);
        if (error) throw new Error(error);
        const to = /TO 's3:\/\/([^/]+)\/([^']+)'/.exec(sql)!;
        for await (const key of store.list(to[1], to[2])) throw new Error(`HIVE_PATH_ALREADY_EXISTS: ${key}`);
        await store.put(to[1], `${to[2]}part-0.gz`, 'x');
        return { queryExecutionId: `q${statements.length}` };
      },
      deleteObjects: async (_bucket: string, keys: readonly string[]) => {
        deleted.push(...keys);
      },
    },
  };
}

/** Puts a served-slates object into an arrival partition of the lake. */
const served = (store: MemoryObjectStore, partition: string) =>
  store.put('raw', `slates/${partition}slates-000001.json`, '{}');

describe('settled hours', () => {
  test('the hours that ended at least the delay ago, newest first, at most catchUpHours', () => {
    // 10:14 − 15 min = 09:59: the hour 08:00–09:00 is the newest that settled.
    expect(settledHours(new Date('2026-11-23T10:14:00Z'), 15, 3).map((d) => d.toISOString())).toEqual([
      iso('2026-11-23T08:00:00Z'),
      iso('2026-11-23T07:00:00Z'),
      iso('2026-11-23T06:00:00Z'),
    ]);
    // 10:15: 09:00–10:00 has just settled.
    expect(settledHours(new Date('2026-11-23T10:15:00Z'), 15, 1)[0].toISOString()).toBe(iso('2026-11-23T09:00:00Z'));
    expect(() => settledHours(new Date(), 15, 0)).toThrow(/catchUpHours must be a positive integer/);
    expect(() => settledHours(new Date(), -1, 1)).toThrow(/non-negative/);
  });

  test('arrival partitions from the hour to its end plus the allowance, across midnight', () => {
    expect(arrivalPartitions(new Date('2026-11-23T23:00:00Z'), 5)).toEqual([
      'dt=2026-11-23/hour=23/',
      'dt=2026-11-24/hour=00/',
    ]);
    expect(arrivalPartitions(new Date('2026-11-23T23:00:00Z'), 0)).toEqual(['dt=2026-11-23/hour=23/']);
  });
});

describe('writeSlateOutcomes', () => {
  const now = new Date('2026-11-23T10:20:00Z'); // settled: 09:00, 08:00, 07:00

  test('writes each settled hour with slates, newest first, and marks it; skips written and empty hours', async () => {
    const store = new MemoryObjectStore();
    await served(store, 'dt=2026-11-23/hour=09/');
    // 08:00 was written by an earlier run; 07:00 has no slates (none arrived 07:00–08:05): nothing is written for it.
    await store.put('artifacts', slatesMarkerKey(ENDPOINT, new Date('2026-11-23T08:00:00Z')), '{}');
    // The hour not yet settled has slates too, and an hour beyond the catch-up bound has no marker: both left alone.
    await served(store, 'dt=2026-11-23/hour=10/');
    await served(store, 'dt=2026-11-23/hour=06/');
    const { ports, statements } = fakePorts(store);
    const hours = await writeSlateOutcomes(ports, SETTINGS, now);
    expect(hours).toEqual([
      { hour: iso('2026-11-23T09:00:00Z'), status: 'written', objects: 1, queryExecutionId: 'q1' },
      { hour: iso('2026-11-23T08:00:00Z'), status: 'already-written' },
      { hour: iso('2026-11-23T07:00:00Z'), status: 'no-slates' },
    ]);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain(
      `TO 's3://artifacts/drift/outcomes/${ENDPOINT}/2026/11/23/09/slates/' WITH (format = 'TEXTFILE')`,
    );
    const marker = JSON.parse(store.text('artifacts', slatesMarkerKey(ENDPOINT, new Date('2026-11-23T09:00:00Z')))!);
    expect(marker).toEqual({
      kind: 'ml-blueprint/slate-outcomes',
      version: 1,
      hour: iso('2026-11-23T09:00:00Z'),
      objects: 1,
      queryExecutionId: 'q1',
      writtenAt: now.toISOString(),
    });
    // Nothing at all under the empty hour.
    const empty: string[] = [];
    for await (const key of store.list('artifacts', `drift/outcomes/${ENDPOINT}/2026/11/23/07/`)) empty.push(key);
    expect(empty).toEqual([]);
    expect(summarize(hours)).toBe('1 written, 1 already written, 1 without slates, 0 deferred, 0 failed');
    // The next run finds it written and queries nothing.
    expect((await writeSlateOutcomes(ports, SETTINGS, now)).map((h) => h.status)).toEqual([
      'already-written',
      'already-written',
      'no-slates',
    ]);
    expect(statements).toHaveLength(1);
  });

  test('a slate that arrived in the next hour’s partition makes the hour worth a query', async () => {
    const store = new MemoryObjectStore();
    await served(store, 'dt=2026-11-23/hour=10/');
    const { ports, statements } = fakePorts(store);
    const hours = await writeSlateOutcomes(ports, { ...SETTINGS, catchUpHours: 1 }, now);
    expect(hours.map((h) => h.status)).toEqual(['written']);
    expect(statements).toHaveLength(1);
  });

  test('an interrupted attempt (objects, no marker) is cleared before the hour is written again', async () => {
    const store = new DeletingStore();
    const hour = new Date('2026-11-23T09:00:00Z');
    await served(store, 'dt=2026-11-23/hour=09/');
    await store.put('artifacts', `${slatesFolder(ENDPOINT, hour)}orphan.gz`, 'partial');
    const { ports, deleted } = fakePorts(store);
    const hours = await writeSlateOutcomes(
      {
        ...ports,
        deleteObjects: async (bucket: string, keys: readonly string[]) => {
          await ports.deleteObjects(bucket, keys);
          store.delete(bucket, keys);
        },
      },
      { ...SETTINGS, catchUpHours: 1 },
      now,
    );
    expect(deleted).toEqual([`${slatesFolder(ENDPOINT, hour)}orphan.gz`]);
    expect(hours).toEqual([
      { hour: iso('2026-11-23T09:00:00Z'), status: 'written', objects: 1, queryExecutionId: 'q1', cleared: 1 },
    ]);
  });

  test('a failed hour is reported and does not stop the others; it gets no marker', async () => {
    const store = new MemoryObjectStore();
    await served(store, 'dt=2026-11-23/hour=09/');
    await served(store, 'dt=2026-11-23/hour=08/');
    const { ports, statements } = fakePorts(store, (sql) =>
      sql.includes('/09/slates/') ? 'Athena query q1 failed: HIVE_BAD_DATA: broken file' : undefined,
    );
    const hours = await writeSlateOutcomes(ports, { ...SETTINGS, catchUpHours: 2 }, now);
    expect(hours[0]).toEqual({
      hour: iso('2026-11-23T09:00:00Z'),
      status: 'failed',
      error: `the slate outcomes of ${iso('2026-11-23T09:00:00Z')} were not written: Athena query q1 failed: HIVE_BAD_DATA: broken file`,
    });
    expect(hours[1].status).toBe('written');
    expect(statements).toHaveLength(2);
    expect(await store.exists('artifacts', slatesMarkerKey(ENDPOINT, new Date('2026-11-23T09:00:00Z')))).toBe(false);
  });

  test('when time runs short no further query starts: the remaining hours are deferred to the next run', async () => {
    const store = new MemoryObjectStore();
    for (const h of ['09', '08', '07']) await served(store, `dt=2026-11-23/hour=${h}/`);
    const { ports, statements } = fakePorts(store);
    let budget = 1;
    const hours = await writeSlateOutcomes(ports, SETTINGS, now, { hasTimeFor: () => budget-- > 0 });
    expect(hours.map((h) => h.status)).toEqual(['written', 'deferred', 'deferred']);
    expect(statements).toHaveLength(1);
  });
});

describe('athenaQueryRunner', () => {
  function fakeAthena(states: AthenaQueryState[], reason?: string) {
    const calls: string[] = [];
    let t = 0;
    return {
      calls,
      clock: () => t,
      sleep: async (ms: number) => {
        t += ms;
      },
      port: {
        start: async (sql: string) => {
          calls.push(`start ${sql}`);
          return 'qid';
        },
        state: async (id: string) => {
          calls.push(`state ${id}`);
          const state = states.length > 1 ? states.shift()! : states[0];
          return { state, ...(reason ? { reason } : {}) };
        },
        stop: async (id: string) => {
          calls.push(`stop ${id}`);
        },
      },
    };
  }

  test('polls until the statement succeeds', async () => {
    const f = fakeAthena(['QUEUED', 'RUNNING', 'SUCCEEDED']);
    const run = athenaQueryRunner(f.port, { maxWaitMs: 60_000, pollMs: 1000, clock: f.clock, sleep: f.sleep });
    await expect(run('UNLOAD …')).resolves.toEqual({ queryExecutionId: 'qid' });
    expect(f.calls).toEqual(['start UNLOAD …', 'state qid', 'state qid', 'state qid']);
    expect(f.clock()).toBe(2000);
  });

  test('fails with Athena’s reason, or says it was cancelled', async () => {
    const failed = fakeAthena(['RUNNING', 'FAILED'], 'HIVE_PATH_ALREADY_EXISTS: Target directory … already exists');
    await expect(
      athenaQueryRunner(failed.port, { maxWaitMs: 60_000, clock: failed.clock, sleep: failed.sleep })('x'),
    ).rejects.toThrow('Athena query qid failed: HIVE_PATH_ALREADY_EXISTS: Target directory … already exists');
    const cancelled = fakeAthena(['CANCELLED']);
    await expect(
      athenaQueryRunner(cancelled.port, { maxWaitMs: 60_000, clock: cancelled.clock, sleep: cancelled.sleep })('x'),
    ).rejects.toThrow('Athena query qid was cancelled');
  });

  test('stops the query when the bounded wait runs out', async () => {
    const f = fakeAthena(['RUNNING']);
    const run = athenaQueryRunner(f.port, { maxWaitMs: 5000, pollMs: 2000, clock: f.clock, sleep: f.sleep });
    await expect(run('x')).rejects.toThrow(
      'Athena query qid did not finish within 5 s (still RUNNING); it was stopped',
    );
    expect(f.calls.at(-1)).toBe('stop qid');
    expect(f.clock()).toBe(5000);
    expect(() => athenaQueryRunner(f.port, { maxWaitMs: 0 })).toThrow(/maxWaitMs must be positive/);
  });
});
