/** `mnas bench predicted-measured`: all-measured against predicted-then-measured searches (see src/bench/predicted-measured.ts). */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { runPredictedMeasuredBench, type PredictedMeasuredReport } from '../../bench/predicted-measured.js';
import { createDevice, deviceKinds } from '../../latency/registry.js';
import { loadTable } from '../../latency/table.js';
import { spaceNames } from '../../space/space.js';
import { STRATEGY_KINDS } from '../../search/strategy-kinds.js';
import { UsageError } from '../errors.js';
import { deviceOption } from '../measure.js';
import { choiceOption, floatOption, intOption } from '../options.js';
import { Progress } from '../progress.js';
import { intListOption } from './int-list.js';

interface BenchPredictedMeasuredOptions {
  latencyTable: string;
  trainedTable: string;
  device: string;
  threads: number;
  space: string;
  strategy: string;
  budget: number;
  seeds: number[];
  margin?: number;
  topK: number;
  images?: number;
  json?: boolean;
  quiet?: boolean;
}

function formatReport(r: PredictedMeasuredReport): string {
  const lines = [
    `${r.space}, ${r.strategy}, ${r.budget} trials per run on ${r.device} (T ${r.target_ms.toFixed(3)} ms); margin ${(100 * r.margin).toFixed(0)}%, top ${r.top_k}; accuracies: ${r.accuracies.table} from the trained table, ${r.accuracies.synthetic} synthetic`,
    'seed  measured share  device s (all / gated)  saved  front sizes  sym. diff  jaccard',
  ];
  for (const s of r.seeds) {
    lines.push(
      `${String(s.seed).padEnd(4)}  ${`${s.predicted_then_measured.measured}/${s.predicted_then_measured.trials}`.padStart(14)}  ${`${s.measured.device_seconds.toFixed(2)} / ${s.predicted_then_measured.device_seconds.toFixed(2)}`.padStart(22)}  ${s.device_seconds_saved.toFixed(2).padStart(5)}  ${`${s.measured.front.length} / ${s.predicted_then_measured.front.length}`.padStart(11)}  ${String(s.front_symmetric_difference).padStart(9)}  ${s.front_jaccard.toFixed(2).padStart(7)}`,
    );
  }
  lines.push(
    `mean share measured ${(100 * r.mean_share_measured).toFixed(1)}%, device time saved ${(100 * r.mean_device_seconds_saved_fraction).toFixed(1)}%; fronts differ in ${r.fronts_differ} of ${r.seeds.length} seeds (mean symmetric difference ${r.mean_front_symmetric_difference.toFixed(2)} architectures)`,
  );
  return `${lines.join('\n')}\n`;
}

export function registerBenchPredictedMeasured(bench: Command): void {
  bench
    .command('predicted-measured')
    .description('the same searches with every latency measured and with predicted-then-measured: share measured, device time saved, how the Pareto fronts differ')
    .requiredOption('--latency-table <file>', 'latency table of the device for the space (mnas latency profile)')
    .option('--trained-table <file>', 'proxy accuracies (architectures it lacks get the synthetic evaluator\'s)', 'results/fashion-mnist/trained.jsonl')
    .option('--device <kind>', `latency device (${deviceKinds().join(', ')})`, deviceOption('bench predicted-measured'), 'ort-cpu')
    .option('--threads <n>', 'inference threads', intOption('--threads', 1, 256), 1)
    .option('--space <name>', `search space: ${spaceNames().join('|')}`, 'fmnist')
    .option('--strategy <kind>', `search strategy: ${STRATEGY_KINDS.join('|')}`, choiceOption('--strategy', STRATEGY_KINDS), 'ppo')
    .option('--budget <n>', 'trials per search', intOption('--budget', 1, 100_000), 70)
    .option('--seeds <list>', 'strategy seeds, comma-separated: two searches each', intListOption('--seeds', 0, 1_000_000), [0, 1, 2])
    .option('--margin <fraction>', "the predictor's error allowed for (default: from the table's calibration, else 0.1)", floatOption('--margin', 0, 0.9))
    .option('--top-k <n>', 'a candidate that could enter the top k by reward is measured', intOption('--top-k', 1, 100), 1)
    .option('--images <n>', "the proxy setting looked up in the trained table, images per trial (default: the search's proxy)", intOption('--images', 1))
    .option('--quiet', 'no progress display')
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: BenchPredictedMeasuredOptions) => {
      if (!spaceNames().includes(o.space)) throw new UsageError(`bench predicted-measured: unknown space '${o.space}' (known: ${spaceNames().join(', ')})`);
      if (!existsSync(o.trainedTable)) throw new UsageError(`bench predicted-measured: --trained-table ${o.trainedTable}: no such file`);
      const latencyTable = loadTable(o.latencyTable);
      if (latencyTable.space !== o.space) throw new UsageError(`bench predicted-measured: --latency-table ${o.latencyTable} is for space '${latencyTable.space}', not '${o.space}'`);
      const device = await createDevice(o.device, { threads: o.threads });
      let progress: Progress | undefined;
      try {
        const report = await runPredictedMeasuredBench({
          trainedTable: o.trainedTable,
          latencyTable,
          device,
          space: o.space,
          strategy: o.strategy,
          budget: o.budget,
          seeds: o.seeds,
          topK: o.topK,
          ...(o.images !== undefined ? { images: o.images } : {}),
          ...(o.margin !== undefined ? { margin: o.margin } : {}),
          onRun: (e) => {
            if (e.done === 1 || !progress) progress = new Progress({ label: `seed ${e.seed} ${e.mode}`, total: e.budget, silent: o.quiet === true });
            progress.update(e.done);
          },
        });
        process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatReport(report));
      } finally {
        await device.close();
      }
    });
}
