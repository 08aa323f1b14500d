/**
 * What a search leaves in its run directory besides the database: the Pareto front of accuracy
 * against latency (pareto.json), the best architecture by reward (best.json), a summary
 * (summary.json) and a self-contained HTML report with its plots inlined as SVG (report.html).
 * All are derived from the stored trials, so they can be rebuilt at any time.
 */
import path from 'node:path';
import { writeFileAtomic } from '../util/write-atomic.js';
import { escapeXml, scatterSvg, type ScatterPoint } from '../latency/svg.js';
import { paretoFront } from './pareto.js';
import type { RewardConfig } from './reward.js';
import type { TrialRecord } from './store.js';

export interface TrialPoint {
  trial: number;
  arch: string;
  accuracy: number;
  latency_ms: number;
  reward: number;
  macs: number | null;
  params: number | null;
}

export interface SearchOutputs {
  trials: number;
  done: number;
  failed: number;
  best: TrialPoint | null;
  pareto: TrialPoint[];
}

export function trialPoints(trials: readonly TrialRecord[]): TrialPoint[] {
  return trials
    .filter((t) => t.status === 'done' && t.accuracy !== null && t.latencyMs !== null && t.reward !== null)
    .map((t) => ({
      trial: t.id,
      arch: t.arch ?? '',
      accuracy: t.accuracy as number,
      latency_ms: t.latencyMs as number,
      reward: t.reward as number,
      macs: t.macs,
      params: t.params,
    }));
}

/** Pareto front (max accuracy, min latency), sorted by latency; best = highest reward. */
export function summarize(trials: readonly TrialRecord[]): SearchOutputs {
  const points = trialPoints(trials);
  // identical architectures (reused results) appear once on the front
  const unique = [...new Map(points.map((p) => [p.arch, p])).values()];
  const front = paretoFront(unique.map((p) => ({ id: p.trial, accuracy: p.accuracy, latencyMs: p.latency_ms })));
  const byId = new Map(points.map((p) => [p.trial, p]));
  const pareto = front.map((f) => byId.get(f.id) as TrialPoint).sort((a, b) => a.latency_ms - b.latency_ms);
  let best: TrialPoint | null = null;
  for (const p of points) if (!best || p.reward > best.reward) best = p;
  return { trials: trials.length, done: points.length, failed: trials.filter((t) => t.status === 'failed').length, best, pareto };
}


export interface ReportContext {
  title: string;
  config: unknown;
  reward: RewardConfig;
  device: unknown;
  optimumReward?: number;
  final?: unknown;
}

/** Writes pareto.json, best.json, summary.json and report.html into dir; returns the summary. */
export function writeOutputs(dir: string, trials: readonly TrialRecord[], ctx: ReportContext): SearchOutputs & { files: string[] } {
  const s = summarize(trials);
  const files = ['pareto.json', 'best.json', 'summary.json', 'report.html'].map((f) => path.join(dir, f));
  writeFileAtomic(files[0] as string, `${JSON.stringify(s.pareto, null, 2)}\n`);
  writeFileAtomic(files[1] as string, `${JSON.stringify(s.best, null, 2)}\n`);
  writeFileAtomic(
    files[2] as string,
    `${JSON.stringify({ trials: s.trials, done: s.done, failed: s.failed, reward: ctx.reward, device: ctx.device, best: s.best, pareto: s.pareto, optimum_reward: ctx.optimumReward, final: ctx.final }, null, 2)}\n`,
  );
  writeFileAtomic(files[3] as string, renderReport(trials, s, ctx));
  return { ...s, files };
}

function inlineSvg(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}

export function renderReport(trials: readonly TrialRecord[], s: SearchOutputs, ctx: ReportContext): string {
  const points = trialPoints(trials);
  const onFront = new Set(s.pareto.map((p) => p.trial));
  const pt = (p: TrialPoint, x: number, y: number): ScatterPoint => ({ x, y, label: `trial ${p.trial}: acc ${(p.accuracy * 100).toFixed(2)}%, ${p.latency_ms.toFixed(3)} ms, reward ${p.reward.toFixed(4)}\n${p.arch}` });
  const frontPts = s.pareto.map((p) => pt(p, p.latency_ms, p.accuracy * 100));
  const pareto = scatterSvg({
    title: 'Accuracy against measured latency',
    xLabel: 'latency (ms)',
    yLabel: 'validation accuracy (%)',
    series: [
      { name: 'trials', color: '#8aa4c8', points: points.filter((p) => !onFront.has(p.trial)).map((p) => pt(p, p.latency_ms, p.accuracy * 100)) },
      { name: 'Pareto front', color: '#d9480f', points: frontPts },
    ],
    links: frontPts.slice(1).map((to, i) => ({ from: frontPts[i] as ScatterPoint, to, color: '#d9480f' })),
    footnote: `target T = ${ctx.reward.targetMs.toFixed(3)} ms, reward = ACC x (LAT/T)^w, alpha ${ctx.reward.alpha}, beta ${ctx.reward.beta}`,
  });
  let bestSoFar = -Infinity;
  const ordered = [...points].sort((a, b) => a.trial - b.trial);
  const rewardPlot = scatterSvg({
    title: 'Reward over trials',
    xLabel: 'trial',
    yLabel: 'reward',
    series: [
      { name: 'reward', color: '#8aa4c8', points: ordered.map((p) => pt(p, p.trial, p.reward)) },
      {
        name: 'best so far',
        color: '#2b8a3e',
        points: ordered.map((p) => {
          bestSoFar = Math.max(bestSoFar, p.reward);
          return { x: p.trial, y: bestSoFar };
        }),
      },
    ],
    ...(ctx.optimumReward !== undefined ? { footnote: `known optimum reward (synthetic evaluator): ${ctx.optimumReward.toFixed(4)}` } : {}),
  });
  const withMacs = points.filter((p) => p.macs !== null);
  const macsPlot = scatterSvg({
    title: 'Measured latency against MACs',
    xLabel: 'MACs',
    yLabel: 'latency (ms)',
    series: [{ name: 'trials', color: '#5f3dc4', points: withMacs.map((p) => pt(p, p.macs as number, p.latency_ms)) }],
  });
  const rows = s.pareto
    .map((p) => `<tr><td>${p.trial}</td><td>${(p.accuracy * 100).toFixed(2)}</td><td>${p.latency_ms.toFixed(3)}</td><td>${p.reward.toFixed(4)}</td><td>${p.macs ?? ''}</td><td>${p.params ?? ''}</td><td><code>${escapeXml(p.arch)}</code></td></tr>`)
    .join('\n');
  const best = s.best
    ? `<p>Best by reward: trial ${s.best.trial}, accuracy ${(s.best.accuracy * 100).toFixed(2)}%, latency ${s.best.latency_ms.toFixed(3)} ms, reward ${s.best.reward.toFixed(4)}<br><code>${escapeXml(s.best.arch)}</code></p>`
    : '<p>No trial has finished yet.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(ctx.title)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:last-child{text-align:left}code{font-size:12px}pre{background:#f6f6f6;padding:8px;overflow:auto}figure{margin:1em 0}</style>
</head><body>
<h1>${escapeXml(ctx.title)}</h1>
<p>${s.trials} trials: ${s.done} done, ${s.failed} failed. Device: <code>${escapeXml(JSON.stringify(ctx.device))}</code></p>
${best}
<figure>${inlineSvg(pareto)}</figure>
<h2>Pareto front</h2>
<table><tr><th>trial</th><th>accuracy %</th><th>latency ms</th><th>reward</th><th>MACs</th><th>params</th><th>architecture</th></tr>
${rows}
</table>
<figure>${inlineSvg(rewardPlot)}</figure>
<figure>${inlineSvg(macsPlot)}</figure>
${ctx.final ? `<h2>Final training</h2><pre>${escapeXml(JSON.stringify(ctx.final, null, 2))}</pre>` : ''}
<h2>Configuration</h2><pre>${escapeXml(JSON.stringify(ctx.config, null, 2))}</pre>
</body></html>
`;
}
