/**
 * Browser tests' world: Debian's chromium driven by puppeteer-core (never a downloaded browser), and the local
 * review server (`npm run review`'s) in-process with a clock the test moves, so leases expire without sleeping.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { startReviewServer, type ReviewServer, type ReviewServerOptions } from '../../src/review/server';

/** Debian's chromium; `CHROME_PATH` points the tests at another Chrome or Chromium (e.g. on macOS). */
export const CHROMIUM = process.env.CHROME_PATH ?? '/usr/bin/chromium';

/** The few DOM shapes the tests' page callbacks touch (the root tsconfig has no DOM library). */
export interface DomElement {
  readonly hidden: boolean;
  readonly textContent: string | null;
  readonly innerText: string;
  readonly alt: string;
  getAttribute(name: string): string | null;
}

/** The page's globals, as seen from a callback that runs in the browser. */
export interface PageGlobals {
  readonly document: {
    getElementById(id: string): DomElement | null;
    querySelector(selector: string): DomElement | null;
    readonly activeElement: DomElement | null;
  };
}

/** Starts headless chromium with a fresh profile and no network but loopback. */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (npm test's setup does: scripts/setup-test-deps.sh)`,
    );
  }
  return puppeteer.launch({
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
      `--user-data-dir=${fs.mkdtempSync(path.join(os.tmpdir(), 'mlbp-chromium-'))}`,
    ],
  });
}

/** A server over a fresh folder and its clock. */
export interface TestServer {
  readonly server: ReviewServer;
  readonly dir: string;
  advance(seconds: number): void;
  close(): Promise<void>;
}

export const START = new Date('2026-11-23T10:00:00.000Z');

/** Starts the local review server on a free port over a new folder (the demo set unless `prepare` writes one). */
export async function testServer(
  prepare?: (dir: string) => void,
  options: Partial<ReviewServerOptions> = {},
): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlbp-review-'));
  prepare?.(dir);
  let now = START.getTime();
  const server = await startReviewServer({ dir, port: 0, now: () => new Date(now), ...options });
  return {
    server,
    dir,
    advance: (seconds) => {
      now += seconds * 1000;
    },
    close: async () => {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Opens the page as a reviewer in their own browser context (own storage) and waits for the first item. */
export async function openAs(browser: Browser, url: string, reviewer: string): Promise<Page> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1280, height: 820 });
  await page.goto(`${url}/?reviewer=${reviewer}`);
  await page.waitForFunction(() => {
    const doc = (globalThis as unknown as PageGlobals).document;
    return !doc.getElementById('workspace')?.hidden || !doc.getElementById('empty')?.hidden;
  });
  return page;
}

/** The text of an element. */
export const text = (page: Page, selector: string) =>
  page.$eval(selector, (el) => (el as unknown as DomElement).innerText.trim());

/** Waits until the session's labelled count reaches `n`. */
export const labelledCount = (page: Page, n: number) =>
  page.waitForFunction(
    (count: number) =>
      (globalThis as unknown as PageGlobals).document.querySelector('#progress strong')?.textContent === String(count),
    {},
    n,
  );

/** Waits until the message area says something matching `pattern`; returns the text. */
export async function message(page: Page, pattern: RegExp): Promise<string> {
  await page.waitForFunction(
    (source: string, flags: string) => {
      const box = (globalThis as unknown as PageGlobals).document.getElementById('message');
      return !!box && !box.hidden && new RegExp(source, flags).test(box.textContent ?? '');
    },
    {},
    pattern.source,
    pattern.flags,
  );
  return text(page, '#message');
}

/** Calls the API from inside the page (same origin), as a script could; returns status and JSON. */
export function callApi(page: Page, method: string, apiPath: string, body?: unknown, token?: string | null) {
  return page.evaluate(
    async (m: string, p: string, b: string | null, t: string | null) => {
      const response = await fetch(`/api${p}`, {
        method: m,
        headers: { ...(t ? { authorization: `Bearer ${t}` } : {}), 'content-type': 'application/json' },
        body: b ?? undefined,
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    },
    method,
    apiPath,
    body === undefined ? null : JSON.stringify(body),
    token === undefined ? null : token,
  );
}
