/**
 * The reviewers' page in a real browser (Debian's chromium, puppeteer-core) against `npm run review`'s server:
 * keyboard labelling into the lake, two reviewers at once, lease expiry, audit consensus, refusals that change
 * nothing. One run writes the page's picture, docs/images/review-page.png.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import type { Browser, KeyInput } from 'puppeteer-core';
import { readOutcomes } from '../../core/drift/checker-quality';
import { MemoryObjectStore } from '../../core/storage/object-store';
import { DEMO_MODEL_VERSION, writeDemoSet } from '../../src/review/demo';
import { readRequests, REQUESTS_FILE } from '../../src/review/seed';
import {
  callApi,
  type DomElement,
  type PageGlobals,
  labelledCount,
  launchBrowser,
  message,
  openAs,
  testServer,
  text,
  type TestServer,
} from './support';

const SCREENSHOT = path.join(__dirname, '..', '..', 'docs', 'images', 'review-page.png');

/**
 * Writes the page's picture for the docs when it is missing or the page changed: antialiasing varies by a few
 * pixels between runs, and those alone must not rewrite the committed image.
 */
function writeScreenshot(png: Buffer): void {
  if (fs.existsSync(SCREENSHOT)) {
    const before = PNG.sync.read(fs.readFileSync(SCREENSHOT));
    const after = PNG.sync.read(png);
    if (before.width === after.width && before.height === after.height) {
      let changed = 0;
      for (let i = 0; i < after.data.length; i += 4) {
        if (
          Math.abs(after.data[i] - before.data[i]) +
            Math.abs(after.data[i + 1] - before.data[i + 1]) +
            Math.abs(after.data[i + 2] - before.data[i + 2]) >
          24
        )
          changed++;
      }
      if (changed < 100) return;
    }
  }
  fs.writeFileSync(SCREENSHOT, png);
}

/** A folder whose queue holds only the demo set's uncertain items (one vote decides each). */
const uncertainOnly = (dir: string) => {
  const requests = writeDemoSet(dir, 'local-raw').filter((r) => r.reason === 'uncertain');
  fs.mkdirSync(path.join(dir, 'review'), { recursive: true });
  fs.writeFileSync(path.join(dir, REQUESTS_FILE), requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
};

let browser: Browser;
const servers: TestServer[] = [];
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
});

async function server(prepare?: (dir: string) => void): Promise<TestServer> {
  const s = await testServer(prepare);
  servers.push(s);
  return s;
}

const humanEvents = (s: TestServer) => s.server.lake.read().filter((e) => e.label_source === 'human');

test('a reviewer labels five images by keyboard and the label events land in the lake', async () => {
  const s = await server(uncertainOnly);
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  const page = await openAs(browser, s.server.url, 'alice');
  expect(await text(page, '#stub-notice')).toMatch(/sign-in is stubbed/);
  expect(await text(page, '#who')).toBe('Signed in as alice');
  expect(await text(page, '#progress')).toBe('0 labelled this session · 9 waiting');
  expect(
    await page.$$eval('#classes button', (bs) =>
      bs.map((b) => (b as unknown as DomElement).innerText.replace(/\s+/g, ' ')),
    ),
  ).toEqual(['1 circle', '2 square', '3 triangle']);
  expect(await page.$eval('#image', (img) => (img as unknown as DomElement).alt)).toMatch(
    /^Image under review \(.+\): images\/demo\//,
  );
  expect(await page.$$eval('#topk li', (lis) => lis.length)).toBe(3);

  const chosen: Array<[string, string]> = [];
  for (let n = 1; n <= 5; n++) {
    const key = await text(page, '#image-key');
    const digit = String(((n + 1) % 3) + 1);
    await page.keyboard.press(digit as KeyInput);
    // The pick is visible: the chosen class has focus and is checked.
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as PageGlobals).document.activeElement?.getAttribute('aria-checked'),
      ),
    ).toBe('true');
    if (n === 1) writeScreenshot(Buffer.from(await page.screenshot()));
    await page.keyboard.press('Enter');
    await labelledCount(page, n);
    chosen.push([key, ['circle', 'square', 'triangle'][Number(digit) - 1]]);
  }
  const events = humanEvents(s);
  expect(events.map((e) => [e.image_key, e.label])).toEqual(chosen);
  expect(new Set(chosen.map(([key]) => key)).size).toBe(5);
  expect(await text(page, '#progress')).toBe('5 labelled this session · 4 waiting');
  for (const e of events) {
    expect(e).toMatchObject({ label_source: 'human', reviewer_id: 'local-alice', source: 'ground-truth' });
    expect(String(e.inference_id)).toMatch(/^demo-inference-\d{3}$/);
    expect(e.event_time).toBe('2026-11-23T10:00:00.000Z');
  }
  const files = fs.readdirSync(path.join(s.server.lake.eventsDir, 'dt=2026-11-23', 'hour=10'));
  expect(files.length).toBeGreaterThan(0);
  expect(fs.existsSync(SCREENSHOT)).toBe(true);
});

test('two reviewers at once get different items', async () => {
  const s = await server();
  const [alice, bob] = await Promise.all([
    openAs(browser, s.server.url, 'alice'),
    openAs(browser, s.server.url, 'bob'),
  ]);
  const [a, b] = await Promise.all([text(alice, '#image-key'), text(bob, '#image-key')]);
  expect(a).toMatch(/^images\/demo\//);
  expect(b).toMatch(/^images\/demo\//);
  expect(a).not.toBe(b);
});

test('a lease expires and the item returns to the queue; the first reviewer can no longer label it', async () => {
  const s = await server(uncertainOnly);
  const alice = await openAs(browser, s.server.url, 'alice');
  const held = await text(alice, '#image-key');
  expect(await text(alice, '#lease')).toBe('yours until 10:05:00 UTC');
  const early = await openAs(browser, s.server.url, 'bob');
  expect(await text(early, '#image-key')).not.toBe(held);
  s.advance(301);
  const carol = await openAs(browser, s.server.url, 'carol');
  expect(await text(carol, '#image-key')).toBe(held);
  await alice.keyboard.press('1');
  await alice.keyboard.press('Enter');
  expect(await message(alice, /not leased to you/)).toMatch(/nothing was changed/);
  expect(humanEvents(s)).toEqual([]);
  await carol.keyboard.press('2');
  await carol.keyboard.press('Enter');
  await labelledCount(carol, 1);
  expect(humanEvents(s)).toEqual([expect.objectContaining({ image_key: held, reviewer_id: 'local-carol' })]);
});

test('an audit item needs two agreeing reviewers', async () => {
  const s = await server((dir) => {
    const audit = writeDemoSet(dir, 'local-raw').filter((r) => r.reason === 'audit')[0];
    fs.mkdirSync(path.join(dir, 'review'), { recursive: true });
    fs.writeFileSync(path.join(dir, REQUESTS_FILE), JSON.stringify(audit) + '\n');
  });
  const alice = await openAs(browser, s.server.url, 'alice');
  expect(await text(alice, '#reason')).toBe('Random audit sample');
  expect(await text(alice, '#consensus')).toMatch(/Needs 2 reviewers who agree · 0 votes so far/);
  await alice.keyboard.press('2');
  await alice.keyboard.press('Enter');
  expect(await message(alice, /Vote recorded/)).toMatch(/1 vote so far; 2 must agree/);
  expect(humanEvents(s)).toEqual([]);
  expect(await text(alice, '#empty h2')).toBe('Nothing to review right now');
  const bob = await openAs(browser, s.server.url, 'bob');
  expect(await text(bob, '#consensus')).toMatch(/1 vote so far/);
  await bob.keyboard.press('2');
  await bob.keyboard.press('Enter');
  expect(await message(bob, /Saved "square"/)).toMatch(/accepted/);
  expect(humanEvents(s)).toEqual([expect.objectContaining({ label: 'square', reviewer_id: 'local-alice,local-bob' })]);
  expect(s.server.metrics.get('AuditAgreement')).toEqual([1]);
  // The decision is also an outcome record where the drift checker reads realised accuracy.
  const audit = readRequests(path.join(s.dir, REQUESTS_FILE), 'images/')[0];
  const { bucket, prefix, endpointName, dir } = s.server.outcomes;
  const hour = audit.predictedAt!.slice(0, 13).replace(/[-T]/g, '/');
  const folder = path.join(dir, prefix, endpointName, hour);
  const files = fs.readdirSync(folder);
  expect(files).toEqual([expect.stringMatching(/^audit-[0-9a-f]{24}\.jsonl$/)]);
  const body = fs.readFileSync(path.join(folder, files[0]), 'utf8');
  expect(JSON.parse(body)).toEqual({
    kind: 'label',
    time: audit.predictedAt,
    modelVersion: DEMO_MODEL_VERSION,
    predicted: audit.topK[0].label,
    label: 'square',
  });
  const store = new MemoryObjectStore();
  await store.put(bucket, `${prefix}${endpointName}/${hour}/${files[0]}`, body);
  const start = new Date(`${audit.predictedAt!.slice(0, 13)}:00:00.000Z`);
  const read = await readOutcomes(store, bucket, `${prefix}${endpointName}/`, {
    start,
    end: new Date(start.getTime() + 3_600_000),
  });
  expect(read.observations).toEqual([
    {
      name: 'accuracy',
      current: { kind: 'proportion', successes: audit.topK[0].label === 'square' ? 1 : 0, trials: 1 },
    },
  ]);
  expect(s.server.metrics.get('AuditOutcomesWritten')).toEqual([1]);
});

test('bad input gets a clear error and changes nothing', async () => {
  const s = await server();
  const alice = await openAs(browser, s.server.url, 'alice');
  const shown = await text(alice, '#image-key');
  const unchanged = async () => {
    expect(humanEvents(s)).toEqual([]);
    expect(s.server.metrics.get('VotesRecorded')).toBeUndefined();
    expect((await s.server.service.status({ id: 'x', name: 'x' })).waiting).toBe(12);
  };

  // Unauthenticated: refused before the handler, like API Gateway's JWT authorizer.
  expect(await callApi(alice, 'POST', '/items/next', undefined, null)).toEqual({
    status: 401,
    json: { message: 'Unauthorized' },
  });
  expect((await callApi(alice, 'GET', '/status', undefined, 'forged-token')).status).toBe(401);

  // On the page: a new class with a name that is not allowed, a class number that does not exist.
  await alice.keyboard.press('n');
  await alice.keyboard.type('../etc');
  await alice.keyboard.press('Enter');
  expect(await message(alice, /not valid/)).toMatch(/new class name "..\/etc" is not valid/);
  await alice.keyboard.press('Escape');
  await alice.keyboard.press('7');
  expect(await message(alice, /There is no class 7/)).toBe('There is no class 7: the list has 3.');

  // Alice takes her item again through the API: the page's lease token is now stale.
  const again = await callApi(alice, 'POST', '/items/next', undefined, 'local:alice');
  const item = again.json.item as { itemId: string; imageKey: string; lease: { token: string } };
  expect(item.imageKey).toBe(shown);

  const unknown = await callApi(
    alice,
    'POST',
    `/items/${item.itemId}/label`,
    { leaseToken: item.lease.token, label: 'zebra' },
    'local:alice',
  );
  expect(unknown).toEqual({
    status: 400,
    json: {
      error: 'unknown class "zebra": choose one of the 3 classes (circle, square, triangle) or name a new class',
    },
  });
  const notYours = await callApi(
    alice,
    'POST',
    `/items/${item.itemId}/label`,
    { leaseToken: item.lease.token, label: 'circle' },
    'local:bob',
  );
  expect(notYours.status).toBe(403);
  expect(notYours.json.error).toMatch(/is not leased to you/);
  await unchanged();

  // Back on the page, with the stale lease.
  await alice.keyboard.press('1');
  await alice.keyboard.press('Enter');
  expect(await message(alice, /stale lease/)).toMatch(/leased to you again since/);
  await unchanged();
});
