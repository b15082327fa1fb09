/**
 * The one test that really bundles: every Lambda handler of the ML stack is built by esbuild (never Docker) into
 * a self-contained CommonJS file that loads and exports `handler`.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildBlueprint } from '../../lib/app';
import { PROJECT_ROOT } from '../../lib/constructs/blueprint-function';
import { CDK_JSON_CONTEXT, TEST_ACCOUNT } from '../support/synth';

interface SynthesizedFunction {
  readonly Type: string;
  readonly Metadata?: Record<string, string>;
  readonly Properties?: { Handler?: string; Environment?: { Variables?: Record<string, unknown> } };
}

/** Runs `load` with the variables in process.env (a reference to another resource becomes a placeholder). */
function withEnvironment(variables: Record<string, unknown>, load: () => unknown): unknown {
  const saved = { ...process.env };
  for (const [name, value] of Object.entries(variables)) {
    process.env[name] = typeof value === 'string' ? value : `placeholder-${name.toLowerCase()}`;
  }
  try {
    return load();
  } finally {
    for (const name of Object.keys(variables)) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

// Inside the project, so that a bundle's `require` of the AWS SDK (which the Lambda runtime provides) resolves
// from the project's node_modules as it would from the runtime's.
const cache = join(PROJECT_ROOT, 'node_modules', '.cache');
let outdir: string;
beforeAll(() => {
  mkdirSync(cache, { recursive: true });
  outdir = mkdtempSync(join(cache, 'ml-blueprint-bundling-'));
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

test('Lambda handlers bundle with esbuild into loadable code that exports handler', () => {
  const app = new App({
    outdir,
    context: {
      ...CDK_JSON_CONTEXT,
      'aws:cdk:bundling-stacks': ['Sandbox-Recommender-ML'],
      'aws:cdk:enable-asset-metadata': true,
    },
  });
  buildBlueprint(app, { stage: 'sandbox', caseStudies: ['recommender'], account: TEST_ACCOUNT });
  const assembly = app.synth();
  const ml = assembly.getStackByName('Sandbox-Recommender-ML');
  const functions = Object.values(ml.template.Resources as Record<string, SynthesizedFunction>).filter(
    // Our handlers (esbuild, `index.handler`); the CDK provider framework ships its own prebuilt handlers.
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      r.Metadata?.['aws:asset:path'] &&
      !String(r.Properties?.Handler ?? '').startsWith('framework.'),
  );
  expect(functions.length).toBeGreaterThanOrEqual(6);
  for (const fn of functions) {
    const dir = join(assembly.directory, fn.Metadata!['aws:asset:path']);
    expect(readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
    const code = readFileSync(join(dir, 'index.js'), 'utf8');
    // The AWS SDK comes from the runtime; Powertools and our code are inside the bundle.
    expect(code).not.toMatch(/require\("\.\.?\//);
    // Loaded with the environment the template gives the function (deploy-time references as placeholders).
    const loaded = withEnvironment(fn.Properties?.Environment?.Variables ?? {}, () =>
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(join(dir, 'index.js')),
    ) as { handler?: unknown };
    expect({ asset: fn.Metadata!['aws:asset:path'], handler: typeof loaded.handler }).toEqual({
      asset: fn.Metadata!['aws:asset:path'],
      handler: 'function',
    });
  }
});
