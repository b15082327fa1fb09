import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildBlueprint, type CaseStudyStacks } from '../../lib/app';
import type { CaseStudyName, ConfigOverrides, StageName } from '../../lib/config';

/** Fixed account so templates and snapshots are deterministic. */
export const TEST_ACCOUNT = '123456789012';

/** The feature flags of cdk.json, so tests synthesize exactly what `cdk synth` does. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

/** A synthesized blueprint: the app, its case-study stacks and a template lookup by stack name. */
export interface SynthesizedBlueprint {
  readonly app: App;
  readonly caseStudies: CaseStudyStacks[];
  template(stackName: string): Template;
}

/**
 * Builds and synthesizes the blueprint like `bin/app.ts` does (cdk-nag included, so unacknowledged findings
 * fail here too), without bundling Lambda code (`aws:cdk:bundling-stacks` = []).
 */
export function synthesize(
  stage: StageName,
  options: { caseStudies?: CaseStudyName[]; overrides?: ConfigOverrides; bundle?: boolean } = {},
): SynthesizedBlueprint {
  const app = new App({
    context: { ...CDK_JSON_CONTEXT, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const caseStudies = buildBlueprint(app, {
    stage,
    caseStudies: options.caseStudies ?? ['recommender', 'vision'],
    overrides: options.overrides,
    account: TEST_ACCOUNT,
  });
  app.synth();
  const templates = new Map<string, Template>();
  return {
    app,
    caseStudies,
    template(stackName: string): Template {
      let template = templates.get(stackName);
      if (!template) {
        const stack = caseStudies.flatMap((c) => c.stacks).find((s) => s.stackName === stackName);
        if (!stack) throw new Error(`no stack named ${stackName}`);
        template = Template.fromStack(stack);
        templates.set(stackName, template);
      }
      return template;
    },
  };
}
