/**
 * The synthetic evaluator of a real search space: accuracy and latency from a closed form (no
 * training, no device), MACs and parameters the architecture's real ones. For trying a search
 * end to end in seconds, and for tests that know the optimum.
 */
import { costOfPlan } from '../model/cost.js';
import { buildPlan } from '../model/plan.js';
import type { SearchSpace } from '../space/space.js';
import type { Evaluator } from './evaluator.js';
import type { RewardConfig } from './reward.js';
import type { Json } from './space-like.js';
import { syntheticProblemForSpace } from './synthetic-space.js';

export interface SyntheticSearchProblem {
  readonly evaluator: Evaluator;
  /** Synthetic latency of the space's default architecture (T when none is given). */
  readonly defaultLatencyMs: number;
  readonly device: Json;
  /** The best reward any architecture of the space reaches under `reward`. */
  optimumReward(reward: RewardConfig): number;
}

export function syntheticSearchProblem(space: SearchSpace, seed: number): SyntheticSearchProblem {
  const problem = syntheticProblemForSpace(space, { seed });
  const closedForm = problem.evaluator();
  return {
    evaluator: {
      evaluate: async (dna, signal, context) => {
        const r = await closedForm.evaluate(dna, signal, context);
        if (r.status !== 'done') return r;
        const cost = costOfPlan(buildPlan(space.decode(dna)));
        return { ...r, macs: cost.macs, params: cost.params };
      },
    },
    defaultLatencyMs: problem.latencyMs(space.defaultDna()),
    device: { id: 'synthetic', kind: 'cost-model', note: 'latency = separable fit of the cost model MACs' },
    optimumReward: (reward) => problem.optimum(reward).reward,
  };
}
