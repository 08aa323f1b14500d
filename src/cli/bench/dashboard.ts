/**
 * `mnas bench dashboard`: how fast the dashboard opens a big run in Chromium (src/bench/dashboard-open.ts).
 * Figures, not a timed test; one JSON object with --json.
 */
import type { Command } from 'commander';
import { runDashboardOpen, type DashboardOpenResult } from '../../bench/dashboard-open.js';
import { intOption } from '../options.js';
import { readRun } from '../../runs/summary.js';

interface Flags {
  trials: number;
  rounds: number;
  seed: number;
  run?: string;
  json?: boolean;
}

export function registerBenchDashboard(bench: Command, write: (s: string) => void = (s) => void process.stdout.write(s)): void {
  bench
    .command('dashboard')
    .description('how fast the dashboard opens a big run: a synthetic search of --trials trials, then per round a fresh `mnas dashboard` and the run page in Chromium')
    .option('--trials <n>', 'trials of the synthetic search made for the benchmark', intOption('--trials', 1, 1_000_000), 10_000)
    .option('--rounds <n>', 'rounds, each with a fresh dashboard process', intOption('--rounds', 1, 100), 5)
    .option('--seed <n>', 'seed of the synthetic search', intOption('--seed', 0), 0)
    .option('--run <dir>', 'open this existing run directory instead of making one')
    .option('--json', 'print one JSON object')
    .action(async (f: Flags) => {
      if (f.run !== undefined) readRun(f.run); // not a run: one line, exit 2, before Chromium starts
      const r = await runDashboardOpen({ trials: f.trials, rounds: f.rounds, seed: f.seed, ...(f.run !== undefined ? { run: f.run } : {}), onLog: (line) => void process.stderr.write(`${line}\n`) });
      write(f.json ? `${JSON.stringify(r)}\n` : formatResult(r));
    });
}

function formatResult(r: DashboardOpenResult): string {
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  return [
    `${r.trials} trials${r.search_seconds !== null ? ` (made in ${r.search_seconds.toFixed(1)} s)` : ''}, ${r.rounds.length} rounds`,
    `first open after the server starts: median ${ms(r.median.first_open_ms)}, worst ${ms(r.worst.first_open_ms)} (as the page measures it: median ${ms(r.median.first_page_ms)})`,
    `open again (server warm): median ${ms(r.median.warm_open_ms)}, worst ${ms(r.worst.warm_open_ms)} (page: median ${ms(r.median.warm_page_ms)})`,
    `next table page: median ${ms(r.median.next_page_ms)}, worst ${ms(r.worst.next_page_ms)}`,
    '',
  ].join('\n');
}
