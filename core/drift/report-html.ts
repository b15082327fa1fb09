/**
 * The drift report as one self-contained HTML page (the CLI's `--format html`, and the page the checker writes
 * next to its JSON report): inline CSS and inline SVG, no script and nothing fetched at view time.
 *
 * It shows the verdict and its reason, the reference used (whole baseline or the seasonal phases), the drift score
 * over time when several windows are known, and, per feature, the reference and current distributions overlaid with
 * the statistic, its threshold and the decision. Features are ordered drifted first, then by how close their effect
 * is to its threshold.
 */
import type { FeatureDistribution } from './distribution';
import type { DriftReport, FeatureResult, ProportionResult } from './engine';
import type { QualityResult } from './quality';

/** One window of the drift score over time. */
export interface WindowScore {
  /** A label: the window's end, or a file name. */
  readonly label: string;
  readonly drifted: boolean;
  readonly driftedShare: number;
  /** Effect ÷ threshold per feature (≥ 1 passes the threshold). */
  readonly effects?: Readonly<Record<string, number>>;
}

/** What the page shows besides the report. */
export interface HtmlReportOptions {
  /** Page title. @default 'Drift report' */
  readonly title?: string;
  /** One line under the title, e.g. the endpoint and the window. */
  readonly subtitle?: string;
  /** Previous windows and this one, oldest first (shown when there are at least two). */
  readonly history?: readonly WindowScore[];
}

const REFERENCE_COLOR = '#2b6cb0';
const CURRENT_COLOR = '#dd6b20';

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function num(n: number | undefined, digits = 3): string {
  if (n === undefined || Number.isNaN(n)) return '–';
  if (n !== 0 && (Math.abs(n) < 1e-3 || Math.abs(n) >= 1e5)) return n.toExponential(2);
  return Number(n.toFixed(digits)).toString();
}

/** The `stats` field holding each effect metric. */
const STAT_OF_EFFECT: Readonly<Record<string, string>> = {
  psi: 'psi',
  wasserstein: 'wassersteinNormalized',
  'jensen-shannon': 'jensenShannon',
  'cramers-v': 'cramersV',
  mmd2: 'mmd2',
};

const ratio = (f: FeatureResult) => (f.effect && f.effect.threshold > 0 ? f.effect.value / f.effect.threshold : 0);

/** The score of a report for the history: drifted share and effect ratios. */
export function windowScore(label: string, report: DriftReport): WindowScore {
  const effects: Record<string, number> = {};
  for (const f of report.features) if (f.effect) effects[f.name] = Number(ratio(f).toPrecision(4));
  return { label, drifted: report.drifted, driftedShare: report.driftedShare, effects };
}

function badge(drifted: boolean, yes = 'DRIFT', no = 'no drift'): string {
  return `<span class="badge ${drifted ? 'bad' : 'ok'}">${drifted ? yes : no}</span>`;
}

function distributionSvg(d: FeatureDistribution): string {
  const width = 460;
  const height = 170;
  const pad = { left: 40, right: 16, top: 8, bottom: 34 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const max = Math.max(...d.reference, ...d.current, 1e-9);
  const y = (v: number) => pad.top + h - (v / max) * h;
  const parts: string[] = [];
  const n = d.reference.length;
  const band = w / n;
  for (let i = 0; i < n; i++) {
    const x = pad.left + i * band;
    const bw = d.kind === 'bins' ? band : band / 2 - 1;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${y(d.reference[i]).toFixed(1)}" width="${Math.max(1, bw - 0.5).toFixed(1)}" height="${(pad.top + h - y(d.reference[i])).toFixed(1)}" fill="${REFERENCE_COLOR}" fill-opacity="${d.kind === 'bins' ? 0.35 : 0.8}"/>`,
    );
    const cx = d.kind === 'bins' ? x : x + band / 2;
    parts.push(
      `<rect x="${cx.toFixed(1)}" y="${y(d.current[i]).toFixed(1)}" width="${Math.max(1, bw - 0.5).toFixed(1)}" height="${(pad.top + h - y(d.current[i])).toFixed(1)}" fill="${CURRENT_COLOR}" fill-opacity="${d.kind === 'bins' ? 0.35 : 0.8}"/>`,
    );
  }
  if (d.kind === 'bins') {
    // The current distribution as a step line on top, so both stay readable where they overlap.
    let path = '';
    for (let i = 0; i < n; i++) {
      const x0 = pad.left + i * band;
      path += `${i === 0 ? 'M' : 'L'}${x0.toFixed(1)},${y(d.current[i]).toFixed(1)}L${(x0 + band).toFixed(1)},${y(d.current[i]).toFixed(1)}`;
    }
    parts.push(`<path d="${path}" fill="none" stroke="${CURRENT_COLOR}" stroke-width="1.5"/>`);
    const ticks: Array<[number, string]> = [
      [0, 'start'],
      [Math.floor(n / 2), 'middle'],
      [n, 'end'],
    ];
    for (const [t, anchor] of ticks) {
      const x = pad.left + t * band;
      parts.push(
        `<text x="${x.toFixed(1)}" y="${height - 18}" text-anchor="${anchor}" class="tick">${escapeHtml(num(d.edges[t], 2))}</text>`,
      );
    }
  } else {
    // Few categories: level labels under their pair of bars; many: the first characters, slanted.
    const slanted = n > 6;
    const room = slanted ? 10 : Math.max(4, Math.floor(band / 6.5));
    for (let i = 0; i < n; i++) {
      const x = pad.left + (i + 0.5) * band;
      const name = d.categories[i];
      const label = name.length > room ? `${name.slice(0, room - 1)}…` : name;
      parts.push(
        slanted
          ? `<text x="${x.toFixed(1)}" y="${height - 24}" text-anchor="end" transform="rotate(-35 ${x.toFixed(1)} ${height - 24})" class="tick"><title>${escapeHtml(name)}</title>${escapeHtml(label)}</text>`
          : `<text x="${x.toFixed(1)}" y="${height - 18}" text-anchor="middle" class="tick"><title>${escapeHtml(name)}</title>${escapeHtml(label)}</text>`,
      );
    }
  }
  parts.push(
    `<line x1="${pad.left}" y1="${pad.top + h}" x2="${pad.left + w}" y2="${pad.top + h}" stroke="#999"/>`,
    `<text x="${pad.left - 4}" y="${pad.top + 8}" text-anchor="end" class="tick">${(max * 100).toFixed(0)}%</text>`,
    `<text x="${pad.left - 4}" y="${pad.top + h}" text-anchor="end" class="tick">0</text>`,
  );
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="reference and current distributions">${parts.join('')}</svg>`;
}

function featureCard(f: FeatureResult): string {
  const rows: Array<[string, string]> = [];
  if (f.test) {
    rows.push([
      `${f.test.name}${f.direction !== 'both' ? ` (one-sided: ${f.direction})` : ''}`,
      `p ${num(f.test.pValue)}, adjusted ${num(f.test.adjustedPValue)} ${f.test.significant ? '≤' : '>'} α`,
    ]);
  }
  if (f.effect) {
    rows.push([
      f.effect.metric,
      `<b>${num(f.effect.value)}</b> ${f.effect.passed ? '≥' : '<'} threshold ${num(f.effect.threshold)}`,
    ]);
  }
  const effectKey = f.effect ? STAT_OF_EFFECT[f.effect.metric] : undefined;
  const other = Object.entries(f.stats)
    .filter(([k, v]) => k !== effectKey && typeof v === 'number')
    .map(([k, v]) => `${k} ${num(v as number)}`);
  if (other.length > 0) rows.push(['other statistics', other.join(' · ')]);
  rows.push(['reference', escapeHtml(f.reference.description)]);
  rows.push([
    'values',
    `reference ${f.counts.reference.toLocaleString('en-US')} · current ${f.counts.current.toLocaleString('en-US')} (missing ${f.counts.currentMissing.toLocaleString('en-US')})`,
  ]);
  if (f.note) rows.push(['note', escapeHtml(f.note)]);
  const chart = f.distribution
    ? distributionSvg(f.distribution)
    : `<p class="muted">${f.kind === 'embedding' ? 'Embedding: compared by MMD on projected vectors (no 1-D plot).' : 'No values to plot.'}</p>`;
  return `<section class="card${f.drifted ? ' drifted' : ''}" data-feature="${escapeHtml(f.name)}">
<h3>${escapeHtml(f.name)}${f.key ? ' <span class="key" title="key signal: drifts the dataset on its own">key</span>' : ''} <span class="kind">${f.kind}</span> ${badge(f.drifted)}</h3>
${chart}
<table class="stats">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${v}</td></tr>`).join('')}</table>
</section>`;
}

function historySvg(history: readonly WindowScore[], threshold: number): string {
  const width = 940;
  const height = 200;
  const pad = { left: 44, right: 12, top: 12, bottom: 44 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const x = (i: number) => pad.left + (history.length === 1 ? w / 2 : (i * w) / (history.length - 1));
  const y = (v: number) => pad.top + h - Math.min(1, v) * h;
  const line = history
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.driftedShare).toFixed(1)}`)
    .join('');
  const points = history
    .map(
      (p, i) =>
        `<circle cx="${x(i).toFixed(1)}" cy="${y(p.driftedShare).toFixed(1)}" r="4" fill="${p.drifted ? '#c53030' : '#2f855a'}"><title>${escapeHtml(p.label)}: ${(p.driftedShare * 100).toFixed(0)}% of features drifted${p.drifted ? ' (window drifted)' : ''}</title></circle>`,
    )
    .join('');
  const step = Math.max(1, Math.ceil(history.length / 8));
  const labels = history
    .map((p, i) =>
      i % step === 0 || i === history.length - 1
        ? `<text x="${x(i).toFixed(1)}" y="${height - 24}" text-anchor="${history.length > 1 && i === 0 ? 'start' : history.length > 1 && i === history.length - 1 ? 'end' : 'middle'}" class="tick">${escapeHtml(p.label.length > 16 ? p.label.slice(-16) : p.label)}</text>`
        : '',
    )
    .join('');
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="drift score over time">
<line x1="${pad.left}" y1="${y(threshold)}" x2="${pad.left + w}" y2="${y(threshold)}" stroke="#c53030" stroke-dasharray="4 3"/>
<text x="${pad.left + w}" y="${y(threshold) - 4}" text-anchor="end" class="tick">drifted-share threshold ${threshold}</text>
<line x1="${pad.left}" y1="${pad.top + h}" x2="${pad.left + w}" y2="${pad.top + h}" stroke="#999"/>
<text x="${pad.left - 6}" y="${pad.top + 8}" text-anchor="end" class="tick">100%</text>
<text x="${pad.left - 6}" y="${pad.top + h}" text-anchor="end" class="tick">0%</text>
<path d="${line}" fill="none" stroke="#4a5568" stroke-width="2"/>${points}${labels}</svg>`;
}

function historyTable(history: readonly WindowScore[], features: readonly string[]): string {
  const cell = (v: number | undefined) => {
    if (v === undefined) return '<td class="muted">–</td>';
    const alpha = Math.min(1, v / 2);
    const color = alpha > 0.55 ? ';color:#fff' : '';
    return `<td style="background:rgba(197,48,48,${alpha.toFixed(2)})${color}" title="effect ÷ threshold">${num(v, 2)}</td>`;
  };
  const head = history
    .map((p) => `<th>${escapeHtml(p.label.length > 16 ? p.label.slice(-16) : p.label)}</th>`)
    .join('');
  const rows = features
    .map((name) => `<tr><th>${escapeHtml(name)}</th>${history.map((p) => cell(p.effects?.[name])).join('')}</tr>`)
    .join('');
  return `<div class="scroll"><table class="heat"><tr><th>effect ÷ threshold</th>${head}</tr>${rows}</table></div>`;
}

function proportionsTable(proportions: readonly ProportionResult[]): string {
  if (proportions.length === 0) return '';
  const rows = proportions
    .map(
      (p) =>
        `<tr data-signal="${escapeHtml(p.name)}"><td>${escapeHtml(p.name)}</td><td>${(p.reference * 100).toFixed(2)}%</td><td>${(p.current * 100).toFixed(2)}%</td><td>${num(p.relativeChange)}</td><td>${p.direction}</td><td>${num(p.z)}</td><td>${num(p.adjustedPValue)}</td><td>${badge(p.drifted)}</td></tr>`,
    )
    .join('');
  return `<h2>Proportion signals</h2><table class="list"><tr><th>signal</th><th>reference</th><th>current</th><th>relative change</th><th>alarms on</th><th>z</th><th>adjusted p</th><th>decision</th></tr>${rows}</table>`;
}

function qualityTable(quality: readonly QualityResult[] | undefined): string {
  if (!quality || quality.length === 0) return '';
  const rows = quality
    .map(
      (q) =>
        `<tr data-quality="${escapeHtml(q.name)}"><td>${escapeHtml(q.name)}</td><td>${num(q.value, 4)} [${num(q.interval.lower, 4)}, ${num(q.interval.upper, 4)}]</td><td>${q.reference ? `${num(q.reference.value, 4)}` : '–'}</td><td>${q.samples.toLocaleString('en-US')}</td><td>${num(q.adjustedPValue)}</td><td>${badge(q.dropped, 'DROP', 'ok')}</td></tr>`,
    )
    .join('');
  return `<h2>Realised quality</h2><table class="list"><tr><th>metric</th><th>value [${((quality[0].interval.level ?? 0.95) * 100).toFixed(0)}% interval]</th><th>reference</th><th>samples</th><th>adjusted p (drop)</th><th>decision</th></tr>${rows}</table>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a202c;margin:0;background:#f7fafc}
main{max-width:1000px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}h3{font-size:15px;margin:0 0 6px}
.muted{color:#718096}.sub{color:#4a5568;margin:0 0 12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;vertical-align:middle}
.badge.bad{background:#fed7d7;color:#9b2c2c}.badge.ok{background:#c6f6d5;color:#22543d}
.verdict{font-size:16px;padding:12px 16px;border-radius:8px;background:#fff;border:1px solid #e2e8f0;margin:12px 0}
.verdict.bad{border-color:#fc8181}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px -1px 12px;border-radius:2px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:14px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 14px}.card.drifted{border-color:#fc8181;box-shadow:0 0 0 1px #fc8181}
.kind{font-weight:400;color:#718096;font-size:12px}.key{font-size:11px;background:#edf2f7;border-radius:4px;padding:0 4px}
table{border-collapse:collapse}table.stats{width:100%;font-size:13px}table.stats th{text-align:left;color:#4a5568;font-weight:500;padding:2px 8px 2px 0;white-space:nowrap;vertical-align:top}
table.stats td{padding:2px 0}table.list{background:#fff;border:1px solid #e2e8f0;width:100%}table.list th,table.list td{padding:5px 8px;border-bottom:1px solid #edf2f7;text-align:left}
table.heat th,table.heat td{padding:3px 6px;border:1px solid #e2e8f0;font-size:12px;text-align:center}table.heat th:first-child{text-align:left}
.scroll{overflow-x:auto;background:#fff}.tick{font-size:11px;fill:#4a5568}svg{display:block}
`;

/** Renders a drift report as a self-contained HTML page. */
export function renderReportHtml(
  report: DriftReport & { quality?: QualityResult[] },
  options: HtmlReportOptions = {},
): string {
  const title = options.title ?? 'Drift report';
  const features = [...report.features].sort(
    (a, b) => Number(b.drifted) - Number(a.drifted) || ratio(b) - ratio(a) || (a.name < b.name ? -1 : 1),
  );
  const judged = report.features.filter((f) => f.test).length;
  const drifted = report.features.filter((f) => f.drifted).length;
  const seasonal = report.seasonal?.length
    ? report.seasonal.map((s) => `<li>${escapeHtml(s.description)}</li>`).join('')
    : '<li>whole baseline (no seasonal comparison)</li>';
  const history = options.history ?? [];
  const historySection =
    history.length >= 2
      ? `<h2>Drift score over time</h2><p class="muted">Share of features drifted per window; red points are windows that drifted.</p>${historySvg(history, report.policy.driftedShareThreshold)}${historyTable(
          history,
          features.map((f) => f.name),
        )}`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
${options.subtitle ? `<p class="sub">${escapeHtml(options.subtitle)}</p>` : ''}
<div class="verdict${report.drifted ? ' bad' : ''}">${badge(report.drifted, 'DRIFT DETECTED', 'NO DRIFT')} ${escapeHtml(report.reason)}</div>
<table class="stats" style="max-width:760px">
<tr><th>records</th><td>reference ${report.records.reference.toLocaleString('en-US')} · current ${report.records.current.toLocaleString('en-US')} · invalid ${report.records.invalid.toLocaleString('en-US')}</td></tr>
<tr><th>features</th><td>${drifted} of ${judged} drifted (share ${num(report.driftedShare)}; the dataset drifts at ${report.policy.driftedShareThreshold} or when a key signal drifts)</td></tr>
<tr><th>decision rule</th><td>${escapeHtml(report.policy.correction)} at α ${report.policy.alpha}; a feature drifts when its test is significant and its effect reaches its threshold, with at least ${report.policy.minWindowSize} current values</td></tr>
<tr><th>reference</th><td><ul style="margin:0;padding-left:18px">${seasonal}</ul></td></tr>
${report.timeFields?.length ? `<tr><th>time fields</th><td>${escapeHtml(report.timeFields.join(', '))} (not compared)</td></tr>` : ''}
${report.unexpectedFeatures.length ? `<tr><th>not in the baseline</th><td>${escapeHtml(report.unexpectedFeatures.join(', '))}</td></tr>` : ''}
</table>
${historySection}
${qualityTable(report.quality)}
${proportionsTable(report.proportions)}
<h2>Features</h2>
<p class="legend muted">Distributions:<span style="background:${REFERENCE_COLOR};opacity:.6"></span>reference<span style="background:${CURRENT_COLOR};opacity:.8"></span>current</p>
<div class="grid">${features.map(featureCard).join('\n')}</div>
</main></body></html>
`;
}
