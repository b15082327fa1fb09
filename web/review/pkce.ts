/**
 * The sign-in helpers that need no page: PKCE (RFC 7636), the hosted UI's authorize URL, reading a token's claims
 * for display, and the local stub's reviewer name. Kept apart so tests run them outside the browser.
 */
import type { PageConfig } from './config';

/** Base64url without padding (RFC 7636). */
export function base64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A random string of 32 bytes, base64url (43 characters): a PKCE verifier or a state. */
export function randomString(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 code challenge of a verifier. */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

/** The hosted UI's authorize URL. */
export function authorizeUrl(config: PageConfig, state: string, challenge: string): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId ?? '',
    redirect_uri: config.redirectUri ?? '',
    scope: 'openid email profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${config.authDomain}/oauth2/authorize?${q.toString()}`;
}

/** The claims of a JWT (display only: the API's authorizer is what verifies it). */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The local stub's reviewer name: letters, digits, `-` and `_`, at most 32; `reviewer` when absent. */
export function localReviewer(search: string): string {
  const name = new URLSearchParams(search).get('reviewer') ?? 'reviewer';
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) {
    throw new Error(`reviewer name "${name}" is not allowed: use letters, digits, - and _ (at most 32)`);
  }
  return name;
}
