/**
 * Seasonal comparison on data with a daily cycle: 14 days of hourly traffic whose brightness follows daylight. A
 * night hour from the same cycle must not drift against the baseline at the same hour; the same hour with a real
 * brightness shift must drift on brightness (and only there).
 */
import { loadBaseline, reportWindow, windowAccumulator, accumulateWindow } from '../../../core/drift/check';
import { DEFAULT_POLICY, type DriftPolicy } from '../../../core/drift/engine';
import { createRng } from '../../../core/drift/stats';
import { hourOfWeek, parseTimeValue, phaseLabel } from '../../../core/drift/time';
import { thin } from '../../../core/drift/seasonal';

const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 2); // a Monday

/** Brightness follows daylight (0 at night, up to 150 at noon); `hour_of_day` is the hour / 23; a scene label. */
function records(seed: number, from: number, hours: number, perHour: number, brightnessShift = 0): string {
  const rng = createRng(seed);
  const lines: string[] = [];
  for (let h = 0; h < hours; h++) {
    const hourStart = from + h * 3_600_000;
    const hour = new Date(hourStart).getUTCHours();
    const daylight = Math.max(0, Math.sin((Math.PI * (hour - 6)) / 12));
    for (let i = 0; i < perHour; i++) {
      const t = hourStart + Math.floor((i * 3_600_000) / perHour);
      lines.push(
        JSON.stringify({
          event_time: new Date(t).toISOString(),
          brightness: 40 + 150 * daylight + brightnessShift + 8 * rng.nextNormal(),
          hour_of_day: hour / 23,
          scene: rng.nextFloat() < 0.2 + 0.6 * daylight ? 'street' : 'indoor',
          contrast: 30 + 5 * rng.nextNormal(),
        }),
      );
    }
  }
  return lines.join('\n');
}

const baselineText = records(1, START, 14 * 24, 40);
/** 02:00–03:00 UTC on the 15th day. */
const nightStart = START + 14 * DAY + 2 * 3_600_000;

async function check(current: string, policy: Partial<DriftPolicy>, timeField: string | undefined = 'event_time') {
  const baseline = await loadBaseline(baselineText, { timeField, sampling: { sampleSize: 20_000 } });
  const acc = windowAccumulator(baseline.profile, undefined, { timeField });
  const counters = await accumulateWindow(acc, [current], { timeField });
  return reportWindow(baseline.profile, acc, counters, { ...DEFAULT_POLICY, ...policy });
}

const byName = (report: Awaited<ReturnType<typeof check>>) =>
  Object.fromEntries(report.features.map((f) => [f.name, f]));

describe('a night hour against a 14-day baseline with a daily cycle', () => {
  const sameCycle = records(2, nightStart, 1, 300);
  const brighter = records(3, nightStart, 1, 300, 25);

  test('without seasonality the night hour "drifts" on brightness and hour_of_day (the problem)', async () => {
    const report = await check(sameCycle, { seasonality: 'none' });
    const f = byName(report);
    expect(f.brightness.drifted).toBe(true);
    expect(f.hour_of_day.drifted).toBe(true);
    expect(f.brightness.reference).toEqual({ seasonality: 'none', description: 'whole baseline' });
  });

  test('daily: the same cycle does not drift; the time field is never a feature', async () => {
    const report = await check(sameCycle, { seasonality: 'daily' });
    expect(report.drifted).toBe(false);
    expect(report.features.filter((f) => f.drifted)).toEqual([]);
    expect(report.features.map((f) => f.name).sort()).toEqual(['brightness', 'contrast', 'hour_of_day', 'scene']);
    expect(report.timeFields).toEqual(['event_time']);
    expect(report.unexpectedFeatures).toEqual([]);
    expect(report.seasonal).toEqual([
      {
        seasonality: 'daily',
        phases: [{ phase: '02:00', currentRecords: 300, bandHours: 0, referenceRecords: 14 * 40 }],
        description: 'daily reference: baseline records at 02:00',
      },
    ]);
    const brightness = byName(report).brightness;
    expect(brightness.reference.description).toBe('daily reference: baseline records at 02:00');
    expect(brightness.counts.reference).toBe(14 * 40);
  });

  test('daily: the same hour with a real brightness shift drifts on brightness only', async () => {
    const report = await check(brighter, { seasonality: 'daily' });
    const f = byName(report);
    expect(f.brightness.drifted).toBe(true);
    expect(f.brightness.stats.psi).toBeGreaterThan(1);
    expect(['contrast', 'hour_of_day', 'scene'].filter((n) => f[n].drifted)).toEqual([]);
  });

  test('weekly: too few records per hour of the week widens the band, and the report says so', async () => {
    const report = await check(sameCycle, { seasonality: 'weekly' });
    expect(report.seasonal![0].phases).toEqual([
      // Monday 02:00 ± 3 h: 7 hours × 2 weeks × 40 records.
      { phase: 'Mon 02:00', currentRecords: 300, bandHours: 3, referenceRecords: 7 * 2 * 40 },
    ]);
    expect(report.seasonal![0].description).toMatch(/widened to ±3 h for 1 of 1 phases \(fewer than 500 records\)/);
    expect(report.drifted).toBe(false);
  });

  test('past the widest band the whole baseline is used, and the report says so', async () => {
    const report = await check(sameCycle, { seasonality: 'daily', seasonal: { minReferenceRecords: 100_000 } });
    expect(report.seasonal![0].phases[0]).toMatchObject({ bandHours: null, referenceRecords: 14 * 24 * 40 });
    expect(report.seasonal![0].description).toMatch(/whole baseline for 1 of 1 phases/);
  });

  test('per-feature seasonality: a feature set to none is compared with the whole baseline', async () => {
    const report = await check(sameCycle, {
      seasonality: 'daily',
      features: { hour_of_day: { seasonality: 'none' } },
    });
    expect(byName(report).hour_of_day.drifted).toBe(true);
    expect(byName(report).brightness.drifted).toBe(false);
  });

  test('a baseline without a time field falls back to the whole baseline with the reason', async () => {
    const baseline = await loadBaseline(baselineText, {});
    expect(baseline.profile.timeFields).toEqual(['event_time']); // a timestamp column, found and left out
    const acc = windowAccumulator(baseline.profile, undefined, { timeField: 'event_time' });
    const counters = await accumulateWindow(acc, [sameCycle], { timeField: 'event_time' });
    const report = reportWindow(baseline.profile, acc, counters, { ...DEFAULT_POLICY, seasonality: 'daily' });
    expect(byName(report).brightness.reference.description).toBe(
      'whole baseline (the baseline has no per-phase data: build it with a time field)',
    );
  });
});

describe('time fields', () => {
  test('records with a missing or unparsable time are counted invalid with the reason', async () => {
    const lines = records(4, nightStart, 1, 250).split('\n');
    lines[0] = JSON.stringify({ brightness: 40, hour_of_day: 0.1, scene: 'indoor', contrast: 30 });
    lines[1] = JSON.stringify({ event_time: 'yesterday', brightness: 40, hour_of_day: 0.1, scene: 'x', contrast: 1 });
    const baseline = await loadBaseline(baselineText, { timeField: 'event_time' });
    const acc = windowAccumulator(baseline.profile, undefined, { timeField: 'event_time' });
    const counters = await accumulateWindow(acc, [lines.join('\n')], { timeField: 'event_time' });
    expect(acc.records).toBe(248);
    expect(counters.invalid).toBe(2);
    expect(counters.invalidReasons).toEqual({ 'time-missing': 1, 'time-unparsable': 1 });
  });

  test('a time field absent from every record is a clear error naming the fields seen', async () => {
    await expect(loadBaseline(baselineText, { timeField: 'timestamp', name: '--baseline base.jsonl' })).rejects.toThrow(
      /^--baseline base\.jsonl: the time field "timestamp" is absent from every record; fields seen: event_time, brightness, hour_of_day, scene, contrast\. Check the name/,
    );
  });

  test('parsing: ISO 8601 date-times and epoch seconds or milliseconds; anything else is unparsable', () => {
    expect(parseTimeValue('2026-11-23T02:15:00Z')).toBe(Date.UTC(2026, 10, 23, 2, 15));
    expect(parseTimeValue('2026-11-23T03:15:00+01:00')).toBe(Date.UTC(2026, 10, 23, 2, 15));
    expect(parseTimeValue('2026-11-23 02:15')).toBe(Date.parse('2026-11-23T02:15'));
    expect(parseTimeValue(1_795_400_100)).toBe(1_795_400_100_000);
    expect(parseTimeValue(1_795_400_100_000)).toBe(1_795_400_100_000);
    expect(parseTimeValue(null)).toBe('missing');
    expect(parseTimeValue('')).toBe('missing');
    expect(parseTimeValue('1')).toBe('unparsable');
    expect(parseTimeValue('2026-13-45T99:00:00Z')).toBe('unparsable');
    expect(parseTimeValue(Number.NaN)).toBe('unparsable');
  });

  test('phases are UTC hours of the week, Monday 00:00 first', () => {
    expect(hourOfWeek(START)).toBe(0);
    expect(hourOfWeek(START + 2 * DAY + 5 * 3_600_000)).toBe(53);
    expect(hourOfWeek(START - 3_600_000)).toBe(167);
    expect(phaseLabel('weekly', 53)).toBe('Wed 05:00');
    expect(phaseLabel('daily', 5)).toBe('05:00');
  });

  test('thinning keeps evenly spaced order statistics', () => {
    expect(thin([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5)).toEqual([2, 4, 6, 8, 10]);
    expect(thin([1, 2, 3], 5)).toEqual([1, 2, 3]);
  });
});
