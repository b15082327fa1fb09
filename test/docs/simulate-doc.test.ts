/**
 * docs/simulate.md against the CLI: its flag table lists exactly the flags `npm run simulate` takes, and its
 * output excerpts quote no figure the simulation may change (they are elided with `…`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIMULATE_FLAGS } from '../../src/cli/simulate';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'simulate.md'), 'utf8');

test('the flag table lists every flag of the CLI, and no other', () => {
  const documented = [...doc.matchAll(/^\| `(--[a-z-]+)`(?: \/ `(--[a-z-]+)`)? \|/gm)].flatMap((m) =>
    [m[1], m[2]].filter(Boolean),
  );
  expect(documented.sort()).toEqual(
    Object.keys(SIMULATE_FLAGS)
      .map((f) => `--${f}`)
      .sort(),
  );
});

test('the output excerpts quote no statistic, count or p-value (they depend on the seed and the models)', () => {
  const blocks = [...doc.matchAll(/```(?:json)?\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => !/^npm /.test(b));
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  for (const block of blocks) {
    expect(block).not.toMatch(/psi \d|p=\d|\d+ (events|records|validation)|: \d+[,}]|\b0\.\d{3,}/);
  }
});
