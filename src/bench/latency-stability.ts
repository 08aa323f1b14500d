/**
 * `mnas bench latency-stability`: latency stability across processes. Measures the same model in
 * N separate processes, one after the other (`mnas measure --json`), and reports each latency (the
 * measurement protocol's quantile, protocol.ts LATENCY_QUANTILE) and the coefficient of variation
 * of the latencies, target <= 3% on ort-cpu; the CVs of the medians and of the p10s beside it.
 */
import { loadavg } from 'node:os';
import { summarize } from '../latency/protocol.js';
import { mnasMainScript, runForLastJsonLine } from './child-process.js';

export const TARGET_CV = 0.03;

export interface LatencyStabilityOptions {
  /** What `mnas measure` takes: a preset, an arch string or a file. */
  model: string;
  /** Measure against this reference (`mnas measure --against`): the ratios' spread is reported too. */
  against?: string;
  device: string;
  /** Separate processes, at least 2. */
  processes: number;
  threads: number;
  /** The `mnas` entry script to run (default: the built one). */
  mnasMain?: string;
  /** Called after each process with what it measured (1-based index). */
  onProcess?: (measured: ProcessMeasurement, index: number) => void;
}

/** What one `mnas measure --json` process reported. */
export interface ProcessMeasurement {
  latency_ms: number;
  quantile: number;
  median_ms: number;
  p10_ms: number;
  p90_ms: number;
  cv: number;
  runs: number;
  converged: boolean;
  rel_half_width?: number;
  /** With --against: the ratio to the reference and the reference's median in the same blocks. */
  ratio?: number;
  reference_ms?: number;
  device: { id: string; cpu: string };
}

export interface LatencyStabilityReport {
  model: string;
  device: string;
  threads: number;
  processes: number;
  /** Which quantile of its runs each process reported as the latency. */
  quantile: number;
  latencies_ms: number[];
  mean_latency_ms: number;
  cv_of_latencies: number;
  medians_ms: number[];
  cv_of_medians: number;
  cv_of_p10: number;
  target_cv: number;
  /** cv_of_latencies <= target_cv. */
  within_target: boolean;
  /** With `against`: the reference, each process's ratio to it, and their CV (target the same). */
  against?: string;
  ratios?: number[];
  cv_of_ratios?: number;
  ratios_within_target?: boolean;
  /** 1-minute load average before and after: other work on a shared machine moves medians. */
  loadavg_1m: number[];
  runs: Array<Pick<ProcessMeasurement, 'latency_ms' | 'median_ms' | 'p10_ms' | 'p90_ms' | 'runs' | 'converged' | 'rel_half_width'>>;
}

function againstFigures(against: string, ratios: number[]) {
  const cv = summarize(ratios, false, 0).cv;
  return { against, ratios, cv_of_ratios: cv, ratios_within_target: cv <= TARGET_CV };
}

export function runLatencyStability(o: LatencyStabilityOptions): LatencyStabilityReport {
  if (!Number.isInteger(o.processes) || o.processes < 2) throw new RangeError(`latency-stability: processes must be an integer >= 2, got ${o.processes}`);
  const main = o.mnasMain ?? mnasMainScript();
  const loadBefore = loadavg()[0] as number;
  const latencies: number[] = [];
  const medians: number[] = [];
  const p10s: number[] = [];
  const ratios: number[] = [];
  const runs: LatencyStabilityReport['runs'] = [];
  let quantile: number | undefined;
  for (let p = 0; p < o.processes; p++) {
    const args = [main, 'measure', o.model, '--device', o.device, '--threads', String(o.threads), ...(o.against !== undefined ? ['--against', o.against] : []), '--json'];
    const j = runForLastJsonLine<ProcessMeasurement>(process.execPath, args, `bench latency-stability: process ${p + 1} of ${o.processes} (mnas measure)`);
    quantile ??= j.quantile;
    if (j.quantile !== quantile) throw new Error(`bench latency-stability: process ${p + 1} reported its ${j.quantile} quantile, process 1 its ${quantile}`);
    latencies.push(j.latency_ms);
    medians.push(j.median_ms);
    p10s.push(j.p10_ms);
    runs.push({ latency_ms: j.latency_ms, median_ms: j.median_ms, p10_ms: j.p10_ms, p90_ms: j.p90_ms, runs: j.runs, converged: j.converged, rel_half_width: j.rel_half_width });
    if (j.ratio !== undefined) ratios.push(j.ratio);
    o.onProcess?.(j, p + 1);
  }
  const ofLatencies = summarize(latencies, false, 0);
  const cv = ofLatencies.cv;
  return {
    model: o.model,
    device: o.device,
    threads: o.threads,
    processes: o.processes,
    quantile: quantile!,
    latencies_ms: latencies,
    mean_latency_ms: ofLatencies.mean_ms,
    cv_of_latencies: cv,
    medians_ms: medians,
    cv_of_medians: summarize(medians, false, 0).cv,
    cv_of_p10: summarize(p10s, false, 0).cv,
    target_cv: TARGET_CV,
    within_target: cv <= TARGET_CV,
    ...(o.against !== undefined ? againstFigures(o.against, ratios) : {}),
    loadavg_1m: [loadBefore, loadavg()[0] as number],
    runs,
  };
}
