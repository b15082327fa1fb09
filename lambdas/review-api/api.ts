/**
 * The review HTTP API's handler logic: reads the reviewer from the claims the JWT authorizer verified, dispatches
 * on the route key, and answers JSON. Refusals are `{ "error": "<one line>" }` with the status of their
 * {@link ReviewError}; anything unexpected is a 500 that names the request id and changes nothing more than what
 * was already stored. The Lambda (`index.ts`) and the local server (`src/review/`) run this same function.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ReviewError } from '../../core/review/errors';
import { REVIEW_ROUTES, routeKey } from '../../core/review/routes';
import type { Reviewer, ReviewService } from '../../core/review/service';

/** Where the handler logs. */
export type ApiLog = (level: 'info' | 'warn' | 'error', message: string, data: Record<string, unknown>) => void;

const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: HEADERS,
  body: JSON.stringify(body),
});

/**
 * The reviewer of a request: the token's `sub` (stable, what votes record) and its user name. No claims means the
 * request did not pass the authorizer: refused, whatever the route.
 */
export function reviewerOf(event: APIGatewayProxyEventV2WithJWTAuthorizer): Reviewer {
  const claims = event.requestContext?.authorizer?.jwt?.claims ?? {};
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub === '') {
    throw new ReviewError('unauthenticated', 'not signed in: the request carries no verified reviewer identity');
  }
  const name = claims.username ?? claims['cognito:username'] ?? claims.email ?? sub;
  return { id: sub, name: String(name) };
}

function bodyOf(event: APIGatewayProxyEventV2WithJWTAuthorizer): unknown {
  if (!event.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ReviewError('bad-request', 'the request body is not JSON');
  }
}

function itemIdOf(event: APIGatewayProxyEventV2WithJWTAuthorizer): string {
  const id = event.pathParameters?.itemId;
  if (!id) throw new ReviewError('bad-request', 'the item id is missing from the path');
  return id;
}

/** Builds the API handler around a {@link ReviewService}. */
export function createApiHandler(service: ReviewService, log: ApiLog) {
  const routes: Record<string, (event: APIGatewayProxyEventV2WithJWTAuthorizer, reviewer: Reviewer) => unknown> = {
    [routeKey(REVIEW_ROUTES.status)]: (_e, r) => service.status(r),
    [routeKey(REVIEW_ROUTES.classes)]: () => service.classes(),
    [routeKey(REVIEW_ROUTES.next)]: (_e, r) => service.next(r),
    [routeKey(REVIEW_ROUTES.label)]: (e, r) => service.label(r, itemIdOf(e), bodyOf(e)),
    [routeKey(REVIEW_ROUTES.skip)]: (e, r) => service.skip(r, itemIdOf(e), bodyOf(e)),
  };
  return async (event: APIGatewayProxyEventV2WithJWTAuthorizer): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      const reviewer = reviewerOf(event);
      const route = routes[event.routeKey];
      if (!route) throw new ReviewError('not-found', `no route ${event.routeKey}`);
      const result = await route(event, reviewer);
      log('info', 'review request', { route: event.routeKey, reviewer: reviewer.id });
      return json(200, result);
    } catch (error) {
      if (error instanceof ReviewError) {
        log('warn', 'review request refused', { route: event.routeKey, status: error.status, error: error.message });
        return json(error.status, { error: error.message });
      }
      const requestId = event.requestContext?.requestId ?? 'unknown';
      log('error', 'review request failed', { route: event.routeKey, requestId, error: (error as Error).stack });
      return json(500, { error: `internal error (request ${requestId}); nothing else was changed, try again` });
    }
  };
}
