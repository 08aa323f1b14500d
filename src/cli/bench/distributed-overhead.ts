/**
 * `mnas bench distributed-overhead`: a coordinator feeding N simulated workers (fixed-time jobs,
 * no training; src/bench/distributed-overhead.ts): share of worker time kept busy, coordinator and
 * Redis cost per trial. Figures, not a timed test; one JSON object with --json.
 */
import type { Command } from 'commander';
import { choiceOption, intOption } from '../options.js';
import { intListOption } from './int-list.js';

interface Flags {
  workers: number[];
  jobMs: number;
  rounds: number;
  seed: number;
  synchronous: 'FULL' | 'NORMAL';
  json?: boolean;
}

export function registerBenchDistributedOverhead(bench: Command, write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  bench
    .command('distributed-overhead')
    .description('a coordinator feeding N simulated workers (fixed-time jobs, no training): share of worker time kept busy, coordinator and Redis cost per trial')
    .option('--workers <list>', 'comma-separated worker counts', intListOption('--workers', 1, 4096), [16, 64, 256])
    .option('--job-ms <ms>', 'duration of a simulated job', intOption('--job-ms', 1, 3_600_000), 1000)
    .option('--rounds <n>', 'trials per worker', intOption('--rounds', 1, 1000), 3)
    .option('--seed <n>', 'strategy seed', intOption('--seed', 0), 0)
    .option('--synchronous <level>', "the store's SQLite level: FULL (a search's: fsync per commit) or NORMAL (isolates the queue's cost)", choiceOption('--synchronous', ['FULL', 'NORMAL'] as const), 'FULL')
    .option('--json', 'print one JSON object')
    .action(async (f: Flags) => {
      const { runDistributedOverhead } = await import('../../bench/distributed-overhead.js');
      const rows = await runDistributedOverhead({ workers: f.workers, jobMs: f.jobMs, rounds: f.rounds, seed: f.seed, synchronous: f.synchronous, onLog: (line) => void process.stderr.write(`${line}\n`) });
      const busy = rows.filter((r) => r.busy >= 0.9).map((r) => r.workers);
      const report = { job_ms: f.jobMs, rounds: f.rounds, synchronous: f.synchronous, rows, largest_kept_busy: busy.length ? Math.max(...busy) : null };
      write(f.json ? `${JSON.stringify(report)}\n` : `${rows.map((r) => JSON.stringify(r)).join('\n')}\nlargest worker count kept >= 90% busy: ${report.largest_kept_busy ?? 'none'}\n`);
    });
}
