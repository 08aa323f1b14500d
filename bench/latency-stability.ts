/**
 * Latency stability across processes: measures the same model in N separate processes (one
 * after the other, `mnas measure --json`) and prints each median and the coefficient of
 * variation of the medians. Target: CV <= 3% on ort-cpu.
 *
 *   node dist/bench/latency-stability.js [--model bench-fmnist] [--device ort-cpu] [--processes 5] [--threads 1] [--json]
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

interface Args {
  model: string;
  device: string;
  processes: number;
  threads: number;
  json: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { model: 'bench-fmnist', device: 'ort-cpu', processes: 5, threads: 1, json: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--model') a.model = v();
    else if (k === '--device') a.device = v();
    else if (k === '--processes') a.processes = Number(v());
    else if (k === '--threads') a.threads = Number(v());
    else if (k === '--json') a.json = true;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!Number.isInteger(a.processes) || a.processes < 2) throw new Error('--processes must be an integer >= 2');
  return a;
}

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const args = parseArgs(process.argv.slice(2));
const loadBefore = loadavg()[0] as number;
const medians: number[] = [];
const p10s: number[] = [];
const runs: Array<Record<string, unknown>> = [];
for (let p = 0; p < args.processes; p++) {
  const r = spawnSync(process.execPath, [main, 'measure', args.model, '--device', args.device, '--threads', String(args.threads), '--json'], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    throw new Error(`process ${p + 1} exited with ${r.status}`);
  }
  const last = r.stdout.trimEnd().split('\n').at(-1) as string;
  const j = JSON.parse(last) as { median_ms: number; p10_ms: number; p90_ms: number; cv: number; runs: number; converged: boolean; rel_half_width?: number; device: { id: string; cpu: string } };
  medians.push(j.median_ms);
  p10s.push(j.p10_ms);
  runs.push({ median_ms: j.median_ms, p10_ms: j.p10_ms, p90_ms: j.p90_ms, runs: j.runs, converged: j.converged, rel_half_width: j.rel_half_width });
  if (!args.json) {
    process.stdout.write(
      `process ${p + 1}/${args.processes}: median ${j.median_ms.toFixed(4)} ms  p10 ${j.p10_ms.toFixed(4)}  p90 ${j.p90_ms.toFixed(4)}  runs ${j.runs}  ${j.converged ? 'converged' : 'NOT converged'}  (${j.device.id}, ${j.device.cpu})\n`,
    );
  }
}
const cvOf = (v: readonly number[]): { mean: number; cv: number } => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean: m, cv: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) / m };
};
const { mean, cv } = cvOf(medians);
const p10cv = cvOf(p10s).cv;
// other work on a shared machine moves medians; the 1-minute load average says how much there was
const load = [loadBefore, loadavg()[0] as number];
const summary = { model: args.model, device: args.device, threads: args.threads, processes: args.processes, medians_ms: medians, mean_of_medians_ms: mean, cv_of_medians: cv, cv_of_p10: p10cv, target_cv: 0.03, within_target: cv <= 0.03, loadavg_1m: load, runs };
if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
else {
  process.stdout.write(
    `${args.model} on ${args.device} (${args.threads} thread(s)), ${args.processes} processes: mean of medians ${mean.toFixed(4)} ms, ` +
      `CV of medians ${(100 * cv).toFixed(2)}% (target <= 3%: ${cv <= 0.03 ? 'met' : 'NOT met'}), CV of p10s ${(100 * p10cv).toFixed(2)}%; ` +
      `load average ${load[0]!.toFixed(1)} -> ${load[1]!.toFixed(1)} on ${cpus().length} CPUs\n`,
  );
}
