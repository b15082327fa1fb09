/**
 * Builds the reviewers' page (`web/review/`) into a folder: `app.ts` bundled by esbuild (no Docker) into `app.js`,
 * next to `index.html` and `styles.css`. The construct deploys this folder; `npm run review` serves the same one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

/** The page's sources. */
export const REVIEW_PAGE_DIR = path.join(__dirname, '..', '..', '..', 'web', 'review');

/** The files of the built page. */
export const REVIEW_PAGE_FILES = ['index.html', 'styles.css', 'app.js'] as const;

/** Bundles the page into `outDir` (created if missing). */
export function buildReviewPage(outDir: string): void {
  fs.mkdirSync(outDir, { recursive: true });
  buildSync({
    entryPoints: [path.join(REVIEW_PAGE_DIR, 'app.ts')],
    outfile: path.join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  for (const file of ['index.html', 'styles.css']) {
    fs.copyFileSync(path.join(REVIEW_PAGE_DIR, file), path.join(outDir, file));
  }
}
