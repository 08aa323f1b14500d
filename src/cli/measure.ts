/**
 * `mnas measure <preset|arch-string|file|file.onnx> [--device ort-cpu|engine|browser]
 *   [--threads N] [--input HxWxC] [--max-seconds S] [--precision P] [--quantile Q] [--against M [--sessions N]] [--json]`
 *
 * Measures the batch-1 latency of one model for real on a device (warm-up, then timed runs
 * until the reported quantile of the runs, the 10th percentile unless --quantile says otherwise,
 * is known to +-precision or a cap). Prints a summary, or with --json one JSON object on the last
 * line: { model, arch?, macs?, params?, latency_ms, quantile, median_ms, p10_ms, p90_ms,
 * mean_ms, cv, runs, converged, seconds, stop, rel_half_width, device }.
 */
import type { Command } from 'commander';
import { parseInputShapeText } from '../model/limits.js';
import type { InputShape } from '../space/arch.js';
import type { MeasureProtocol } from '../latency/device.js';
import { SESSIONS } from '../latency/interleaved.js';
import { DEFAULT_PROTOCOL, LATENCY_QUANTILE, MAX_SESSIONS } from '../latency/protocol.js';
import type { LatencyMeasurement } from '../latency/measure.js';
import { deviceKinds } from '../latency/registry.js';
import { InputError } from '../util/input-error.js';
import { UsageError } from './errors.js';
import { floatOption, intOption } from './options.js';

export type Writer = (text: string) => void;

export interface MeasureCliOptions {
  device: string;
  threads: number;
  input?: string;
  json?: boolean;
  maxSeconds?: number;
  precision?: number;
  seed: number;
  against?: string;
  sessions?: number;
  quantile?: number;
}

/** 'HxWxC' -> InputShape; UsageError naming the command otherwise. */
export function parseHwc(text: string, command: string): InputShape {
  try {
    return parseInputShapeText(text);
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`, { cause: e });
  }
}

export function deviceOption(command: string): (value: string) => string {
  return (value: string) => {
    if (!deviceKinds().includes(value)) throw new UsageError(`${command}: --device must be one of ${deviceKinds().join(', ')}, got '${value}'`);
    return value;
  };
}

export function registerMeasure(program: Command, write: Writer = (t) => void process.stdout.write(t)): Command {
  return program
    .command('measure')
    .description('measure the batch-1 inference latency of a model for real on a device')
    .argument('<model>', 'a preset name, an arch string, an arch file, or an .onnx file')
    .option('--device <kind>', `latency device (${deviceKinds().join(', ')})`, deviceOption('measure'), 'ort-cpu')
    .option('--threads <n>', 'inference threads (the paper: one big core)', intOption('--threads', 1, 256), 1)
    .option('--input <HxWxC>', 'input shape (overrides the arch; required for .onnx files with symbolic spatial dims)')
    .option('--max-seconds <s>', 'time cap for the timed runs', floatOption('--max-seconds', 0.001, 3600))
    .option('--precision <p>', 'target relative half-width of the 95% CI of the reported quantile', floatOption('--precision', 0.0001, 0.5))
    .option('--quantile <q>', `which quantile of the timed runs is the latency (default ${LATENCY_QUANTILE}: slowdowns from a shared machine only add time; 0.5 for the median)`, floatOption('--quantile', 0.01, 0.99))
    .option('--seed <n>', 'weight seed for models built from an arch', intOption('--seed', 0), 0)
    .option('--against <model>', 'also time this reference model in turn with it (ort-cpu, browser) and report the ratio, which holds while the device changes speed')
    .option('--sessions <n>', `with --against on ort-cpu: sessions of each model the pairs rotate through (default ${SESSIONS})`, intOption('--sessions', 1, MAX_SESSIONS))
    .option('--json', 'print one JSON object on the last line')
    .action(async (spec: string, o: MeasureCliOptions) => {
      write(await measureCommand(spec, o));
    });
}

/** The protocol the options ask for, over the device's default (plain, or interleaved with --against). */
export function measureProtocol(o: Pick<MeasureCliOptions, 'sessions' | 'maxSeconds' | 'precision' | 'quantile' | 'against'>): Partial<MeasureProtocol> {
  return {
    ...(o.sessions !== undefined ? { sessions: o.sessions } : {}),
    // an interleaved measurement caps its own minimum by maxSeconds (interleavedProtocol)
    ...(o.maxSeconds !== undefined ? { maxSeconds: o.maxSeconds, ...(o.against === undefined ? { minSeconds: Math.min(o.maxSeconds, DEFAULT_PROTOCOL.minSeconds ?? 0) } : {}) } : {}),
    ...(o.precision !== undefined ? { relPrecision: o.precision } : {}),
    ...(o.quantile !== undefined ? { quantile: o.quantile } : {}),
  };
}

export async function measureCommand(spec: string, o: MeasureCliOptions): Promise<string> {
  const input = o.input !== undefined ? parseHwc(o.input, 'measure') : undefined;
  if (o.sessions !== undefined && o.against === undefined) throw new UsageError('measure: --sessions applies only with --against (sessions of each model an interleaved measurement rotates through)');
  const protocol = measureProtocol(o);
  const { measureLatency } = await import('../latency/measure.js');
  let m: LatencyMeasurement;
  try {
    m = await measureLatency(spec, { device: o.device, threads: o.threads, protocol, seed: o.seed, ...(input ? { input } : {}), ...(o.against !== undefined ? { against: o.against } : {}) });
  } catch (e) {
    // a bad spec, a model a device refuses or one that cannot fit is the user's input, not our failure
    if (e instanceof InputError) throw new UsageError(`measure: ${e.message}`, { cause: e });
    throw e;
  }
  if (o.json) return `${JSON.stringify({ model: m.model.name, ...(m.network ?? {}), ...m.result })}\n`;
  return formatResult(m);
}

/** 0.1 -> 'p10', 0.5 -> 'the median'. */
function quantileName(q: number): string {
  return q === 0.5 ? 'the median' : `p${Number((q * 100).toFixed(2))}`;
}

export function formatResult({ model, network, result: r }: LatencyMeasurement): string {
  const d = r.device;
  const f = (ms: number): string => (ms < 1 ? ms.toFixed(4) : ms.toFixed(3));
  const lines = [
    `model: ${model.name}${network ? ` (${network.params.toLocaleString('en-US')} params, ${network.macs.toLocaleString('en-US')} MACs)` : ''}, input [${model.inputShape.join(', ')}]`,
    `device: ${d.id} (${d.runtime} ${d.runtimeVersion}, ${d.threads} thread${d.threads === 1 ? '' : 's'}, ${d.cpu})`,
    `latency: ${f(r.latency_ms)} ms (${quantileName(r.quantile)} of the runs)  median ${f(r.median_ms)}  p10 ${f(r.p10_ms)}  p90 ${f(r.p90_ms)}  mean ${f(r.mean_ms)}  cv ${(r.cv * 100).toFixed(1)}%`,
    `runs ${r.runs} in ${r.seconds.toFixed(2)} s, ${r.converged ? 'converged' : 'NOT converged (a cap stopped it)'}`,
  ];
  if ('ratio' in r) lines.push(`against the reference (${f(r.reference_ms)} ms in the same blocks, the same quantile): ratio ${r.ratio.toFixed(4)} +-${(100 * r.ratio_rel_half_width).toFixed(1)}% (95%), ${r.pairs} pairs of ${r.runs_per_block}-run blocks${r.sessions ? ` over ${r.sessions} session${r.sessions === 1 ? '' : 's'} of each` : ''}`);
  return `${lines.join('\n')}\n`;
}
