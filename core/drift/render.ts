/** Human-readable rendering of a drift report (the CLI's `--format table`). */
import type { DriftReport, FeatureResult } from './engine';

const fixed = (n: number | undefined, digits = 4) =>
  n === undefined || Number.isNaN(n)
    ? '-'
    : Math.abs(n) >= 1e4 || (n !== 0 && Math.abs(n) < 1e-4)
      ? n.toExponential(2)
      : n.toFixed(digits);

function testCell(f: FeatureResult): string {
  if (!f.test) return '-';
  const sided = f.direction === 'both' ? '' : ` (${f.direction})`;
  return `${f.test.name}${sided} p=${fixed(f.test.pValue)} adj=${fixed(f.test.adjustedPValue)}`;
}

function effectCell(f: FeatureResult): string {
  return f.effect ? `${f.effect.metric}=${fixed(f.effect.value)} (≥${f.effect.threshold})` : '-';
}

/** Renders a report as an aligned text table with a verdict line. */
export function renderReportTable(report: DriftReport): string {
  const header = ['feature', 'kind', 'current n', 'effect', 'test', 'drifted'];
  const rows = report.features.map((f) => [
    f.key ? `${f.name} *` : f.name,
    f.kind,
    String(f.counts.current),
    effectCell(f),
    testCell(f),
    f.drifted ? 'YES' : f.note ? `no (${f.note})` : 'no',
  ]);
  for (const p of report.proportions) {
    rows.push([
      `${p.name} *`,
      'proportion',
      '-',
      `rel.change=${fixed(p.relativeChange)} (${fixed(p.reference)}→${fixed(p.current)})`,
      `z-test${p.direction === 'both' ? '' : ` (${p.direction})`} p=${fixed(p.pValue)} adj=${fixed(p.adjustedPValue)}`,
      p.drifted ? 'YES' : 'no',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [
    `Drift: ${report.drifted ? 'DRIFT DETECTED' : 'no drift'} (${report.reason})`,
    `Records: reference ${report.records.reference}, current ${report.records.current}, invalid ${report.records.invalid}; drifted share ${fixed(report.driftedShare, 3)}`,
    `Policy: ${report.policy.correction} at alpha ${report.policy.alpha}, drifted share ≥ ${report.policy.driftedShareThreshold}, min window ${report.policy.minWindowSize}`,
    ...(report.seasonal ?? []).map((s) => `Reference: ${s.description}`),
    ...(report.timeFields?.length ? [`Time fields (not compared): ${report.timeFields.join(', ')}`] : []),
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    '* key signal: drifts the dataset on its own',
  ];
  if (report.unexpectedFeatures.length > 0) {
    out.push(`Not in the baseline (not compared): ${report.unexpectedFeatures.join(', ')}`);
  }
  return out.join('\n');
}
