/**
 * `mnas bench distributed-overhead`: how many workers one coordinator keeps busy, and what a
 * trial costs the coordinator and Redis. For each worker count N: a fresh redis-server on
 * loopback, a simulated worker process with N slots whose jobs take `jobMs` without training,
 * and the real coordinator (strategy, SQLite store with its fsyncs, evaluator, RemoteTrainer,
 * queue) running `rounds x N` trials with N in flight. Reports per N: wall seconds against the
 * ideal (rounds x jobMs), the share of worker time spent in jobs (busy), and the coordinator's and
 * Redis's CPU milliseconds per trial.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { DistributedSession } from '../distributed/session.js';
import { parseRedisUrl, connectionOptions } from '../distributed/redis-url.js';
import { startLocalRedis } from '../distributed/local-redis.js';
import { LocalPool } from '../search/executor.js';
import { runSearch } from '../search/loop.js';
import { rewardConfig } from '../search/reward.js';
import { checkConfig, resolveSearchConfig } from '../search/run-config.js';
import { ExperimentStore } from '../search/store.js';
import { TrainEvaluator } from '../search/train-evaluator.js';
import { printArch } from '../space/arch-string.js';
import { median } from '../util/stats.js';

export interface OverheadOptions {
  readonly workers: readonly number[];
  readonly jobMs: number;
  readonly rounds: number;
  readonly seed: number;
  /** The store's SQLite synchronous level: FULL (what a search uses: an fsync per commit) or NORMAL (no fsync; isolates the queue's cost). */
  readonly synchronous?: 'FULL' | 'NORMAL';
  readonly onLog?: (line: string) => void;
}

export interface OverheadRow {
  readonly workers: number;
  readonly trials: number;
  readonly seconds: number;
  readonly ideal_seconds: number;
  /** Share of the workers' time spent in jobs: (trials x jobMs) / (N x seconds). */
  readonly busy: number;
  readonly coordinator_cpu_ms_per_trial: number;
  /** Of the coordinator's time, ms per trial inside the SQLite store's writes (fsynced transactions; synchronous, so they block the event loop). */
  readonly store_ms_per_trial: number;
  readonly redis_cpu_ms_per_trial: number;
  /** Wall time per trial beyond the job itself, per slot: (seconds - ideal) / rounds, ms. */
  readonly added_ms_per_round: number;
  /** Median ms a job waited on the queue before a worker took it, and ms it ran beyond jobMs (from BullMQ's timestamps). */
  readonly median_queue_wait_ms: number;
  readonly median_run_overrun_ms: number;
}

const SIM_WORKER = fileURLToPath(new URL('./distributed-sim-worker.js', import.meta.url));

async function redisCpuSeconds(url: string): Promise<number> {
  const client = new Redis(connectionOptions(parseRedisUrl(url), 'bench-info'));
  try {
    const info = await client.info('cpu');
    const value = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
    return value('used_cpu_user') + value('used_cpu_sys');
  } finally {
    client.disconnect();
  }
}

/** The store with its writes timed (the benchmark separates the store's cost from the queue's). */
function timeStoreWrites(store: ExperimentStore): { store: ExperimentStore; ms: () => number } {
  let total = 0;
  const writes = new Set(['addTrial', 'markRunning', 'complete', 'fail']);
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function' || !writes.has(String(key))) return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          total += performance.now() - t0;
        }
      };
    },
  });
  return { store: proxy, ms: () => total };
}

export async function runDistributedOverhead(o: OverheadOptions): Promise<OverheadRow[]> {
  const rows: OverheadRow[] = [];
  for (const n of o.workers) {
    const redis = await startLocalRedis();
    const sim = fork(SIM_WORKER, [JSON.stringify({ url: redis.url, concurrency: n, jobMs: o.jobMs })], { stdio: 'inherit', execArgv: [] });
    const dir = mkdtempSync(path.join(tmpdir(), 'mnas-bench-dist-'));
    let session: DistributedSession | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        sim.once('message', () => resolve());
        sim.once('exit', (code) => reject(new Error(`simulated worker exited with code ${code}`)));
      });
      const trials = o.rounds * n;
      const config = checkConfig({ strategy: { kind: 'random' }, seed: o.seed, budget: trials }, 'bench');
      const { space, strategy } = resolveSearchConfig(config);
      session = await DistributedSession.open({
        url: redis.url,
        runDir: dir,
        settings: { dataset: { name: 'synthetic', validationImages: 100 }, images: 100, epochs: 1, threads: 1, splitSeed: 0 },
        device: { kind: 'ort-cpu', threads: 1, joinTimeoutS: 60 },
        inFlight: n,
      });
      const evaluator = new TrainEvaluator(space, session.trainer, { kind: 'macs', macsPerMs: 1e7 }, { seed: o.seed });
      const timed = timeStoreWrites(ExperimentStore.open(dir, { config: { bench: 'distributed-overhead', workers: n }, synchronous: o.synchronous ?? 'FULL' }));
      const store = timed.store;
      const redisCpu0 = await redisCpuSeconds(redis.url);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      try {
        await runSearch({
          strategy,
          evaluator,
          reward: rewardConfig('soft', 1),
          budget: trials,
          store,
          executor: new LocalPool(n),
          arch: (dna) => printArch(space.decode(dna)),
          reuse: false,
        });
      } finally {
        store.close();
      }
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const redisCpu = (await redisCpuSeconds(redis.url)) - redisCpu0;
      const ideal = (o.rounds * o.jobMs) / 1000;
      const jobs = await session.trainer.jobs();
      const waits = median(jobs.map((j) => j.processedOn - j.timestamp));
      const overruns = median(jobs.map((j) => j.finishedOn - j.processedOn - o.jobMs));
      const row: OverheadRow = {
        workers: n,
        trials,
        seconds,
        ideal_seconds: ideal,
        busy: (trials * o.jobMs) / 1000 / (n * seconds),
        coordinator_cpu_ms_per_trial: (cpu.user + cpu.system) / 1000 / trials,
        store_ms_per_trial: timed.ms() / trials,
        redis_cpu_ms_per_trial: (redisCpu * 1000) / trials,
        added_ms_per_round: ((seconds - ideal) * 1000) / o.rounds,
        median_queue_wait_ms: waits,
        median_run_overrun_ms: overruns,
      };
      o.onLog?.(`bench: ${n} workers: ${trials} trials in ${seconds.toFixed(2)} s (ideal ${ideal.toFixed(2)} s), busy ${(row.busy * 100).toFixed(1)}%, coordinator ${row.coordinator_cpu_ms_per_trial.toFixed(2)} ms CPU/trial, ${row.store_ms_per_trial.toFixed(2)} ms/trial blocked in SQLite writes (synchronous ${o.synchronous ?? 'FULL'}), Redis ${row.redis_cpu_ms_per_trial.toFixed(2)} ms CPU/trial; median queue wait ${waits.toFixed(1)} ms, run overrun ${overruns.toFixed(1)} ms`);
      rows.push(row);
    } finally {
      await session?.close();
      if (sim.connected) sim.disconnect();
      await new Promise((r) => (sim.exitCode !== null ? r(undefined) : sim.once('exit', r)));
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(redis.dir, { recursive: true, force: true });
    }
  }
  return rows;
}
