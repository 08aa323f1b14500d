/**
 * `mnas bench proxy`: what one search candidate costs. Proxy-trains random architectures of a
 * space with the search's default proxy settings, each in a trial-worker process exactly as a
 * search runs them, and reports trials per hour, median seconds per trial, page faults, kernel
 * time and peak RSS per trial.
 *
 * Sides (each a long-lived process, as in a search; the order rotates from one architecture to
 * the next so that drift of a shared machine hits every side alike):
 *   mnas          the trial worker with its caching CPU allocator
 *   mnas-system   the same worker with MNAS_ALLOCATOR=system (libtorch's default allocator)
 *   mnas-libtorch-dw  the same worker with MNAS_DEPTHWISE=aten (libtorch's weight gradient of
 *                 depthwise convolutions instead of mnas's own, native/depthwise_conv.cc)
 *   mnas-libtorch-bn  the same worker with MNAS_BATCHNORM=aten (libtorch's batch norm and a
 *                 separate ReLU in training instead of mnas's fused one, native/batch_norm.cc)
 *   mnas-libtorch-se  the same worker with MNAS_SQUEEZE_EXCITE=aten (libtorch's autograd through
 *                 squeeze-and-excitation's ops instead of mnas's fused function, native/squeeze_excite.cc)
 *   mnas-libtorch-eval  the same worker with MNAS_EVAL_RUNTIME=libtorch (validation passes on
 *                 libtorch instead of onnxruntime, train/evaluate-onnx.ts)
 *   pytorch       bench/proxy_pytorch.py on Debian's python3-torch, glibc malloc
 *   pytorch-je    the same with Debian's jemalloc preloaded, page purging off
 * Then, optionally, the same architectures through a pool of N workers at once: the throughput
 * a search on this machine gets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { proxySplit } from '../train/run.js';
import { PROXY_RECIPE } from '../train/recipe.js';
import { loadDataset } from '../data/load.js';
import { FASHION_MNIST_DEFAULT_DIR } from '../data/fashion-mnist.js';
import { getSpace } from '../space/space.js';
import { parseArch, printArch } from '../space/arch-string.js';
import { Rng } from '../util/rng.js';
import { median } from '../util/stats.js';
import { SearchConfigSchema } from '../search/config.js';
import type { ProxySettings, ProxyTrialResult } from '../search/proxy-trainer.js';
import { WorkerPool } from '../search/workers/worker-pool.js';
import { PytorchPeer, writePeerSpec, type PeerTrialResult } from './pytorch-peer.js';
import { createDevice } from '../latency/registry.js';
import { planToModel } from '../latency/model.js';
import { buildPlan } from '../model/plan.js';
import type { LatencyDevice } from '../latency/device.js';

export const PROXY_BENCH_SIDES = ['mnas', 'mnas-system', 'mnas-libtorch-dw', 'mnas-libtorch-bn', 'mnas-libtorch-se', 'mnas-libtorch-eval', 'pytorch', 'pytorch-je'] as const;
export type ProxyBenchSide = (typeof PROXY_BENCH_SIDES)[number];

/** The mnas sides beyond 'mnas': the same trial worker with this environment. */
const WORKER_ENV: Partial<Record<ProxyBenchSide, Record<string, string>>> = {
  'mnas-system': { MNAS_ALLOCATOR: 'system' },
  'mnas-libtorch-dw': { MNAS_DEPTHWISE: 'aten' },
  'mnas-libtorch-bn': { MNAS_BATCHNORM: 'aten' },
  'mnas-libtorch-se': { MNAS_SQUEEZE_EXCITE: 'aten' },
  'mnas-libtorch-eval': { MNAS_EVAL_RUNTIME: 'libtorch' },
};

export interface ProxyBenchOptions {
  readonly space: string;
  readonly samples: number;
  readonly seed: number;
  readonly sides: readonly ProxyBenchSide[];
  /** Proxy images and epochs; default: the search's defaults. */
  readonly images?: number;
  readonly epochs?: number;
  readonly threads: number;
  /** Run the mnas side again with this many workers at once (0: skip). */
  readonly parallelWorkers: number;
  /**
   * Measure the default architecture's latency every 3 s of the parallel run (default true). The
   * held measurements stop the workers, so without them the parallel run's trials per hour is
   * the trials' alone.
   */
  readonly latencyProbes?: boolean;
  readonly onTrial?: (line: string) => void;
}

export interface TrialRow {
  readonly arch: string;
  readonly seconds: number;
  readonly val_accuracy: number | null;
  readonly minor_faults: number;
  readonly system_s: number;
  readonly peak_rss_mb: number | null;
  readonly status: 'done' | 'failed';
}

export interface SideSummary {
  readonly side: ProxyBenchSide;
  readonly trials: number;
  readonly failed: number;
  readonly median_s: number;
  /** Seconds of all its trials together. */
  readonly total_s: number;
  /** Throughput over these trials: trials x 3600 / total_s (before 2026-12-07 this was 3600 / median_s). */
  readonly trials_per_hour: number;
  readonly median_minor_faults: number;
  readonly median_system_s: number;
  readonly median_peak_rss_mb: number | null;
  readonly max_peak_rss_mb: number | null;
  readonly rows: readonly TrialRow[];
}

export interface ProxyBenchReport {
  readonly space: string;
  readonly samples: number;
  readonly seed: number;
  readonly images: number;
  readonly epochs: number;
  readonly threads: number;
  readonly sides: readonly SideSummary[];
  /** Median over architectures of (other side's seconds / mnas seconds), per other side: > 1 means mnas is faster. */
  readonly speedup_vs: { readonly [side: string]: number };
  /** mnas's trials per hour over the other side's on the same architectures (other side's total seconds / mnas's). */
  readonly throughput_vs: { readonly [side: string]: number };
  /** Median over architectures of (other side's faults / mnas faults). */
  readonly fault_ratio_vs: { readonly [side: string]: number };
  readonly parallel?: {
    readonly workers: number;
    readonly wall_s: number;
    readonly trials_per_hour: number;
    readonly failed: number;
    /**
     * The space's default architecture measured on ort-cpu (1 thread): quietly before the run,
     * then while the workers train, through the search's hold-off (as a search measures) and
     * without it (what a measurement next to training would see). Absent without latency probes.
     */
    readonly latency?: {
      /** Measured with no training running, before and after the parallel run. */
      readonly quiet_ms: readonly number[];
      readonly held_ms: readonly number[];
      readonly unheld_ms: readonly number[];
      /** |median(held) - median(quiet)| / median(quiet), percent. */
      readonly held_deviation_pct: number;
      /** The same for measurements next to training. */
      readonly unheld_deviation_pct: number;
      /** (max - min) / median of the quiet measurements: the device's own noise, percent. */
      readonly quiet_spread_pct: number;
    };
  };
}

/** `samples` random architectures of the space, the same for a given seed. */
export function sampleArchitectures(spaceName: string, samples: number, seed: number): string[] {
  const space = getSpace(spaceName);
  const rng = new Rng(seed);
  return Array.from({ length: samples }, () => printArch(space.decode(space.sample(rng))));
}

const MB = 2 ** 20;

function fromWorker(arch: string, r: ProxyTrialResult): TrialRow {
  return {
    arch,
    seconds: r.seconds,
    val_accuracy: r.status === 'done' ? r.valAccuracy : null,
    minor_faults: r.memory?.minorFaults ?? 0,
    system_s: r.memory?.systemSeconds ?? 0,
    peak_rss_mb: r.memory?.peakRssBytes != null ? r.memory.peakRssBytes / MB : null,
    status: r.status,
  };
}

function fromPeer(arch: string, r: PeerTrialResult): TrialRow {
  return {
    arch,
    seconds: r.seconds,
    val_accuracy: r.status === 'done' ? r.valAccuracy : null,
    minor_faults: r.minorFaults,
    system_s: r.systemSeconds,
    peak_rss_mb: r.peakRssBytes !== null ? r.peakRssBytes / MB : null,
    status: r.status,
  };
}

const totalSeconds = (rows: readonly TrialRow[]) => rows.reduce((a, r) => a + r.seconds, 0);

/** One side's figures over its trials (rows in architecture order). */
export function summarizeSide(side: ProxyBenchSide, rows: readonly TrialRow[]): SideSummary {
  const rss = rows.map((r) => r.peak_rss_mb).filter((x): x is number => x !== null);
  const total = totalSeconds(rows);
  return {
    side,
    trials: rows.length,
    failed: rows.filter((r) => r.status === 'failed').length,
    median_s: median(rows.map((r) => r.seconds)),
    total_s: total,
    trials_per_hour: (rows.length * 3600) / total,
    median_minor_faults: median(rows.map((r) => r.minor_faults)),
    median_system_s: median(rows.map((r) => r.system_s)),
    median_peak_rss_mb: rss.length ? median(rss) : null,
    max_peak_rss_mb: rss.length ? Math.max(...rss) : null,
    rows,
  };
}

/**
 * mnas against every other side on the same architectures (rows in architecture order): the
 * median of per-architecture ratios, the ratio of trials per hour, and the median ratio of page
 * faults. Empty without an mnas side.
 */
export function compareWithMnas(rows: ReadonlyMap<ProxyBenchSide, readonly TrialRow[]>): Pick<ProxyBenchReport, 'speedup_vs' | 'throughput_vs' | 'fault_ratio_vs'> {
  const speedup: Record<string, number> = {};
  const throughput: Record<string, number> = {};
  const faults: Record<string, number> = {};
  const mnas = rows.get('mnas');
  if (mnas) {
    const mnasTotal = totalSeconds(mnas);
    for (const [side, other] of rows) {
      if (side === 'mnas') continue;
      if (other.length !== mnas.length) throw new Error(`bench proxy: ${side} ran ${other.length} trials, mnas ${mnas.length}`);
      speedup[side] = median(other.map((r, i) => r.seconds / mnas[i]!.seconds));
      throughput[side] = totalSeconds(other) / mnasTotal;
      faults[side] = median(other.map((r, i) => r.minor_faults / Math.max(1, mnas[i]!.minor_faults)));
    }
  }
  return { speedup_vs: speedup, throughput_vs: throughput, fault_ratio_vs: faults };
}

interface Runner {
  run(i: number): Promise<TrialRow>;
  close(): Promise<void>;
}

export async function runProxyBench(o: ProxyBenchOptions): Promise<ProxyBenchReport> {
  const defaults = SearchConfigSchema.parse({});
  const images = o.images ?? defaults.proxy.images;
  const epochs = o.epochs ?? defaults.proxy.epochs;
  const archs = sampleArchitectures(o.space, o.samples, o.seed);
  const planOf = (arch: string) => buildPlan(parseArch(arch));
  const settings: ProxySettings = {
    dataset: { name: 'fashion-mnist', validationImages: defaults.dataset.validationImages },
    images,
    epochs,
    threads: o.threads,
    splitSeed: 0,
  };
  const seedOf = (i: number) => o.seed + i;
  const work = mkdtempSync(path.join(tmpdir(), 'mnas-bench-proxy-'));
  const runners = new Map<ProxyBenchSide, Runner>();
  try {
    for (const side of o.sides) {
      if (side === 'mnas' || side in WORKER_ENV) {
        const env = WORKER_ENV[side];
        const pool = await WorkerPool.start({ workers: 1, settings, ...(env ? { env } : {}) });
        runners.set(side, { run: async (i) => fromWorker(archs[i]!, await pool.train({ plan: planOf(archs[i]!), seed: seedOf(i) })), close: () => pool.close() });
      } else {
        const spec = path.join(work, 'spec.json');
        if (!runners.has('pytorch') && !runners.has('pytorch-je')) {
          const datasets = loadDataset({ name: 'fashion-mnist', seed: 0 });
          const split = proxySplit(datasets, { subset: images, validationSize: settings.dataset.validationImages, splitSeed: 0 });
          writePeerSpec(spec, {
            archs,
            split,
            recipe: { ...PROXY_RECIPE, epochs },
            dataFiles: { images: path.join(FASHION_MNIST_DEFAULT_DIR, 'train-images-idx3-ubyte.gz'), labels: path.join(FASHION_MNIST_DEFAULT_DIR, 'train-labels-idx1-ubyte.gz') },
          });
        }
        const peer = await PytorchPeer.start({ specFile: spec, threads: o.threads, jemalloc: side === 'pytorch-je' });
        runners.set(side, { run: async (i) => fromPeer(archs[i]!, await peer.runTrial(i)), close: () => peer.close() });
      }
    }
    const rows = new Map<ProxyBenchSide, TrialRow[]>(o.sides.map((s) => [s, []]));
    for (let i = 0; i < archs.length; i++) {
      for (let k = 0; k < o.sides.length; k++) {
        const side = o.sides[(i + k) % o.sides.length]!;
        const row = await runners.get(side)!.run(i);
        rows.get(side)!.push(row);
        o.onTrial?.(`arch ${i + 1}/${archs.length} ${side}: ${row.seconds.toFixed(1)} s, ${row.minor_faults} faults, ${row.system_s.toFixed(1)} s system, peak RSS ${row.peak_rss_mb?.toFixed(0) ?? '-'} MB, val ${row.val_accuracy?.toFixed(4) ?? row.status}`);
      }
    }
    for (const r of runners.values()) await r.close();
    runners.clear();

    let parallel: ProxyBenchReport['parallel'];
    if (o.parallelWorkers > 0) {
      const pool = await WorkerPool.start({ workers: o.parallelWorkers, settings });
      const device: LatencyDevice | undefined = o.latencyProbes === false ? undefined : await createDevice('ort-cpu', { threads: 1 });
      try {
        const space = getSpace(o.space);
        const model = planToModel(buildPlan(space.decode(space.defaultDna())), 'default');
        const measure = device ? async () => (await device.measure(model)).latency_ms : undefined;
        const quiet = measure ? [await measure(), await measure(), await measure()] : [];
        const held: number[] = [];
        const unheld: number[] = [];
        let done = false;
        const t0 = performance.now();
        const trials = Promise.all(archs.map((arch, i) => pool.train({ plan: planOf(arch), seed: seedOf(i) }))).finally(() => (done = true));
        const probes = (async () => {
          for (let k = 0; measure && !done; k++) {
            await new Promise((r) => setTimeout(r, 3000));
            if (done) break;
            if (k % 3 === 2) unheld.push(await measure());
            else held.push(await pool.holdWhile(measure));
          }
        })();
        const results = await trials;
        const wall = (performance.now() - t0) / 1000;
        await probes;
        let latency: NonNullable<ProxyBenchReport['parallel']>['latency'];
        if (measure) {
          for (let k = 0; k < 3; k++) quiet.push(await measure());
          const q = median(quiet);
          const dev = (xs: number[]) => (xs.length ? (100 * Math.abs(median(xs) - q)) / q : 0);
          latency = {
            quiet_ms: quiet,
            held_ms: held,
            unheld_ms: unheld,
            held_deviation_pct: dev(held),
            unheld_deviation_pct: dev(unheld),
            quiet_spread_pct: (100 * (Math.max(...quiet) - Math.min(...quiet))) / q,
          };
        }
        parallel = {
          workers: o.parallelWorkers,
          wall_s: wall,
          trials_per_hour: (archs.length * 3600) / wall,
          failed: results.filter((r) => r.status === 'failed').length,
          ...(latency ? { latency } : {}),
        };
        const measured = latency ? `; latency quiet ${quiet.map((x) => x.toFixed(4)).join(' ')}, held ${held.map((x) => x.toFixed(4)).join(' ')}, unheld ${unheld.map((x) => x.toFixed(4)).join(' ')}` : ', no latency probes';
        o.onTrial?.(`parallel: ${archs.length} trials on ${o.parallelWorkers} workers in ${wall.toFixed(1)} s${measured}`);
      } finally {
        await device?.close();
        await pool.close();
      }
    }

    const sides = o.sides.map((s) => summarizeSide(s, rows.get(s)!));
    return { space: o.space, samples: o.samples, seed: o.seed, images, epochs, threads: o.threads, sides, ...compareWithMnas(rows), ...(parallel ? { parallel } : {}) };
  } finally {
    for (const r of runners.values()) await r.close().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}
