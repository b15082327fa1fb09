/** What the page is told about where it runs (`config.json`, written at deploy time or by the local server). */

/** `config.json`, served next to the page. */
export interface PageConfig {
  readonly mode: 'local' | 'cognito';
  /** Base URL of the review API (no trailing slash). */
  readonly apiUrl: string;
  /** Local mode: what the stub means, shown on the page. */
  readonly notice?: string;
  /** Cognito mode: `https://<prefix>.auth.<region>.amazoncognito.com`, the app client and the page's own URL. */
  readonly authDomain?: string;
  readonly clientId?: string;
  readonly redirectUri?: string;
}
