/**
 * The run's self-contained HTML report (report.html): a summary, the best trial, the Pareto plot
 * and table, reward over trials, latency against MACs, and every trial in a sortable, filterable,
 * paged table. No network access: the plots are inline SVG, the table is a few lines of inline
 * script over the trials embedded as JSON (a static table of the top trials without script).
 *
 * Big runs stay small and quick to write: a plot draws one marker per pixel cell it would cover
 * (markers that would hide each other are left out), hover labels go only on the front and the
 * best trial once there are more than LABELLED_POINTS points, and the table carries architecture
 * strings for the ARCH_ROWS best trials and the front only (`mnas runs export` has them all).
 */
import { escapeXml, scatterSvg, type ScatterPoint } from '../latency/svg.js';
import { offText, startOffSpeed, type DriftSummary } from './drift.js';
import type { SearchOutputs } from './outputs.js';
import type { SearchConfig } from './config.js';
import { trialPoints, type TrialPoint } from './trial-points.js';
import type { RewardConfig } from './reward.js';
import type { TrialBrief } from './run-store.js';
import { activeSeconds } from './trial-times.js';

export interface ReportContext {
  title: string;
  config: unknown;
  reward: RewardConfig;
  device: unknown;
  optimumReward?: number;
  final?: unknown;
  /** The run's budget (trials). */
  budget?: number;
  /** The run's state when the report is written ('running', 'finished', 'stopped', ...). */
  state?: string;
  /** The drift of the latency device seen by the run's checks (measured latency sources). */
  drift?: DriftSummary;
}

/** The report's title: what was searched, how. */
export function reportTitle(config: SearchConfig): string {
  return `mnas search: ${config.space}, ${config.strategy.kind}, ${config.evaluator}`;
}

/** Above this many points a plot labels only the front and the best trial. */
export const LABELLED_POINTS = 1000;
/** The trials table carries architecture strings for this many best trials (and the front). */
export const ARCH_ROWS = 2000;
/** The static table shown without script: this many best trials. */
const STATIC_ROWS = 50;

export function renderReport(trials: readonly TrialBrief[], s: SearchOutputs, ctx: ReportContext, now: Date = new Date()): string {
  const points = trialPoints(trials);
  const onFront = new Set(s.pareto.map((p) => p.trial));
  const labelAll = points.length <= LABELLED_POINTS;
  const labelled = (p: TrialPoint) => labelAll || onFront.has(p.trial) || p.trial === s.best?.trial;
  const pt = (p: TrialPoint, x: number, y: number): ScatterPoint =>
    labelled(p) ? { x, y, label: `trial ${p.trial}: acc ${(p.accuracy * 100).toFixed(2)}%, ${p.latency_ms.toFixed(3)} ms, reward ${p.reward.toFixed(4)}\n${p.arch}` } : { x, y };

  const frontPts = s.pareto.map((p) => pt(p, p.latency_ms, p.accuracy * 100));
  const pareto = scatterSvg({
    title: 'Accuracy against measured latency',
    xLabel: 'latency (ms)',
    yLabel: 'validation accuracy (%)',
    series: [
      { name: 'trials', color: '#8aa4c8', points: thin(points.filter((p) => !onFront.has(p.trial)).map((p) => pt(p, p.latency_ms, p.accuracy * 100))) },
      { name: 'Pareto front', color: '#d9480f', points: frontPts },
    ],
    links: frontPts.slice(1).map((to, i) => ({ from: frontPts[i] as ScatterPoint, to, color: '#d9480f' })),
    footnote: `target T = ${ctx.reward.targetMs.toFixed(3)} ms, reward = ACC x (LAT/T)^w, alpha ${ctx.reward.alpha}, beta ${ctx.reward.beta}`,
  });

  // best so far: a step line through the trials that raised it
  const ordered = [...points].sort((a, b) => a.trial - b.trial);
  const records: ScatterPoint[] = [];
  for (const p of ordered) if (records.length === 0 || p.reward > (records.at(-1) as ScatterPoint).y) records.push(pt(p, p.trial, p.reward));
  const steps = records.flatMap((r, i) => {
    const next = records[i + 1];
    const end = next ? next.x : (ordered.at(-1)?.trial ?? r.x);
    const corner = { x: end, y: r.y };
    return next ? [{ from: r, to: corner }, { from: corner, to: next }] : end > r.x ? [{ from: r, to: corner }] : [];
  });
  const rewardPlot = scatterSvg({
    title: 'Reward over trials',
    xLabel: 'trial',
    yLabel: 'reward',
    series: [
      { name: 'reward', color: '#8aa4c8', points: thin(ordered.map((p) => pt(p, p.trial, p.reward))) },
      { name: 'best so far', color: '#2b8a3e', points: records },
    ],
    links: steps.map((l) => ({ ...l, color: '#2b8a3e' })),
    ...(ctx.optimumReward !== undefined ? { footnote: `known optimum reward (synthetic evaluator): ${ctx.optimumReward.toFixed(4)}` } : {}),
  });
  const macsPlot = scatterSvg({
    title: 'Measured latency against MACs',
    xLabel: 'MACs',
    yLabel: 'latency (ms)',
    series: [{ name: 'trials', color: '#5f3dc4', points: thin(points.filter((p) => p.macs !== null).map((p) => pt(p, p.macs as number, p.latency_ms))) }],
  });

  const paretoRows = s.pareto
    .map((p) => `<tr><td>${p.trial}</td><td>${(p.accuracy * 100).toFixed(2)}</td><td>${p.latency_ms.toFixed(3)}</td><td>${p.reward.toFixed(4)}</td><td>${p.macs ?? ''}</td><td>${p.params ?? ''}</td><td><code>${escapeXml(p.arch)}</code></td></tr>`)
    .join('\n');
  const best = s.best
    ? `<p>Best by reward: trial ${s.best.trial}, accuracy ${(s.best.accuracy * 100).toFixed(2)}%, latency ${s.best.latency_ms.toFixed(3)} ms, reward ${s.best.reward.toFixed(4)}<br><code>${escapeXml(s.best.arch)}</code></p>`
    : '<p>No trial has finished yet.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(ctx.title)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:last-child{text-align:left}th[data-i]{cursor:pointer;background:#f3f3f3}code{font-size:12px}pre{background:#f6f6f6;padding:8px;overflow:auto}figure{margin:1em 0}table.kv td{text-align:left}.pager{margin:.5em 0}.pager input{width:22em}</style>
</head><body>
<h1>${escapeXml(ctx.title)}</h1>
${summaryTable(trials, s, ctx, now)}
${best}
<figure>${inlineSvg(pareto)}</figure>
<h2>Pareto front</h2>
<table><tr><th>trial</th><th>accuracy %</th><th>latency ms</th><th>reward</th><th>MACs</th><th>params</th><th>architecture</th></tr>
${paretoRows}
</table>
<figure>${inlineSvg(rewardPlot)}</figure>
<figure>${inlineSvg(macsPlot)}</figure>
${trialsSection(trials, s)}
${ctx.final ? `<h2>Final training</h2><pre>${escapeXml(JSON.stringify(ctx.final, null, 2))}</pre>` : ''}
<h2>Configuration</h2><pre>${escapeXml(JSON.stringify(ctx.config, null, 2))}</pre>
</body></html>
`;
}

function inlineSvg(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}

/** Grid cells per axis of the plot area used to drop markers hidden under others (about one per pixel). */
const THIN_CELLS = 700;

/** Keeps the first point of each grid cell (labelled points always), so a plot of 10,000 trials stays small. */
function thin(points: ScatterPoint[]): ScatterPoint[] {
  if (points.length <= LABELLED_POINTS) return points;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const p of points) {
    x0 = Math.min(x0, p.x, 0);
    x1 = Math.max(x1, p.x);
    y0 = Math.min(y0, p.y, 0);
    y1 = Math.max(y1, p.y);
  }
  const cell = (v: number, lo: number, hi: number) => Math.floor(((v - lo) / (hi - lo || 1)) * THIN_CELLS);
  const seen = new Set<number>();
  return points.filter((p) => {
    if (p.label) return true;
    const key = cell(p.x, x0, x1) * (THIN_CELLS + 1) + cell(p.y, y0, y1);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function summaryTable(trials: readonly TrialBrief[], s: SearchOutputs, ctx: ReportContext, now: Date): string {
  const pending = trials.length - s.done - s.failed;
  const rows: [string, string][] = [];
  if (ctx.state) rows.push(['state', ctx.state]);
  rows.push(['trials', `${s.done} done, ${failedText(s.failed, s.skipped)}${pending > 0 ? `, ${pending} in flight` : ''}${ctx.budget !== undefined ? ` of a budget of ${ctx.budget}` : ''}`]);
  rows.push(['best reward', s.best ? `${s.best.reward.toFixed(4)} (trial ${s.best.trial})` : '-']);
  rows.push(['Pareto front', `${s.pareto.length} trials`]);
  rows.push(['target T', `${ctx.reward.targetMs.toFixed(3)} ms (${ctx.reward.preset}: alpha ${ctx.reward.alpha}, beta ${ctx.reward.beta})`]);
  rows.push(['device', typeof ctx.device === 'string' ? ctx.device : JSON.stringify(ctx.device)]);
  if (s.measured) rows.push(['latencies measured', `${s.measured.measured} of ${s.measured.done} done trials (${(100 * s.measured.share).toFixed(1)}%); the others kept the predictor's latency and are on no front`]);
  if (ctx.drift) rows.push([driftLabel(ctx.drift), driftText(ctx.drift)]);
  for (const [kind, d] of Object.entries(s.devices ?? {})) {
    const front = d.pareto.map((p) => `trial ${p.trial} ${(p.accuracy * 100).toFixed(2)}% ${p.latency_ms.toFixed(3)} ms`).join('; ');
    rows.push([`front on ${kind}`, `${d.pareto.length} trials (of ${d.measured} measured): ${front}${d.best ? `; the best trial ${d.best.trial} takes ${d.best.latency_ms.toFixed(3)} ms there` : ''}`]);
  }
  if (trials.length > 0) rows.push(['search time', duration(activeSeconds(trials, ctx.state === 'running' ? now : undefined))]);
  rows.push(['written', now.toISOString()]);
  return `<table class="kv">${rows.map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`).join('')}</table>`;
}

/** Failed trials (`failed` counts the skipped too), telling apart those not trained because they were slower than a hard T. */
export function failedText(failed: number, skipped: number): string {
  if (skipped === 0) return `${failed} failed`;
  return `${failed - skipped} failed, ${skipped} not trained (slower than the hard target T)`;
}

/** What the drift line is about: the checks, or (interleaved) how latency was measured. */
export function driftLabel(d: DriftSummary): string {
  return d.interleaved ? 'latency measurement' : 'device drift';
}

/** One line on a run's drift checks. */
export function driftText(d: DriftSummary): string {
  if (d.interleaved) {
    const retried = d.speed_retried_trials > 0 ? `; ${d.speed_retried_trials} measured again after running in a slower speed mode (the measurement nearer the fast speed kept)` : '';
    const trials = d.trials_reference_ms !== undefined ? `, ${d.trials_reference_ms.toFixed(3)} ms at its fast speed in the trials' measurements` : '';
    const off = startOffSpeed(d.reference_ms, d.trials_reference_ms);
    const offNote = off !== undefined ? `; the start was measured in another speed mode than the trials, so every latency in ms reads about ${offText(off)} (the ratios, and rewards against a T set by the reference, are unaffected)` : '';
    return `every trial measured interleaved with the reference (${d.reference_ms.toFixed(3)} ms at the start${trials}): LAT = its ratio to the reference x the start's, no correction needed${retried}${offNote}`;
  }
  return `${d.checks} checks of the reference (${d.reference_ms.toFixed(3)} ms at the start): ratio ${d.min_ratio.toFixed(3)}-${d.max_ratio.toFixed(3)}, last ${d.last_ratio.toFixed(3)}; ${d.drifted_checks} beyond the tolerance of ${(100 * d.tolerance).toFixed(1)}%, ${d.corrected_trials} trial latencies corrected`;
}

const TABLE_COLUMNS = ['trial', 'status', 'reward', 'accuracy %', 'latency ms', 'MACs', 'params', 'reused from', 'architecture'];

type Cell = string | number | null;

function trialsSection(trials: readonly TrialBrief[], s: SearchOutputs): string {
  const byReward = [...trials].filter((t) => t.reward !== null).sort((a, b) => (b.reward as number) - (a.reward as number) || a.id - b.id);
  const allArch = trials.length <= ARCH_ROWS;
  const withArch = new Set(byReward.slice(0, ARCH_ROWS).map((t) => t.id));
  for (const p of s.pareto) withArch.add(p.trial);
  const round = (v: number | null, digits: number) => (v === null ? null : Number(v.toFixed(digits)));
  const row = (t: TrialBrief, arch: boolean): Cell[] => [
    t.id,
    t.status,
    round(t.reward, 4),
    t.accuracy === null ? null : round(t.accuracy * 100, 2),
    round(t.latencyMs, 3),
    t.macs,
    t.params,
    t.reusedFrom,
    arch ? t.arch : null,
  ];
  const rows = trials.map((t) => row(t, allArch || withArch.has(t.id)));
  const note = allArch
    ? `All ${trials.length} trials. Click a column to sort; the filter matches any cell.`
    : `All ${trials.length} trials; architectures shown for the ${ARCH_ROWS} best by reward and the Pareto front (every architecture: <code>mnas runs export DIR --format csv</code>). Click a column to sort; the filter matches any cell.`;
  // '<' escaped so that no string in the data can end the script element
  const data = JSON.stringify({ columns: TABLE_COLUMNS, rows }).replace(/</g, '\\u003c');
  const cell = (v: Cell, i: number) => (v === null ? '<td></td>' : i === TABLE_COLUMNS.length - 1 ? `<td><code>${escapeXml(String(v))}</code></td>` : `<td>${escapeXml(String(v))}</td>`);
  const staticRows = byReward
    .slice(0, STATIC_ROWS)
    .map((t) => `<tr>${row(t, true).map(cell).join('')}</tr>`)
    .join('\n');
  return `<h2>Trials</h2>
<p>${note}</p>
<div class="pager" id="trials-pager" hidden><input id="trials-filter" type="search" placeholder="filter (e.g. failed, se0.25, 123)"> <button id="trials-prev">&lt;</button> <span id="trials-info"></span> <button id="trials-next">&gt;</button></div>
<table id="trials-table"><tr>${TABLE_COLUMNS.map((c) => `<th>${escapeXml(c)}</th>`).join('')}</tr>
${staticRows}
</table>
<noscript><p>Without script this table shows the ${Math.min(STATIC_ROWS, byReward.length)} best trials by reward.</p></noscript>
<script type="application/json" id="trials-data">${data}</script>
<script>${TABLE_SCRIPT}</script>`;
}

/** Sorting, filtering and paging of the trials table (100 rows a page), over the embedded JSON. */
const TABLE_SCRIPT = `(function () {
  var data = JSON.parse(document.getElementById('trials-data').textContent);
  var cols = data.columns, rows = data.rows, PAGE = 100;
  var sortCol = 2, desc = true, page = 0, filter = '';
  var table = document.getElementById('trials-table'), info = document.getElementById('trials-info');
  function esc(v) { return String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'); }
  function view() {
    var r = filter ? rows.filter(function (x) { return x.some(function (v) { return v !== null && String(v).toLowerCase().indexOf(filter) >= 0; }); }) : rows.slice();
    return r.sort(function (a, b) {
      var x = a[sortCol], y = b[sortCol];
      if (x === y) return a[0] - b[0];
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * (desc ? -1 : 1);
    });
  }
  function render() {
    var r = view(), pages = Math.max(1, Math.ceil(r.length / PAGE));
    page = Math.max(0, Math.min(page, pages - 1));
    var head = '<tr>' + cols.map(function (c, i) { return '<th data-i="' + i + '">' + esc(c) + (i === sortCol ? (desc ? ' \\u25bc' : ' \\u25b2') : '') + '</th>'; }).join('') + '</tr>';
    var body = r.slice(page * PAGE, (page + 1) * PAGE).map(function (x) {
      return '<tr>' + x.map(function (v, i) { return '<td>' + (v === null ? '' : i === cols.length - 1 ? '<code>' + esc(v) + '</code>' : esc(v)) + '</td>'; }).join('') + '</tr>';
    }).join('');
    table.innerHTML = head + body;
    info.textContent = 'page ' + (page + 1) + ' of ' + pages + ' (' + r.length + ' trials)';
  }
  table.addEventListener('click', function (e) {
    var i = e.target.getAttribute && e.target.getAttribute('data-i');
    if (i === null || i === undefined) return;
    i = Number(i);
    if (i === sortCol) desc = !desc; else { sortCol = i; desc = i === 2 || i === 3; }
    page = 0;
    render();
  });
  document.getElementById('trials-filter').addEventListener('input', function (e) { filter = e.target.value.trim().toLowerCase(); page = 0; render(); });
  document.getElementById('trials-prev').addEventListener('click', function () { page--; render(); });
  document.getElementById('trials-next').addEventListener('click', function () { page++; render(); });
  document.getElementById('trials-pager').hidden = false;
  render();
})();`;
