/**
 * The review API's routes, defined once: the construct creates one HTTP API route per entry (each behind the JWT
 * authorizer), the handler dispatches on the route key API Gateway sends, and the local server matches paths to the
 * same keys.
 */

/** One route. */
export interface ReviewRoute {
  readonly method: 'GET' | 'POST';
  /** HTTP API path, with `{itemId}` as the only parameter. */
  readonly path: string;
}

export const REVIEW_ROUTES = {
  status: { method: 'GET', path: '/status' },
  classes: { method: 'GET', path: '/classes' },
  next: { method: 'POST', path: '/items/next' },
  label: { method: 'POST', path: '/items/{itemId}/label' },
  skip: { method: 'POST', path: '/items/{itemId}/skip' },
} as const satisfies Record<string, ReviewRoute>;

export type ReviewRouteName = keyof typeof REVIEW_ROUTES;

/** `"POST /items/{itemId}/label"`: the route key API Gateway puts on the event. */
export const routeKey = (route: ReviewRoute) => `${route.method} ${route.path}`;

/** Finds the route of a method and path (for the local server); undefined when none matches. */
export function matchRoute(
  method: string,
  path: string,
): { name: ReviewRouteName; key: string; itemId?: string } | undefined {
  for (const [name, route] of Object.entries(REVIEW_ROUTES) as Array<[ReviewRouteName, ReviewRoute]>) {
    if (route.method !== method) continue;
    const pattern = new RegExp(`^${route.path.replace('{itemId}', '([^/]+)')}$`);
    const m = pattern.exec(path);
    if (m) return { name, key: routeKey(route), itemId: m[1] === undefined ? undefined : decodeURIComponent(m[1]) };
  }
  return undefined;
}
