/**
 * `mnas bench distributed-scale`: the same distributed search with one worker of 1, 2, ...
 * training processes (src/bench/distributed-scale.ts): candidates per hour and the ratio.
 * Figures, not a timed test; one JSON object with --json.
 */
import type { Command } from 'commander';
import { runDistributedScale, summarizeScale } from '../../bench/distributed-scale.js';
import { intOption } from '../options.js';
import { intListOption } from './int-list.js';

interface Flags {
  processes: number[];
  budget: number;
  images: number;
  seed: number;
  rounds: number;
  json?: boolean;
}

export function registerBenchDistributedScale(bench: Command, write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  bench
    .command('distributed-scale')
    .description('the same distributed search with one worker of 1, 2, ... training processes: candidates per hour and the ratio')
    .option('--processes <list>', 'comma-separated training process counts', intListOption('--processes', 1, 256), [1, 2])
    .option('--budget <n>', 'candidates per search', intOption('--budget', 1, 100_000), 16)
    .option('--images <n>', 'proxy-training images per candidate', intOption('--images', 1, 60_000), 2000)
    .option('--seed <n>', 'strategy seed', intOption('--seed', 0), 0)
    .option('--rounds <n>', 'times the list of process counts runs, alternating (the summary gives medians)', intOption('--rounds', 1, 100), 1)
    .option('--json', 'print one JSON object')
    .action(async (f: Flags) => {
      const rows = await runDistributedScale({ processes: f.processes, budget: f.budget, images: f.images, seed: f.seed, rounds: f.rounds, onLog: (line) => void process.stderr.write(`${line}\n`) });
      const summary = summarizeScale(rows);
      write(f.json ? `${JSON.stringify({ rows, summary })}\n` : `${[...rows, ...summary].map((r) => JSON.stringify(r)).join('\n')}\n`);
    });
}
