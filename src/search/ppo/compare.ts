/**
 * Strategy comparison on the synthetic problem, shared by `mnas bench strategies` and the PPO
 * tests: run a strategy through the search loop (in memory) for a number of samples and record
 * the best reward so far after each sample.
 */
import { runSearch } from '../loop.js';
import { LocalPool } from '../executor.js';
import { MemoryStore } from '../memory-store.js';
import type { Strategy } from '../strategy.js';
import type { SyntheticProblem } from '../synthetic.js';
import type { RewardConfig } from '../reward.js';

export interface CurveOptions {
  readonly samples: number;
  /** Proposals kept in flight (the loop's concurrency, 'ordered' schedule: feedback oldest first). Default 1. */
  readonly concurrency?: number;
}

export interface Curve {
  /** best[k]: best reward among the first k + 1 samples. */
  readonly best: Float64Array;
  /** reward[k]: reward of sample k. */
  readonly reward: Float64Array;
}

export async function runCurve(strategy: Strategy, problem: SyntheticProblem, cfg: RewardConfig, o: CurveOptions): Promise<Curve> {
  const width = o.concurrency ?? 1;
  if (!Number.isInteger(o.samples) || o.samples < 1) throw new Error(`runCurve: samples must be an integer >= 1, got ${o.samples}`);
  if (!Number.isInteger(width) || width < 1) throw new Error(`runCurve: concurrency must be an integer >= 1, got ${width}`);
  const best = new Float64Array(o.samples);
  const reward = new Float64Array(o.samples);
  let done = 0;
  let top = -Infinity;
  await runSearch({
    strategy,
    evaluator: problem.evaluator(),
    reward: cfg,
    budget: o.samples,
    store: new MemoryStore(),
    executor: new LocalPool(width),
    onProgress: (p) => {
      top = Math.max(top, p.reward);
      reward[done] = p.reward;
      best[done] = top;
      done++;
    },
  });
  return { best, reward };
}
