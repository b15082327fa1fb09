import { type App, Tags, Validations, type Environment, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CASE_STUDY_SPECS } from './case-studies';
import {
  resolveConfig,
  type BlueprintConfig,
  type CaseStudyName,
  type ConfigOverrides,
  type StageName,
} from './config';
import { DataStack } from './stacks/data-stack';
import { MlStack } from './stacks/ml-stack';

/** What the app is built from; `bin/app.ts` reads it from context and the environment. */
export interface BlueprintAppOptions {
  /** The stage preset. */
  readonly stage: StageName;
  /** Case studies to synthesize. */
  readonly caseStudies: readonly CaseStudyName[];
  /** Config overrides keyed by case study or `"*"`. @default none */
  readonly overrides?: ConfigOverrides;
  /** Target account; undefined synthesizes environment-agnostic stacks. @default undefined */
  readonly account?: string;
  /** Target region. @default the stage preset's region */
  readonly region?: string;
  /** Run cdk-nag AwsSolutions checks on synth. @default true */
  readonly nag?: boolean;
  /** Email addresses subscribed to every ML stack's notification topic (`-c notifyEmail=…`). @default none */
  readonly notifyEmails?: readonly string[];
}

/** The stacks of one case study. */
export interface CaseStudyStacks {
  readonly config: BlueprintConfig;
  readonly data: DataStack;
  readonly ml: MlStack;
  readonly stacks: readonly Stack[];
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Stack name for a stage, case study and part: `<Stage>-<display name>-<Part>`, e.g. `Sandbox-<Name>-Data`. */
export function stackName(stage: StageName, caseStudy: CaseStudyName, part: 'Data' | 'ML'): string {
  return `${capitalize(stage)}-${CASE_STUDY_SPECS[caseStudy].displayName}-${part}`;
}

/**
 * Adds every stack of a stage to the app, one set per case study, and the cdk-nag checks.
 * Configuration is validated before any construct is created, so a bad value fails with one clear message.
 */
export function buildBlueprint(app: App, options: BlueprintAppOptions): CaseStudyStacks[] {
  const overrides = options.overrides ?? {};
  const region = options.region;
  const regionOverride = region ? { '*': { region }, ...mergeRegion(overrides, region) } : overrides;
  const configs = options.caseStudies.map((cs) => resolveConfig(options.stage, cs, regionOverride));

  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  return configs.map((config) => {
    const caseStudy = CASE_STUDY_SPECS[config.caseStudy];
    const env: Environment = { account: options.account, region: config.region };
    const data = new DataStack(app, stackName(config.stage, config.caseStudy, 'Data'), {
      env,
      config,
      spec: caseStudy,
    });
    const ml = new MlStack(app, stackName(config.stage, config.caseStudy, 'ML'), {
      env,
      config,
      caseStudy,
      data,
      notifyEmails: options.notifyEmails,
    });
    const stacks: Stack[] = [data, ml];
    for (const stack of stacks) {
      Tags.of(stack).add('ml-blueprint:stage', config.stage);
      Tags.of(stack).add('ml-blueprint:case-study', config.caseStudy);
    }
    return { config, data, ml, stacks };
  });
}

/** A `-c region=…` wins over region overrides in config files. */
function mergeRegion(overrides: ConfigOverrides, region: string): ConfigOverrides {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(overrides)) {
    out[key] = typeof value === 'object' && value !== null ? { ...value, region } : value;
  }
  return out;
}
