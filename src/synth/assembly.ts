/**
 * The synthesized templates the tools read (cost, simulate, docs): a cloud assembly directory (`cdk.out`), written
 * by `cdk synth` or by {@link synthesizeStage}, which builds the app in-process like `bin/app.ts` does.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildBlueprint } from '../../lib/app';
import { CASE_STUDY_SPECS } from '../../lib/case-studies';
import { CASE_STUDIES, STAGES, type CaseStudyName, type ConfigOverrides, type StageName } from '../../lib/config';

/** A cloud assembly that cannot be read (missing, malformed, without stacks). */
export class AssemblyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssemblyError';
  }
}

/** A CloudFormation resource as synthesized. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** One synthesized stack. */
export interface StackTemplate {
  readonly stackName: string;
  /** `sandbox` or `production`, from the stack name (`<Stage>-<CaseStudy>-<Part>`). */
  readonly stage?: StageName;
  readonly caseStudy?: CaseStudyName;
  /** The stack's region when the assembly names one. */
  readonly region?: string;
  readonly resources: Readonly<Record<string, CfnResource>>;
}

interface Manifest {
  readonly artifacts?: Record<
    string,
    { type: string; environment?: string; properties?: { templateFile?: string; stackName?: string } }
  >;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Stage and case study from a blueprint stack name. */
export function parseStackName(name: string): { stage?: StageName; caseStudy?: CaseStudyName } {
  const [stagePart, casePart] = name.split('-');
  const stage = STAGES.find((s) => capitalize(s) === stagePart);
  const caseStudy = CASE_STUDIES.find((c) => CASE_STUDY_SPECS[c].displayName === casePart);
  return { stage, caseStudy };
}

/** Every CloudFormation stack of a cloud assembly directory, sorted by name. */
export function readAssembly(dir: string): StackTemplate[] {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (e) {
    throw new AssemblyError(`cannot read the cloud assembly ${dir}: ${(e as Error).message}`);
  }
  const stacks: StackTemplate[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const template = JSON.parse(readFileSync(join(dir, artifact.properties.templateFile), 'utf8')) as {
      Resources?: Record<string, CfnResource>;
    };
    const stackName = artifact.properties.stackName ?? id;
    const region = artifact.environment?.split('/').pop();
    stacks.push({
      stackName,
      ...parseStackName(stackName),
      region: region && /^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region) ? region : undefined,
      resources: template.Resources ?? {},
    });
  }
  if (stacks.length === 0) throw new AssemblyError(`the cloud assembly ${dir} has no stacks`);
  return stacks.sort((a, b) => a.stackName.localeCompare(b.stackName));
}

/** A placeholder account: prices and local runs do not depend on it, and a fixed one keeps templates deterministic. */
export const SYNTH_ACCOUNT = '123456789012';

/**
 * Synthesizes every stack of a stage into a temporary cloud assembly, like `cdk synth` with the feature flags
 * of cdk.json, without bundling Lambda code or running cdk-nag (neither changes the templates' resources).
 */
export function synthesizeStage(
  stage: StageName,
  options: { region?: string; caseStudies?: readonly CaseStudyName[]; overrides?: ConfigOverrides } = {},
): string {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const outdir = mkdtempSync(join(tmpdir(), 'ml-blueprint-synth-'));
  const app = new App({ outdir, context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  buildBlueprint(app, {
    stage,
    caseStudies: options.caseStudies ?? CASE_STUDIES,
    overrides: options.overrides,
    account: SYNTH_ACCOUNT,
    region: options.region,
    nag: false,
  });
  return app.synth().directory;
}

/** Synthesizes a stage (see {@link synthesizeStage}), reads its stacks and removes the temporary assembly. */
export function synthesizeStacks(
  stage: StageName,
  options: Parameters<typeof synthesizeStage>[1] = {},
): StackTemplate[] {
  const dir = synthesizeStage(stage, options);
  try {
    return readAssembly(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
