/**
 * Search strategies on the synthetic problem (closed form, exact optimum): best reward found vs
 * number of samples, as a fraction of the optimum, median over seeds; then the figures at the
 * full budget. Each strategy runs through the search loop (in memory), as in a real search.
 *
 * Seed s uses problem seed 100 + s (a different synthetic landscape per seed) and strategy seed
 * s; every strategy sees the same problems. The default problem is fmnist-sized: the decisions
 * of the fmnist space (5 blocks x 6 decisions, 432^5 points) with the paper's soft reward
 * (alpha = beta = -0.07) at the problem's suggested target latency.
 */
import { createStrategy, type Strategy } from '../search/strategy.js';
import { PpoSearch, PPO_DEFAULTS, type PpoConfig } from '../search/ppo/strategy.js';
import { runCurve } from '../search/ppo/compare.js';
import { rewardConfig } from '../search/reward.js';
import { SyntheticProblem } from '../search/synthetic.js';
import { spaceSize, type DecisionSpaceLike } from '../search/space-like.js';
import { getSpace } from '../space/space.js';
import { setNumThreads } from '../torch/index.js';
import { median } from '../util/stats.js';

export interface StrategyBenchOptions {
  readonly samples: number;
  readonly seeds: number;
  /** A named search space, or (when `blocks` is set) the synthetic mnasLikeSpace(blocks). */
  readonly space: string;
  readonly blocks?: number;
  readonly reward: 'soft' | 'hard';
  readonly concurrency: number;
  readonly strategies: readonly string[];
  readonly ppo: Partial<PpoConfig>;
  readonly evolution: { readonly populationSize: number; readonly sampleSize: number };
  /** Report the curve every this many samples. */
  readonly every: number;
  readonly threads: number;
  readonly onSeed?: (seed: number) => void;
}

export interface StrategyFigures {
  /** Best reward / optimum at the full budget: median, min and max over seeds. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Seeds that reached 98% of the optimum, and the median number of samples they took (null: never). */
  readonly reached98: number;
  readonly medianSamplesTo98: number | null;
  /** [samples, median best / optimum] at the checkpoints. */
  readonly curve: readonly (readonly [number, number])[];
  /** Wall time per seed, seconds. */
  readonly secondsPerSeed: number;
}

export interface StrategyBenchReport {
  readonly samples: number;
  readonly seeds: number;
  readonly space: string;
  readonly decisions: number;
  readonly points: number;
  readonly reward: 'soft' | 'hard';
  readonly concurrency: number;
  readonly ppo: PpoConfig;
  readonly evolution: { readonly populationSize: number; readonly sampleSize: number };
  readonly checkpoints: readonly number[];
  readonly results: { readonly [kind: string]: StrategyFigures };
  /** For each strategy besides ppo: checkpoints where ppo's median is ahead, and ppo's per-seed wins at each checkpoint. */
  readonly ppoVersus: { readonly [kind: string]: { readonly ahead: number; readonly wins: readonly (readonly [number, number])[] } };
}

export async function runStrategyBench(o: StrategyBenchOptions): Promise<StrategyBenchReport> {
  setNumThreads(o.threads);
  const space: DecisionSpaceLike = o.blocks !== undefined ? SyntheticProblem.mnasLikeSpace(o.blocks) : getSpace(o.space);
  const spaceLabel = o.blocks !== undefined ? `mnasLikeSpace(${o.blocks})` : o.space;
  const ppo: PpoConfig = { ...PPO_DEFAULTS, ...o.ppo };
  const make = (kind: string, seed: number): Strategy => {
    if (kind === 'ppo') return createStrategy('ppo', space, { seed, ...ppo });
    if (kind === 'evolution') return createStrategy('evolution', space, { seed, ...o.evolution });
    return createStrategy(kind, space, { seed });
  };

  /** fraction[kind][seed][k]: best reward among the first k + 1 samples / optimum. */
  const fraction: Record<string, Float64Array[]> = Object.fromEntries(o.strategies.map((k) => [k, []]));
  const seconds: Record<string, number> = Object.fromEntries(o.strategies.map((k) => [k, 0]));
  for (let seed = 0; seed < o.seeds; seed++) {
    const problem = new SyntheticProblem(space, { seed: 100 + seed });
    const cfg = rewardConfig(o.reward, problem.suggestedTargetMs());
    const optimum = problem.optimum(cfg).reward;
    for (const kind of o.strategies) {
      const strategy = make(kind, seed);
      const t0 = performance.now();
      const curve = await runCurve(strategy, problem, cfg, { samples: o.samples, concurrency: o.concurrency });
      seconds[kind]! += (performance.now() - t0) / 1000;
      fraction[kind]!.push(curve.best.map((b) => b / optimum));
      if (strategy instanceof PpoSearch) strategy.dispose();
    }
    o.onSeed?.(seed);
  }

  const at = (kind: string, k: number) => fraction[kind]!.map((f) => f[k - 1]!);
  const firstReach = (f: Float64Array, level: number) => {
    const i = f.findIndex((v) => v >= level);
    return i < 0 ? Infinity : i + 1;
  };
  const everyK = Array.from({ length: Math.floor(o.samples / o.every) }, (_, i) => (i + 1) * o.every);
  const checkpoints = [...new Set([20, 50, ...everyK, o.samples])].filter((k) => k <= o.samples).sort((a, b) => a - b);
  const results: { [kind: string]: StrategyFigures } = {};
  for (const kind of o.strategies) {
    const final = at(kind, o.samples);
    const reach = fraction[kind]!.map((f) => firstReach(f, 0.98));
    const medianReach = median(reach);
    results[kind] = {
      median: median(final),
      min: Math.min(...final),
      max: Math.max(...final),
      reached98: reach.filter((r) => Number.isFinite(r)).length,
      medianSamplesTo98: Number.isFinite(medianReach) ? medianReach : null,
      curve: checkpoints.map((k) => [k, median(at(kind, k))] as const),
      secondsPerSeed: seconds[kind]! / o.seeds,
    };
  }
  const ppoVersus: { [kind: string]: { ahead: number; wins: (readonly [number, number])[] } } = {};
  if (o.strategies.includes('ppo')) {
    for (const other of o.strategies.filter((k) => k !== 'ppo')) {
      ppoVersus[other] = {
        ahead: checkpoints.filter((k) => median(at('ppo', k)) > median(at(other, k))).length,
        wins: checkpoints.map((k) => {
          const p = at('ppo', k);
          const q = at(other, k);
          return [k, p.filter((v, i) => v > q[i]!).length] as const;
        }),
      };
    }
  }
  return {
    samples: o.samples,
    seeds: o.seeds,
    space: spaceLabel,
    decisions: space.decisions().length,
    points: spaceSize(space),
    reward: o.reward,
    concurrency: o.concurrency,
    ppo,
    evolution: o.evolution,
    checkpoints,
    results,
    ppoVersus,
  };
}
