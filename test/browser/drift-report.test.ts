/**
 * The HTML drift report in a real browser (Debian's chromium, headless, no network): every feature is shown with
 * its distributions, statistic, threshold and decision; the score over time and the seasonal reference are on the
 * page. `UPDATE_DOCS_IMAGES=1` also refreshes the screenshot in docs/images/drift-report.png.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { accumulateWindow, loadBaseline, reportWindow, windowAccumulator } from '../../core/drift/check';
import { DEFAULT_POLICY, type DriftPolicy, type DriftReport } from '../../core/drift/engine';
import { compareQuality } from '../../core/drift/quality';
import { renderReportHtml, windowScore } from '../../core/drift/report-html';
import { createRng } from '../../core/drift/stats';

const CHROMIUM = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const DOCS_IMAGE = path.join(__dirname, '..', '..', 'docs', 'images', 'drift-report.png');
const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 2);

/** Camera images with a daily cycle: brightness and contrast follow daylight; the model is less sure at night. */
function images(seed: number, from: number, hours: number, perHour: number, night = { brightness: 0, glare: 0 }) {
  const rng = createRng(seed);
  const lines: string[] = [];
  for (let h = 0; h < hours; h++) {
    const t0 = from + h * HOUR;
    const hour = new Date(t0).getUTCHours();
    const daylight = Math.max(0, Math.sin((Math.PI * (hour - 6)) / 12));
    for (let i = 0; i < perHour; i++) {
      const glare = rng.nextFloat() < night.glare;
      lines.push(
        JSON.stringify({
          event_time: new Date(t0 + Math.floor((i * HOUR) / perHour)).toISOString(),
          'image.brightness': 40 + 150 * daylight + night.brightness + 8 * rng.nextNormal(),
          'image.contrast': 25 + 20 * daylight + 4 * rng.nextNormal(),
          'image.width': [640, 1280][rng.nextInt(2)],
          'image.source': glare ? 'camera-7' : ['camera-1', 'camera-2', 'camera-3'][rng.nextInt(3)],
          'output.confidence': Math.min(0.99, 0.6 + 0.3 * daylight - night.brightness / 400 + 0.05 * rng.nextNormal()),
          'output.predicted_class': ['car', 'bike', 'person'][rng.nextInt(3)],
        }),
      );
    }
  }
  return lines.join('\n');
}

let browser: Browser;
let dir: string;
let report: DriftReport;
let html: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-report-'));
  const timeField = 'event_time';
  const policy: DriftPolicy = { ...DEFAULT_POLICY, seasonality: 'daily' };
  const baseline = await loadBaseline(images(1, START, 14 * 24, 40), { timeField, sampling: { sampleSize: 20_000 } });
  const history = [];
  // Six night hours; from 03:00 a new camera with glare brightens the images.
  for (let h = 0; h < 6; h++) {
    const from = START + 14 * 86_400_000 + h * HOUR;
    const shift = h >= 3 ? { brightness: 30, glare: 0.35 } : { brightness: 0, glare: 0 };
    const acc = windowAccumulator(baseline.profile, undefined, { timeField });
    const counters = await accumulateWindow(acc, [images(10 + h, from, 1, 400, shift)], { timeField });
    report = reportWindow(baseline.profile, acc, counters, policy, [
      {
        name: 'ctr.v7',
        reference: { successes: 520, trials: 10_000 },
        current: { successes: h >= 3 ? 380 : 510, trials: 10_000 },
      },
    ]);
    history.push(windowScore(new Date(from + HOUR).toISOString().slice(0, 16).replace('T', ' '), report));
  }
  const quality = compareQuality([
    {
      name: 'accuracy',
      current: { kind: 'proportion', successes: 212, trials: 260 },
      reference: { kind: 'proportion', successes: 2_730, trials: 3_000 },
      referenceSource: 'quality baseline of v7',
    },
  ]);
  html = renderReportHtml(
    { ...report, quality },
    { title: 'Drift report — mlbp-sandbox-vision', subtitle: 'window 2026-11-16 05:00–06:00 UTC', history },
  );
  fs.writeFileSync(path.join(dir, 'report.html'), html);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${fs.mkdtempSync(path.join(os.tmpdir(), 'drift-chromium-'))}`,
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface CardView {
  name: string;
  text: string;
  width: number;
  height: number;
  charts: number;
}

test('the page shows every feature with its distributions, statistic, threshold and decision', async () => {
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.setViewport({ width: 1040, height: 900 });
  await page.goto(`file://${path.join(dir, 'report.html')}`, { waitUntil: 'load' });
  const cards = (await page.evaluate(`Array.from(document.querySelectorAll('[data-feature]')).map((e) => {
    const r = e.getBoundingClientRect();
    return { name: e.getAttribute('data-feature'), text: e.innerText, width: r.width, height: r.height,
             charts: e.querySelectorAll('svg rect').length };
  })`)) as CardView[];
  expect(cards.map((c) => c.name).sort()).toEqual(report.features.map((f) => f.name).sort());
  for (const card of cards) {
    const feature = report.features.find((f) => f.name === card.name)!;
    expect(card.width).toBeGreaterThan(300);
    expect(card.height).toBeGreaterThan(150);
    expect(card.charts).toBeGreaterThan(0);
    expect(card.text).toContain(feature.effect!.metric);
    expect(card.text).toContain(`threshold ${feature.effect!.threshold}`);
    expect(card.text).toContain(feature.drifted ? 'DRIFT' : 'no drift');
    expect(card.text).toContain('daily reference: baseline records at 05:00');
  }
  const brightness = cards.find((c) => c.name === 'image.brightness')!;
  expect(brightness.text).toMatch(/DRIFT/);
  const verdict = (await page.evaluate(`document.querySelector('.verdict').innerText`)) as string;
  expect(verdict).toMatch(/^DRIFT DETECTED/);
  const timeline = (await page.evaluate(
    `document.querySelectorAll('svg[aria-label="drift score over time"] circle').length`,
  )) as number;
  expect(timeline).toBe(6);
  const body = (await page.evaluate('document.body.innerText')) as string;
  expect(body).toMatch(/Realised quality/);
  expect(body).toMatch(/ctr\.v7/);
  expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);

  const shot = path.join(dir, 'drift-report.png');
  await page.screenshot({ path: shot, fullPage: true });
  expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
  if (process.env.UPDATE_DOCS_IMAGES === '1') fs.copyFileSync(shot, DOCS_IMAGE);
  await page.close();
}, 60_000);
