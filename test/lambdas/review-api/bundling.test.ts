/**
 * The review handlers bundle with esbuild the way BlueprintFunction does, and the bundles run: loaded with their
 * environment, the API refuses an unauthenticated request and the intake reports a malformed request as a batch
 * item failure, both before any AWS call.
 */
import { buildSync } from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

function load(dir: string): { handler: (event: unknown) => Promise<unknown> } {
  const out = buildSync({
    entryPoints: [join(ROOT, 'lambdas', dir, 'index.ts')],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  expect(out.errors).toEqual([]);
  const file = join(fs.mkdtempSync(join(os.tmpdir(), 'mlbp-bundle-')), 'index.js');
  fs.writeFileSync(file, out.outputFiles[0].text);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as { handler: (event: unknown) => Promise<unknown> };
}

const saved = { ...process.env };
// The bundles' own log lines (Powertools, SDK notices) would print whole minified lines as code frames.
const quiet = ['log', 'info', 'warn', 'error'].map((level) =>
  jest.spyOn(console, level as 'log').mockImplementation(() => undefined),
);
beforeAll(() => {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    REVIEW_TABLE: 'review-queue',
    IMAGES_PREFIX: 'images/',
    IMAGES_BUCKET: 'raw',
    STREAM_ARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/events',
    OUTCOMES_BUCKET: 'artifacts',
    OUTCOMES_ENDPOINT: 'mlbp-sandbox-vision',
  });
});
afterAll(() => {
  process.env = saved;
  for (const spy of quiet) spy.mockRestore();
});

test('the API bundle runs and refuses a request without verified claims', async () => {
  const { handler } = load('review-api');
  const out = (await handler({
    routeKey: 'POST /items/next',
    requestContext: { requestId: 'r1', authorizer: { jwt: { claims: {} } } },
  })) as { statusCode: number; body: string };
  expect(out.statusCode).toBe(401);
  expect(JSON.parse(out.body)).toEqual({ error: 'not signed in: the request carries no verified reviewer identity' });
});

test('the intake bundle runs and fails a malformed request back to the queue', async () => {
  const { handler } = load('review-api/intake');
  const out = await handler({ Records: [{ messageId: 'm1', body: '{"imageKey": 3}' }] });
  expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
});
