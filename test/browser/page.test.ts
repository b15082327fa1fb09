/**
 * The page's own code outside the browser: it type-checks (DOM types, its own tsconfig), bundles without Node
 * built-ins, and the sign-in helpers follow PKCE (RFC 7636) and the local stub's rules.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildReviewPage, REVIEW_PAGE_DIR, REVIEW_PAGE_FILES } from '../../lib/constructs/review-app/page';
import { authorizeUrl, base64Url, codeChallenge, jwtClaims, localReviewer } from '../../web/review/pkce';

test('the page type-checks with DOM types', () => {
  const tsc = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsc');
  expect(() => execFileSync(tsc, ['-p', path.join(REVIEW_PAGE_DIR, 'tsconfig.json')], { stdio: 'pipe' })).not.toThrow();
});

test('the bundle holds the page files, references them, and imports nothing from Node', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mlbp-page-'));
  buildReviewPage(out);
  expect(fs.readdirSync(out).sort()).toEqual([...REVIEW_PAGE_FILES].sort());
  const js = fs.readFileSync(path.join(out, 'app.js'), 'utf8');
  expect(js).not.toMatch(/node:|require\(/);
  const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  expect(html).toContain('src="app.js"');
  expect(html).toContain('href="styles.css"');
  expect(html).toMatch(/id="message" class="message" role="alert"/);
  fs.rmSync(out, { recursive: true, force: true });
});

describe('sign-in helpers', () => {
  test('the S256 challenge of RFC 7636 appendix B', async () => {
    expect(await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
    expect(base64Url(new Uint8Array([251, 255, 191]))).toBe('-_-_');
  });

  test("the hosted UI's authorize URL asks for a code with PKCE", () => {
    const url = new URL(
      authorizeUrl(
        {
          mode: 'cognito',
          apiUrl: 'https://api.test',
          authDomain: 'https://review.auth.us-east-1.amazoncognito.com',
          clientId: 'client',
          redirectUri: 'https://d1.cloudfront.net/',
        },
        'state-1',
        'challenge-1',
      ),
    );
    expect(`${url.origin}${url.pathname}`).toBe('https://review.auth.us-east-1.amazoncognito.com/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'client',
      redirect_uri: 'https://d1.cloudfront.net/',
      scope: 'openid email profile',
      state: 'state-1',
      code_challenge: 'challenge-1',
      code_challenge_method: 'S256',
    });
  });

  test('claims are read for display; a malformed token has none', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 's', username: 'alice' })).toString('base64url');
    expect(jwtClaims(`x.${payload}.y`)).toEqual({ sub: 's', username: 'alice' });
    expect(jwtClaims('garbage')).toEqual({});
  });

  test('the local stub takes a plain reviewer name and refuses anything else', () => {
    expect(localReviewer('?reviewer=alice')).toBe('alice');
    expect(localReviewer('')).toBe('reviewer');
    expect(() => localReviewer('?reviewer=<script>')).toThrow(/reviewer name "<script>" is not allowed/);
  });
});
