/**
 * `mnas report DIR [--json]`: rewrites a run's report.html (and summary.json, pareto.json,
 * best.json) from its store, at any time, also while its search runs (src/runs/report.ts).
 */
import type { Command } from 'commander';
import { rewriteReport } from '../runs/report.js';

export function registerReport(program: Command, write: (s: string) => void = (s) => void process.stdout.write(s)): Command {
  return program
    .command('report')
    .description("rewrite a run's self-contained report.html (summary, plots, every trial) from its store, also while it runs")
    .argument('<dir>', 'run directory')
    .option('--json', 'print one JSON object: {files, summary}')
    .action((dir: string, flags: { json?: boolean }) => {
      const r = rewriteReport(dir);
      if (flags.json) return write(`${JSON.stringify({ files: r.files, summary: r.summary })}\n`);
      const s = r.summary;
      write(`wrote ${r.files.find((f) => f.endsWith('report.html'))} (${s.trialsDone + s.trialsFailed} of ${s.budget ?? '-'} trials, ${s.state})\n`);
    });
}
