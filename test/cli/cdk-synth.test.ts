/**
 * The README's contract with the real CDK CLI: `cdk synth` works offline for every stage and a bad stage fails
 * with a message naming `stage`, not a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderSummary, summarizeAssembly } from '../../src/cli/synth-summary';

const root = join(__dirname, '..', '..');
const cdk = join(root, 'node_modules', '.bin', 'cdk');

function synth(args: string[], outdir: string) {
  return spawnSync(cdk, ['synth', '--quiet', '--output', outdir, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
    timeout: 120_000,
  });
}

let outdir: string;
beforeEach(() => {
  outdir = mkdtempSync(join(tmpdir(), 'ml-blueprint-synth-'));
});
afterEach(() => rmSync(outdir, { recursive: true, force: true }));

test('cdk synth -c stage=production succeeds and writes both case studies', () => {
  const result = synth(['-c', 'stage=production'], outdir);
  expect(result.stderr).not.toMatch(/ERROR/);
  expect(result.status).toBe(0);
  const stacks = summarizeAssembly(outdir);
  expect(stacks.map((s) => s.stackName)).toEqual([
    'Production-Recommender-Data',
    'Production-Recommender-ML',
    'Production-Vision-Data',
    'Production-Vision-ML',
  ]);
  const text = renderSummary(stacks);
  expect(text).toMatch(/^4 stacks, \d+ resources/);
  expect(text).toMatch(/Production-Recommender-Data {2}\(\d+ resources/);
  expect(text).toMatch(/ {3}1 {2}AWS::Kinesis::Stream/);
});

test('cdk synth -c stage=bogus fails with one message naming stage', () => {
  const result = synth(['-c', 'stage=bogus'], outdir);
  expect(result.status).not.toBe(0);
  expect(result.stderr).toContain(
    'ml-blueprint: Invalid configuration (context): stage must be one of: sandbox, production; received "bogus"',
  );
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
});

test('a bad override fails synth naming the field, the value and what is allowed', () => {
  const result = synth(['-c', 'overrides={"vision":{"ingestion":{"retentionHours":12}}}'], outdir);
  expect(result.status).not.toBe(0);
  expect(result.stderr).toContain('ingestion.retentionHours must be an integer from 24 to 8760 hours; received 12');
});

test('the README’s override example synthesizes as the README shows it, with the shards it asks for', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => /^npx cdk synth -c overrides='/.test(l));
  expect(line).toBeDefined();
  const overrides = line!.match(/-c overrides='([^']+)'/)![1];
  const result = synth(['-c', `overrides=${overrides}`], outdir);
  expect(result.stderr).not.toMatch(/ERROR|Invalid configuration/);
  expect(result.status).toBe(0);
  const stacks = summarizeAssembly(outdir).map((s) => s.stackName);
  expect(stacks).toContain('Sandbox-Recommender-Data');
  const template = JSON.parse(readFileSync(join(outdir, 'Sandbox-Recommender-Data.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties?: { ShardCount?: number } }>;
  };
  const stream = Object.values(template.Resources).find((r) => r.Type === 'AWS::Kinesis::Stream');
  const asked = (JSON.parse(overrides) as { recommender?: { ingestion?: { shardCount?: number } } }).recommender
    ?.ingestion?.shardCount;
  expect(stream?.Properties?.ShardCount).toBe(asked ?? 1);
});
