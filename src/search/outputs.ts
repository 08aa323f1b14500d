/**
 * What a search leaves in its run directory besides the database: the Pareto front of accuracy
 * against latency (pareto.json), the best architecture by reward (best.json), a summary
 * (summary.json) and a self-contained HTML report with its plots inlined as SVG (report.html).
 * All are derived from the stored trials, so they can be rebuilt at any time.
 *
 * Fronts and the best hold measured latencies only: a predicted-then-measured run's candidates
 * that were never measured are left out of them (and counted). A run with other devices gets a
 * front per device (pareto-<device>.json, and `devices` in summary.json); pareto.json stays the
 * target device's.
 */
import path from 'node:path';
import { writeFileAtomic } from '../util/write-atomic.js';
import { paretoFront } from './pareto.js';
import { renderReport, type ReportContext } from './report-html.js';
import { isSkippedTrial } from './evaluator.js';
import type { TrialBrief } from './store.js';
import { latencyMeasured, otherDeviceLatencies, trialPoints, type TrialPoint } from './trial-points.js';
import type { DriftSummary } from './drift.js';

export { trialPoints, type TrialPoint } from './trial-points.js';

export type { ReportContext } from './report-html.js';

export interface SearchOutputs {
  trials: number;
  done: number;
  failed: number;
  /** Of the failed, those not trained because their latency missed a hard target. */
  skipped: number;
  best: TrialPoint | null;
  pareto: TrialPoint[];
  /** Predicted-then-measured runs: done trials whose latency was measured, of all done. */
  measured?: { done: number; measured: number; share: number };
  /** Runs with other devices: the front on each (latency_ms is that device's, target_latency_ms the target's). */
  devices?: { [kind: string]: DeviceFront };
}

export interface DeviceFront {
  /** Trials with a latency on this device. */
  measured: number;
  /** Sorted by this device's latency. */
  pareto: (TrialPoint & { target_latency_ms: number })[];
  /** The best trial by reward (on the target device) and its latency on this device. */
  best: { trial: number; latency_ms: number } | null;
}

/** Pareto front (max accuracy, min latency) of measured trials, sorted by latency; best = highest reward among them. */
export function summarize(trials: readonly (TrialBrief & { latencyStats?: unknown })[]): SearchOutputs {
  const all = trialPoints(trials);
  const points = all.filter((p) => p.latency_measured !== false);
  const pareto = frontOf(points);
  let best: TrialPoint | null = null;
  for (const p of points) if (!best || p.reward > best.reward) best = p;
  const out: SearchOutputs = { trials: trials.length, done: all.length, failed: trials.filter((t) => t.status === 'failed').length, skipped: trials.filter((t) => isSkippedTrial(t)).length, best, pareto };
  if (points.length < all.length) out.measured = { done: all.length, measured: points.length, share: points.length / all.length };
  const devices = deviceFronts(trials, all, best);
  if (devices) out.devices = devices;
  return out;
}

/** The front of points (identical architectures - reused results - once), sorted by latency. */
function frontOf<P extends TrialPoint>(points: readonly P[]): P[] {
  const unique = [...new Map(points.map((p) => [p.arch, p])).values()];
  const front = paretoFront(unique.map((p) => ({ id: p.trial, accuracy: p.accuracy, latencyMs: p.latency_ms })));
  const byId = new Map(points.map((p) => [p.trial, p]));
  return front.map((f) => byId.get(f.id) as P).sort((a, b) => a.latency_ms - b.latency_ms);
}

function deviceFronts(trials: readonly (TrialBrief & { latencyStats?: unknown })[], points: readonly TrialPoint[], best: TrialPoint | null): SearchOutputs['devices'] {
  const byTrial = new Map(points.map((p) => [p.trial, p]));
  const perDevice = new Map<string, (TrialPoint & { target_latency_ms: number })[]>();
  for (const t of trials) {
    const p = byTrial.get(t.id);
    if (!p || !latencyMeasured(t)) continue;
    for (const [kind, ms] of Object.entries(otherDeviceLatencies(t))) {
      if (!perDevice.has(kind)) perDevice.set(kind, []);
      perDevice.get(kind)!.push({ ...p, latency_ms: ms, target_latency_ms: p.latency_ms });
    }
  }
  if (perDevice.size === 0) return undefined;
  const out: { [kind: string]: DeviceFront } = {};
  for (const [kind, ps] of [...perDevice].sort(([a], [b]) => a.localeCompare(b))) {
    const onBest = best ? ps.find((p) => p.trial === best.trial) : undefined;
    out[kind] = { measured: ps.length, pareto: frontOf(ps), best: onBest ? { trial: onBest.trial, latency_ms: onBest.latency_ms } : null };
  }
  return out;
}

/** Writes pareto.json (and pareto-<device>.json per other device), best.json, summary.json and report.html into dir; returns the summary. */
export function writeOutputs(dir: string, trials: readonly (TrialBrief & { latencyStats?: unknown })[], ctx: ReportContext): SearchOutputs & { files: string[] } {
  const s = summarize(trials);
  const files = ['pareto.json', 'best.json', 'summary.json', 'report.html'].map((f) => path.join(dir, f));
  writeFileAtomic(files[0] as string, `${JSON.stringify(s.pareto, null, 2)}\n`);
  writeFileAtomic(files[1] as string, `${JSON.stringify(s.best, null, 2)}\n`);
  writeFileAtomic(
    files[2] as string,
    `${JSON.stringify(
      {
        trials: s.trials,
        done: s.done,
        failed: s.failed,
        skipped: s.skipped,
        reward: ctx.reward,
        device: ctx.device,
        best: s.best,
        pareto: s.pareto,
        optimum_reward: ctx.optimumReward,
        final: ctx.final,
        budget: ctx.budget,
        state: ctx.state,
        ...(ctx.drift ? { drift: ctx.drift } : {}),
        ...(s.measured ? { measured: s.measured } : {}),
        ...(s.devices ? { devices: s.devices } : {}),
      },
      null,
      2,
    )}\n`,
  );
  writeFileAtomic(files[3] as string, renderReport(trials, s, ctx));
  for (const [kind, front] of Object.entries(s.devices ?? {})) {
    const file = path.join(dir, `pareto-${kind}.json`);
    writeFileAtomic(file, `${JSON.stringify(front.pareto, null, 2)}\n`);
    files.push(file);
  }
  return { ...s, files };
}

export type { DriftSummary };
