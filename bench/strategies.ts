/**
 * Search strategies on the synthetic problem (closed form, exact optimum): best reward found vs
 * number of samples, as a fraction of the optimum, median over seeds, for ppo, random search and
 * regularized evolution; then the final figures at the full budget.
 *
 * Seed s uses problem seed 100 + s (a different synthetic landscape per seed) and strategy seed
 * s; every strategy sees the same problems. The default problem is fmnist-sized: the decisions
 * of getSpace('fmnist') (5 blocks x 6 decisions, 432^5 points) with the paper's soft reward
 * (alpha = beta = -0.07) at the problem's suggested target latency.
 *
 *   node dist/bench/strategies.js [--samples 2000] [--seeds 10] [--space fmnist | --blocks 3]
 *       [--reward soft|hard] [--concurrency 1] [--strategies ppo,random,evolution]
 *       [--lr 0.00035] [--epochs 4] [--entropy 1e-5] [--batch 20] [--clip 0.2]
 *       [--population 50] [--tournament 10] [--every 100] [--threads 1] [--json]
 */
import { createStrategy, rewardConfig, SyntheticProblem, type DecisionSpaceLike, type Json, type Strategy } from '../src/search/index.js';
import { PpoSearch, PPO_DEFAULTS } from '../src/search/ppo/index.js';
import { median, runCurve } from '../src/search/ppo/compare.js';
import { getSpace } from '../src/space/index.js';
import { setNumThreads } from '../src/torch/index.js';

const argv = process.argv.slice(2);
function flag(name: string): boolean {
  return argv.includes(`--${name}`);
}
function str(name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
}
function num(name: string, fallback: number): number {
  const v = Number(str(name, String(fallback)));
  if (!Number.isFinite(v)) throw new Error(`--${name}: not a number`);
  return v;
}

const samples = num('samples', 2000);
const seeds = num('seeds', 10);
const concurrency = num('concurrency', 1);
const every = num('every', 100);
const blocks = argv.includes('--blocks') ? num('blocks', 5) : undefined;
const spaceName = str('space', 'fmnist');
const rewardKind = str('reward', 'soft');
if (rewardKind !== 'soft' && rewardKind !== 'hard') throw new Error(`--reward must be soft or hard, got ${rewardKind}`);
const kinds = str('strategies', 'ppo,random,evolution').split(',');
const ppoOptions = {
  learningRate: num('lr', PPO_DEFAULTS.learningRate),
  epochs: num('epochs', PPO_DEFAULTS.epochs),
  entropyWeight: num('entropy', PPO_DEFAULTS.entropyWeight),
  batchSize: num('batch', PPO_DEFAULTS.batchSize),
  clip: num('clip', PPO_DEFAULTS.clip),
};
const evoOptions = { populationSize: num('population', 50), sampleSize: num('tournament', 10) };
setNumThreads(num('threads', 1));

const space: DecisionSpaceLike = blocks !== undefined ? SyntheticProblem.mnasLikeSpace(blocks) : getSpace(spaceName);
const spaceLabel = blocks !== undefined ? `mnasLikeSpace(${blocks})` : `getSpace('${spaceName}')`;
const points = space.decisions().reduce((n, d) => n * d.count, 1);

function make(kind: string, seed: number): Strategy {
  if (kind === 'ppo') return createStrategy('ppo', space, { seed, ...ppoOptions });
  if (kind === 'evolution') return createStrategy('evolution', space, { seed, ...evoOptions });
  return createStrategy(kind, space, { seed });
}

/** fraction[kind][seed][k]: best reward among the first k + 1 samples / optimum. */
const fraction: Record<string, Float64Array[]> = Object.fromEntries(kinds.map((k) => [k, []]));
const seconds: Record<string, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
const problems: { optimum: number; targetMs: number }[] = [];
for (let seed = 0; seed < seeds; seed++) {
  const problem = new SyntheticProblem(space, { seed: 100 + seed });
  const targetMs = problem.suggestedTargetMs();
  const cfg = rewardConfig(rewardKind, targetMs);
  const optimum = problem.optimum(cfg).reward;
  problems.push({ optimum, targetMs });
  for (const kind of kinds) {
    const strategy = make(kind, seed);
    const t0 = performance.now();
    const curve = await runCurve(strategy, problem, cfg, { samples, concurrency });
    seconds[kind]! += (performance.now() - t0) / 1000;
    fraction[kind]!.push(curve.best.map((b) => b / optimum));
    if (strategy instanceof PpoSearch) strategy.dispose();
  }
  process.stderr.write(`seed ${seed} done\n`);
}

const at = (kind: string, k: number) => fraction[kind]!.map((f) => f[k - 1]!);
const firstReach = (f: Float64Array, level: number) => {
  const i = f.findIndex((v) => v >= level);
  return i < 0 ? Infinity : i + 1;
};
const fmt = (v: number) => v.toFixed(4);

console.log(`Synthetic problem: ${spaceLabel}, ${space.decisions().length} decisions, ${points.toExponential(2)} points; reward ${rewardKind} at the suggested target`);
console.log(`${seeds} seeds (problem seed 100 + s, strategy seed s), ${samples} samples each, concurrency ${concurrency}`);
console.log(`ppo: ${JSON.stringify({ ...PPO_DEFAULTS, ...ppoOptions })}`);
console.log(`evolution: ${JSON.stringify(evoOptions)}`);
console.log('');
console.log(`best reward / optimum, median over ${seeds} seeds`);
console.log(['samples', ...kinds].map((s) => s.padStart(10)).join(''));
const checkpoints = [...new Set([20, 50, ...Array.from({ length: Math.floor(samples / every) }, (_, i) => (i + 1) * every), samples])].filter((k) => k <= samples).sort((a, b) => a - b);
for (const k of checkpoints) console.log([String(k), ...kinds.map((kind) => fmt(median(at(kind, k))))].map((s) => s.padStart(10)).join(''));

console.log('');
console.log(`at ${samples} samples: median  min     max     seeds>=0.98  median samples to 0.98  time/seed`);
const summary: { [k: string]: Json } = {};
for (const kind of kinds) {
  const final = at(kind, samples);
  const reach = fraction[kind]!.map((f) => firstReach(f, 0.98));
  const reached = reach.filter((r) => Number.isFinite(r)).length;
  const medReach = median(reach);
  console.log(
    `${kind.padEnd(10)}  ${fmt(median(final))}  ${fmt(Math.min(...final))}  ${fmt(Math.max(...final))}  ${String(reached).padStart(3)}/${seeds}        ${(Number.isFinite(medReach) ? String(medReach) : 'never').padStart(8)}          ${(seconds[kind]! / seeds).toFixed(1)} s`,
  );
  summary[kind] = {
    median: median(final),
    min: Math.min(...final),
    max: Math.max(...final),
    reached98: reached,
    medianSamplesTo98: Number.isFinite(medReach) ? medReach : null,
    curve: checkpoints.map((k) => [k, median(at(kind, k))]),
  };
}
if (kinds.includes('ppo')) {
  for (const other of kinds.filter((k) => k !== 'ppo')) {
    const wins = checkpoints.map((k) => {
      const p = at('ppo', k);
      const o = at(other, k);
      return `${k}:${p.filter((v, i) => v > o[i]!).length}/${seeds}`;
    });
    const better = checkpoints.filter((k) => median(at('ppo', k)) > median(at(other, k)));
    console.log(`ppo vs ${other}: median ahead at ${better.length}/${checkpoints.length} checkpoints; per-seed wins ${wins.join(' ')}`);
  }
}
if (flag('json')) console.log(JSON.stringify({ samples, seeds, space: spaceLabel, reward: rewardKind, ppo: { ...PPO_DEFAULTS, ...ppoOptions }, evolution: evoOptions, results: summary }));
