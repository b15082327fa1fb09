/** `npm run review`'s command line and its folder handling (no browser needed). */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliError } from '../../src/cli/common';
import { FLAGS, main, USAGE } from '../../src/review/cli';
import { REQUESTS_FILE } from '../../src/review/seed';
import { findBucket, startReviewServer } from '../../src/review/server';
import { request } from '../core/review/fixtures';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mlbp-review-cli-'));

test('--help exits 0 and describes every option', () => {
  const root = path.join(__dirname, '..', '..');
  const out = execFileSync(path.join(root, 'node_modules', '.bin', 'tsx'), ['src/review/cli.ts', '--help'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(out.startsWith(USAGE)).toBe(true);
  for (const [name, flag] of Object.entries(FLAGS)) {
    if (!('description' in flag)) continue;
    expect(out).toContain(`--${name} ${flag.placeholder}`);
    expect(out).toContain(flag.description);
  }
  expect(out).toMatch(/--help, -h +print this help and exit/);
  expect(out).toMatch(/Sign-in is stubbed/);
});

test.each([
  [[], /--dir is required/],
  [['--dir', '/tmp/x', '--port', 'http'], /--port must be an integer between 0 and 65535; received "http"/],
  [['--dir', '/tmp/x', '--colour'], /Unknown option '--colour'/],
  [['--dir', '/tmp/x', '--bucket', 'Bad_Bucket'], /--bucket must be an S3 bucket name; received "Bad_Bucket"/],
])('%j is refused with one problem and the usage', async (argv, message) => {
  const error = await main(argv as string[], () => undefined).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  expect((error as Error).message).toMatch(message);
});

test('a malformed requests file is refused naming its line, and nothing is served', async () => {
  const dir = tmp();
  fs.mkdirSync(path.join(dir, 'review'));
  fs.writeFileSync(
    path.join(dir, REQUESTS_FILE),
    `${JSON.stringify(request('uncertain', 1))}\n${JSON.stringify({ ...request('uncertain', 2), reason: 'bored' })}\n`,
  );
  const error = await main(['--dir', dir, '--port', '0'], () => undefined).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  expect((error as Error).message).toMatch(/requests\.jsonl line 2: invalid review request: reason/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the raw bucket is the one folder with images/; several need --bucket', () => {
  const dir = tmp();
  expect(findBucket(dir)).toBe('local-raw');
  fs.mkdirSync(path.join(dir, 's3', 'sim-raw', 'images'), { recursive: true });
  fs.mkdirSync(path.join(dir, 's3', 'sim-artifacts', 'models'), { recursive: true });
  expect(findBucket(dir)).toBe('sim-raw');
  fs.mkdirSync(path.join(dir, 's3', 'other-raw', 'images'), { recursive: true });
  expect(() => findBucket(dir)).toThrow(/several buckets with images\/ \(.*\): choose one with --bucket/);
  expect(findBucket(dir, 'other-raw')).toBe('other-raw');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a restart carries on: decided items are not queued again, requests without an image are skipped', async () => {
  const dir = tmp();
  let now = Date.parse('2026-11-23T10:00:00.000Z');
  const first = await startReviewServer({ dir, port: 0, now: () => new Date(now) });
  expect(first.seed).toMatchObject({ demo: true, requests: 12, queued: 12, alreadyDecided: 0 });
  const alice = { id: 'local-alice', name: 'alice' };
  const next = await first.service.next(alice);
  // Through the HTTP API, so the label event takes the local path into the lake.
  const response = await fetch(`${first.url}/api/items/${next.item!.itemId}/label`, {
    method: 'POST',
    headers: { authorization: 'Bearer local:alice', 'content-type': 'application/json' },
    body: JSON.stringify({ leaseToken: next.item!.lease.token, label: next.item!.topK[0].label }),
  });
  expect(response.status).toBe(200);
  await first.close();
  fs.appendFileSync(
    path.join(dir, REQUESTS_FILE),
    JSON.stringify({ ...request('uncertain', 99), imageKey: 'images/gone.png' }) + '\n',
  );
  now += 60_000;
  const second = await startReviewServer({ dir, port: 0, now: () => new Date(now) });
  const decided = next.item!.reason === 'audit' ? 0 : 1;
  expect(second.seed).toMatchObject({ demo: false, requests: 13, alreadyDecided: decided, missingImages: 1 });
  expect(second.seed.queued).toBe(12 - decided);
  await second.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
