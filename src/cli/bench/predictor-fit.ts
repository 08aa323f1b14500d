/** `mnas bench predictor-fit`: the predictor's features model on latencies a trained table already holds (see src/bench/predictor-fit.ts). */
import type { Command } from 'commander';
import { runPredictorFit, type FitFigures } from '../../bench/predictor-fit.js';
import { deviceKinds } from '../../latency/registry.js';
import { deviceOption } from '../measure.js';
import { intOption } from '../options.js';

interface BenchPredictorFitOptions {
  table: string;
  device: string;
  reference?: string;
  train: number;
  splits: number;
  seed: number;
  json?: boolean;
}

const line = (what: string, f: FitFigures): string =>
  `${what}: ${(100 * f.within_10pct).toFixed(1)}% within 10%, ${(100 * f.within_5pct).toFixed(1)}% within 5%, median error ${f.median_abs_pct_error.toFixed(2)}%, worst ${f.max_abs_pct_error.toFixed(1)}%\n`;

export function registerBenchPredictorFit(bench: Command): void {
  bench
    .command('predictor-fit')
    .description("the latency predictor's features model on latencies a trained table already holds (measured interleaved with one reference): fit on some architectures, predict the others, over random splits; no device time")
    .requiredOption('--table <file>', 'the trained table (JSON Lines)')
    .option('--device <kind>', `latency device of the rows (${deviceKinds().join(', ')})`, deviceOption('bench predictor-fit'), 'ort-cpu')
    .option('--reference <arch>', 'the reference the rows were measured against (default: the one with the most rows)')
    .option('--train <n>', 'architectures each fit is trained on', intOption('--train', 2 * 15, 100000), 120)
    .option('--splits <n>', 'random splits', intOption('--splits', 1, 10000), 20)
    .option('--seed <n>', 'seed of the splits', intOption('--seed', 0), 0)
    .option('--json', 'print one JSON object on the last line')
    .action((o: BenchPredictorFitOptions) => {
      const r = runPredictorFit({ table: o.table, device: o.device, ...(o.reference !== undefined ? { reference: o.reference } : {}), train: o.train, splits: o.splits, seed: o.seed });
      process.stdout.write(
        o.json
          ? `${JSON.stringify(r)}\n`
          : `${r.architectures} architectures of ${r.table} on ${r.device} measured against ${r.reference.slice(0, 60)}...; fit on ${r.train}, ${r.splits} splits\n` +
              line('features model', r.features) +
              line('total MACs, one line', r.macs_only),
      );
    });
}
