/**
 * `npm run --silent cost -- --stage <sandbox|production> [--case <case study>] [--usage <name|file>]
 *   [--region <region>] [--format table|json|markdown] [--compare <stage>] [--cdk-out <dir>]`
 *
 * Monthly cost estimate from the synthesized templates and a usage profile. Synthesizes the stage in-process
 * (or reads `--cdk-out`), prices every billable resource, and fails naming any resource type it cannot price.
 * Exit 0 with the estimate; 2 with one message for unusable input (unknown stage, region, instance type,
 * resource type, bad usage profile). `--help` describes every flag.
 */
import { CASE_STUDIES, ConfigError, STAGES, type CaseStudyName, type StageName } from '../../lib/config';
import { AssemblyError, readAssembly, synthesizeStacks } from '../synth/assembly';
import { DEFAULT_REGION, estimate } from '../cost/estimate';
import { loadLatestPriceTable, priceBook } from '../cost/prices';
import { renderCompare, renderMarkdown, renderTable, usd } from '../cost/render';
import { CostError, type Estimate } from '../cost/types';
import { IDLE_PROFILE, loadUsageProfile, type UsageProfile } from '../cost/usage';
import { CliError, parseFlags, runCli } from './common';

const USAGE = `usage: npm run --silent cost -- --stage <${STAGES.join('|')}> [--case <${CASE_STUDIES.join('|')}>] [--usage <name|file>]
  [--region <region>] [--format table|json|markdown] [--compare <stage>] [--cdk-out <dir>]`;

export { CliError };

/** Parsed options. */
export interface CostCliOptions {
  readonly stage: StageName;
  readonly caseStudy?: CaseStudyName;
  /** Committed profile name or file. @default the stage's committed profile */
  readonly usage: string;
  readonly region?: string;
  readonly format: 'table' | 'json' | 'markdown';
  readonly compare?: StageName;
  readonly cdkOut?: string;
}

const oneOf = <T extends string>(flag: string, value: string, allowed: readonly T[]): T => {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CliError(`--${flag} must be one of: ${allowed.join(', ')}; received "${value}"`);
  }
  return value as T;
};

/** The flags of `cost`, with what `--help` says about each. */
export const COST_FLAGS = {
  stage: { type: 'string', placeholder: '<stage>', description: `stage to price: ${STAGES.join(' or ')} (required)` },
  case: {
    type: 'string',
    placeholder: '<case>',
    description: `one case study: ${CASE_STUDIES.join(' or ')} (default: both)`,
  },
  usage: {
    type: 'string',
    placeholder: '<name|file>',
    description:
      'usage profile: a committed name from data/usage/ (idle, sandbox, production, …) or a JSON file (default: the stage)',
  },
  region: {
    type: 'string',
    placeholder: '<region>',
    description: "price for this region (default: the templates' region); it must be in the committed price table",
  },
  format: {
    type: 'string',
    default: 'table',
    placeholder: '<table|json|markdown>',
    description: 'table (default), one JSON document, or markdown',
  },
  compare: {
    type: 'string',
    placeholder: '<stage>',
    description: 'also price this stage with its own profile and print both side by side with the differences',
  },
  'cdk-out': {
    type: 'string',
    placeholder: '<dir>',
    description: 'read the templates of this cloud assembly instead of synthesizing in-process',
  },
} as const;

/** Parses the command line. */
export function parseCostCli(argv: readonly string[]): CostCliOptions {
  const v = parseFlags(argv, COST_FLAGS, USAGE);
  if (!v.stage) throw new CliError(`--stage is required\n${USAGE}`);
  const stage = oneOf('stage', v.stage, STAGES);
  const compare = v.compare === undefined ? undefined : oneOf('compare', v.compare, STAGES);
  if (compare && v['cdk-out'])
    throw new CliError('--compare synthesizes both stages; it cannot be used with --cdk-out');
  return {
    stage,
    caseStudy: v.case === undefined ? undefined : oneOf('case', v.case, CASE_STUDIES),
    usage: v.usage ?? stage,
    region: v.region,
    format: oneOf('format', v.format ?? 'table', ['table', 'json', 'markdown'] as const),
    compare,
    cdkOut: v['cdk-out'],
  };
}

/** Synthesizes (or reads) the stage and prices it. */
export function estimateStage(options: {
  stage: StageName;
  usage: UsageProfile;
  caseStudy?: CaseStudyName;
  region?: string;
  cdkOut?: string;
}): Estimate {
  const prices = loadLatestPriceTable();
  if (options.region) priceBook(prices, options.region); // fail fast on an unknown region, before synthesizing
  if (options.usage.stage !== options.stage) {
    throw new CostError(`the usage profile describes the ${options.usage.stage} stage, not ${options.stage}`);
  }
  const all = options.cdkOut
    ? readAssembly(options.cdkOut)
    : synthesizeStacks(options.stage, {
        region: options.region,
        caseStudies: options.caseStudy ? [options.caseStudy] : undefined,
        overrides: options.usage.synthOverrides,
      });
  const stacks = all.filter((s) => s.stage === options.stage);
  if (stacks.length === 0)
    throw new CostError(`no ${options.stage} stacks in ${options.cdkOut ?? 'the synthesized assembly'}`);
  return estimate({
    stacks,
    usage: options.usage,
    prices,
    region: options.region,
    caseStudy: options.caseStudy,
    overrides: options.usage.synthOverrides,
  });
}

/** Runs the CLI; returns what to print on stdout. */
export function runCostCli(argv: readonly string[]): string {
  const o = parseCostCli(argv);
  try {
    const usage = loadUsageProfile(o.usage);
    const base = estimateStage({ stage: o.stage, usage, caseStudy: o.caseStudy, region: o.region, cdkOut: o.cdkOut });
    if (o.compare) {
      const other = estimateStage({
        stage: o.compare,
        usage: loadUsageProfile(o.compare),
        caseStudy: o.caseStudy,
        region: o.region,
      });
      if (o.format === 'json') {
        return JSON.stringify({
          currency: 'USD',
          base,
          other,
          difference: Math.round((other.totalMonthly - base.totalMonthly) * 1e6) / 1e6,
        });
      }
      return renderCompare(base, other, o.format);
    }
    if (o.format === 'json') return JSON.stringify(base);
    return o.format === 'markdown' ? renderMarkdown(base, o.usage) : renderTable(base, o.usage);
  } catch (e) {
    if (e instanceof CostError || e instanceof AssemblyError || e instanceof ConfigError) {
      throw new CliError(e.message);
    }
    throw e;
  }
}

/**
 * The end of the main job: prices the cloud assembly just written with the committed profile of its stage and
 * returns a short summary (total and the largest lines; for the sandbox also what it costs left idle). A region
 * without committed prices is not an error here: the summary says so and prices nothing.
 */
export function summarizeAssemblyCost(cdkOut: string, top = 5): string {
  const stacks = readAssembly(cdkOut);
  const stage = stacks[0].stage ?? 'sandbox';
  const ofStage = stacks.filter((s) => s.stage === stage);
  const prices = loadLatestPriceTable();
  const region = ofStage.find((s) => s.region)?.region ?? DEFAULT_REGION;
  if (!prices.regions[region]) {
    const known = Object.keys(prices.regions);
    return [
      `warning: no monthly cost estimate: the committed price table (${prices.date}) has no prices for ${region} (it has ${known.join(', ')}), so nothing was priced.`,
      `  To estimate with another region's prices: npm run --silent cost -- --stage ${stage} --region ${known[0]}   (adding a region: docs/cost/README.md)`,
    ].join('\n');
  }
  const usage = loadUsageProfile(stage);
  const e = estimate({ stacks: ofStage, usage, prices });
  const largest = [...e.lines].sort((a, b) => b.monthly - a.monthly).slice(0, top);
  const lines = [
    `Estimated monthly cost (${stage} stage, usage profile "${stage}", ${e.region}, prices of ${e.priceTableDate}, no free tiers): ${usd(e.totalMonthly)}`,
    ...largest.map((l) => `  ${usd(l.monthly).padStart(10)}  ${l.stack} ${l.resource}: ${l.component}`),
  ];
  if (stage === 'sandbox') {
    const idle = estimate({ stacks: ofStage, usage: loadUsageProfile(IDLE_PROFILE), prices });
    lines.push(
      `Left deployed with no traffic and no retraining (usage profile "${IDLE_PROFILE}"): ${usd(idle.totalMonthly)} per month (docs/cost/sandbox.md)`,
    );
  }
  lines.push(`Details: npm run --silent cost -- --stage ${stage}   (walkthroughs: docs/cost/)`);
  return lines.join('\n');
}

if (require.main === module) void runCli('cost', () => runCostCli(process.argv.slice(2)));
