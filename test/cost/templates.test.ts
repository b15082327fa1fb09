/**
 * The estimator against the real synthesized templates of both stages: every resource type classified, every
 * billable type priced, the JSON contract, the arithmetic rules, the state machine read from the definition,
 * and the CLI run on the synthesized assembly.
 */
import { rmSync } from 'node:fs';
import { resolveConfig, STAGES, type StageName } from '../../lib/config';
import { runCostCli, summarizeAssemblyCost } from '../../src/cli/cost';
import { readAssembly, synthesizeStage, type StackTemplate } from '../../src/synth/assembly';
import { compareRows, renderCompare } from '../../src/cost/render';
import { parseStateMachine } from '../../src/cost/definition';
import { estimate, pricingContexts } from '../../src/cost/estimate';
import { endpointModel } from '../../src/cost/pricers/sagemaker';
import { IDLE_BUDGET } from '../../src/cost/walkthrough';
import { loadLatestPriceTable, priceBook } from '../../src/cost/prices';
import { classify, PRICED_TYPES } from '../../src/cost/registry';
import type { Estimate } from '../../src/cost/types';
import { committedProfiles, loadUsageProfile } from '../../src/cost/usage';
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
      // The retraining loop is the state machine that trains (vision also has its daily review job).
      const [smId, sm] =
        Object.entries(ml?.resources ?? {}).find(
          ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && parseStateMachine(r, id).training !== undefined,
        ) ?? [];
      expect(sm).toBeDefined();
      const model = parseStateMachine(sm!, smId!);
      expect(model.training).toMatchObject({
        instanceType: config.training.instanceType,
        instanceCount: config.training.instanceCount,
        volumeSizeGB: config.training.volumeSizeGiB,
        spot: config.training.useSpot,
        maxRuntimeSeconds: config.training.maxRuntimeHours * 3600,
      });
      const serverless = config.serving.serverless;
      if (serverless) {
        // Serverless Inference (the sandbox recommender): no instances, no data capture, no autoscaling.
        expect(model.endpoint).toMatchObject({
          kind: 'serverless',
          capturePercent: 0,
          serverless: { memorySizeMB: serverless.memorySizeInMB, maxConcurrency: serverless.maxConcurrency },
        });
      } else
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

test('each stream is priced from its planned shard count: production from the plan, the sandbox one shard', () => {
  const prodStream = assemblies.production.estimate.lines.find(
    (l) => l.stack === 'Production-Recommender-Data' && /^shard-hours/.test(l.component),
  );
  expect(prodStream?.quantity).toBe(resolveConfig('production', 'recommender').shardPlan!.shardCount * 730);
  for (const stack of ['Sandbox-Recommender-Data', 'Sandbox-Vision-Data']) {
    const stream = assemblies.sandbox.estimate.lines.find((l) => l.stack === stack && /^shard-hours/.test(l.component));
    expect(stream).toMatchObject({ quantity: 730, unitPrice: 0.015, usageBased: false });
  }
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

describe('endpoints are priced for what they do', () => {
  test.each(committedProfiles())('%s: no always-on endpoint is priced for fewer than 730 hours', (name) => {
    const usage = loadUsageProfile(name);
    const { stacks } = assemblies[usage.stage];
    const prices = loadLatestPriceTable();
    const e = estimate({ stacks, usage, prices });
    const contexts = pricingContexts({ stacks, usage, prices }, stacks, usage.stage, priceBook(prices, 'us-east-1'));
    for (const ctx of contexts) {
      const m = endpointModel(ctx);
      const hours = e.lines
        .filter((l) => l.type === 'AWS::SageMaker::Endpoint' && l.unit === 'instance-hour')
        .filter((l) => l.stack.split('-')[1].toLowerCase() === ctx.caseStudy)
        .reduce((n, l) => n + l.quantity, 0);
      expect(hours).toBeCloseTo(m.instanceHours, 6);
      if (!m.deployed) expect(hours).toBe(0);
      else if (m.settings.kind === 'instance')
        expect(hours).toBeGreaterThanOrEqual(730 * Math.max(1, m.settings.minCapacity ?? 1));
      else if (m.settings.kind === 'scale-to-zero')
        expect(hours).toBeLessThanOrEqual(730 * (m.settings.maxInstances ?? 1));
    }
  });

  test('the sandbox deploys a serverless recommender endpoint and a scale-to-zero vision endpoint (inference component)', () => {
    const kinds = Object.fromEntries(
      assemblies.sandbox.stacks
        .flatMap((s) => Object.entries(s.resources).map(([id, r]) => ({ s, id, r })))
        .filter(({ r }) => r.Type === 'AWS::StepFunctions::StateMachine')
        .map(({ s, id, r }) => [s.caseStudy, parseStateMachine(r, id).endpoint?.kind] as const)
        .filter(([, kind]) => kind !== undefined),
    );
    expect(kinds.vision).toBe('scale-to-zero');
    expect(kinds.recommender).toBe('serverless');
  });

  test(`the sandbox left idle (usage "idle") costs at most $${IDLE_BUDGET.limit} a month for both case studies, with no endpoint`, () => {
    const e = estimate({
      stacks: assemblies.sandbox.stacks,
      usage: loadUsageProfile('idle'),
      prices: loadLatestPriceTable(),
    });
    expect(e.totalMonthly).toBeLessThanOrEqual(IDLE_BUDGET.limit);
    expect(e.lines.filter((l) => l.type.startsWith('AWS::SageMaker::') && l.monthly > 0)).toEqual([]);
  });
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
    expect(table).toMatch(/^By case study: Recommender \$[\d,]+\.\d\d, Vision \$[\d,]+\.\d\d$/m);
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

  test('the main job’s summary prices the assembly with the profile of its stage, and the sandbox left idle', () => {
    const summary = summarizeAssemblyCost(assemblies.sandbox.dir);
    expect(summary).toContain(
      `Estimated monthly cost (sandbox stage, usage profile "sandbox", us-east-1, prices of ${loadLatestPriceTable().date}, no free tiers)`,
    );
    expect(summary).toMatch(
      /Left deployed with no traffic and no retraining \(usage profile "idle"\): \$\d+\.\d\d per month/,
    );
    expect(summary.split('\n')).toHaveLength(8);
    expect(summarizeAssemblyCost(assemblies.production.dir)).not.toMatch(/idle/);
  });

  test('a region without committed prices: the main job’s summary warns and prices nothing (no error)', () => {
    const dir = synthesizeStage('sandbox', { region: 'eu-west-1', caseStudies: ['vision'] });
    try {
      const summary = summarizeAssemblyCost(dir);
      expect(summary).toMatch(
        /^warning: no monthly cost estimate: .* no prices for eu-west-1 \(it has us-east-1, us-west-2\), so nothing was priced/,
      );
      expect(summary).not.toMatch(/\$\d/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
