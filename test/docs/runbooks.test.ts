/**
 * Runbooks are kept current: every alarm the blueprint synthesizes, in both stages, names a runbook that exists,
 * and every runbook is reachable from an alarm (or from another runbook).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { synthesizeStacks } from '../../src/synth/assembly';

const root = join(__dirname, '..', '..');
const runbooks = readdirSync(join(root, 'docs', 'runbooks')).filter((f) => f.endsWith('.md'));

const alarms = (['sandbox', 'production'] as const).flatMap((stage) =>
  synthesizeStacks(stage).flatMap((stack) =>
    Object.entries(stack.resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([id, r]) => ({
        where: `${stack.stackName}/${id}`,
        description: JSON.stringify(r.Properties?.AlarmDescription ?? ''),
      })),
  ),
);

test('the blueprint has alarms in every ML stack', () => {
  expect(alarms.length).toBeGreaterThan(30);
});

test.each(alarms.map((a) => [a.where, a.description]))('%s names an existing runbook', (_where, description) => {
  const match = /Runbook: (docs\/runbooks\/[a-z0-9-]+\.md)/.exec(description);
  expect(match).not.toBeNull();
  expect(existsSync(join(root, match![1]))).toBe(true);
});

test('every runbook is reachable from an alarm or another runbook', () => {
  const referenced = new Set(alarms.map((a) => /docs\/runbooks\/([a-z0-9-]+\.md)/.exec(a.description)?.[1]));
  for (const file of runbooks) {
    for (const m of readFileSync(join(root, 'docs', 'runbooks', file), 'utf8').matchAll(/\(([a-z0-9-]+\.md)\)/g)) {
      referenced.add(m[1]);
    }
  }
  expect(runbooks.filter((f) => !referenced.has(f))).toEqual([]);
});

test('the operator situations of the issue each have a runbook', () => {
  expect(runbooks).toEqual(
    expect.arrayContaining([
      'drift-detected.md',
      'retraining-failed.md',
      'canary-rolled-back.md',
      'fallback-rate-high.md',
      'review-queue-backlog.md',
    ]),
  );
});
