/** `mnas bench proxy-fidelity`: proxy settings against the final recipe (see src/bench/proxy-fidelity.ts). */
import type { Command } from 'commander';
import { DEFAULT_PROXY_SETTINGS, runFidelityStudy, type ProxySettingSpec } from '../../bench/proxy-fidelity.js';
import { shortKey, type FidelityReport } from '../../bench/fidelity-analysis.js';
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
  trialSeconds?: string;
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

/** `--trial-seconds 5000x1=14.0,10000x3=50`: seconds per trial of proxy settings that are in the study. */
export function parseTrialSeconds(text: string, proxies: readonly ProxySettingSpec[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+x\d+)\s*=\s*([0-9.eE+-]+)\s*$/.exec(part);
    const seconds = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`bench proxy-fidelity: --trial-seconds: '${part}' is not IMAGESxEPOCHS=SECONDS with positive seconds (e.g. 5000x1=14.0)`);
    const key = m[1]!;
    if (!proxies.some((p) => shortKey(p) === key)) throw new UsageError(`bench proxy-fidelity: --trial-seconds names ${key}, which is not in --proxies`);
    if (out.has(key)) throw new UsageError(`bench proxy-fidelity: --trial-seconds names ${key} twice`);
    out.set(key, seconds);
  }
  return out;
}

const f = (x: number | null, digits: number, scale = 1): string => (x === null ? '-' : (x * scale).toFixed(digits));

export function formatFidelityReport(r: FidelityReport): string {
  const pct = (x: number | null): string => f(x, 2, 100);
  const lines = [
    `${r.archs} random '${r.space}' architectures; final recipe ${r.final.epochs} epochs: ${r.final.archs_done} trained (${r.final.failed} failed), ` +
      `median ${f(r.final.median_seconds, 0)} s, mean test accuracy ${pct(r.final.mean_test_accuracy)}%, best ${pct(r.final.best_test_accuracy)}%, ` +
      `seed noise ${f(r.final.seed_noise_pts, 2)} pts (${r.final.noise_archs} archs)`,
    '',
    'fidelity: proxy accuracy against final test accuracy',
    'proxy (images x epochs)  archs  Spearman  90% interval  faithful  median s (load)  trials/h  mean val acc  seed noise pts  arch spread pts  failed',
  ];
  for (const s of r.settings) {
    const interval = s.spearman_ci90 ? `${s.spearman_ci90[0].toFixed(2)} to ${s.spearman_ci90[1].toFixed(2)}` : '-';
    lines.push(
      `${`${s.images}x${s.epochs}`.padEnd(23)}  ${String(s.archs).padStart(5)}  ${f(s.spearman, 3).padStart(8)}  ${interval.padStart(12)}  ${share(s.faithful_share).padStart(8)}  ` +
        `${`${f(s.median_seconds, 1)} (${f(s.median_load, 1)})`.padStart(15)}  ${f(s.trials_per_hour, 0).padStart(8)}  ` +
        `${pct(s.mean_accuracy).padStart(12)}  ${`${f(s.seed_noise_pts, 2)} (${s.noise_archs})`.padStart(14)}  ${f(s.arch_spread_pts, 2).padStart(15)}  ${String(s.failed).padStart(6)}`,
    );
  }
  lines.push(`most faithful (the cheapest within 0.05 of the best correlation; 'faithful': share of resamples): ${r.most_faithful ?? '-'}`, '');
  const b = r.budget;
  lines.push(
    b.trials_of === null
      ? 'fidelity per second: no setting has a cost yet'
      : `fidelity per second: final test accuracy of the proxy's first choice at equal budgets (${b.seconds.map((x) => x.toFixed(0)).join(' / ')} s: ` +
          `trials of ${b.trials_of}), over a pool of ${b.pool} architectures (mean ${pct(b.pool_mean_final)}%, best ${pct(b.pool_best_final)}%); n: architectures paid for, * the pool ran out first`,
  );
  const budgetHeads = b.seconds.map((x) => `${x.toFixed(0)} s: n  pick`.padStart(16));
  lines.push(`proxy (images x epochs)  s/trial (from)  ${budgetHeads.join('  ')}  mean pick  90% interval      vs most faithful (90%)  picked`);
  for (const s of r.settings) {
    const cells = b.seconds.map((_, k) => (s.budget_pick.length ? `${`${s.budget_trials[k]}${s.budget_exhausted[k] ? '*' : ''}`.padStart(4)}  ${pct(s.budget_pick[k]!)}%` : '-').padStart(16));
    const interval = s.mean_pick_ci90 ? `${pct(s.mean_pick_ci90[0])} to ${pct(s.mean_pick_ci90[1])}` : '-';
    lines.push(
      `${`${s.images}x${s.epochs}`.padEnd(23)}  ${`${f(s.seconds_per_trial, 1)} (${s.seconds_source ?? '-'})`.padStart(14)}  ${cells.join('  ')}  ` +
        `${(s.mean_pick === null ? '-' : `${pct(s.mean_pick)}%`).padStart(9)}  ${interval.padStart(16)}  ${gain(s.gain_over_faithful_ci90).padStart(22)}  ${share(s.picked_share).padStart(6)}`,
    );
  }
  lines.push(r.recommended ? `choose ${r.recommended}: ${r.why}` : `no choice yet: ${r.why}`);
  return `${lines.join('\n')}\n`;
}

function gain(interval: readonly [number, number] | null): string {
  const pts = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
  return interval === null ? '-' : `${pts(interval[0])} to ${pts(interval[1])} pts`;
}

function share(x: number | null): string {
  return x === null ? '-' : `${f(x, 0, 100)}%`;
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
    .option('--table <file>', 'the trained table (JSON Lines) that holds every training; trainings already there are not run again', 'proxy-fidelity.jsonl')
    .option('--trial-seconds <list>', 'seconds per trial of proxy settings, measured on a quiet machine (mnas bench proxy), IMAGESxEPOCHS=SECONDS comma-separated; others count at the median of their trainings in the table');
  addStudyFlags(command, 'train nothing: report from the table as it is')
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: BenchFidelityOptions) => {
      if (!spaceNames().includes(o.space)) throw new UsageError(`bench proxy-fidelity: unknown space '${o.space}' (known: ${spaceNames().join(', ')})`);
      const proxies = parseProxySettings(o.proxies);
      const trialSeconds = o.trialSeconds === undefined ? new Map<string, number>() : parseTrialSeconds(o.trialSeconds, proxies);
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
          trialSeconds,
          ...studyRunOptions(o, signal),
        });
        if (result.pending > 0) process.stderr.write(`${result.pending} of ${result.jobs} trainings still to run: run the same command again to go on\n`);
        process.stdout.write(o.json ? `${JSON.stringify({ ...result.report, jobs: result.jobs, pending: result.pending, table: o.table })}\n` : formatFidelityReport(result.report));
      });
    });
}
