/**
 * Strategy comparison on the synthetic problem, shared by bench/strategies.ts and the PPO tests:
 * drive a strategy for a number of samples and record the best reward so far after each sample.
 */
import type { Strategy, Proposal } from '../strategy.js';
import type { SyntheticProblem } from '../synthetic.js';
import type { RewardConfig } from '../reward.js';

export interface CurveOptions {
  readonly samples: number;
  /**
   * Proposals kept in flight (the loop's concurrency); feedback is given oldest first, as the
   * loop's 'ordered' schedule does. Default 1.
   */
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
  const inFlight: Proposal[] = [];
  let proposed = 0;
  let done = 0;
  let top = -Infinity;
  while (done < o.samples) {
    while (proposed < o.samples && inFlight.length < width && strategy.canPropose()) {
      inFlight.push(await strategy.propose());
      proposed++;
    }
    const p = inFlight.shift();
    if (!p) throw new Error('runCurve: the strategy cannot propose and nothing is in flight');
    const r = problem.reward(cfg, p.dna);
    await strategy.feedback(p, r);
    reward[done] = r;
    top = Math.max(top, r);
    best[done] = top;
    done++;
  }
  return { best, reward };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median: empty list');
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
