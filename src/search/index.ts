/**
 * Public entry of the search package. Importing it registers the built-in strategies
 * ('random', 'evolution', 'ppo') with createStrategy().
 */
export * from './space-like.js';
export * from './reward.js';
export * from './strategy.js';
export * from './operators.js';
export { RandomSearch } from './random-search.js';
export { RegularizedEvolution, type EvolutionOptions } from './evolution.js';
export * from './ppo/index.js';
export * from './evaluator.js';
export * from './synthetic.js';
export * from './pareto.js';
export * from './store.js';
export * from './executor.js';
export * from './loop.js';
