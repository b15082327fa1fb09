import { hourFolders, runDriftCheck, windowFor, type ModelDriftDetectedDetail } from '../../../core/drift/checker';
import { DEFAULT_QUALITY_SETTINGS } from '../../../core/drift/checker-quality';
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
      quality: (results: ReadonlyArray<{ name: string; dropped: boolean }>, requested: boolean) =>
        metrics.push(
          `quality dropped=${results
            .filter((r) => r.dropped)
            .map((r) => r.name)
            .join(',')} requested=${requested}`,
        ),
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

describe('settled windows and late records', () => {
  test('a window is checked once it has settled: settleMinutes moves the window back', async () => {
    const h = harness();
    await putBaseline(h.store);
    await putCapture(h.store, 0);
    const early = await runDriftCheck(
      { ...settings, settleMinutes: 30 },
      h.ports,
      new Date(Date.UTC(2026, 10, 23, 11, 20)),
    );
    expect(early).toMatchObject({ windowEnd: '2026-11-23T10:00:00.000Z', status: 'empty-window' });
    const settled = await runDriftCheck(
      { ...settings, settleMinutes: 30 },
      h.ports,
      new Date(Date.UTC(2026, 10, 23, 11, 31)),
    );
    expect(settled).toMatchObject({ windowEnd: '2026-11-23T11:00:00.000Z', status: 'reported', records: 1000 });
  });

  test('the report has a self-contained HTML page next to it', async () => {
    const h = harness();
    await putBaseline(h.store);
    await putCapture(h.store, 1);
    const result = await runDriftCheck(settings, h.ports, now);
    const html = h.store.text('artifacts', result.reportKey!.replace(/\.json$/, '.html'))!;
    expect(html).toMatch(/^<!doctype html>/);
    for (const name of ['age', 'country', 'output.score']) expect(html).toContain(`data-feature="${name}"`);
  });

  /** Capture lines of `n` records at 10:xx (the window 10:00–11:00), written late. */
  const lateLines = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) =>
      captureLine({ ...sample(seed + i, 1), time: new Date(Date.UTC(2026, 10, 23, 10, 40 + (i % 19))) }),
    ).join('\n');

  async function nextHour(h: ReturnType<typeof harness>) {
    await h.store.put(
      'capture',
      'datacapture/mlbp-sandbox-recommender/AllTraffic/2026/11/23/11/next.jsonl',
      Array.from({ length: 300 }, (_, i) =>
        captureLine({ ...sample(70_000 + i, 0), time: new Date(Date.UTC(2026, 10, 23, 11, i % 60)) }),
      ).join('\n'),
    );
  }

  test('late records beyond the share re-check the window and version its report', async () => {
    const h = harness();
    await putBaseline(h.store);
    await putCapture(h.store, 0);
    const first = await runDriftCheck(settings, h.ports, now);
    expect(first).toMatchObject({ status: 'reported', drifted: false, records: 1000 });
    // 120 late records of 10:xx: 80 in a new object of the window's own folder, 40 in the next hour's folder.
    await h.store.put(
      'capture',
      'datacapture/mlbp-sandbox-recommender/AllTraffic/2026/11/23/10/late.jsonl',
      lateLines(80, 90_000),
    );
    await h.store.put(
      'capture',
      'datacapture/mlbp-sandbox-recommender/Canary/2026/11/23/11/late.jsonl',
      lateLines(40, 95_000),
    );
    await nextHour(h);
    const second = await runDriftCheck(settings, h.ports, new Date(Date.UTC(2026, 10, 23, 12, 2)));
    expect(second).toMatchObject({ status: 'reported', windowEnd: '2026-11-23T12:00:00.000Z', records: 300 });
    expect(second.rechecked).toEqual(['drift/reports/mlbp-sandbox-recommender/2026-11-23T11:00:00.000Z.v2.json']);
    const v2 = JSON.parse(h.store.text('artifacts', second.rechecked![0])!);
    expect(v2).toMatchObject({
      version: 2,
      supersedes: 'drift/reports/mlbp-sandbox-recommender/2026-11-23T11:00:00.000Z.json',
      late: { records: 120, share: 0.12, recordsAtPreviousCheck: 1000 },
    });
    expect(v2.report.records.current).toBe(1120);
    expect(h.store.text('artifacts', second.rechecked![0].replace(/\.json$/, '.html'))).toMatch(/version 2/);
    const state = JSON.parse(h.store.text('artifacts', 'drift/state/mlbp-sandbox-recommender.json')!);
    expect(state.watch.find((w: { windowEnd: string }) => w.windowEnd === '2026-11-23T11:00:00.000Z')).toMatchObject({
      version: 2,
      records: 1120,
      late: 0,
    });
    // The first version stays as it was.
    expect(JSON.parse(h.store.text('artifacts', first.reportKey!)!).report.records.current).toBe(1000);
  });

  test('late records within the share are counted, not re-checked; an object is never counted twice', async () => {
    const h = harness();
    await putBaseline(h.store);
    await putCapture(h.store, 0);
    await runDriftCheck(settings, h.ports, now);
    await h.store.put(
      'capture',
      'datacapture/mlbp-sandbox-recommender/AllTraffic/2026/11/23/10/late.jsonl',
      lateLines(60, 90_000),
    );
    await nextHour(h);
    const second = await runDriftCheck(settings, h.ports, new Date(Date.UTC(2026, 10, 23, 12, 2)));
    expect(second.rechecked).toBeUndefined();
    const watch = () =>
      JSON.parse(h.store.text('artifacts', 'drift/state/mlbp-sandbox-recommender.json')!).watch.find(
        (w: { windowEnd: string }) => w.windowEnd === '2026-11-23T11:00:00.000Z',
      );
    expect(watch()).toMatchObject({ late: 60, version: 1 });
    // Next hour: the same late object is not counted again; 50 more tip the share over 10 %.
    await h.store.put(
      'capture',
      'datacapture/mlbp-sandbox-recommender/AllTraffic/2026/11/23/12/late.jsonl',
      lateLines(50, 97_000),
    );
    const third = await runDriftCheck(settings, h.ports, new Date(Date.UTC(2026, 10, 23, 13, 2)));
    expect(third.rechecked).toEqual(['drift/reports/mlbp-sandbox-recommender/2026-11-23T11:00:00.000Z.v2.json']);
    expect(JSON.parse(h.store.text('artifacts', third.rechecked![0])!).late.records).toBe(110);
  });
});

describe('realised quality', () => {
  const outcomesKey = 'drift/outcomes/mlbp-sandbox-recommender/2026/11/23/09/a.jsonl';
  /** 400 served slates of 10 items at 09:xx; `clickRate` of the slates get a click at rank 1. */
  const slates = (clickRate: number) =>
    Array.from({ length: 400 }, (_, i) =>
      JSON.stringify({
        kind: 'slate',
        time: new Date(Date.UTC(2026, 10, 23, 9, i % 60)).toISOString(),
        modelVersion: 'v2',
        items: Array.from({ length: 10 }, (_, j) => `item-${(i + j) % 50}`),
        clicked: i < clickRate * 400 ? [`item-${i % 50}`] : [],
      }),
    ).join('\n');
  const qualityBaseline = {
    kind: 'ml-blueprint/quality-baseline',
    version: 1,
    createdAt: '2026-11-20T00:00:00Z',
    modelVersion: 'v1',
    source: 'champion windows',
    metrics: {
      ctr: { kind: 'proportion', successes: 500, trials: 10_000 },
      'ndcg@10': { kind: 'mean', n: 1_000, sum: 500, sumSquares: 500 },
    },
  };
  const withQuality = { ...settings, quality: { ...DEFAULT_QUALITY_SETTINGS } };
  /** A store with the drift baseline, a quiet capture window and, when asked, the deployed model's quality baseline. */
  async function qualityHarness(withBaseline: boolean) {
    const h = harness();
    await putBaseline(h.store);
    await putCapture(h.store, 0);
    if (withBaseline) {
      await h.store.put(
        'artifacts',
        'drift/baselines/mlbp-sandbox-recommender/quality.json',
        JSON.stringify(qualityBaseline),
      );
    }
    return h;
  }

  test('a significant drop of the served slates requests retraining once (k-of-n, cooldown shared with drift)', async () => {
    const h = await qualityHarness(true);
    await h.store.put('artifacts', outcomesKey, slates(0.2));
    const result = await runDriftCheck(withQuality, h.ports, now);
    expect(result).toMatchObject({ status: 'reported', drifted: false, retrainingRequested: false });
    expect(result.quality).toMatchObject({
      windowEnd: '2026-11-23T10:00:00.000Z',
      dropped: ['ctr', 'ndcg@10'],
      retrainingRequested: true,
    });
    expect(h.events).toHaveLength(1);
    expect(h.events[0]).toMatchObject({
      windowEnd: '2026-11-23T10:00:00.000Z',
      qualityDropped: ['ctr', 'ndcg@10'],
      reportUri: 's3://artifacts/drift/reports/mlbp-sandbox-recommender/quality/2026-11-23T10:00:00.000Z.json',
    });
    expect(h.events[0].reason).toMatch(
      /^realised quality dropped: ctr, ndcg@10; quality drop in 1 of the last 1 windows/,
    );
    const report = JSON.parse(h.store.text('artifacts', result.quality!.reportKey)!);
    const ctr = report.quality.find((q: { name: string }) => q.name === 'ctr');
    expect(ctr).toMatchObject({ value: 80 / 4000, samples: 4000, dropped: true, reference: { value: 0.05 } });
    expect(ctr.interval.lower).toBeLessThan(0.02);
    expect(ctr.interval.upper).toBeGreaterThan(0.02);
    // The next hour drops again, within the cooldown: judged, no second request.
    await h.store.put('artifacts', outcomesKey.replace('/09/', '/10/'), slates(0.2).replace(/T09:/g, 'T10:'));
    await h.store.put(
      'capture',
      'datacapture/mlbp-sandbox-recommender/AllTraffic/2026/11/23/11/q.jsonl',
      Array.from({ length: 300 }, (_, i) =>
        captureLine({ ...sample(80_000 + i, 0), time: new Date(Date.UTC(2026, 10, 23, 11, i % 60)) }),
      ).join('\n'),
    );
    const next = await runDriftCheck(withQuality, h.ports, new Date(Date.UTC(2026, 10, 23, 12, 2)));
    expect(next.quality).toMatchObject({ dropped: ['ctr', 'ndcg@10'], retrainingRequested: false });
    expect(h.events).toHaveLength(1);
  });

  test('quality at or above the reference does not drop; the judged window is remembered', async () => {
    const h = await qualityHarness(true);
    await h.store.put('artifacts', outcomesKey, slates(0.6));
    const result = await runDriftCheck(withQuality, h.ports, now);
    expect(result.quality).toMatchObject({ dropped: [], retrainingRequested: false });
    expect(h.events).toEqual([]);
    expect(h.metrics).toEqual(['window drifted=false requested=false', 'quality dropped= requested=false']);
    const state = JSON.parse(h.store.text('artifacts', 'drift/state/mlbp-sandbox-recommender.json')!);
    expect(state.quality.windows).toEqual([{ windowEnd: '2026-11-23T10:00:00.000Z', drifted: false }]);
    expect(state.qualityHistory[0].metrics.ctr).toEqual({ kind: 'proportion', successes: 240, trials: 4000 });
  });

  test('without a quality baseline, the preceding windows are the reference', async () => {
    const h = await qualityHarness(false);
    await h.store.put('artifacts', outcomesKey, slates(0.6));
    const first = await runDriftCheck(withQuality, h.ports, now);
    expect(first.quality).toMatchObject({ dropped: [] });
    const report = JSON.parse(h.store.text('artifacts', first.quality!.reportKey)!);
    expect(report.quality[0].note).toBe('no reference yet');
  });
});

describe('realised quality in daily windows (audit labels)', () => {
  /** `n` audit outcomes of one hour, `correct` of them right. */
  const audits = (day: number, hour: number, n: number, correct: number) =>
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        kind: 'label',
        time: new Date(Date.UTC(2026, 10, day, hour, i % 60)).toISOString(),
        modelVersion: 'v3',
        predicted: 'cat',
        label: i < correct ? 'cat' : 'dog',
      }),
    ).join('\n');
  const daily = {
    ...settings,
    quality: { ...DEFAULT_QUALITY_SETTINGS, windowMinutes: 1440, settleMinutes: 2880, referenceWindows: 14 },
  };
  const prefix = 'drift/outcomes/mlbp-sandbox-recommender/2026/11';

  test('a day is judged two days after it ends, pooling every hour of it; the same day is judged once', async () => {
    const h = harness();
    await putBaseline(h.store);
    await putCapture(h.store, 0);
    await h.store.put('artifacts', `${prefix}/20/09/audit-a.jsonl`, audits(20, 9, 30, 27));
    await h.store.put('artifacts', `${prefix}/20/23/audit-b.jsonl`, audits(20, 23, 20, 17));
    // The next day's labels are not this window's.
    await h.store.put('artifacts', `${prefix}/21/00/audit-c.jsonl`, audits(21, 0, 40, 0));
    const result = await runDriftCheck(daily, h.ports, now); // 2026-11-23T11:02: two days earlier falls in the day that ends 11-21T00:00
    expect(result.quality).toMatchObject({ windowEnd: '2026-11-21T00:00:00.000Z', dropped: [] });
    const report = JSON.parse(h.store.text('artifacts', result.quality!.reportKey)!);
    expect(report.windowStart).toBe('2026-11-20T00:00:00.000Z');
    expect(report.quality).toEqual([expect.objectContaining({ name: 'accuracy', value: 44 / 50, samples: 50 })]);
    // An hour later the same day is due again: already judged, nothing new.
    const again = await runDriftCheck(daily, h.ports, new Date(now.getTime() + 3_600_000));
    expect(again.quality).toBeUndefined();
  });
});

describe('seasonal comparison in the checker', () => {
  test('with a seasonal baseline and policy, the window is compared with the baseline at its hour', async () => {
    const h = harness();
    const acc = new ProfileAccumulator({ seasonal: { timeField: 'inferenceTime' } });
    for (let i = 0; i < 14 * 24 * 20; i++) {
      const s = sample(i, 0);
      acc.add({ ...s.features, 'output.score': s.output.score }, Date.UTC(2026, 10, 9) + i * 180_000);
    }
    await h.store.put('artifacts', settings.baselineKey, JSON.stringify(toBaselineProfile(acc)));
    await putCapture(h.store, 0);
    const result = await runDriftCheck(
      { ...settings, policy: { ...settings.policy, seasonality: 'daily' } },
      h.ports,
      now,
    );
    const report = JSON.parse(h.store.text('artifacts', result.reportKey!)!).report;
    expect(report.seasonal[0]).toMatchObject({
      seasonality: 'daily',
      // 14 × 20 = 280 records at 10:00 are fewer than 500: widened to ±1 h (3 × 280).
      phases: [{ phase: '10:00', currentRecords: 1000, bandHours: 1, referenceRecords: 3 * 14 * 20 }],
    });
    expect(report.timeFields).toEqual(['inferenceTime']);
    expect(report.drifted).toBe(false);
  });
});

describe('a window that was empty at its check', () => {
  test('gets its first report when its records arrive late', async () => {
    const h = harness();
    await putBaseline(h.store);
    const first = await runDriftCheck(settings, h.ports, now);
    expect(first).toMatchObject({ status: 'empty-window', windowEnd: '2026-11-23T11:00:00.000Z' });
    // The whole hour arrives late, in the next hour's folder.
    await h.store.put(
      'capture',
      'datacapture/mlbp-sandbox-recommender/AllTraffic/2026/11/23/11/late.jsonl',
      Array.from({ length: 500 }, (_, i) =>
        captureLine({ ...sample(60_000 + i, 1), time: new Date(Date.UTC(2026, 10, 23, 10, i % 60)) }),
      ).join('\n'),
    );
    const next = await runDriftCheck(settings, h.ports, new Date(Date.UTC(2026, 10, 23, 12, 2)));
    expect(next.status).toBe('empty-window');
    expect(next.rechecked).toEqual(['drift/reports/mlbp-sandbox-recommender/2026-11-23T11:00:00.000Z.json']);
    const report = JSON.parse(h.store.text('artifacts', next.rechecked![0])!);
    expect(report).toMatchObject({ version: 1, late: { records: 500, recordsAtPreviousCheck: 0 } });
    expect(report.supersedes).toBeUndefined();
    expect(report.report.drifted).toBe(true);
  });
});
