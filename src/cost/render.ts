/** Renders an estimate as a text table (by stack and service, with subtotals), Markdown, or a comparison. */
import { serviceOf } from './registry';
import { round6, type CostLine, type Estimate } from './types';

/** `$1,234.56`. */
export const usd = (n: number, digits = 2): string =>
  `${n < 0 ? '-' : ''}$${Math.abs(n).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;

/** A unit price, with as many digits as it needs. */
export const unitUsd = (n: number): string => (n === 0 ? '$0' : `$${Number(n.toPrecision(6)).toString()}`);

/** A quantity, readable. */
export const qty = (n: number): string =>
  n >= 1000
    ? Math.round(n).toLocaleString('en-US')
    : Number(n.toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: 6 });

const sum = (lines: readonly CostLine[]) => round6(lines.reduce((n, l) => n + l.monthly, 0));

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

/** The notes every rendering ends with. */
export function footnotes(e: Estimate, usageName: string): string[] {
  return [
    `* usage-based: depends on the usage profile (${usageName}); other lines are billed even when idle.`,
    `Prices: committed list prices of ${e.priceTableDate} for ${e.region} (USD); free tiers are not applied; a month is 730 hours.`,
  ];
}

/** Plain-text table grouped by stack and service, with subtotals. */
export function renderTable(e: Estimate, usageName: string): string {
  const out: string[] = [`Monthly estimate: ${e.stage} stage, ${e.region}, usage "${usageName}"`, ''];
  for (const [stack, stackLines] of [...groupBy(e.lines, (l) => l.stack)].sort((a, b) => a[0].localeCompare(b[0]))) {
    out.push(`${stack}  ${usd(sum(stackLines))}`);
    for (const [service, lines] of [...groupBy(stackLines, (l) => serviceOf(l.type))].sort(
      (a, b) => sum(b[1]) - sum(a[1]),
    )) {
      out.push(`  ${service.padEnd(28)} ${usd(sum(lines)).padStart(12)}`);
      for (const l of [...lines].sort((a, b) => b.monthly - a.monthly)) {
        out.push(
          `    ${usd(l.monthly).padStart(12)} ${l.usageBased ? '*' : ' '} ${l.resource}: ${l.component} — ${qty(l.quantity)} ${l.unit} × ${unitUsd(l.unitPrice)}`,
        );
      }
    }
    out.push('');
  }
  const byCase = [...groupBy(e.lines, (l) => l.stack.split('-')[1] ?? l.stack)].sort((a, b) =>
    a[0].localeCompare(b[0]),
  );
  if (byCase.length > 1) out.push(`By case study: ${byCase.map(([c, lines]) => `${c} ${usd(sum(lines))}`).join(', ')}`);
  out.push(`Total: ${usd(e.totalMonthly)} per month`, '', ...footnotes(e, usageName));
  return out.join('\n');
}

const mdEscape = (s: string) => s.replace(/\|/g, '\\|');

/** Markdown: a summary by stack and service, then every line. What the walkthroughs embed. */
export function renderMarkdown(e: Estimate, usageName: string, options: { details?: boolean } = {}): string {
  const out: string[] = [
    `**Total: ${usd(e.totalMonthly)} per month** (${e.stage} stage, ${e.region}, usage profile \`${usageName}\`, prices of ${e.priceTableDate}).`,
    '',
    '| stack | service | monthly | of which usage-based |',
    '|---|---|---:|---:|',
  ];
  for (const [stack, stackLines] of [...groupBy(e.lines, (l) => l.stack)].sort((a, b) => a[0].localeCompare(b[0]))) {
    for (const [service, lines] of [...groupBy(stackLines, (l) => serviceOf(l.type))].sort(
      (a, b) => sum(b[1]) - sum(a[1]),
    )) {
      out.push(`| ${stack} | ${service} | ${usd(sum(lines))} | ${usd(sum(lines.filter((l) => l.usageBased)))} |`);
    }
    out.push(`| **${stack}** | **subtotal** | **${usd(sum(stackLines))}** | |`);
  }
  out.push(
    `| **all stacks** | **total** | **${usd(e.totalMonthly)}** | **${usd(sum(e.lines.filter((l) => l.usageBased)))}** |`,
  );
  if (options.details ?? true) {
    out.push(
      '',
      '<details><summary>Every line</summary>',
      '',
      '| stack | resource | component | quantity | unit | unit price | monthly |',
      '|---|---|---|---:|---|---:|---:|',
      ...[...e.lines]
        .sort((a, b) => b.monthly - a.monthly || a.stack.localeCompare(b.stack) || a.resource.localeCompare(b.resource))
        .map(
          (l) =>
            `| ${l.stack} | ${l.resource} | ${mdEscape(l.component)}${l.usageBased ? ' \\*' : ''} | ${qty(l.quantity)} | ${l.unit} | ${unitUsd(l.unitPrice)} | ${usd(l.monthly)} |`,
        ),
      '',
      '</details>',
    );
  }
  out.push('', ...footnotes(e, usageName).map((n) => n.replace(/^\* /, '\\* ')));
  return out.join('\n');
}

/** A stage-independent key: `Recommender-Data` from `Sandbox-Recommender-Data`. */
const partOf = (stack: string) => stack.split('-').slice(1).join('-');

/** Rows of a comparison: per case-study stack and service, both stages and the difference. */
export function compareRows(a: Estimate, b: Estimate) {
  const keys = new Set([...a.lines, ...b.lines].map((l) => `${partOf(l.stack)}\t${serviceOf(l.type)}`));
  const total = (e: Estimate, key: string) =>
    sum(e.lines.filter((l) => `${partOf(l.stack)}\t${serviceOf(l.type)}` === key));
  return [...keys].sort().map((key) => {
    const [stack, service] = key.split('\t');
    const x = total(a, key);
    const y = total(b, key);
    return { stack, service, [a.stage]: x, [b.stage]: y, difference: round6(y - x) };
  });
}

/** Both stages side by side, per stack and service, with the difference. */
export function renderCompare(a: Estimate, b: Estimate, format: 'table' | 'markdown'): string {
  const rows = compareRows(a, b);
  const diff = round6(b.totalMonthly - a.totalMonthly);
  if (format === 'markdown') {
    return [
      `| stack | service | ${a.stage} | ${b.stage} | difference |`,
      '|---|---|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.stack} | ${r.service} | ${usd(r[a.stage] as number)} | ${usd(r[b.stage] as number)} | ${usd(r.difference)} |`,
      ),
      `| **total** | | **${usd(a.totalMonthly)}** | **${usd(b.totalMonthly)}** | **${usd(diff)}** |`,
    ].join('\n');
  }
  const w = 14;
  return [
    `${'stack'.padEnd(20)} ${'service'.padEnd(24)} ${a.stage.padStart(w)} ${b.stage.padStart(w)} ${'difference'.padStart(w)}`,
    ...rows.map(
      (r) =>
        `${r.stack.padEnd(20)} ${r.service.padEnd(24)} ${usd(r[a.stage] as number).padStart(w)} ${usd(r[b.stage] as number).padStart(w)} ${usd(r.difference).padStart(w)}`,
    ),
    `${'total'.padEnd(45)} ${usd(a.totalMonthly).padStart(w)} ${usd(b.totalMonthly).padStart(w)} ${usd(diff).padStart(w)}`,
    '',
    `Prices of ${a.priceTableDate} for ${a.region}; free tiers not applied; a month is 730 hours.`,
  ].join('\n');
}
