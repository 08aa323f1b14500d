/** `mnas bench latency-stability`: the same model measured in separate processes (see src/bench/latency-stability.ts). */
import type { Command } from 'commander';
import { cpus } from 'node:os';
import { runLatencyStability, type LatencyStabilityReport, type ProcessMeasurement } from '../../bench/latency-stability.js';
import { deviceKinds } from '../../latency/registry.js';
import { deviceOption } from '../measure.js';
import { intOption } from '../options.js';

interface BenchLatencyStabilityOptions {
  model: string;
  against?: string;
  device: string;
  processes: number;
  threads: number;
  json?: boolean;
}

function formatProcess(j: ProcessMeasurement, index: number, processes: number): string {
  return `process ${index}/${processes}: latency ${j.latency_ms.toFixed(4)} ms (quantile ${j.quantile})  median ${j.median_ms.toFixed(4)}  p10 ${j.p10_ms.toFixed(4)}  p90 ${j.p90_ms.toFixed(4)}  runs ${j.runs}  ${j.converged ? 'converged' : 'NOT converged'}  (${j.device.id}, ${j.device.cpu})\n`;
}

function formatSummary(r: LatencyStabilityReport): string {
  const [before, after] = r.loadavg_1m as [number, number];
  return (
    `${r.model} on ${r.device} (${r.threads} thread(s)), ${r.processes} processes: mean latency ${r.mean_latency_ms.toFixed(4)} ms, ` +
    `CV of the latencies ${(100 * r.cv_of_latencies).toFixed(2)}% (target <= ${(100 * r.target_cv).toFixed(0)}%: ${r.within_target ? 'met' : 'NOT met'}), of the medians ${(100 * r.cv_of_medians).toFixed(2)}%, of the p10s ${(100 * r.cv_of_p10).toFixed(2)}%; ` +
    `load average ${before.toFixed(1)} -> ${after.toFixed(1)} on ${cpus().length} CPUs\n` +
    (r.against !== undefined ? `ratios to ${r.against}: ${r.ratios!.map((x) => x.toFixed(4)).join(', ')}; CV ${(100 * r.cv_of_ratios!).toFixed(2)}% (target <= ${(100 * r.target_cv).toFixed(0)}%: ${r.ratios_within_target ? 'met' : 'NOT met'})\n` : '')
  );
}

export function registerBenchLatencyStability(bench: Command): void {
  bench
    .command('latency-stability')
    .description('measure one model in separate `mnas measure` processes, one after the other: the spread (CV) of their latencies, target <= 3%')
    .option('--model <model>', 'a preset name, an arch string, an arch file, or an .onnx file', 'bench-fmnist')
    .option('--against <model>', 'measure interleaved with this reference (mnas measure --against) and report the spread of the ratios too')
    .option('--device <kind>', `latency device (${deviceKinds().join(', ')})`, deviceOption('bench latency-stability'), 'ort-cpu')
    .option('--processes <n>', 'separate measuring processes', intOption('--processes', 2, 1000), 5)
    .option('--threads <n>', 'inference threads of each process', intOption('--threads', 1, 256), 1)
    .option('--json', 'print one JSON object on the last line')
    .action((o: BenchLatencyStabilityOptions) => {
      const report = runLatencyStability({
        model: o.model,
        ...(o.against !== undefined ? { against: o.against } : {}),
        device: o.device,
        processes: o.processes,
        threads: o.threads,
        onProcess: (j, index) => {
          if (!o.json) process.stdout.write(formatProcess(j, index, o.processes));
        },
      });
      process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatSummary(report));
    });
}
