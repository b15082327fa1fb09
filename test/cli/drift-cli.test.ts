/**
 * The drift CLI contract: `npm run --silent drift -- --baseline <file> --current <file> [--features <schema.json>]
 * [--format json|table]`. Users and CI scripts depend on it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, runDriftCli } from '../../src/cli/drift';
import { createRng } from '../../core/drift/stats';
import { captureLine } from '../support/capture';

const root = join(__dirname, '..', '..');
let dir: string;
const file = (name: string) => join(dir, name);

function plain(n: number, seed: number, shift = 0): string {
  const rng = createRng(seed);
  return Array.from({ length: n }, () =>
    JSON.stringify({
      age: 40 + shift * 10 + 10 * rng.nextNormal(),
      plan: ['free', 'pro', 'team'][rng.nextInt(3)],
      vip: rng.nextFloat() < 0.1,
      embedding: [rng.nextNormal() + shift, rng.nextNormal()],
    }),
  ).join('\n');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drift-cli-'));
  writeFileSync(file('baseline.jsonl'), plain(3000, 1));
  writeFileSync(file('same.jsonl'), plain(2000, 2));
  writeFileSync(file('shifted.jsonl'), `${plain(2000, 3, 1)}\nnot json\n{"half":`);
  const rng = createRng(4);
  writeFileSync(
    file('capture.jsonl'),
    Array.from({ length: 1500 }, () =>
      captureLine({
        features: { age: 50 + 10 * rng.nextNormal(), plan: 'free' },
        output: { score: rng.nextFloat() },
        time: new Date('2026-11-23T10:00:00Z'),
        encoding: 'BASE64',
      }),
    ).join('\n'),
  );
  writeFileSync(file('empty.jsonl'), '');
  writeFileSync(file('garbage.jsonl'), 'nope\n[1,2]\n{"a":\n');
  writeFileSync(
    file('schema.json'),
    JSON.stringify({
      features: [
        { name: 'age', kind: 'numerical', threshold: 5 },
        { name: 'plan', kind: 'categorical' },
      ],
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const json = async (...args: string[]) =>
  JSON.parse(await runDriftCli(['--baseline', file('baseline.jsonl'), ...args, '--format', 'json']));

describe('--format json', () => {
  test('prints exactly the documented document; no drift on the same distribution', async () => {
    const out = await json('--current', file('same.jsonl'));
    expect(out).toMatchObject({
      drifted: false,
      driftedShare: 0,
      records: { reference: 3000, current: 2000, invalid: 0 },
    });
    const byName = Object.fromEntries(out.features.map((f: { name: string }) => [f.name, f]));
    expect(Object.keys(byName).sort()).toEqual(['age', 'embedding', 'plan', 'vip']);
    expect(byName.age).toMatchObject({ kind: 'numerical', drifted: false, method: 'ks+psi' });
    expect(Object.keys(byName.age.stats).sort()).toEqual([
      'jensenShannon',
      'ks',
      'psi',
      'wasserstein',
      'wassersteinNormalized',
    ]);
    expect(byName.age.stats.ks).toEqual({ statistic: expect.any(Number), pValue: expect.any(Number) });
    expect(byName.plan).toMatchObject({ kind: 'categorical', method: 'chi-square+jensen-shannon' });
    expect(Object.keys(byName.plan.stats).sort()).toEqual(['chiSquare', 'cramersV', 'jensenShannon', 'psi']);
    expect(byName.plan.stats.chiSquare).toEqual({ statistic: expect.any(Number), pValue: expect.any(Number), dof: 2 });
    expect(byName.vip.kind).toBe('categorical');
    expect(byName.embedding).toMatchObject({
      kind: 'embedding',
      stats: { mmd2: expect.any(Number), mmdPValue: expect.any(Number) },
    });
  });

  test('a shifted file drifts; malformed lines are counted, not fatal', async () => {
    const out = await json('--current', file('shifted.jsonl'));
    expect(out.drifted).toBe(true);
    expect(out.records.invalid).toBe(2);
    expect(out.features.find((f: { name: string }) => f.name === 'age').drifted).toBe(true);
    expect(out.driftedShare).toBeGreaterThanOrEqual(0.5);
  });

  test('data-capture JSONL is auto-detected and compared on the shared features', async () => {
    const out = await json('--current', file('capture.jsonl'));
    expect(out.records.current).toBe(1500);
    expect(out.features.find((f: { name: string }) => f.name === 'plan').drifted).toBe(true);
    expect(out.unexpectedFeatures).toEqual(['output.score']);
  });

  test('a saved baseline profile gives the same verdicts as the raw baseline', async () => {
    const raw = await json('--current', file('shifted.jsonl'), '--save-profile', file('profile.json'));
    expect(JSON.parse(readFileSync(file('profile.json'), 'utf8')).kind).toBe('ml-blueprint/baseline-profile');
    const fromProfile = JSON.parse(
      await runDriftCli(['--baseline', file('profile.json'), '--current', file('shifted.jsonl'), '--format', 'json']),
    );
    expect(fromProfile.features.map((f: { drifted: boolean }) => f.drifted)).toEqual(
      raw.features.map((f: { drifted: boolean }) => f.drifted),
    );
    expect(fromProfile.features[0].stats.psi).toBeCloseTo(raw.features[0].stats.psi, 12);
  });

  test('a features schema restricts the features, fixes kinds and sets thresholds', async () => {
    const out = await json('--current', file('shifted.jsonl'), '--features', file('schema.json'));
    expect(out.features.map((f: { name: string }) => f.name)).toEqual(['age', 'plan']);
    expect(out.features[0].effect).toMatchObject({ threshold: 5, passed: false });
    expect(out.features[0].drifted).toBe(false);
  });
});

describe('--format table', () => {
  test('is the human view with a verdict line and one row per feature', async () => {
    const out = await runDriftCli(['--baseline', file('baseline.jsonl'), '--current', file('shifted.jsonl')]);
    expect(out).toMatch(/^Drift: DRIFT DETECTED \(/);
    expect(out).toMatch(/\nfeature\s+kind\s+current n\s+effect\s+test\s+drifted\n/);
    expect(out).toMatch(/\nage\s+numerical\s+2000\s+psi=\d/);
  });
});

describe('errors: one clear message, exit 2', () => {
  test.each([
    [['--current', 'x'], /--baseline <file> is required/],
    [['--baseline', 'missing.jsonl', '--current', 'x'], /cannot read --baseline missing\.jsonl: no such file/],
    [['--baseline', '@empty', '--current', '@same'], /--baseline .*empty\.jsonl is empty/],
    [
      ['--baseline', '@garbage', '--current', '@same'],
      /--baseline .*garbage\.jsonl has no valid records \(3 non-blank lines, 3 invalid/,
    ],
    [['--baseline', '@baseline', '--current', '@garbage'], /--current .*garbage\.jsonl has no valid records/],
    [
      ['--baseline', '@baseline', '--current', '@same', '--format', 'xml'],
      /--format must be json or table; received "xml"/,
    ],
    [['--baseline', '@baseline', '--current', '@same', '--alpha', '2'], /--alpha must be a number from/],
    [['--baseline', '@baseline', '--current', '@same', '--bogus'], /Unknown option '--bogus'/],
  ])('%p', async (args, message) => {
    const resolved = args.map((a) => (a.startsWith('@') ? file(`${a.slice(1)}.jsonl`) : a));
    await expect(runDriftCli(resolved)).rejects.toThrow(CliError);
    await expect(runDriftCli(resolved)).rejects.toThrow(message);
  });
});

describe('the npm script', () => {
  const npm = (args: string[]) =>
    spawnSync('npm', ['run', '--silent', 'drift', '--', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

  test('prints one JSON document on stdout and exits 0 when drift is found', () => {
    const r = npm(['--baseline', file('baseline.jsonl'), '--current', file('shifted.jsonl'), '--format', 'json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.drifted).toBe(true);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  test('exits 2 with one line on stderr for unreadable input', () => {
    const r = npm(['--baseline', file('nope.jsonl'), '--current', file('same.jsonl')]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.includes('npm warn')),
    ).toEqual([`drift: cannot read --baseline ${file('nope.jsonl')}: no such file`]);
  });
});
