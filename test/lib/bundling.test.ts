/**
 * The one test that really bundles: every Lambda handler of the ML stack is built by esbuild (never Docker) into
 * a self-contained CommonJS file exporting `handler`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildBlueprint } from '../../lib/app';
import { CDK_JSON_CONTEXT, TEST_ACCOUNT } from '../support/synth';

test('Lambda handlers bundle with esbuild into loadable code', () => {
  const app = new App({
    context: {
      ...CDK_JSON_CONTEXT,
      'aws:cdk:bundling-stacks': ['Sandbox-Recommender-ML'],
      'aws:cdk:enable-asset-metadata': true,
    },
  });
  buildBlueprint(app, { stage: 'sandbox', caseStudies: ['recommender'], account: TEST_ACCOUNT });
  const assembly = app.synth();
  const ml = assembly.getStackByName('Sandbox-Recommender-ML');
  const functions = Object.values(
    ml.template.Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>,
  ).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path']);
  expect(functions.length).toBeGreaterThan(0);
  for (const fn of functions) {
    const dir = join(assembly.directory, fn.Metadata!['aws:asset:path']);
    expect(readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
    const code = readFileSync(join(dir, 'index.js'), 'utf8');
    expect(code.length).toBeGreaterThan(10_000);
    expect(code).toMatch(/handler/);
    // The AWS SDK comes from the runtime; Powertools and our code are inside the bundle.
    expect(code).not.toMatch(/require\("\.\.?\//);
  }
});
