/**
 * The shape of lib/: the generic code (stacks, constructs, the retraining loop) never names a case study or
 * branches on one; each case study is a folder and a registry entry; no file grows past what a reader can hold.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CASE_STUDY_SPECS } from '../../lib/case-studies';
import { CASE_STUDIES } from '../../lib/config';
import { STAGE_PRESETS } from '../../lib/config/stages';

const LIB = join(__dirname, '..', '..', 'lib');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const all = sourceFiles(LIB).map((path) => ({ path: relative(LIB, path), text: readFileSync(path, 'utf8') }));
/** Everything outside the case studies' own folders and the configuration (which lists their settings). */
const generic = all.filter((f) => !f.path.startsWith('case-studies/') && !f.path.startsWith('config/'));
const studies = Object.values(CASE_STUDY_SPECS);

test('the generic code names no case study, in code or comments', () => {
  const names = new RegExp(`\\b(${studies.flatMap((s) => [s.name, s.displayName]).join('|')})\\b`, 'i');
  const found = generic.flatMap((f) =>
    f.text
      .split('\n')
      .map((line, i) => ({ at: `lib/${f.path}:${i + 1}`, line }))
      .filter(({ line }) => names.test(line)),
  );
  expect(generic.length).toBeGreaterThan(20);
  expect(found).toEqual([]);
});

test('the generic code does not branch on a case study or read a case study’s own settings', () => {
  // Settings blocks only some case studies have (`realtime`, `vision`, …), from the presets themselves; a case study
  // may tune a stage-wide block (e.g. `drift`), which stays generic.
  const blocks = studies.flatMap((s) => Object.keys(s.presets.sandbox));
  const own = [...new Set(blocks)].filter(
    (key) => !(key in STAGE_PRESETS.sandbox) && studies.some((s) => !(key in s.presets.sandbox)),
  );
  expect(own.length).toBeGreaterThan(0);
  const branch = new RegExp(`caseStudy\\s*[!=]==|\\.(${own.join('|')})\\b`);
  expect(generic.filter((f) => branch.test(f.text)).map((f) => f.path)).toEqual([]);
});

test('each case study is a folder of its own and one registry entry under its name', () => {
  expect(Object.keys(CASE_STUDY_SPECS).sort()).toEqual([...CASE_STUDIES].sort());
  for (const [name, study] of Object.entries(CASE_STUDY_SPECS)) {
    expect(study.name).toBe(name);
    expect(all.some((f) => f.path === `case-studies/${name}/index.ts`)).toBe(true);
  }
});

test('no source file under lib/ is over 500 lines; the retraining loop itself is at most 400', () => {
  const lines = (f: { text: string }) => f.text.split('\n').length;
  expect(all.filter((f) => lines(f) > 500).map((f) => `${f.path}: ${lines(f)} lines`)).toEqual([]);
  expect(lines(all.find((f) => f.path === 'retraining/loop.ts')!)).toBeLessThanOrEqual(400);
});
