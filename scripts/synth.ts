/**
 * The main job: `cdk synth` of every stack of the stage (default sandbox, both case studies) into cdk.out,
 * with cdk-nag on, then a summary of what was synthesized and its monthly cost estimate. Extra arguments go to
 * `cdk synth` (e.g. `npm run synth -- -c stage=production`); `--help` prints this job's usage.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { summarizeAssemblyCost } from '../src/cli/cost';
import { renderSummary, summarizeAssembly } from '../src/cli/synth-summary';
import { wantsHelp } from '../src/cli/common';

const OUTDIR = 'cdk.out';

/** What `npm run synth -- --help` prints. */
export const SYNTH_USAGE = `usage: npm run synth -- [cdk synth options]

The main job: synthesizes every stack of a stage into ${OUTDIR}/ with cdk-nag AwsSolutions checks (an
unacknowledged finding fails), prints the stacks with their resources and the stage's monthly cost estimate.
Needs no AWS account.

options (passed to cdk synth):
  -c stage=<sandbox|production>       stage preset (default sandbox)
  -c caseStudies=<recommender,vision> case studies, comma-separated (default both)
  -c region=<region>                  deploy region (default: AWS_REGION, CDK_DEFAULT_REGION or the profile's
                                      region, else us-east-1); the estimate needs committed prices for it
  -c overrides='<json>'               configuration overrides by case study, validated like the presets,
                                      e.g. '{"recommender":{"ingestion":{"retentionHours":48}}}'
  -c notifyEmail=<address>            subscribe this address to each ML stack's notification topic
  --help, -h                          print this help and exit
Any other option goes to cdk synth unchanged (see npx cdk synth --help).`;

/**
 * Filters cdk synth's stderr: drops the bundling progress of each Lambda asset (`Bundling asset …`, esbuild's
 * file sizes, `⚡ Done in …`, blank lines between) and the CLI's closing hints, keeps everything else (warnings,
 * errors, cdk-nag findings). Returns the lines to print and how many assets were bundled.
 */
export class SynthOutputFilter {
  /** Assets bundled so far. */
  bundled = 0;
  private inBundling = false;

  /** The line to print, or undefined to drop it. */
  line(text: string): string | undefined {
    if (/^Bundling asset \S+\.\.\.$/.test(text)) {
      this.bundled += 1;
      this.inBundling = true;
      return undefined;
    }
    if (this.inBundling) {
      if (/^⚡ Done in /.test(text)) {
        this.inBundling = false;
        return undefined;
      }
      if (/^\s*$/.test(text) || /^\s+\S+\s+[\d.]+(b|kb|mb|gb)\s*$/i.test(text)) return undefined;
      return text;
    }
    if (/^Successfully synthesized to |^Supply a stack id \(/.test(text)) return undefined;
    return text;
  }
}

/** Runs `cdk synth` with the extra arguments, streaming its filtered stderr; resolves with its exit code. */
function cdkSynth(args: readonly string[], filter: SynthOutputFilter): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['cdk', 'synth', '--quiet', '--output', OUTDIR, ...args], {
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    createInterface({ input: child.stderr }).on('line', (text) => {
      const kept = filter.line(text);
      if (kept !== undefined) process.stderr.write(`${kept}\n`);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** The main job; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(SYNTH_USAGE);
    return 0;
  }
  const started = Date.now();
  const filter = new SynthOutputFilter();
  const status = await cdkSynth(argv, filter);
  if (status !== 0) {
    console.error(`cdk synth failed (exit ${status}); nothing to summarize.`);
    return status;
  }
  const manifest = join(OUTDIR, 'manifest.json');
  let written = 0;
  try {
    written = statSync(manifest).mtimeMs;
  } catch {
    // no manifest: reported below
  }
  if (written < started - 1000) {
    console.error(`cdk synth wrote no ${manifest}: nothing was synthesized, so there is nothing to summarize.`);
    return 1;
  }
  console.log(
    `\nSynthesized into ${OUTDIR}/ with cdk-nag AwsSolutions checks: no unacknowledged findings (${filter.bundled} Lambda assets bundled).\n`,
  );
  console.log(renderSummary(summarizeAssembly(OUTDIR)));
  try {
    console.log(`\n${summarizeAssemblyCost(OUTDIR)}`);
  } catch (error) {
    // An unpriced resource type or a missing price of a known region fails the main job: nothing billable goes
    // unestimated. (A region without committed prices is a warning in the summary, not an error.)
    console.error(`\ncost estimate failed: ${(error as Error).message}`);
    return 1;
  }
  return 0;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
