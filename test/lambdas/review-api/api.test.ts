/**
 * The review API handler with API-Gateway-shaped events (HTTP API payload 2.0 with JWT authorizer claims), over the
 * real store on dynalite.
 */
import '../../../src/simulate/polyfill';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { ReviewService } from '../../../core/review/service';
import { createApiHandler, type ApiLog } from '../../../lambdas/review-api/api';
import { Emulators } from '../../../src/simulate/emulators';
import { request } from '../../core/review/fixtures';
import { reviewWorld, type ReviewWorld } from './world';

let emulators: Emulators;
let world: ReviewWorld;
const logs: Array<Parameters<ApiLog>> = [];
let api: ReturnType<typeof createApiHandler>;

beforeAll(async () => {
  emulators = await Emulators.start();
  world = await reviewWorld(emulators);
  await world.service.intake(request('uncertain', 1));
  api = createApiHandler(world.service, (...entry) => logs.push(entry));
});
afterAll(async () => {
  await emulators.close();
});

function event(
  routeKey: string,
  options: { claims?: Record<string, string>; body?: string; itemId?: string; base64?: boolean } = {},
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const [method, path] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath: path.replace('{itemId}', options.itemId ?? ''),
    rawQueryString: '',
    headers: {},
    isBase64Encoded: options.base64 ?? false,
    body: options.body,
    pathParameters: options.itemId ? { itemId: options.itemId } : undefined,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.test',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'req-1',
      routeKey,
      stage: '$default',
      time: '',
      timeEpoch: 0,
      authorizer: {
        principalId: '',
        integrationLatency: 0,
        jwt: { claims: options.claims ?? {}, scopes: [] },
      },
    },
  };
}

const alice = { sub: 'sub-alice', username: 'alice' };
const parse = (body: string | undefined) => JSON.parse(body ?? 'null') as Record<string, unknown>;

test('a request without verified claims is refused with 401 on every route, and nothing changes', async () => {
  for (const key of ['GET /status', 'GET /classes', 'POST /items/next', 'POST /items/{itemId}/label']) {
    const out = await api(event(key, { itemId: 'a'.repeat(24), body: '{"label":"cat"}' }));
    expect(out.statusCode).toBe(401);
    expect(parse(out.body)).toEqual({ error: 'not signed in: the request carries no verified reviewer identity' });
  }
  expect(await world.store.counts()).toEqual({ pending: 1, disputed: 0 });
  expect((await world.service.next({ id: 'sub-x', name: 'x' })).item).not.toBeNull();
});

test('status names the reviewer from the claims', async () => {
  const out = await api(event('GET /status', { claims: alice }));
  expect(out.statusCode).toBe(200);
  expect(out.headers).toMatchObject({ 'cache-control': 'no-store' });
  expect(parse(out.body)).toEqual({ reviewer: { id: 'sub-alice', name: 'alice' }, waiting: 1, disputed: 0 });
});

test('next, then label through the API; base64 bodies are read', async () => {
  world.advance(600);
  const next = parse((await api(event('POST /items/next', { claims: alice }))).body);
  const item = next.item as { itemId: string; lease: { token: string } };
  const body = Buffer.from(JSON.stringify({ leaseToken: item.lease.token, label: 'dog' })).toString('base64');
  const out = await api(
    event('POST /items/{itemId}/label', { claims: alice, itemId: item.itemId, body, base64: true }),
  );
  expect(out.statusCode).toBe(200);
  expect(parse(out.body)).toMatchObject({ kind: 'accepted', label: 'dog' });
});

test.each([
  ['a body that is not JSON', 'POST /items/{itemId}/label', 'a'.repeat(24), '{label', 400, /not JSON/],
  ['an unknown route', 'DELETE /items', undefined, undefined, 404, /no route DELETE \/items/],
  ['a missing item', 'POST /items/{itemId}/skip', 'b'.repeat(24), '{}', 404, /no item b+ in the queue/],
])('%s is refused in words', async (_name, key, itemId, body, status, message) => {
  const out = await api(event(key, { claims: alice, itemId, body }));
  expect(out.statusCode).toBe(status);
  expect(parse(out.body).error).toMatch(message);
});

test('an unexpected failure is a 500 that names the request, and is logged', async () => {
  const broken = createApiHandler(
    {
      status: async () => {
        throw new Error('table gone');
      },
    } as unknown as ReviewService,
    (...entry) => logs.push(entry),
  );
  const out = await broken(event('GET /status', { claims: alice }));
  expect(out.statusCode).toBe(500);
  expect(parse(out.body).error).toMatch(/internal error \(request req-1\)/);
  expect(logs.some(([level, , data]) => level === 'error' && String(data.error).includes('table gone'))).toBe(true);
});
