/**
 * The drift CLI contract: `npm run --silent drift -- --baseline <file> --current <file> [--features <schema.json>]
 * [--format json|table|html] [--time-field <name>] [--seasonality none|daily|weekly] …` (`--help` lists every
 * option). Users and CI scripts depend on it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, DRIFT_FLAGS, runDriftCli } from '../../src/cli/drift';
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
      /--format must be json, table or html; received "xml"/,
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

/** Hourly traffic with a daily brightness cycle (see test/core/drift/seasonal.test.ts), as plain JSONL. */
function daily(seed: number, fromMs: number, hours: number, perHour: number, shift = 0): string {
  const rng = createRng(seed);
  const lines: string[] = [];
  for (let h = 0; h < hours; h++) {
    const start = fromMs + h * 3_600_000;
    const hour = new Date(start).getUTCHours();
    const daylight = Math.max(0, Math.sin((Math.PI * (hour - 6)) / 12));
    for (let i = 0; i < perHour; i++) {
      lines.push(
        JSON.stringify({
          event_time: new Date(start + Math.floor((i * 3_600_000) / perHour)).toISOString(),
          brightness: 40 + 150 * daylight + shift + 8 * rng.nextNormal(),
          hour_of_day: hour / 23,
        }),
      );
    }
  }
  return lines.join('\n');
}

describe('time: --time-field and --seasonality', () => {
  const start = Date.UTC(2026, 10, 2);
  const night = start + 14 * 86_400_000 + 2 * 3_600_000;
  beforeAll(() => {
    writeFileSync(file('cycle-baseline.jsonl'), daily(1, start, 14 * 24, 40));
    writeFileSync(file('cycle-night.jsonl'), daily(2, night, 1, 300));
    writeFileSync(file('cycle-night-brighter.jsonl'), daily(3, night, 1, 300, 25));
    const partial = daily(4, night, 1, 300).split('\n');
    partial[0] = JSON.stringify({ brightness: 40, hour_of_day: 0.09 });
    partial[1] = JSON.stringify({ event_time: 'last tuesday', brightness: 40, hour_of_day: 0.09 });
    writeFileSync(file('cycle-partial.jsonl'), partial.join('\n'));
  });
  const run = async (current: string, ...args: string[]) =>
    JSON.parse(
      await runDriftCli([
        '--baseline',
        file('cycle-baseline.jsonl'),
        '--current',
        file(current),
        '--format',
        'json',
        ...args,
      ]),
    );

  test('a night hour from the same daily cycle does not drift with --seasonality daily; it does without', async () => {
    const seasonal = await run('cycle-night.jsonl', '--time-field', 'event_time', '--seasonality', 'daily');
    expect(seasonal.drifted).toBe(false);
    expect(seasonal.seasonal[0].description).toBe('daily reference: baseline records at 02:00');
    expect(seasonal.timeFields).toEqual(['event_time']);
    expect(seasonal.features.map((f: { name: string }) => f.name)).toEqual(['brightness', 'hour_of_day']);
    const flat = await run('cycle-night.jsonl');
    expect(flat.drifted).toBe(true);
    // Without --time-field the timestamp column is still recognised and never compared.
    expect(flat.timeFields).toEqual(['event_time']);
  });

  test('the same hour with a real brightness shift drifts on brightness', async () => {
    const out = await run('cycle-night-brighter.jsonl', '--time-field', 'event_time', '--seasonality', 'daily');
    expect(out.features.filter((f: { drifted: boolean }) => f.drifted).map((f: { name: string }) => f.name)).toEqual([
      'brightness',
    ]);
  });

  test('records whose time is missing or unparsable are counted invalid with the reason', async () => {
    const out = await run('cycle-partial.jsonl', '--time-field', 'event_time', '--seasonality', 'daily');
    expect(out.records).toMatchObject({ current: 298, invalid: 2 });
  });

  test('several --current windows: the last is reported, all make the score over time', async () => {
    const out = await run(
      'cycle-night.jsonl',
      '--current',
      file('cycle-night-brighter.jsonl'),
      '--time-field',
      'event_time',
      '--seasonality',
      'daily',
    );
    expect(out.history.map((h: { label: string; drifted: boolean }) => [h.label, h.drifted])).toEqual([
      ['cycle-night.jsonl', false],
      ['cycle-night-brighter.jsonl', true],
    ]);
    expect(out.history[1].effects.brightness).toBeGreaterThan(1);
  });
});

describe('--format html', () => {
  test('writes one self-contained page with every feature', async () => {
    const out = await runDriftCli([
      '--baseline',
      file('baseline.jsonl'),
      '--current',
      file('shifted.jsonl'),
      '--format',
      'html',
      '--out',
      file('report.html'),
    ]);
    expect(out).toMatch(/^wrote .*report\.html: DRIFT DETECTED \(/);
    const html = readFileSync(file('report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    for (const name of ['age', 'plan', 'vip', 'embedding']) expect(html).toContain(`data-feature="${name}"`);
    // Nothing is fetched at view time.
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//);
  });
});

describe('--help', () => {
  test('describes every option and is not an error', async () => {
    const help = await runDriftCli(['--help']);
    expect(help).toMatch(/^usage: npm run --silent drift -- --baseline <file> --current <file>/);
    for (const flag of Object.keys(DRIFT_FLAGS)) expect(help).toMatch(new RegExp(`\\n  --${flag}\\b.{10,}`));
  });

  test('npm run drift -- --help exits 0 with the help on stdout', () => {
    const r = spawnSync('npm', ['run', '--silent', 'drift', '--', '--help'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--seasonality <s> +none \(default\), daily or weekly/);
  });
});

describe('bad input: one clear message, exit 2', () => {
  beforeAll(() => {
    writeFileSync(
      file('other.jsonl'),
      Array.from({ length: 50 }, (_, i) => JSON.stringify({ x: i, y: 'a' })).join('\n'),
    );
    writeFileSync(file('plain.csv'), 'age,plan\n31,pro\n40,free\n');
    const csv = (values: number[], time: string) =>
      JSON.stringify({
        captureData: {
          endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: values.join(','), encoding: 'CSV' },
        },
        eventMetadata: { eventId: time, inferenceTime: time },
        eventVersion: '0',
      });
    writeFileSync(
      file('csv3.jsonl'),
      Array.from({ length: 300 }, (_, i) => csv([i % 7, i % 5, i % 3], '2026-11-23T10:00:00Z')).join('\n'),
    );
    writeFileSync(
      file('csv4.jsonl'),
      Array.from({ length: 300 }, (_, i) => csv([i % 7, i % 5, i % 3, 1], '2026-11-23T10:00:00Z')).join('\n'),
    );
  });

  test.each([
    [
      ['--baseline', '@baseline', '--current', '@same', '--time-field', 'ts'],
      /^--baseline .*baseline\.jsonl: the time field "ts" is absent from every record; fields seen: age, plan, vip, embedding\. Check the name/,
    ],
    [
      ['--baseline', '@baseline', '--current', '@same', '--seasonality', 'daily'],
      /the time field "inferenceTime" is absent from every record.*Plain JSONL has no capture time: name its time field with --time-field/,
    ],
    [
      ['--baseline', '@baseline', '--current', '@other'],
      /^--baseline .*baseline\.jsonl and --current .*other\.jsonl share no feature: baseline age, plan, vip, embedding; current x, y$/,
    ],
    [
      ['--baseline', '@csv3', '--current', '@csv4'],
      /^--current .*csv4\.jsonl: its CSV rows have up to 4 columns but the baseline's have 3 \(f0…f2\); column\(s\) f3 are not in the baseline/,
    ],
    [
      ['--baseline', '@baseline', '--current', '@plain.csv'],
      /plain\.csv has no valid records \(3 non-blank lines, 3 invalid: invalid-json 3\)\. drift reads JSON Lines: SageMaker data capture, one flat JSON object per line, or a baseline profile/,
    ],
    [
      ['--baseline', '@baseline', '--current', '@same', '--save-profile', '/nonexistent/dir/p.json'],
      /^cannot write --save-profile \/nonexistent\/dir\/p\.json: no such directory$/,
    ],
    [
      ['--baseline', '@baseline', '--current', '@same', '--seasonality', 'hourly'],
      /--seasonality must be none, daily or weekly/,
    ],
  ])('%p', async (args, message) => {
    const resolved = args.map((a) =>
      a.startsWith('@') ? file(a.includes('.') ? a.slice(1) : `${a.slice(1)}.jsonl`) : a,
    );
    await expect(runDriftCli(resolved)).rejects.toThrow(CliError);
    await expect(runDriftCli(resolved)).rejects.toThrow(message);
  });

  test('a saved profile without per-phase data cannot be compared by phase', async () => {
    await runDriftCli([
      '--baseline',
      file('baseline.jsonl'),
      '--current',
      file('same.jsonl'),
      '--save-profile',
      file('flat.json'),
    ]);
    await expect(
      runDriftCli(['--baseline', file('flat.json'), '--current', file('same.jsonl'), '--seasonality', 'daily']),
    ).rejects.toThrow(/is a baseline profile without per-phase data; rebuild it from raw records with --time-field/);
  });

  test('npm run drift exits 2 with one line when the files share no feature', () => {
    const r = spawnSync(
      'npm',
      ['run', '--silent', 'drift', '--', '--baseline', file('baseline.jsonl'), '--current', file('other.jsonl')],
      { cwd: root, encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.includes('npm warn')),
    ).toHaveLength(1);
    expect(r.stderr).toMatch(/^drift: .* share no feature/m);
  });
});
