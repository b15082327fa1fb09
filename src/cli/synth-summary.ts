/**
 * Summarizes a cloud assembly: every stack with its resource counts by type. Used by the main job
 * (`npm run synth`) after `cdk synth` has written `cdk.out`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One synthesized stack. */
export interface StackSummary {
  readonly stackName: string;
  readonly templateFile: string;
  readonly resourceCount: number;
  readonly byType: ReadonlyArray<readonly [type: string, count: number]>;
}

interface Manifest {
  readonly artifacts?: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }>;
}

interface Template {
  readonly Resources?: Record<string, { Type: string }>;
}

/** Reads every CloudFormation stack of a cloud assembly directory. */
export function summarizeAssembly(cdkOut: string): StackSummary[] {
  const manifest = JSON.parse(readFileSync(join(cdkOut, 'manifest.json'), 'utf8')) as Manifest;
  const stacks: StackSummary[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const template = JSON.parse(readFileSync(join(cdkOut, artifact.properties.templateFile), 'utf8')) as Template;
    const counts = new Map<string, number>();
    for (const resource of Object.values(template.Resources ?? {})) {
      if (resource.Type === 'AWS::CDK::Metadata') continue;
      counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
    }
    const byType = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    stacks.push({
      stackName: artifact.properties.stackName ?? id,
      templateFile: artifact.properties.templateFile,
      resourceCount: byType.reduce((n, [, c]) => n + c, 0),
      byType,
    });
  }
  return stacks.sort((a, b) => a.stackName.localeCompare(b.stackName));
}

/** Renders the summary as plain text. */
export function renderSummary(stacks: readonly StackSummary[]): string {
  const lines: string[] = [];
  const total = stacks.reduce((n, s) => n + s.resourceCount, 0);
  lines.push(`${stacks.length} stacks, ${total} resources`);
  for (const stack of stacks) {
    lines.push('', `${stack.stackName}  (${stack.resourceCount} resources, ${stack.templateFile})`);
    for (const [type, count] of stack.byType) lines.push(`  ${String(count).padStart(4)}  ${type}`);
  }
  return lines.join('\n');
}
