/**
 * `mnas bench train`: the engine's training-speed benchmark (see src/bench/train-speed.ts).
 * Compare with PyTorch by alternating runs: `node dist/bench/train-vs-pytorch.js`.
 */
import type { Command } from 'commander';
import { runTrainSpeed, type TrainSpeedOptions } from '../bench/train-speed.js';
import { hasPreset, presetNames } from '../space/presets.js';
import { spaceNames } from '../space/space.js';
import { PROXY_BENCH_SIDES, runProxyBench, type ProxyBenchReport, type ProxyBenchSide } from '../bench/proxy-trials.js';
import { runFuzz, type FuzzReport } from '../bench/fuzz.js';
import { archTarget, configTarget, FUZZ_TARGETS } from '../bench/fuzz-targets.js';
import { runCliFuzz, type CliFuzzReport } from '../bench/fuzz-cli.js';
import { UsageError } from './errors.js';
import { Progress } from './progress.js';
import { intOption } from './options.js';
import { registerBenchStrategies } from './bench-strategies.js';

type BenchTrainOptions = Omit<TrainSpeedOptions, 'onEpoch'> & { json?: boolean };

interface BenchProxyOptions {
  space: string;
  samples: number;
  seed: number;
  sides: string;
  images?: number;
  epochs?: number;
  threads: number;
  parallel: number;
  json?: boolean;
}

function formatProxyReport(r: ProxyBenchReport): string {
  const lines = [`${r.samples} random '${r.space}' architectures (seed ${r.seed}), proxy ${r.images} images x ${r.epochs} epoch(s), ${r.threads} thread(s)`];
  lines.push('side          median s  trials/h  faults/trial  system s  peak RSS MB (median/max)  failed');
  for (const s of r.sides) {
    lines.push(
      `${s.side.padEnd(12)}  ${s.median_s.toFixed(1).padStart(8)}  ${s.trials_per_hour.toFixed(0).padStart(8)}  ${s.median_minor_faults.toFixed(0).padStart(12)}  ${s.median_system_s.toFixed(1).padStart(8)}  ${`${s.median_peak_rss_mb?.toFixed(0) ?? '-'}/${s.max_peak_rss_mb?.toFixed(0) ?? '-'}`.padStart(24)}  ${s.failed}`,
    );
  }
  for (const [side, x] of Object.entries(r.speedup_vs)) lines.push(`mnas vs ${side}: ${x.toFixed(2)}x faster, ${r.fault_ratio_vs[side]!.toFixed(1)}x fewer page faults (medians of per-architecture ratios)`);
  if (r.parallel) {
    const l = r.parallel.latency;
    lines.push(`${r.parallel.workers} workers at once: ${r.parallel.trials_per_hour.toFixed(0)} trials/h (${r.parallel.wall_s.toFixed(0)} s for ${r.samples})`);
    lines.push(
      `latency of the default arch: median of ${l.held_ms.length} measured during training (held off) ${l.held_deviation_pct.toFixed(1)}% from the quiet median, ` +
        `${l.unheld_ms.length} next to training ${l.unheld_deviation_pct.toFixed(1)}%; the quiet measurements themselves spread ${l.quiet_spread_pct.toFixed(1)}%`,
    );
  }
  return `${lines.join('\n')}\n`;
}

interface BenchFuzzOptions {
  count: number;
  seed: number;
  targets: string;
  cli: number;
  json?: boolean;
}

function formatFuzzReport(r: FuzzReport, cli: CliFuzzReport[]): string {
  const lines = [`${r.inputs} inputs (seed ${r.seed}) in ${r.seconds.toFixed(1)} s: ${r.crashed} crashed, ${r.slow} slower than ${r.slow_ms} ms`];
  lines.push('target          inputs  accepted  refused  crashed  max ms');
  for (const t of r.targets) lines.push(`${t.target.padEnd(14)}  ${String(t.inputs).padStart(6)}  ${String(t.accepted).padStart(8)}  ${String(t.refused).padStart(7)}  ${String(t.crashed).padStart(7)}  ${t.max_ms.toFixed(1).padStart(6)}`);
  for (const t of r.targets) for (const c of t.crashes) lines.push(`crash in ${t.target}: ${c.error}\n  input ${c.input}`);
  for (const c of cli) lines.push(`mnas ${c.command}: ${c.runs} processes, exit codes ${JSON.stringify(c.exits)}, ${c.bad} other than 0/2 or with a stack trace`);
  for (const c of cli) for (const e of c.examples) lines.push(`bad exit ${e.exit} of mnas ${c.command} on ${e.input}: ${e.stderr}`);
  return `${lines.join('\n')}\n`;
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks of the engine and of search trials');
  registerBenchStrategies(bench);
  bench
    .command('fuzz')
    .description('random and mutated arch strings, configs, safetensors files and device frames through the parsers: counts crashes (anything but accepted or one-line refusal)')
    .option('--count <n>', 'inputs in all, shared evenly by the targets', intOption('--count', 1, 100_000_000), 100_000)
    .option('--seed <n>', 'seed of the inputs', intOption('--seed', 0), 0)
    .option('--targets <list>', `comma-separated: ${FUZZ_TARGETS.map((t) => t.name).join(',')}`, FUZZ_TARGETS.map((t) => t.name).join(','))
    .option('--cli <n>', 'also give N arch inputs to `mnas inspect` and N configs to `mnas search` processes and check their exit codes', intOption('--cli', 0, 100_000), 50)
    .option('--json', 'print one JSON object on the last line')
    .action((o: BenchFuzzOptions) => {
      const names = o.targets.split(',').map((s) => s.trim());
      const targets = names.map((n) => {
        const t = FUZZ_TARGETS.find((x) => x.name === n);
        if (!t) throw new UsageError(`bench fuzz: --targets: unknown target '${n}' (known: ${FUZZ_TARGETS.map((x) => x.name).join(', ')})`);
        return t;
      });
      if (new Set(names).size !== names.length) throw new UsageError('bench fuzz: --targets names a target twice');
      const bar = new Progress({ label: 'fuzz', total: o.count + 2 * o.cli });
      const perTarget = Math.ceil(o.count / targets.length);
      const offsets = new Map(targets.map((t, i) => [t.name, i * perTarget]));
      const report = runFuzz({ targets, perTarget, seed: o.seed, onProgress: (name, done) => bar.update((offsets.get(name) ?? 0) + done, name) });
      const cli = o.cli > 0 ? runCliFuzz({ archTarget, configTarget, runs: o.cli, seed: o.seed, onRun: (done) => bar.update(perTarget * targets.length + done, 'cli') }) : [];
      bar.update(o.count + 2 * o.cli, "done");
      process.stdout.write(o.json ? `${JSON.stringify({ ...report, cli })}\n` : formatFuzzReport(report, cli));
      if (report.crashed > 0 || cli.some((c) => c.bad > 0)) process.exitCode = 1;
    });
  bench
    .command('proxy')
    .description('cost of proxy trials of random architectures, against PyTorch on the same trials (alternating sides)')
    .option('--space <name>', `search space: ${spaceNames().join('|')}`, 'fmnist')
    .option('--samples <n>', 'random architectures', intOption('--samples', 1, 10000), 20)
    .option('--seed <n>', 'seed of the architectures and of their training', intOption('--seed', 0), 0)
    .option('--sides <list>', `comma-separated: ${PROXY_BENCH_SIDES.join(',')} (pytorch needs Debian's python3-torch, pytorch-je also libjemalloc2)`, 'mnas,mnas-system')
    .option('--images <n>', 'proxy-training images per trial (default: the search default)', intOption('--images', 1))
    .option('--epochs <n>', 'proxy epochs (default: the search default)', intOption('--epochs', 1, 1000))
    .option('--threads <n>', 'threads of each training process', intOption('--threads', 1, 256), 1)
    .option('--parallel <n>', 'then run the mnas side with N workers at once (0: skip)', intOption('--parallel', 0, 256), 0)
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: BenchProxyOptions) => {
      if (!spaceNames().includes(o.space)) throw new UsageError(`bench proxy: unknown space '${o.space}' (known: ${spaceNames().join(', ')})`);
      const sides = o.sides.split(',').map((s) => s.trim());
      for (const s of sides) if (!(PROXY_BENCH_SIDES as readonly string[]).includes(s)) throw new UsageError(`bench proxy: --sides: unknown side '${s}' (known: ${PROXY_BENCH_SIDES.join(', ')})`);
      if (new Set(sides).size !== sides.length) throw new UsageError('bench proxy: --sides names a side twice');
      const report = await runProxyBench({
        space: o.space,
        samples: o.samples,
        seed: o.seed,
        sides: sides as ProxyBenchSide[],
        ...(o.images !== undefined ? { images: o.images } : {}),
        ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
        threads: o.threads,
        parallelWorkers: o.parallel,
        onTrial: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatProxyReport(report));
    });
  bench
    .command('train')
    .description('training and inference speed of a preset network on random data (same protocol as the PyTorch peer)')
    .option('--preset <name>', 'network preset', 'bench-fmnist')
    .option('--threads <n>', 'intra-op threads', intOption('--threads', 1, 256), 2)
    .option('--batch <n>', 'batch size', intOption('--batch', 1, 65536), 64)
    .option('--images <n>', 'images per epoch', intOption('--images', 1), 2048)
    .option('--epochs <n>', 'timed epochs (median reported)', intOption('--epochs', 1, 1000), 5)
    .option('--channels-last', 'use channels_last memory (NHWC) for activations and conv weights (default, as the PyTorch peer)', true)
    .option('--no-channels-last', 'use contiguous NCHW memory')
    .option('--seed <n>', 'random seed', intOption('--seed', 0), 0)
    .option('--json', 'print one JSON object on the last line')
    .action((o: BenchTrainOptions) => {
      if (!hasPreset(o.preset)) throw new UsageError(`bench train: unknown preset '${o.preset}' (known: ${presetNames().join(', ')})`);
      if (o.images < o.batch) throw new UsageError(`bench train: --images (${o.images}) must be at least --batch (${o.batch})`);
      const r = runTrainSpeed({
        ...o,
        onEpoch: (phase, e, s) => process.stderr.write(`${phase} epoch ${e + 1}/${o.epochs}: ${s.toFixed(3)} s\n`),
      });
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        process.stdout.write(
          `${r.preset} (${r.params.toLocaleString('en-US')} params), ${r.threads} threads, batch ${r.batch}, ${r.channels_last ? 'channels_last' : 'contiguous'}\n` +
            `train ${r.train_img_s.toFixed(1)} img/s, inference ${r.infer_img_s.toFixed(1)} img/s, batch-1 latency ${r.latency_b1_ms.toFixed(3)} ms\n`,
        );
      }
    });
}
