/** `mnas bench proxy-fidelity`: proxy settings against the final recipe (see src/bench/proxy-fidelity.ts). */
import type { Command } from 'commander';
import { DEFAULT_PROXY_SETTINGS, runFidelityStudy, type ProxySettingSpec } from '../../bench/proxy-fidelity.js';
import type { FidelityReport } from '../../bench/fidelity-analysis.js';
import { spaceNames } from '../../space/space.js';
import { TrainedTable } from '../../trained/table.js';
import { FINAL_EPOCHS } from '../../trained/train-job.js';
import { UsageError } from '../errors.js';
import { runResumable } from './resumable.js';
import { intOption } from '../options.js';
import { addStudyFlags, studyRunOptions, type StudyFlags } from './study-flags.js';

interface BenchFidelityOptions extends StudyFlags {
  space: string;
  samples: number;
  seed: number;
  dataset: string;
  proxies: string;
  validation: number;
  splitSeed: number;
  noiseArchs: number;
  noiseSeeds: number;
  finalSeeds: number;
  finalEpochs: number;
  table: string;
  json?: boolean;
}

export function parseProxySettings(text: string): ProxySettingSpec[] {
  const out: ProxySettingSpec[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)x(\d+)\s*$/.exec(part);
    if (!m) throw new UsageError(`bench proxy-fidelity: --proxies: '${part}' is not IMAGESxEPOCHS (e.g. 5000x1)`);
    const images = Number(m[1]);
    const epochs = Number(m[2]);
    if (images < 1 || epochs < 1) throw new UsageError(`bench proxy-fidelity: --proxies: '${part}' needs at least 1 image and 1 epoch`);
    if (out.some((p) => p.images === images && p.epochs === epochs)) throw new UsageError(`bench proxy-fidelity: --proxies names ${part.trim()} twice`);
    out.push({ images, epochs });
  }
  return out;
}

const f = (x: number | null, digits: number, scale = 1): string => (x === null ? '-' : (x * scale).toFixed(digits));

export function formatFidelityReport(r: FidelityReport): string {
  const lines = [
    `${r.archs} random '${r.space}' architectures; final recipe ${r.final.epochs} epochs: ${r.final.archs_done} trained (${r.final.failed} failed), ` +
      `median ${f(r.final.median_seconds, 0)} s, mean test accuracy ${f(r.final.mean_test_accuracy, 2, 100)}%, best ${f(r.final.best_test_accuracy, 2, 100)}%, ` +
      `seed noise ${f(r.final.seed_noise_pts, 2)} pts (${r.final.noise_archs} archs)`,
    'proxy (images x epochs)  archs  Spearman  90% interval  picked  median s (load)  trials/h  mean val acc  seed noise pts  arch spread pts  failed',
  ];
  for (const s of r.settings) {
    const interval = s.spearman_ci90 ? `${s.spearman_ci90[0].toFixed(2)} to ${s.spearman_ci90[1].toFixed(2)}` : '-';
    lines.push(
      `${`${s.images}x${s.epochs}`.padEnd(23)}  ${String(s.archs).padStart(5)}  ${f(s.spearman, 3).padStart(8)}  ${interval.padStart(12)}  ${(s.picked_share === null ? '-' : `${f(s.picked_share, 0, 100)}%`).padStart(6)}  ` +
        `${`${f(s.median_seconds, 1)} (${f(s.median_load, 1)})`.padStart(15)}  ${f(s.trials_per_hour, 0).padStart(8)}  ` +
        `${f(s.mean_accuracy, 2, 100).padStart(12)}  ${`${f(s.seed_noise_pts, 2)} (${s.noise_archs})`.padStart(14)}  ${f(s.arch_spread_pts, 2).padStart(15)}  ${String(s.failed).padStart(6)}`,
    );
  }
  lines.push(r.recommended ? `choose ${r.recommended}: ${r.why}` : `no choice yet: ${r.why}`);
  return `${lines.join('\n')}\n`;
}

export function registerBenchProxyFidelity(bench: Command): void {
  const command = bench
    .command('proxy-fidelity')
    .description('rank agreement of proxy settings with the final recipe, their cost and seed noise (resumable: trainings go to a table file)')
    .option('--space <name>', `search space: ${spaceNames().join('|')}`, 'fmnist')
    .option('--samples <n>', 'random architectures', intOption('--samples', 3, 10000), 20)
    .option('--seed <n>', 'seed of the architectures', intOption('--seed', 0), 0)
    .option('--dataset <name>', 'dataset', 'fashion-mnist')
    .option('--proxies <list>', 'proxy settings, IMAGESxEPOCHS, comma-separated', DEFAULT_PROXY_SETTINGS.map((p) => `${p.images}x${p.epochs}`).join(','))
    .option('--validation <n>', 'training images held out; proxy accuracy is measured on them', intOption('--validation', 1), 10000)
    .option('--split-seed <n>', 'seed of the validation split and proxy subsets', intOption('--split-seed', 0), 0)
    .option('--noise-archs <n>', 'architectures trained with several seeds for the seed noise', intOption('--noise-archs', 0), 5)
    .option('--noise-seeds <n>', 'seeds of those architectures (proxy settings)', intOption('--noise-seeds', 1, 100), 3)
    .option('--final-seeds <n>', 'seeds of the final training of every architecture', intOption('--final-seeds', 1, 100), 1)
    .option('--final-epochs <n>', 'epochs of the final recipe', intOption('--final-epochs', 1, 1000), FINAL_EPOCHS)
    .option('--table <file>', 'the trained table (JSON Lines) that holds every training; trainings already there are not run again', 'proxy-fidelity.jsonl');
  addStudyFlags(command, 'train nothing: report from the table as it is')
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: BenchFidelityOptions) => {
      if (!spaceNames().includes(o.space)) throw new UsageError(`bench proxy-fidelity: unknown space '${o.space}' (known: ${spaceNames().join(', ')})`);
      const proxies = parseProxySettings(o.proxies);
      const table = TrainedTable.open(o.table);
      await runResumable(o.table, async (signal) => {
        const result = await runFidelityStudy(table, {
          space: o.space,
          samples: o.samples,
          seed: o.seed,
          dataset: o.dataset,
          proxies,
          validation: o.validation,
          splitSeed: o.splitSeed,
          noiseArchs: Math.min(o.noiseArchs, o.samples),
          noiseSeeds: o.noiseSeeds,
          finalSeeds: o.finalSeeds,
          finalEpochs: o.finalEpochs,
          ...studyRunOptions(o, signal),
        });
        if (result.pending > 0) process.stderr.write(`${result.pending} of ${result.jobs} trainings still to run: run the same command again to go on\n`);
        process.stdout.write(o.json ? `${JSON.stringify({ ...result.report, jobs: result.jobs, pending: result.pending, table: o.table })}\n` : formatFidelityReport(result.report));
      });
    });
}
