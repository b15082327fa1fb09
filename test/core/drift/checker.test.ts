import { hourFolders, runDriftCheck, windowFor, type ModelDriftDetectedDetail } from '../../../core/drift/checker';
import { ProfileAccumulator, toBaselineProfile } from '../../../core/drift/profile';
import { createRng } from '../../../core/drift/stats';
import { MemoryObjectStore } from '../../../core/storage/object-store';
import { driftCheckerSettings } from '../../support/drift-settings';
import { captureLine } from '../../support/capture';

const settings = driftCheckerSettings();

function sample(seed: number, shift: number) {
  const rng = createRng(seed);
  return {
    features: { age: 40 + shift * 10 + 10 * rng.nextNormal(), country: ['us', 'uk', 'de'][rng.nextInt(3)] },
    output: { score: 0.3 + shift * 0.2 + 0.1 * rng.nextNormal() },
  };
}

function harness() {
  const store = new MemoryObjectStore();
  const events: ModelDriftDetectedDetail[] = [];
  const metrics: string[] = [];
  const logs: string[] = [];
  const ports = {
    store,
    publishDriftDetected: async (d: ModelDriftDetectedDetail) => {
      events.push(d);
    },
    metrics: {
      window: (r: { drifted: boolean }, requested: boolean) =>
        metrics.push(`window drifted=${r.drifted} requested=${requested}`),
      noOp: (reason: string) => metrics.push(`noop ${reason}`),
    },
    log: (level: string, message: string) => logs.push(`${level}: ${message}`),
  };
  return { store, events, metrics, logs, ports };
}

async function putBaseline(store: MemoryObjectStore) {
  const acc = new ProfileAccumulator();
  for (let i = 0; i < 3000; i++) {
    const s = sample(i, 0);
    acc.add({ ...s.features, 'output.score': s.output.score });
  }
  await store.put('artifacts', settings.baselineKey, JSON.stringify(toBaselineProfile(acc)));
}

/** Writes capture for 10:00–11:00 across two hour folders and two variants, plus noise outside the window. */
async function putCapture(store: MemoryObjectStore, shift: number, malformed = 0) {
  const lines = (from: number, n: number, minuteOffset: number) =>
    Array.from({ length: n }, (_, i) => {
      const s = sample(1_000_000 + from + i, shift);
      return captureLine({ ...s, time: new Date(Date.UTC(2026, 10, 23, 10, minuteOffset + (i % 29), 0)) });
    });
  await store.put(
    'capture',
    'datacapture/mlbp-sandbox-recommender/AllTraffic/2026/11/23/10/a.jsonl',
    [...lines(0, 400, 0), ...Array(malformed).fill('{"captureData": broken')].join('\n'),
  );
  await store.put(
    'capture',
    'datacapture/mlbp-sandbox-recommender/AllTraffic/2026/11/23/10/b.jsonl',
    lines(400, 400, 30).join('\n'),
  );
  await store.put(
    'capture',
    'datacapture/mlbp-sandbox-recommender/Canary/2026/11/23/10/c.jsonl',
    lines(800, 200, 15).join('\n'),
  );
  // Outside the window: the previous hour must not be read.
  await store.put(
    'capture',
    'datacapture/mlbp-sandbox-recommender/AllTraffic/2026/11/23/09/old.jsonl',
    'not even json',
  );
}

const now = new Date(Date.UTC(2026, 10, 23, 11, 2, 0));

describe('windows', () => {
  test('the window is the last full period before now', () => {
    expect(windowFor(now, 60)).toEqual({
      start: new Date(Date.UTC(2026, 10, 23, 10)),
      end: new Date(Date.UTC(2026, 10, 23, 11)),
    });
    expect(windowFor(new Date(Date.UTC(2026, 10, 23, 11, 44)), 15).start.toISOString()).toBe(
      '2026-11-23T11:15:00.000Z',
    );
  });

  test('hour folders cover the window', () => {
    expect(hourFolders(new Date(Date.UTC(2026, 0, 31, 23, 30)), new Date(Date.UTC(2026, 1, 1, 1, 0)))).toEqual([
      '2026/01/31/23/',
      '2026/02/01/00/',
    ]);
  });
});

describe('drift checker run', () => {
  test('drifted window: report written, metrics published, ModelDriftDetected put once', async () => {
    const h = harness();
    await putBaseline(h.store);
    await putCapture(h.store, 1, 3);
    const result = await runDriftCheck(settings, h.ports, now);
    expect(result).toMatchObject({ status: 'reported', drifted: true, retrainingRequested: true, records: 1000 });
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({
      caseStudy: 'recommender',
      endpointName: 'mlbp-sandbox-recommender',
      windowStart: '2026-11-23T10:00:00.000Z',
      windowEnd: '2026-11-23T11:00:00.000Z',
      reportUri: 's3://artifacts/drift/reports/mlbp-sandbox-recommender/2026-11-23T11:00:00.000Z.json',
    });
    expect(h.events[0].driftedFeatures).toEqual(expect.arrayContaining(['age', 'output.score']));
    const report = JSON.parse(h.store.text('artifacts', result.reportKey!)!);
    expect(report.report.records).toEqual({ reference: 3000, current: 1000, invalid: 3 });
    expect(h.metrics).toEqual(['window drifted=true requested=true']);
  });

  test('the same window again is a metered no-op (idempotent)', async () => {
    const h = harness();
    await putBaseline(h.store);
    await putCapture(h.store, 1);
    await runDriftCheck(settings, h.ports, now);
    const again = await runDriftCheck(settings, h.ports, new Date(now.getTime() + 60_000));
    expect(again.status).toBe('duplicate');
    expect(h.events).toHaveLength(1);
    expect(h.metrics).toEqual(['window drifted=true requested=true', 'noop duplicate']);
  });

  test('a quiet window reports without an event', async () => {
    const h = harness();
    await putBaseline(h.store);
    await putCapture(h.store, 0);
    const result = await runDriftCheck(settings, h.ports, now);
    expect(result).toMatchObject({ status: 'reported', drifted: false, retrainingRequested: false });
    expect(h.events).toEqual([]);
  });

  test('the cooldown holds back a second request in the next window', async () => {
    const h = harness();
    await putBaseline(h.store);
    await putCapture(h.store, 1);
    await runDriftCheck(settings, h.ports, now);
    // Next hour, drift again, still within the 6 h cooldown.
    const next = async (hour: number) => {
      for (const [variant, name] of [
        ['AllTraffic', 'x'],
        ['Canary', 'y'],
      ]) {
        const lines = Array.from({ length: 300 }, (_, i) =>
          captureLine({ ...sample(5_000 + hour * 1000 + i, 1), time: new Date(Date.UTC(2026, 10, 23, hour, i % 60)) }),
        );
        await h.store.put(
          'capture',
          `datacapture/mlbp-sandbox-recommender/${variant}/2026/11/23/${hour}/${name}.jsonl`,
          lines.join('\n'),
        );
      }
      return runDriftCheck(settings, h.ports, new Date(Date.UTC(2026, 10, 23, hour + 1, 1)));
    };
    const second = await next(11);
    expect(second).toMatchObject({ drifted: true, retrainingRequested: false });
    expect(second.reason).toMatch(/cooldown is 6 h/);
    expect(h.events).toHaveLength(1);
  });

  test('no baseline yet: logged, metered no-op', async () => {
    const h = harness();
    await putCapture(h.store, 1);
    expect(await runDriftCheck(settings, h.ports, now)).toMatchObject({ status: 'no-baseline' });
    expect(h.metrics).toEqual(['noop no-baseline']);
    expect(h.logs[0]).toMatch(/^warn: no baseline profile/);
  });

  test('empty window: logged, metered no-op', async () => {
    const h = harness();
    await putBaseline(h.store);
    expect(await runDriftCheck(settings, h.ports, now)).toMatchObject({ status: 'empty-window', records: 0 });
    expect(h.metrics).toEqual(['noop empty-window']);
  });

  test('a corrupt baseline fails loudly (it is an operator problem, not a data problem)', async () => {
    const h = harness();
    await h.store.put('artifacts', settings.baselineKey, '{"kind":"ml-blueprint/baseline-profile","version":1}');
    await putCapture(h.store, 0);
    await expect(runDriftCheck(settings, h.ports, now)).rejects.toThrow(/invalid baseline profile/);
  });
});
