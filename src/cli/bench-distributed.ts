/**
 * `mnas bench distributed-overhead` and `mnas bench distributed-scale` (src/bench/distributed-*.ts):
 * figures of distributed searches, printed (one JSON object with --json), not timed tests.
 */
import type { Command } from 'commander';
import { runDistributedOverhead } from '../bench/distributed-overhead.js';
import { runDistributedScale } from '../bench/distributed-scale.js';
import { UsageError } from './errors.js';
import { choiceOption, intOption } from './options.js';

function intList(name: string, max: number): (v: string) => number[] {
  const one = intOption(name, 1, max);
  return (v: string) => {
    const list = v.split(',').map((x) => one(x.trim()));
    if (list.length === 0) throw new UsageError(`${name}: empty list`);
    return list;
  };
}

export function registerDistributedBench(bench: Command, write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  const log = (line: string) => void process.stderr.write(`${line}\n`);
  bench
    .command('distributed-overhead')
    .description('a coordinator feeding N simulated workers (fixed-time jobs, no training): share of worker time kept busy, coordinator and Redis cost per trial')
    .option('--workers <list>', 'comma-separated worker counts', intList('--workers', 4096), [16, 64, 256])
    .option('--job-ms <ms>', 'duration of a simulated job', intOption('--job-ms', 1, 3_600_000), 1000)
    .option('--rounds <n>', 'trials per worker', intOption('--rounds', 1, 1000), 3)
    .option('--seed <n>', 'strategy seed', intOption('--seed', 0), 0)
    .option('--synchronous <level>', "the store's SQLite level: FULL (a search's: fsync per commit) or NORMAL (isolates the queue's cost)", choiceOption('--synchronous', ['FULL', 'NORMAL'] as const), 'FULL')
    .option('--json', 'print one JSON object')
    .action(async (f: { workers: number[]; jobMs: number; rounds: number; seed: number; synchronous: 'FULL' | 'NORMAL'; json?: boolean }) => {
      const rows = await runDistributedOverhead({ workers: f.workers, jobMs: f.jobMs, rounds: f.rounds, seed: f.seed, synchronous: f.synchronous, onLog: log });
      const busy = rows.filter((r) => r.busy >= 0.9).map((r) => r.workers);
      const report = { job_ms: f.jobMs, rounds: f.rounds, synchronous: f.synchronous, rows, largest_kept_busy: busy.length ? Math.max(...busy) : null };
      write(f.json ? `${JSON.stringify(report)}\n` : `${rows.map((r) => JSON.stringify(r)).join('\n')}\nlargest worker count kept >= 90% busy: ${report.largest_kept_busy ?? 'none'}\n`);
    });
  bench
    .command('distributed-scale')
    .description('the same distributed search with one worker of 1, 2, ... training processes: candidates per hour and the ratio')
    .option('--processes <list>', 'comma-separated training process counts', intList('--processes', 256), [1, 2])
    .option('--budget <n>', 'candidates per search', intOption('--budget', 1, 100_000), 16)
    .option('--images <n>', 'proxy-training images per candidate', intOption('--images', 1, 60_000), 2000)
    .option('--seed <n>', 'strategy seed', intOption('--seed', 0), 0)
    .option('--json', 'print one JSON object')
    .action(async (f: { processes: number[]; budget: number; images: number; seed: number; json?: boolean }) => {
      const rows = await runDistributedScale({ processes: f.processes, budget: f.budget, images: f.images, seed: f.seed, onLog: log });
      write(f.json ? `${JSON.stringify({ rows })}\n` : `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    });
}
