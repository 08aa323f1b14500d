/** `mnas bench proxy`: the cost of proxy trials, against PyTorch (see src/bench/proxy-trials.ts). */
import type { Command } from 'commander';
import { PROXY_BENCH_SIDES, runProxyBench, type ProxyBenchReport, type ProxyBenchSide } from '../../bench/proxy-trials.js';
import { spaceNames } from '../../space/space.js';
import { UsageError } from '../errors.js';
import { intOption } from '../options.js';

interface BenchProxyOptions {
  space: string;
  samples: number;
  seed: number;
  sides: string;
  images?: number;
  epochs?: number;
  threads: number;
  parallel: number;
  latencyProbes: boolean;
  json?: boolean;
}

function formatProxyReport(r: ProxyBenchReport): string {
  const lines = [`${r.samples} random '${r.space}' architectures (seed ${r.seed}), proxy ${r.images} images x ${r.epochs} epoch(s), ${r.threads} thread(s)`];
  lines.push('side          median s   total s  trials/h  faults/trial  system s  peak RSS MB (median/max)  failed');
  for (const s of r.sides) {
    lines.push(
      `${s.side.padEnd(12)}  ${s.median_s.toFixed(1).padStart(8)}  ${s.total_s.toFixed(0).padStart(8)}  ${s.trials_per_hour.toFixed(0).padStart(8)}  ${s.median_minor_faults.toFixed(0).padStart(12)}  ${s.median_system_s.toFixed(1).padStart(8)}  ${`${s.median_peak_rss_mb?.toFixed(0) ?? '-'}/${s.max_peak_rss_mb?.toFixed(0) ?? '-'}`.padStart(24)}  ${s.failed}`,
    );
  }
  for (const [side, x] of Object.entries(r.speedup_vs)) {
    lines.push(
      `mnas vs ${side}: ${r.throughput_vs[side]!.toFixed(2)}x the trials per hour; per architecture (medians of ratios) ${x.toFixed(2)}x faster, ${r.fault_ratio_vs[side]!.toFixed(1)}x fewer page faults`,
    );
  }
  if (r.parallel) {
    const l = r.parallel.latency;
    lines.push(`${r.parallel.workers} workers at once: ${r.parallel.trials_per_hour.toFixed(0)} trials/h (${r.parallel.wall_s.toFixed(0)} s for ${r.samples}${l ? ', with latency probes' : ''})`);
    if (l) lines.push(
      `latency of the default arch: median of ${l.held_ms.length} measured during training (held off) ${l.held_deviation_pct.toFixed(1)}% from the quiet median, ` +
        `${l.unheld_ms.length} next to training ${l.unheld_deviation_pct.toFixed(1)}%; the quiet measurements themselves spread ${l.quiet_spread_pct.toFixed(1)}%`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function registerBenchProxy(bench: Command): void {
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
    .option('--no-latency-probes', 'in the parallel run, do not measure latency every 3 s (its held measurements stop the workers): trials alone')
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
        latencyProbes: o.latencyProbes,
        onTrial: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatProxyReport(report));
    });
}
