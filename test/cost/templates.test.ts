/**
 * The estimator against the real synthesized templates of both stages: every resource type classified, every
 * billable type priced, the JSON contract, the arithmetic rules, the state machine read from the definition,
 * and the CLI run on the synthesized assembly.
 */
import { resolveConfig, STAGES, type StageName } from '../../lib/config';
import { runCostCli, summarizeAssemblyCost } from '../../src/cli/cost';
import { readAssembly, type StackTemplate } from '../../src/cost/assembly';
import { compareRows, renderCompare } from '../../src/cost/render';
import { parseStateMachine } from '../../src/cost/definition';
import { estimate } from '../../src/cost/estimate';
import { loadLatestPriceTable } from '../../src/cost/prices';
import { classify, PRICED_TYPES } from '../../src/cost/registry';
import type { Estimate } from '../../src/cost/types';
import { loadUsageProfile } from '../../src/cost/usage';
import { synthesize } from '../support/synth';

const assemblies = {} as Record<StageName, { dir: string; stacks: StackTemplate[]; estimate: Estimate }>;

beforeAll(() => {
  for (const stage of STAGES) {
    const dir = synthesize(stage).app.synth().directory;
    const stacks = readAssembly(dir);
    assemblies[stage] = {
      dir,
      stacks,
      estimate: estimate({ stacks, usage: loadUsageProfile(stage), prices: loadLatestPriceTable() }),
    };
  }
}, 120_000);

describe.each(STAGES)('%s templates', (stage) => {
  test('every resource type is classified as priced or free (none unknown)', () => {
    const types = new Set(assemblies[stage].stacks.flatMap((s) => Object.values(s.resources).map((r) => r.Type)));
    expect([...types].filter((t) => !classify(t))).toEqual([]);
  });

  test('every priced resource of the templates has at least one line', () => {
    const { stacks, estimate: e } = assemblies[stage];
    for (const s of stacks) {
      for (const [id, r] of Object.entries(s.resources)) {
        if (PRICED_TYPES[r.Type])
          expect(e.lines.some((l) => l.stack === s.stackName && l.resource === id && l.type === r.Type)).toBe(true);
      }
    }
  });

  test('the JSON document has exactly the contract’s keys and types', () => {
    const e = JSON.parse(JSON.stringify(assemblies[stage].estimate)) as Record<string, unknown>;
    expect(Object.keys(e).sort()).toEqual(['currency', 'lines', 'priceTableDate', 'region', 'stage', 'totalMonthly']);
    expect(e).toMatchObject({
      currency: 'USD',
      region: 'us-east-1',
      stage,
      priceTableDate: loadLatestPriceTable().date,
    });
    for (const line of e.lines as Record<string, unknown>[]) {
      expect(Object.keys(line).sort()).toEqual([
        'component',
        'monthly',
        'quantity',
        'resource',
        'stack',
        'type',
        'unit',
        'unitPrice',
        'usageBased',
      ]);
      expect(typeof line.stack).toBe('string');
      expect(typeof line.usageBased).toBe('boolean');
      for (const k of ['quantity', 'unitPrice', 'monthly']) expect(Number.isFinite(line[k])).toBe(true);
    }
  });

  test('monthly = quantity × unitPrice on every line, and the total is their sum', () => {
    const e = assemblies[stage].estimate;
    for (const l of e.lines) expect(l.monthly).toBe(l.quantity * l.unitPrice);
    expect(e.totalMonthly).toBe(e.lines.reduce((n, l) => n + l.monthly, 0));
    expect(e.totalMonthly).toBeGreaterThan(0);
  });

  test('training and endpoint settings are read from the state machine definition and match the config', () => {
    const { stacks, estimate: e } = assemblies[stage];
    for (const caseStudy of ['recommender', 'vision'] as const) {
      const config = resolveConfig(stage, caseStudy);
      const ml = stacks.find((s) => s.caseStudy === caseStudy && s.stackName.endsWith('-ML'));
      const [smId, sm] =
        Object.entries(ml?.resources ?? {}).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine') ?? [];
      expect(sm).toBeDefined();
      const model = parseStateMachine(sm!, smId!);
      expect(model.training).toMatchObject({
        instanceType: config.training.instanceType,
        instanceCount: config.training.instanceCount,
        volumeSizeGB: config.training.volumeSizeGiB,
        spot: config.training.useSpot,
        maxRuntimeSeconds: config.training.maxRuntimeHours * 3600,
      });
      expect(model.endpoint).toMatchObject({
        instanceType: config.serving.instanceType,
        capturePercent: config.serving.dataCapturePercent,
        // Scale to zero (vision sandbox): the inference component's copies go down to 0.
        minCapacity: config.vision?.serving.scaleToZero ? 0 : Math.max(1, config.serving.minCapacity),
        maxCapacity: config.serving.maxCapacity,
      });
      const training = e.lines.find((l) => l.stack === ml!.stackName && l.type === 'AWS::SageMaker::TrainingJob');
      expect(training?.resource).toBe(smId);
      expect(training?.component).not.toMatch(/stage config/);
    }
  });
});

test('the production stream is priced from the planned shard count; the sandbox stream on demand', () => {
  const prodStream = assemblies.production.estimate.lines.find(
    (l) => l.stack === 'Production-Recommender-Data' && /^shard-hours/.test(l.component),
  );
  expect(prodStream?.quantity).toBe(resolveConfig('production', 'recommender').shardPlan!.shardCount * 730);
  const sandboxStream = assemblies.sandbox.estimate.lines.find(
    (l) => l.stack === 'Sandbox-Recommender-Data' && /stream-hours/.test(l.component),
  );
  expect(sandboxStream).toMatchObject({ quantity: 730, unitPrice: 0.04, usageBased: false });
});

test('--compare: both stages per case-study stack and service, differences summing to the difference of totals', () => {
  const a = assemblies.sandbox.estimate;
  const b = assemblies.production.estimate;
  const rows = compareRows(a, b);
  expect(rows.reduce((n, r) => n + r.difference, 0)).toBeCloseTo(b.totalMonthly - a.totalMonthly, 4);
  expect(rows.find((r) => r.stack === 'Vision-ML' && r.service === 'SageMaker')).toBeDefined();
  const text = renderCompare(a, b, 'table');
  expect(text.split('\n')[0]).toMatch(/stack +service +sandbox +production +difference/);
});

describe('the CLI on a synthesized assembly', () => {
  test('--format json prints exactly one JSON document equal to the estimate', () => {
    const out = runCostCli(['--stage', 'sandbox', '--cdk-out', assemblies.sandbox.dir, '--format', 'json']);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(assemblies.sandbox.estimate)));
  });

  test('--case keeps one case study; table and markdown mark usage-based lines and say free tiers are not applied', () => {
    const json = JSON.parse(
      runCostCli([
        '--stage',
        'production',
        '--cdk-out',
        assemblies.production.dir,
        '--case',
        'vision',
        '--format',
        'json',
      ]),
    ) as Estimate;
    expect(new Set(json.lines.map((l) => l.stack))).toEqual(
      new Set(['Production-Vision-Data', 'Production-Vision-ML']),
    );
    const table = runCostCli(['--stage', 'production', '--cdk-out', assemblies.production.dir]);
    expect(table).toMatch(/Production-Recommender-Data {2}\$/);
    expect(table).toMatch(/free tiers are not applied/);
    expect(table).toMatch(/\* usage-based/);
    const markdown = runCostCli([
      '--stage',
      'production',
      '--cdk-out',
      assemblies.production.dir,
      '--format',
      'markdown',
    ]);
    expect(markdown).toMatch(/^\*\*Total: \$[\d,]+\.\d\d per month\*\*/);
  });

  test('an unknown region fails before synthesizing, naming it', () => {
    expect(() =>
      runCostCli(['--stage', 'sandbox', '--cdk-out', assemblies.sandbox.dir, '--region', 'eu-central-1']),
    ).toThrow(/no prices for region "eu-central-1".*known regions: us-east-1, us-west-2/);
  });

  test('the main job’s summary prices the assembly with the profile of its stage', () => {
    const summary = summarizeAssemblyCost(assemblies.sandbox.dir);
    expect(summary).toContain(
      `Estimated monthly cost (sandbox stage, usage profile "sandbox", us-east-1, prices of ${loadLatestPriceTable().date}, no free tiers)`,
    );
    expect(summary.split('\n')).toHaveLength(7);
  });
});
