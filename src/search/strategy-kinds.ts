/**
 * The built-in strategy kinds: the one list that run configs validate against and that
 * createStrategy's registry must cover (its type checks it). No imports, so reading a config does
 * not load the strategies (PPO loads libtorch).
 */
export const STRATEGY_KINDS = ['ppo', 'random', 'evolution'] as const;

export type StrategyKind = (typeof STRATEGY_KINDS)[number];
