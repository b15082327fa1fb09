/**
 * The cost walkthroughs (`docs/cost/*.md`) and reference pages, generated from the estimator so they never
 * drift from the code: `npm run docs` rewrites the blocks and `test/docs.test.ts` fails when they are stale.
 * Each case is a committed usage profile priced against freshly synthesized templates.
 */
import { planShards, resolveConfig, instanceTypeInfo, deepMerge, type ConfigOverrides } from '../../lib/config';
import { synthesizeStacks, type StackTemplate } from '../synth/assembly';
import { estimate, pricingContexts, stageOf } from './estimate';
import { loadLatestPriceTable, priceBook } from './prices';
import type { EndpointKind } from './definition';
import { endpointModel, trainingModel, type EndpointModel } from './pricers/sagemaker';
import { FREE_TYPES, PRICED_TYPES, serviceOf } from './registry';
import { renderMarkdown, usd } from './render';
import { round6, type CostLine, type Estimate } from './types';
import {
  caseUsageSchema,
  committedProfiles,
  IDLE_PROFILE,
  loadUsageProfile,
  type CaseUsage,
  type UsageProfile,
} from './usage';

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
/** Serverless inference assumption for the lever table: memory (the billed time comes from the usage profile). */
export const SERVERLESS_ASSUMPTION = { memoryGB: 2 };

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

/** How the endpoint's monthly figure is reached, in words. */
function endpointText(m: EndpointModel, u: CaseUsage): string {
  const s = m.settings;
  if (!m.deployed) return `no model deployed yet, so no endpoint; the first deployment creates ${kindText(s.kind)}`;
  const perSecond = u.serving.requestsPerMonth / (730 * 3600);
  const traffic = `${fmt(u.serving.requestsPerMonth)} requests/month ≈ ${fmt(perSecond, perSecond < 10 ? 2 : 0)}/s on average`;
  if (s.kind === 'serverless') {
    return `${traffic} × ${u.serving.serverlessMsPerRequest} ms × ${fmt((s.serverless?.memorySizeMB ?? 1024) / 1024)} GB = ${fmt(m.serverlessGBSeconds)} GB-seconds (serverless: nothing billed without requests)`;
  }
  if (s.kind === 'scale-to-zero') {
    return `${traffic}, served ${u.serving.activeHoursPerMonth} h → ${fmt(m.instances, 1)} × ${s.instanceType} × ${u.serving.activeHoursPerMonth} h (scale to zero: no instance otherwise)`;
  }
  const above = m.instances - m.floorInstances;
  return `${traffic}; always on: ${m.floorInstances} × ${s.instanceType} × 730 h (autoscaling ${s.minCapacity ?? '?'}–${s.maxCapacity ?? '?'})${above > 0 ? ` + ${fmt(above, 1)} more × ${u.serving.activeHoursPerMonth} h while serving` : ''}`;
}

const kindText = (kind: EndpointKind) =>
  kind === 'serverless'
    ? 'a serverless endpoint (billed per request)'
    : kind === 'scale-to-zero'
      ? 'a scale-to-zero endpoint (billed while serving)'
      : 'an always-on instance endpoint (billed 730 h a month)';

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
    const m = endpointModel(ctx);
    const endpointCost = sumOf(lines.filter((l) => l.type === 'AWS::SageMaker::Endpoint'));
    rows.push(`| ${name} | traffic → endpoint | ${endpointText(m, u)} | ${usd(endpointCost)} |`);
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
    const contexts = pricingContexts(
      { stacks: stacksFor(profile), usage: profile, prices: loadLatestPriceTable() },
      stacksFor(profile),
      profile.stage,
      prices,
    );
    const alwaysOn = contexts
      .map((ctx) => ({ ctx, m: endpointModel(ctx) }))
      .filter(({ m }) => m.deployed && m.settings.kind === 'instance');
    if (alwaysOn.length > 0) {
      const hourly = (x: (typeof alwaysOn)[number]) => prices.instancePrice('hosting', x.m.settings.instanceType);
      levers.push({
        lever: 'Delete the always-on endpoint after the day',
        how: `${alwaysOn.map((x) => `${x.ctx.caseStudy} ${x.m.settings.instanceType}`).join(', ')}: ${alwaysOn[0].ctx.usage.serving.activeHoursPerMonth} h instead of 730 h (\`aws sagemaker delete-endpoint\`; the next deployment of the loop creates it again)`,
        before: round6(alwaysOn.reduce((n, x) => n + x.m.instanceHours * hourly(x), 0)),
        after: round6(
          alwaysOn.reduce((n, x) => n + x.m.instances * x.ctx.usage.serving.activeHoursPerMonth * hourly(x), 0),
        ),
      });
    }
    const streams = (e: Estimate) => sumOf(e.lines.filter((l) => serviceOf(l.type) === 'Kinesis Data Streams'));
    const onDemand = estimateFor(profile, { '*': { ingestion: { capacityMode: 'on-demand' } } });
    levers.push({
      lever: 'Provisioned single-shard streams (the sandbox preset)',
      how: 'Kinesis provisioned 1 shard ($0.015/shard-hour) instead of on-demand ($0.04/stream-hour and more per GB)',
      before: streams(onDemand),
      after: streams(base),
    });
  } else {
    // Spot's longer wait lengthens the run's bounded waits, so the lock must outlive it (config checks it).
    const spotOverride = { '*': { training: { useSpot: true, maxWaitHours: 16 }, retraining: { lockTtlHours: 130 } } };
    const spot = ofType(estimateFor(profile, spotOverride), 'AWS::SageMaker::TrainingJob');
    levers.push({
      lever: 'Spot training',
      how: `\`training.useSpot: true\` (maxWaitHours 16, lock TTL 130 h), ${Math.round(profile.caseStudies.recommender.training.spotSavings * 100)}% assumed savings`,
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
  const seconds = profile.caseStudies.recommender.serving.serverlessMsPerRequest / 1000;
  if (recommenderEndpoint.length > 0) {
    levers.push({
      lever: 'Serverless inference (recommender, CPU model)',
      how: `${fmt(requests)} requests × ${seconds} s × ${SERVERLESS_ASSUMPTION.memoryGB} GB at ${usd(prices.price('sagemaker.serverless.gbSecond'), 5)}/GB-s instead of instance-hours (no GPU; cold starts)`,
      before: sumOf(recommenderEndpoint),
      after: round6(
        requests * seconds * SERVERLESS_ASSUMPTION.memoryGB * prices.price('sagemaker.serverless.gbSecond'),
      ),
    });
  }
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

/** The most the sandbox may cost left idle (both case studies), and the goal: `test/cost` holds it. */
export const IDLE_BUDGET = { limit: 40, goal: 25 } as const;

/** The sandbox left deployed with no traffic: what each case study bills, by service, from the `idle` profile. */
export function renderIdle(): string {
  const profile = loadUsageProfile(IDLE_PROFILE);
  const e = estimateFor(profile);
  const cases = [...new Set(e.lines.map((l) => caseOf(l.stack)))].sort();
  const services = [...new Set(e.lines.map((l) => serviceOf(l.type)))];
  const cell = (service: string | undefined, c: string | undefined) =>
    sumOf(e.lines.filter((l) => (!service || serviceOf(l.type) === service) && (!c || caseOf(l.stack) === c)));
  const rows = services
    .map((service) => ({ service, total: cell(service, undefined) }))
    .filter((r) => r.total >= 0.005)
    .sort((a, b) => b.total - a.total);
  return [
    `| service | ${cases.join(' | ')} | both |`,
    `|---|${cases.map(() => '---:').join('|')}|---:|`,
    ...rows.map((r) => `| ${r.service} | ${cases.map((c) => usd(cell(r.service, c))).join(' | ')} | ${usd(r.total)} |`),
    `| **total** | ${cases.map((c) => `**${usd(cell(undefined, c))}**`).join(' | ')} | **${usd(e.totalMonthly)}** |`,
    '',
    `Budget: at most ${usd(IDLE_BUDGET.limit, 0)} a month for both case studies (goal ${usd(IDLE_BUDGET.goal, 0)}); reproduce with \`npm run --silent cost -- --stage sandbox --usage ${IDLE_PROFILE}\`.`,
  ].join('\n');
}

/** The README's summary: each committed profile's monthly total per case study. */
export function renderCostSummary(): string {
  const rows = committedProfiles().map((name) => {
    const profile = loadUsageProfile(name);
    const e = estimateFor(profile);
    const of = (c: string) => sumOf(e.lines.filter((l) => caseOf(l.stack) === c));
    return `| \`${name}\` | ${profile.description.replace(/^[a-z0-9-]+: /, '')} | ${usd(of('Recommender'))} | ${usd(of('Vision'))} | **${usd(e.totalMonthly)}** |`;
  });
  return [
    '| usage profile | scenario | recommender | vision | both |',
    '|---|---|---:|---:|---:|',
    ...rows,
    '',
    `Monthly, ${loadLatestPriceTable().date} list prices for us-east-1, no free tiers; \`npm run --silent cost -- --stage <stage> --usage <profile>\` prints every line.`,
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
  { file: 'README.md', name: 'cost-summary', render: renderCostSummary },
  { file: 'docs/cost/sandbox.md', name: 'cost-idle', render: renderIdle },
  { file: 'docs/cost/sandbox.md', name: 'cost-estimate-idle', render: () => renderCaseEstimate(IDLE_PROFILE) },
  { file: 'docs/cost/usage-profiles.md', name: 'usage-keys', render: renderUsageKeys },
  { file: 'docs/cost/README.md', name: 'cost-resource-types', render: renderResourceTypes },
  { file: 'docs/cost/README.md', name: 'cost-price-table', render: renderPriceTableSummary },
];
