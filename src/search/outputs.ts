/**
 * What a search leaves in its run directory besides the database: the Pareto front of accuracy
 * against latency (pareto.json), the best architecture by reward (best.json), a summary
 * (summary.json) and a self-contained HTML report with its plots inlined as SVG (report.html).
 * All are derived from the stored trials, so they can be rebuilt at any time.
 */
import path from 'node:path';
import { writeFileAtomic } from '../util/write-atomic.js';
import { paretoFront } from './pareto.js';
import { renderReport, type ReportContext } from './report-html.js';
import type { TrialBrief } from './store.js';
import { trialPoints, type TrialPoint } from './trial-points.js';

export { trialPoints, type TrialPoint } from './trial-points.js';

export type { ReportContext } from './report-html.js';

export interface SearchOutputs {
  trials: number;
  done: number;
  failed: number;
  best: TrialPoint | null;
  pareto: TrialPoint[];
}

/** Pareto front (max accuracy, min latency), sorted by latency; best = highest reward. */
export function summarize(trials: readonly TrialBrief[]): SearchOutputs {
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

/** Writes pareto.json, best.json, summary.json and report.html into dir; returns the summary. */
export function writeOutputs(dir: string, trials: readonly TrialBrief[], ctx: ReportContext): SearchOutputs & { files: string[] } {
  const s = summarize(trials);
  const files = ['pareto.json', 'best.json', 'summary.json', 'report.html'].map((f) => path.join(dir, f));
  writeFileAtomic(files[0] as string, `${JSON.stringify(s.pareto, null, 2)}\n`);
  writeFileAtomic(files[1] as string, `${JSON.stringify(s.best, null, 2)}\n`);
  writeFileAtomic(
    files[2] as string,
    `${JSON.stringify({ trials: s.trials, done: s.done, failed: s.failed, reward: ctx.reward, device: ctx.device, best: s.best, pareto: s.pareto, optimum_reward: ctx.optimumReward, final: ctx.final, budget: ctx.budget, state: ctx.state }, null, 2)}\n`,
  );
  writeFileAtomic(files[3] as string, renderReport(trials, s, ctx));
  return { ...s, files };
}
