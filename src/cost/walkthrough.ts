/**
 * The cost walkthroughs (`docs/cost/*.md`) and reference pages, generated from the estimator so they never
 * drift from the code: `npm run docs` rewrites the blocks and `test/docs.test.ts` fails when they are stale.
 * Each case is a committed usage profile priced against freshly synthesized templates.
 */
import { planShards, resolveConfig, instanceTypeInfo, deepMerge, type ConfigOverrides } from '../../lib/config';
import { synthesizeStacks, type StackTemplate } from './assembly';
import { estimate, pricingContexts, stageOf } from './estimate';
import { loadLatestPriceTable, priceBook } from './prices';
import { endpointModel, trainingModel } from './pricers/sagemaker';
import { FREE_TYPES, PRICED_TYPES, serviceOf } from './registry';
import { renderMarkdown, usd } from './render';
import { round6, type CostLine, type Estimate } from './types';
import { caseUsageSchema, loadUsageProfile, type UsageProfile } from './usage';

/** The walkthrough cases: a committed usage profile each. */
export const COST_CASES = [
  { file: 'docs/cost/sandbox.md', profile: 'sandbox' },
  { file: 'docs/cost/production-1m.md', profile: 'production' },
  { file: 'docs/cost/production-100m.md', profile: 'production-100m' },
] as const;

/**
 * Discount assumed for a 1-year, no-upfront SageMaker Savings Plan. An assumption for the lever table, not a
 * committed price: AWS advertises up to 64% depending on term, payment and instance family.
 */
export const SAVINGS_PLAN_DISCOUNT = 0.25;
/** Serverless inference assumption for the lever table: memory and billed time per request. */
export const SERVERLESS_ASSUMPTION = { memoryGB: 2, secondsPerRequest: 0.1 };

const synthCache = new Map<string, StackTemplate[]>();

function stacksFor(profile: UsageProfile, extra: ConfigOverrides = {}): StackTemplate[] {
  const overrides = deepMerge(profile.synthOverrides ?? {}, extra) as ConfigOverrides;
  const key = `${profile.stage}:${JSON.stringify(overrides)}`;
  let stacks = synthCache.get(key);
  if (!stacks) {
    stacks = synthesizeStacks(profile.stage, { overrides });
    synthCache.set(key, stacks);
  }
  return stacks;
}

function estimateFor(profile: UsageProfile, extra: ConfigOverrides = {}): Estimate {
  const overrides = deepMerge(profile.synthOverrides ?? {}, extra) as ConfigOverrides;
  return estimate({ stacks: stacksFor(profile, extra), usage: profile, prices: loadLatestPriceTable(), overrides });
}

const sumOf = (lines: readonly CostLine[]) => round6(lines.reduce((n, l) => n + l.monthly, 0));
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const caseOf = (stack: string) => stack.split('-')[1];

/** The estimate of a case, as the CLI prints it with `--format markdown`. */
export function renderCaseEstimate(profileName: string): string {
  return renderMarkdown(estimateFor(loadUsageProfile(profileName)), profileName);
}

/** Back-of-the-envelope arithmetic: events/s → shards → cost; retrains → GPU hours → cost; traffic → instances → cost. */
export function renderEnvelope(profileName: string): string {
  const profile = loadUsageProfile(profileName);
  const stacks = stacksFor(profile);
  const e = estimateFor(profile);
  const prices = priceBook(loadLatestPriceTable(), e.region);
  const contexts = pricingContexts(
    { stacks, usage: profile, prices: loadLatestPriceTable() },
    stacks,
    stageOf(stacks),
    prices,
  );
  const rows: string[] = ['| case study | step | arithmetic | monthly |', '|---|---|---|---:|'];
  for (const ctx of contexts) {
    const name = ctx.caseStudy;
    const display = ctx.stacks[0].stackName.split('-')[1];
    const lines = e.lines.filter((l) => caseOf(l.stack) === display);
    const u = ctx.usage;
    const config = resolveConfig(ctx.stage, ctx.caseStudy, ctx.overrides ?? {});
    const stream = Object.values(ctx.stacks.flatMap((s) => Object.values(s.resources))).find(
      (r) => r.Type === 'AWS::Kinesis::Stream',
    );
    const mode = (stream?.Properties?.StreamModeDetails as Record<string, unknown> | undefined)?.StreamMode;
    const plan = planShards(config.ingestion.traffic);
    const eventsMonth = ctx.workload.eventsPerMonth;
    const streamText =
      mode === 'ON_DEMAND'
        ? `on-demand stream (no shards to plan); ${fmt(u.ingestion.eventsPerSecond, 1)} events/s × ${u.ingestion.activeHoursPerMonth} h = ${fmt(eventsMonth)} events × ${u.ingestion.eventSizeBytes} B`
        : `peak ${fmt(config.ingestion.traffic.peakEventsPerSecond, 0)} events/s × ${config.ingestion.traffic.headroom} headroom → ${fmt(plan.shardsForRecords, 2)} shards for records, ${fmt(plan.shardsForBytes, 2)} for bytes → **${String(stream?.Properties?.ShardCount)} shard${stream?.Properties?.ShardCount === 1 ? '' : 's'}** in the template; average ${fmt(u.ingestion.eventsPerSecond, 1)} events/s = ${fmt(eventsMonth)} events/month`;
    const ingest = sumOf(lines.filter((l) => ['Kinesis Data Streams', 'Data Firehose'].includes(serviceOf(l.type))));
    rows.push(`| ${name} | events → stream → lake | ${streamText}; Kinesis + Firehose | ${usd(ingest)} |`);
    if (u.training.retrainsPerMonth > 0) {
      const t = trainingModel(ctx);
      const gpus = instanceTypeInfo(t.settings.instanceType)?.gpus ?? 0;
      const hours = t.retrainsPerMonth * t.hoursPerRun * t.settings.instanceCount;
      const cost = sumOf(lines.filter((l) => l.type === 'AWS::SageMaker::TrainingJob'));
      rows.push(
        `| ${name} | retrains → GPU hours | ${t.retrainsPerMonth} retrains × ${t.hoursPerRun} h × ${t.settings.instanceCount} × ${t.settings.instanceType} = ${fmt(hours, 1)} instance-hours (${fmt(hours * gpus, 1)} GPU-hours)${t.settings.spot ? `, managed spot at ${Math.round(u.training.spotSavings * 100)}% off` : ', on-demand'} | ${usd(cost)} |`,
      );
    }
    if (u.serving.endpointHoursPerMonth > 0) {
      const m = endpointModel(ctx);
      const perSecond = u.serving.requestsPerMonth / (730 * 3600);
      const cost = sumOf(lines.filter((l) => l.type === 'AWS::SageMaker::Endpoint'));
      rows.push(
        `| ${name} | traffic → endpoint instances | ${fmt(u.serving.requestsPerMonth)} requests/month ≈ ${fmt(perSecond, perSecond < 10 ? 2 : 0)}/s on average → ${fmt(m.instances, 1)} × ${m.settings.instanceType} (autoscaling ${m.settings.minCapacity ?? '?'}–${m.settings.maxCapacity ?? '?'}) × ${u.serving.endpointHoursPerMonth} h | ${usd(cost)} |`,
      );
    }
  }
  rows.push(`| **all** | **everything** | every line of the estimate below | **${usd(e.totalMonthly)}** |`);
  return rows.join('\n');
}

interface Lever {
  readonly lever: string;
  readonly how: string;
  readonly before: number;
  readonly after: number;
}

function editUsage(profile: UsageProfile, edit: (u: UsageProfile['caseStudies']['recommender']) => void): UsageProfile {
  const copy = JSON.parse(JSON.stringify(profile)) as UsageProfile;
  for (const cs of Object.values(copy.caseStudies)) edit(cs);
  return copy;
}

/** The biggest levers of a case, each computed by re-estimating with one change. */
export function renderLevers(profileName: string): string {
  const profile = loadUsageProfile(profileName);
  const base = estimateFor(profile);
  const prices = priceBook(loadLatestPriceTable(), base.region);
  const levers: Lever[] = [];
  const ofType = (e: Estimate, type: string) => sumOf(e.lines.filter((l) => l.type === type));
  const training = ofType(base, 'AWS::SageMaker::TrainingJob');
  if (profile.stage === 'sandbox') {
    const noSpot = ofType(
      estimateFor(profile, { '*': { training: { useSpot: false } } }),
      'AWS::SageMaker::TrainingJob',
    );
    levers.push({
      lever: 'Spot training (on in sandbox)',
      how: `managed spot at ${Math.round(profile.caseStudies.recommender.training.spotSavings * 100)}% off vs on-demand`,
      before: noSpot,
      after: training,
    });
    const always = editUsage(profile, (u) => (u.serving.endpointHoursPerMonth = 730));
    const alwaysEndpoint = ofType(
      estimate({ stacks: stacksFor(profile), usage: always, prices: loadLatestPriceTable() }),
      'AWS::SageMaker::Endpoint',
    );
    levers.push({
      lever: 'Scale to zero / delete the endpoint after the day',
      how: `endpoint up ${profile.caseStudies.recommender.serving.endpointHoursPerMonth} h instead of 730 h`,
      before: alwaysEndpoint,
      after: ofType(base, 'AWS::SageMaker::Endpoint'),
    });
    const provisioned = estimateFor(profile, { '*': { ingestion: { capacityMode: 'provisioned' } } });
    levers.push({
      lever: 'Provisioned stream with 1 shard',
      how: 'Kinesis on-demand ($0.04/stream-hour) → provisioned 1 shard ($0.015/shard-hour)',
      before: sumOf(base.lines.filter((l) => serviceOf(l.type) === 'Kinesis Data Streams')),
      after: sumOf(provisioned.lines.filter((l) => serviceOf(l.type) === 'Kinesis Data Streams')),
    });
  } else {
    const spotOverride = { '*': { training: { useSpot: true, maxWaitHours: 16 } } };
    const spot = ofType(estimateFor(profile, spotOverride), 'AWS::SageMaker::TrainingJob');
    levers.push({
      lever: 'Spot training',
      how: `\`training.useSpot: true\` (maxWaitHours 16), ${Math.round(profile.caseStudies.recommender.training.spotSavings * 100)}% assumed savings`,
      before: training,
      after: spot,
    });
    const aggregated = editUsage(profile, (u) => {
      const k = Math.max(1, Math.floor(5120 / u.ingestion.eventSizeBytes));
      u.ingestion.eventsPerSecond /= k;
      u.ingestion.eventSizeBytes *= k;
    });
    const ingest = (e: Estimate) =>
      sumOf(e.lines.filter((l) => ['Kinesis Data Streams', 'Data Firehose'].includes(serviceOf(l.type))));
    levers.push({
      lever: 'Aggregate events into ~5 KB records',
      how: 'producers pack several events per Kinesis record (KPL aggregation): Firehose bills each record as at least 5 KB',
      before: ingest(base),
      after: ingest(estimate({ stacks: stacksFor(profile), usage: aggregated, prices: loadLatestPriceTable() })),
    });
    const retention = estimateFor(profile, { '*': { ingestion: { retentionHours: 24 } } });
    levers.push({
      lever: 'Stream retention 24 h instead of 7 days',
      how: '`ingestion.retentionHours: 24` (the lake keeps the history)',
      before: sumOf(base.lines.filter((l) => serviceOf(l.type) === 'Kinesis Data Streams')),
      after: sumOf(retention.lines.filter((l) => serviceOf(l.type) === 'Kinesis Data Streams')),
    });
  }
  const recommenderEndpoint = base.lines.filter(
    (l) => l.type === 'AWS::SageMaker::Endpoint' && l.unit === 'instance-hour' && caseOf(l.stack) === 'Recommender',
  );
  const requests = profile.caseStudies.recommender.serving.requestsPerMonth;
  const serverless =
    requests *
    SERVERLESS_ASSUMPTION.secondsPerRequest *
    SERVERLESS_ASSUMPTION.memoryGB *
    prices.price('sagemaker.serverless.gbSecond');
  levers.push({
    lever: 'Serverless inference (recommender, CPU model)',
    how: `${fmt(requests)} requests × ${SERVERLESS_ASSUMPTION.secondsPerRequest} s × ${SERVERLESS_ASSUMPTION.memoryGB} GB at ${usd(prices.price('sagemaker.serverless.gbSecond'), 5)}/GB-s instead of instance-hours (no GPU; cold starts)`,
    before: sumOf(recommenderEndpoint),
    after: round6(serverless),
  });
  const instanceLines = base.lines.filter((l) => l.unit === 'instance-hour' && l.type.startsWith('AWS::SageMaker::'));
  levers.push({
    lever: 'SageMaker Savings Plan',
    how: `1-year commitment on all instance-hours, ${Math.round(SAVINGS_PLAN_DISCOUNT * 100)}% assumed discount (AWS advertises up to 64%)`,
    before: sumOf(instanceLines),
    after: round6(sumOf(instanceLines) * (1 - SAVINGS_PLAN_DISCOUNT)),
  });
  return [
    '| lever | how | before | after | monthly saving |',
    '|---|---|---:|---:|---:|',
    ...levers.map(
      (l) => `| ${l.lever} | ${l.how} | ${usd(l.before)} | ${usd(l.after)} | **${usd(round6(l.before - l.after))}** |`,
    ),
  ].join('\n');
}

/** Every usage key with its unit, from the schema. */
export function renderUsageKeys(): string {
  const rows = ['| key | unit and meaning |', '|---|---|'];
  for (const [section, schema] of Object.entries(caseUsageSchema.shape)) {
    if (section === '$comment') continue;
    const shape = (schema as unknown as { shape: Record<string, { description?: string }> }).shape;
    for (const [key, field] of Object.entries(shape)) {
      if (key === '$comment') continue;
      rows.push(`| \`${section}.${key}\` | ${field.description ?? ''} |`);
    }
  }
  return rows.join('\n');
}

/** How every known resource type is treated. */
export function renderResourceTypes(): string {
  return [
    '| resource type | treatment |',
    '|---|---|',
    ...Object.entries(PRICED_TYPES)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, p]) => `| \`${type}\` | priced (${p.service}) |`),
    ...Object.entries(FREE_TYPES)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, f]) => `| \`${type}\` | free: ${f.reason} |`),
    '| `Custom::*` | free: custom resource; its provider function is priced as a Lambda |',
    '| `AWS::SageMaker::TrainingJob`, `AWS::SageMaker::Endpoint` (created by the state machine) | priced (SageMaker) from the state machine definition, else the stage config |',
  ].join('\n');
}

/** The price table: date, regions and number of entries. */
export function renderPriceTableSummary(): string {
  const table = loadLatestPriceTable();
  return [
    `Price table \`data/prices/${table.date}.json\`: regions ${Object.keys(table.regions)
      .map((r) => `\`${r}\` (${Object.keys(table.regions[r]).length} prices)`)
      .join(', ')}.`,
  ].join('\n');
}

/** The generated blocks of the cost docs (added to `GENERATED_BLOCKS` in src/docs/generate.ts). */
export const COST_DOC_BLOCKS = [
  ...COST_CASES.flatMap((c) => [
    { file: c.file, name: `cost-envelope-${c.profile}`, render: () => renderEnvelope(c.profile) },
    { file: c.file, name: `cost-levers-${c.profile}`, render: () => renderLevers(c.profile) },
    { file: c.file, name: `cost-estimate-${c.profile}`, render: () => renderCaseEstimate(c.profile) },
  ]),
  { file: 'docs/cost/usage-profiles.md', name: 'usage-keys', render: renderUsageKeys },
  { file: 'docs/cost/README.md', name: 'cost-resource-types', render: renderResourceTypes },
  { file: 'docs/cost/README.md', name: 'cost-price-table', render: renderPriceTableSummary },
];
