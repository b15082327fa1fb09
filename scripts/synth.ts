/**
 * The main job: `cdk synth` of every stack of the stage (default sandbox, both case studies) into cdk.out,
 * with cdk-nag on, then a summary of what was synthesized. Extra arguments go to `cdk synth`
 * (e.g. `npm run synth -- -c stage=production`).
 */
import { spawnSync } from 'node:child_process';
import { summarizeAssemblyCost } from '../src/cli/cost';
import { renderSummary, summarizeAssembly } from '../src/cli/synth-summary';

const outdir = 'cdk.out';
const args = ['cdk', 'synth', '--quiet', '--output', outdir, ...process.argv.slice(2)];
const result = spawnSync('npx', args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (result.status !== 0) {
  console.error(`cdk synth failed (exit ${result.status ?? result.signal}); nothing to summarize.`);
  process.exit(result.status ?? 1);
}
console.log(`\nSynthesized into ${outdir}/ with cdk-nag AwsSolutions checks: no unacknowledged findings.\n`);
console.log(renderSummary(summarizeAssembly(outdir)));
try {
  console.log(`\n${summarizeAssemblyCost(outdir)}`);
} catch (error) {
  // An unpriced resource type or a missing price fails the main job: no billable resource goes unestimated.
  console.error(`\ncost estimate failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
