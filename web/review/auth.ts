/**
 * Who the reviewer is. In AWS: Cognito's hosted UI with the authorization-code flow and PKCE (no client secret in
 * the page; the access token lives in this tab's session storage only). Locally (`npm run review`): a stub that
 * takes the name from `?reviewer=` with no password, which the page says in words.
 *
 * @see https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html
 * @see https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html
 */

/** A signed-in reviewer. */
export interface Session {
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token: string;
  readonly name: string;
  /** Where "sign out" goes (Cognito mode). */
  readonly signOutUrl?: string;
}

import type { PageConfig } from './config';
import { authorizeUrl, codeChallenge, jwtClaims, localReviewer, randomString } from './pkce';

export type { PageConfig };

const KEYS = { verifier: 'mlbp.review.verifier', state: 'mlbp.review.state', token: 'mlbp.review.token' };

/** Signs in: returns the session, or `undefined` when the browser is being sent to the hosted UI. */
export async function signIn(config: PageConfig): Promise<Session | undefined> {
  if (config.mode === 'local') {
    const name = localReviewer(location.search);
    return { token: `local:${name}`, name };
  }
  if (!config.authDomain || !config.clientId || !config.redirectUri) {
    throw new Error('config.json lacks authDomain, clientId or redirectUri: the page cannot sign you in');
  }
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (code) {
    if (params.get('state') !== sessionStorage.getItem(KEYS.state)) {
      throw new Error('the sign-in answer does not match the request (state); reload the page to sign in again');
    }
    const response = await fetch(`${config.authDomain}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: config.clientId,
        code,
        redirect_uri: config.redirectUri,
        code_verifier: sessionStorage.getItem(KEYS.verifier) ?? '',
      }).toString(),
    });
    if (!response.ok) throw new Error(`sign-in failed: the token endpoint answered ${response.status}`);
    const tokens = (await response.json()) as { access_token: string; expires_in: number };
    sessionStorage.setItem(
      KEYS.token,
      JSON.stringify({ token: tokens.access_token, expiresAt: Date.now() + tokens.expires_in * 1000 }),
    );
    sessionStorage.removeItem(KEYS.verifier);
    history.replaceState(null, '', config.redirectUri);
  }
  const stored = JSON.parse(sessionStorage.getItem(KEYS.token) ?? 'null') as {
    token: string;
    expiresAt: number;
  } | null;
  if (stored && stored.expiresAt > Date.now() + 30_000) {
    const claims = jwtClaims(stored.token);
    const logout = new URLSearchParams({ client_id: config.clientId, logout_uri: config.redirectUri });
    return {
      token: stored.token,
      name: String(claims.username ?? claims['cognito:username'] ?? claims.sub ?? 'reviewer'),
      signOutUrl: `${config.authDomain}/logout?${logout.toString()}`,
    };
  }
  const verifier = randomString();
  const state = randomString();
  sessionStorage.setItem(KEYS.verifier, verifier);
  sessionStorage.setItem(KEYS.state, state);
  location.assign(authorizeUrl(config, state, await codeChallenge(verifier)));
  return undefined;
}

/** Forgets the token (before a new sign-in, e.g. after the API said 401). */
export function forgetSession(): void {
  sessionStorage.removeItem(KEYS.token);
}
