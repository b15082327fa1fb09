/**
 * The review API client: JSON in and out, the bearer token on every call, and every failure turned into a
 * sentence for the reviewer (the API's own one-line refusal when it gave one).
 */
import type { ItemView, LabelResponse, NextResponse, Reviewer } from '../../core/review/service';

/** A refused or failed call, with the words to show. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type { ItemView, LabelResponse, NextResponse };

/** The calls the page makes. */
export interface ReviewApi {
  status(): Promise<{ reviewer: Reviewer; waiting: number; disputed: number }>;
  classes(): Promise<{ classes: string[] }>;
  next(): Promise<NextResponse>;
  label(itemId: string, body: { leaseToken: string; label: string; newClass?: boolean }): Promise<LabelResponse>;
  skip(itemId: string, body: { leaseToken: string }): Promise<{ itemId: string; skipped: true }>;
}

/** A client of the API at `baseUrl`. */
export function reviewApi(baseUrl: string, token: string): ReviewApi {
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, `Cannot reach the review API (${(e as Error).message}). Check your connection and retry.`);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = {};
    }
    if (!response.ok) {
      const o = json as { error?: unknown; message?: unknown };
      const reason = typeof o.error === 'string' ? o.error : typeof o.message === 'string' ? o.message : text;
      if (response.status === 401) throw new ApiError(401, `You are not signed in (${reason || 'Unauthorized'}).`);
      throw new ApiError(response.status, reason || `The review API answered ${response.status}.`);
    }
    return json as T;
  };
  const item = (id: string) => `/items/${encodeURIComponent(id)}`;
  return {
    status: () => call('GET', '/status'),
    classes: () => call('GET', '/classes'),
    next: () => call('POST', '/items/next'),
    label: (id, body) => call('POST', `${item(id)}/label`, body),
    skip: (id, body) => call('POST', `${item(id)}/skip`, body),
  };
}
