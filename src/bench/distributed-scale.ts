/**
 * `mnas bench distributed-scale`: the same distributed search (fmnist space, Fashion-MNIST, random
 * strategy with a fixed seed, latency measured on ort-cpu by the worker) with one `mnas worker`
 * of 1, then 2, ... training processes of one thread each, on a fresh loopback redis-server each
 * time. Reports candidates per hour and the ratio to the first.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalRedis } from '../distributed/local-redis.js';
import { search } from '../search/setup.js';

export interface ScaleOptions {
  readonly processes: readonly number[];
  readonly budget: number;
  readonly images: number;
  readonly seed: number;
  readonly onLog?: (line: string) => void;
}

export interface ScaleRow {
  readonly processes: number;
  readonly trials: number;
  readonly seconds: number;
  readonly trials_per_hour: number;
  /** Candidates per hour against the first row's. */
  readonly ratio: number;
}

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export async function runDistributedScale(o: ScaleOptions): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const processes of o.processes) {
    const redis = await startLocalRedis();
    const worker = spawn(process.execPath, [MAIN, 'worker', '--redis', redis.url, '--concurrency', String(processes), '--threads', '1', '--device', 'ort-cpu', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    const dir = mkdtempSync(path.join(tmpdir(), 'mnas-bench-scale-'));
    try {
      await new Promise<void>((resolve, reject) => {
        worker.stdout!.setEncoding('utf8');
        worker.stdout!.on('data', (chunk: string) => {
          if (chunk.includes('"event":"ready"')) resolve();
        });
        void exited.then(() => reject(new Error('the worker exited before it was ready')));
      });
      const r = await search({
        config: {
          space: 'fmnist',
          strategy: { kind: 'random' },
          seed: o.seed,
          budget: o.budget,
          dataset: { name: 'fashion-mnist', validationImages: 2000 },
          proxy: { images: o.images, epochs: 1, threads: 1 },
          concurrency: processes,
        },
        redis: redis.url,
        out: path.join(dir, 'run'),
      });
      const first = rows[0]?.trials_per_hour ?? r.session.trials_per_hour;
      const row: ScaleRow = { processes, trials: r.session.evaluated + r.session.reused, seconds: r.session.seconds, trials_per_hour: r.session.trials_per_hour, ratio: r.session.trials_per_hour / first };
      o.onLog?.(`bench: ${processes} training process(es): ${row.trials} candidates in ${row.seconds.toFixed(1)} s, ${row.trials_per_hour.toFixed(0)}/h (x${row.ratio.toFixed(2)})`);
      rows.push(row);
    } finally {
      worker.kill('SIGTERM');
      await exited;
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(redis.dir, { recursive: true, force: true });
    }
  }
  return rows;
}
