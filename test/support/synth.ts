import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { buildBlueprint, type CaseStudyStacks } from '../../lib/app';
import type { CaseStudyName, ConfigOverrides, StageName } from '../../lib/config';

/** Fixed account so templates and snapshots are deterministic. */
export const TEST_ACCOUNT = '123456789012';

const ROOT = join(__dirname, '..', '..');

/** The feature flags of cdk.json, so tests synthesize exactly what `cdk synth` does. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(join(ROOT, 'cdk.json'), 'utf8'),
).context;

/** A synthesized blueprint: the app, its case-study stacks and a template lookup by stack name. */
export interface SynthesizedBlueprint {
  readonly app: App;
  readonly caseStudies: CaseStudyStacks[];
  template(stackName: string): Template;
}

/**
 * Builds and synthesizes the blueprint like `bin/app.ts` does (cdk-nag included, so unacknowledged findings
 * fail here too), without bundling Lambda code (`aws:cdk:bundling-stacks` = []). For the default blueprint of a
 * stage that a test only reads, prefer {@link synthesizedStage}, which synthesizes once per test run.
 */
export function synthesize(
  stage: StageName,
  options: { caseStudies?: CaseStudyName[]; overrides?: ConfigOverrides; bundle?: boolean; outdir?: string } = {},
): SynthesizedBlueprint {
  const app = new App({
    outdir: options.outdir,
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

/** Every stack of a stage (both case studies) as `cdk synth` wrote it: templates, dependencies, metadata. */
export interface SynthesizedStage {
  readonly assembly: cxapi.CloudAssembly;
  /** Stack names in assembly order. */
  readonly stackNames: readonly string[];
  /** One stack artifact (template, dependencies, termination protection, metadata, messages). */
  stack(stackName: string): cxapi.CloudFormationStackArtifact;
  template(stackName: string): Template;
}

/**
 * The default blueprint of a stage (both case studies, cdk-nag on, no bundling), synthesized once per test run and
 * shared by every test file that reads it: the first file writes the cloud assembly to a directory keyed by the
 * jest run and a hash of every input of synthesis; the others (in any worker) read it.
 */
export function synthesizedStage(stage: StageName): SynthesizedStage {
  const assembly = new cxapi.CloudAssembly(sharedAssemblyDir(stage));
  const templates = new Map<string, Template>();
  const stack = (stackName: string) => {
    const artifact = assembly.stacks.find((s) => s.stackName === stackName);
    if (!artifact) throw new Error(`no stack named ${stackName} in the ${stage} assembly`);
    return artifact;
  };
  return {
    assembly,
    stackNames: assembly.stacks.map((s) => s.stackName),
    stack,
    template(stackName: string): Template {
      let template = templates.get(stackName);
      if (!template) {
        template = Template.fromJSON(stack(stackName).template);
        templates.set(stackName, template);
      }
      return template;
    },
  };
}

/** Sources, lockfile and feature flags: what synthesis reads. */
const SYNTH_INPUTS = ['lib', 'core', 'lambdas', 'cdk.json', 'package-lock.json', 'test/support/synth.ts'];

function inputsHash(): string {
  const hash = createHash('sha256');
  const add = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) add(join(path, entry));
    } else {
      hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  for (const input of SYNTH_INPUTS) if (existsSync(join(ROOT, input))) add(join(ROOT, input));
  return hash.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The directory of a stage's shared assembly, synthesizing it when this is the first request of the run. Workers
 * of one jest run share the parent process; a lock file makes the others wait instead of synthesizing again.
 */
function sharedAssemblyDir(stage: StageName): string {
  const cache = join(tmpdir(), `ml-blueprint-synth-${process.ppid}-${inputsHash()}`);
  const dir = join(cache, stage);
  if (existsSync(dir)) return dir;
  if (!existsSync(cache)) {
    removeOldCaches();
    mkdirSync(cache, { recursive: true });
  }
  const lock = join(cache, `${stage}.lock`);
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    if (existsSync(dir)) return dir;
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      // Another worker is synthesizing this stage; a lock older than the deadline is abandoned.
      if (Date.now() > deadline) rmSync(lock, { force: true });
      sleep(200);
      continue;
    }
    closeSync(fd);
    try {
      const staging = `${dir}.${process.pid}`;
      synthesize(stage, { outdir: staging });
      renameSync(staging, dir);
      return dir;
    } finally {
      rmSync(lock, { force: true });
    }
  }
}

/** Assemblies of earlier runs (older than a day). */
function removeOldCaches(): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith('ml-blueprint-synth-')) continue;
    const path = join(tmpdir(), entry);
    if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
  }
}
