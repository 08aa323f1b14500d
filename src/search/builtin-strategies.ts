/** The built-in strategies by kind: createStrategy's registry (the type makes it cover STRATEGY_KINDS exactly). */
import type { StrategyDefinition } from './strategy.js';
import type { StrategyKind } from './strategy-kinds.js';
import { RANDOM_SEARCH } from './random-search.js';
import { REGULARIZED_EVOLUTION } from './evolution.js';
import { PPO_SEARCH } from './ppo/strategy.js';

export const BUILTIN_STRATEGIES: { readonly [K in StrategyKind]: StrategyDefinition } = {
  ppo: PPO_SEARCH,
  random: RANDOM_SEARCH,
  evolution: REGULARIZED_EVOLUTION,
};
