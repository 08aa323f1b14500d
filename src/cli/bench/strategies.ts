/**
 * `mnas bench strategies`: search strategies on the synthetic problem with a known optimum
 * (src/bench/strategies.ts): best reward / optimum against samples, median over seeds.
 */
import type { Command } from 'commander';
import { runStrategyBench, type StrategyBenchReport } from '../../bench/strategies.js';
import { PPO_DEFAULTS } from '../../search/ppo/strategy.js';
import { STRATEGY_KINDS } from '../../search/strategy-kinds.js';
import { spaceNames } from '../../space/space.js';
import { UsageError } from '../errors.js';
import { choiceOption, floatOption, intOption } from '../options.js';

interface BenchStrategiesOptions {
  samples: number;
  seeds: number;
  space: string;
  blocks?: number;
  reward: 'soft' | 'hard';
  concurrency: number;
  strategies: string;
  lr: number;
  epochs: number;
  entropy: number;
  batch: number;
  clip: number;
  population: number;
  tournament: number;
  every: number;
  threads: number;
  json?: boolean;
}

export function registerBenchStrategies(bench: Command): void {
  bench
    .command('strategies')
    .description('ppo, random search and evolution on the synthetic problem (exact optimum): best reward / optimum against samples, median over seeds')
    .option('--samples <n>', 'trials per strategy and seed', intOption('--samples', 1, 10_000_000), 2000)
    .option('--seeds <n>', 'seeds: problem seed 100 + s, strategy seed s', intOption('--seeds', 1, 10_000), 10)
    .option('--space <name>', `decisions of a search space: ${spaceNames().join('|')}`, 'fmnist')
    .option('--blocks <n>', 'instead of --space: the synthetic MnasNet-like space of N blocks', intOption('--blocks', 1, 100))
    .option('--reward <kind>', 'soft or hard, at the problem\'s suggested target', choiceOption('--reward', ['soft', 'hard'] as const), 'soft')
    .option('--concurrency <n>', 'trials in flight', intOption('--concurrency', 1, 1024), 1)
    .option('--strategies <list>', `comma-separated: ${STRATEGY_KINDS.join(',')}`, STRATEGY_KINDS.join(','))
    .option('--lr <x>', 'ppo learning rate', floatOption('--lr', 1e-12), PPO_DEFAULTS.learningRate)
    .option('--epochs <n>', 'ppo epochs per minibatch', intOption('--epochs', 1, 1000), PPO_DEFAULTS.epochs)
    .option('--entropy <x>', 'ppo entropy weight', floatOption('--entropy', 0), PPO_DEFAULTS.entropyWeight)
    .option('--batch <n>', 'ppo minibatch size', intOption('--batch', 1, 100_000), PPO_DEFAULTS.batchSize)
    .option('--clip <x>', 'ppo clip epsilon', floatOption('--clip', 0, 1), PPO_DEFAULTS.clip)
    .option('--population <n>', 'evolution population size', intOption('--population', 1, 1_000_000), 50)
    .option('--tournament <n>', 'evolution tournament sample size', intOption('--tournament', 1, 1_000_000), 10)
    .option('--every <n>', 'report the curve every N samples', intOption('--every', 1), 100)
    .option('--threads <n>', 'libtorch threads', intOption('--threads', 1, 256), 1)
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: BenchStrategiesOptions) => {
      const strategies = o.strategies.split(',').map((s) => s.trim());
      for (const s of strategies)
        if (!(STRATEGY_KINDS as readonly string[]).includes(s)) throw new UsageError(`bench strategies: --strategies: unknown strategy '${s}' (known: ${STRATEGY_KINDS.join(', ')})`);
      if (new Set(strategies).size !== strategies.length) throw new UsageError('bench strategies: --strategies names a strategy twice');
      if (o.blocks === undefined && !spaceNames().includes(o.space)) throw new UsageError(`bench strategies: unknown space '${o.space}' (known: ${spaceNames().join(', ')})`);
      if (o.tournament > o.population) throw new UsageError(`bench strategies: --tournament (${o.tournament}) must be at most --population (${o.population})`);
      const report = await runStrategyBench({
        samples: o.samples,
        seeds: o.seeds,
        space: o.space,
        ...(o.blocks !== undefined ? { blocks: o.blocks } : {}),
        reward: o.reward,
        concurrency: o.concurrency,
        strategies,
        ppo: { learningRate: o.lr, epochs: o.epochs, entropyWeight: o.entropy, batchSize: o.batch, clip: o.clip },
        evolution: { populationSize: o.population, sampleSize: o.tournament },
        every: o.every,
        threads: o.threads,
        onSeed: (seed) => process.stderr.write(`seed ${seed} done\n`),
      });
      process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatStrategyReport(report));
    });
}

function formatStrategyReport(r: StrategyBenchReport): string {
  const kinds = Object.keys(r.results);
  const fmt = (v: number) => v.toFixed(4);
  const lines = [
    `Synthetic problem: ${r.space}, ${r.decisions} decisions, ${r.points.toExponential(2)} points; reward ${r.reward} at the suggested target`,
    `${r.seeds} seeds (problem seed 100 + s, strategy seed s), ${r.samples} samples each, concurrency ${r.concurrency}`,
    `ppo: ${JSON.stringify(r.ppo)}`,
    `evolution: ${JSON.stringify(r.evolution)}`,
    '',
    `best reward / optimum, median over ${r.seeds} seeds`,
    ['samples', ...kinds].map((s) => s.padStart(10)).join(''),
  ];
  r.checkpoints.forEach((k, i) => lines.push([String(k), ...kinds.map((kind) => fmt(r.results[kind]!.curve[i]![1]))].map((s) => s.padStart(10)).join('')));
  lines.push('', `at ${r.samples} samples: median  min     max     seeds>=0.98  median samples to 0.98  time/seed`);
  for (const kind of kinds) {
    const f = r.results[kind]!;
    lines.push(
      `${kind.padEnd(10)}  ${fmt(f.median)}  ${fmt(f.min)}  ${fmt(f.max)}  ${String(f.reached98).padStart(3)}/${r.seeds}        ${(f.medianSamplesTo98 !== null ? String(f.medianSamplesTo98) : 'never').padStart(8)}          ${f.secondsPerSeed.toFixed(1)} s`,
    );
  }
  for (const [other, v] of Object.entries(r.ppoVersus))
    lines.push(`ppo vs ${other}: median ahead at ${v.ahead}/${r.checkpoints.length} checkpoints; per-seed wins ${v.wins.map(([k, w]) => `${k}:${w}/${r.seeds}`).join(' ')}`);
  return `${lines.join('\n')}\n`;
}
