/**
 * Generated sections of the docs, so the docs never drift from the code. `npm run docs` rewrites them and says
 * which it changed (`--check` only lists the stale ones); a test regenerates them and fails when the committed
 * docs are stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  IMAGE_EVENT_SCHEMA,
  INTERACTION_EVENT_SCHEMA,
  SERVED_SLATE_SCHEMA,
  type EventSchema,
} from '../../core/contracts/events';
import {
  peakEventsPerSecond,
  planShards,
  SHARD_WRITE_BYTES_PER_SECOND,
  SHARD_WRITE_RECORDS_PER_SECOND,
} from '../../lib/config/capacity';
import { COST_DOC_BLOCKS } from '../cost/walkthrough';
import { CliError, parseFlags, runCli } from '../cli/common';
import { retrainingDiagram } from './state-machine-diagram';

/** A doc file and the generated block inside it, between `<!-- generated:NAME -->` markers. */
export interface GeneratedBlock {
  readonly file: string;
  readonly name: string;
  readonly render: () => string;
}

function schemaTable(schema: EventSchema): string {
  // Fields of an `array<struct>` follow it as `items[].field`.
  const rows = schema.fields.flatMap((f) =>
    [f, ...(f.fields ?? []).map((n) => ({ ...n, name: `${f.name}[].${n.name}` }))].map(
      (x) =>
        `| \`${x.name}\` | ${x.type} | ${x.required ? 'yes' : 'no'} | ${x.description}${
          x.values ? ` One of: ${x.values.map((v) => `\`${v}\``).join(', ')}.` : ''
        } |`,
    ),
  );
  return [
    `### \`${schema.name}\` (version ${schema.version})`,
    '',
    schema.description,
    '',
    '| field | type | required | meaning |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The capacity-planning scenarios shown in the docs. */
export const CAPACITY_SCENARIOS = [10_000, 1_000_000, 100_000_000].map((dailyActiveUsers) => ({
  dailyActiveUsers,
  eventsPerUserPerDay: 40,
  peakToAverage: 3,
  averageEventSizeBytes: 600,
  headroom: 1.5,
}));

function capacityTable(): string {
  const rows = CAPACITY_SCENARIOS.map((s) => {
    const peak = peakEventsPerSecond(s);
    const plan = planShards({
      peakEventsPerSecond: peak,
      averageEventSizeBytes: s.averageEventSizeBytes,
      headroom: s.headroom,
    });
    return `| ${fmt(s.dailyActiveUsers)} | ${fmt((s.dailyActiveUsers * s.eventsPerUserPerDay) / 86_400, 1)} | ${fmt(peak, 1)} | ${fmt(
      plan.bytesPerSecond / SHARD_WRITE_BYTES_PER_SECOND,
      3,
    )} | ${fmt(plan.shardsForBytes, 2)} | ${fmt(plan.shardsForRecords, 2)} | **${plan.shardCount}** (${plan.limitedBy}) |`;
  });
  return [
    `Assumptions: 40 events per user per day, peak hour 3× the daily average, 600-byte events, 1.5× headroom; a shard takes ${fmt(
      SHARD_WRITE_RECORDS_PER_SECOND,
    )} records/s or 1 MiB/s.`,
    '',
    '| daily users | average events/s | peak events/s | peak MiB/s | shards for bytes (×1.5) | shards for records (×1.5) | shards |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

/** Every generated block of the docs. */
export const GENERATED_BLOCKS: readonly GeneratedBlock[] = [
  {
    file: 'docs/event-schemas.md',
    name: 'schemas',
    render: () =>
      [schemaTable(INTERACTION_EVENT_SCHEMA), schemaTable(SERVED_SLATE_SCHEMA), schemaTable(IMAGE_EVENT_SCHEMA)].join(
        '\n\n',
      ),
  },
  { file: 'docs/capacity-planning.md', name: 'capacity-table', render: capacityTable },
  ...COST_DOC_BLOCKS,
  {
    file: 'docs/ARCHITECTURE.md',
    name: 'retraining-diagram-production-recommender',
    render: () => retrainingDiagram('production', 'recommender'),
  },
  {
    file: 'docs/case-studies/recommender.md',
    name: 'retraining-diagram-sandbox-recommender',
    render: () => retrainingDiagram('sandbox', 'recommender'),
  },
  {
    file: 'docs/case-studies/vision.md',
    name: 'retraining-diagram-sandbox-vision',
    render: () => retrainingDiagram('sandbox', 'vision'),
  },
];

const markers = (name: string) => [`<!-- generated:${name} -->`, `<!-- /generated:${name} -->`] as const;

/** The file's content with the block regenerated. */
export function regenerate(root: string, block: GeneratedBlock): { current: string; expected: string } {
  const current = readFileSync(join(root, block.file), 'utf8');
  const [open, close] = markers(block.name);
  const start = current.indexOf(open);
  const end = current.indexOf(close);
  if (start < 0 || end < start) throw new Error(`${block.file} has no ${open} … ${close} block`);
  const expected = `${current.slice(0, start + open.length)}\n${block.render()}\n${current.slice(end)}`;
  return { current, expected };
}

/** What a run of `npm run docs` did: each block with whether it changed. */
export interface DocsRun {
  readonly blocks: ReadonlyArray<{ readonly file: string; readonly name: string; readonly changed: boolean }>;
}

/**
 * Regenerates every block under `root`; writes the changed files unless `check` is set. The files are read and
 * written block by block, so several blocks of one file compose.
 */
export function generateDocs(root: string, options: { check?: boolean } = {}): DocsRun {
  const blocks = GENERATED_BLOCKS.map((block) => {
    const { current, expected } = regenerate(root, block);
    const changed = current !== expected;
    if (changed && !options.check) writeFileSync(join(root, block.file), expected);
    return { file: block.file, name: block.name, changed };
  });
  return { blocks };
}

/** The report of a run: one line per changed block, then a count. */
export function renderDocsRun(run: DocsRun, check = false): string {
  const changed = run.blocks.filter((b) => b.changed);
  const files = new Set(run.blocks.map((b) => b.file)).size;
  const lines = changed.map((b) => `${check ? 'stale' : 'updated'} ${b.file} (${b.name})`);
  lines.push(
    changed.length === 0
      ? `all ${run.blocks.length} generated blocks in ${files} files are current`
      : `${changed.length} of ${run.blocks.length} generated blocks ${check ? 'are stale (run npm run docs)' : 'regenerated'}; the others are current`,
  );
  return lines.join('\n');
}

/** The flags of `docs`, with what `--help` says about each. */
export const DOCS_FLAGS = {
  check: {
    type: 'boolean',
    description: 'write nothing: list the stale blocks and exit 1 when any is stale (for CI)',
  },
} as const;

const USAGE =
  'usage: npm run docs -- [--check]\n  Regenerates the generated blocks of docs/ (<!-- generated:NAME --> markers) from the code.';

/** `npm run docs [-- --check]`: regenerates (or checks) the docs under `root`; returns the report. */
export function docsCli(argv: readonly string[], root = join(__dirname, '..', '..')): string {
  const flags = parseFlags(argv, DOCS_FLAGS, USAGE);
  let run: DocsRun;
  try {
    run = generateDocs(root, { check: flags.check });
  } catch (e) {
    // A doc without its markers, or missing altogether: one line naming the file and the block.
    if (e instanceof Error && /has no <!-- generated:|ENOENT/.test(e.message)) throw new CliError(e.message);
    throw e;
  }
  if (flags.check && run.blocks.some((b) => b.changed)) process.exitCode = 1;
  return renderDocsRun(run, flags.check);
}

if (require.main === module) void runCli('docs', () => docsCli(process.argv.slice(2)));
