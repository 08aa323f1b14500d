/** Uniform random search, seeded: the baseline every strategy must beat. */
import { BaseStrategy } from './base-strategy.js';
import { randomDna } from './operators.js';
import type { Dna, Json } from './space-like.js';
import type { StrategyDefinition } from './strategy.js';

export class RandomSearch extends BaseStrategy {
  readonly kind = 'random';
  protected readonly version = 1;

  protected generate(): Dna {
    return randomDna(this.space, this.rng);
  }

  protected observe(): void {}

  protected settings(): { [key: string]: Json } {
    return {};
  }
}

export const RANDOM_SEARCH: StrategyDefinition = {
  options: [],
  create: (space, o) => new RandomSearch(space, { seed: o.seed }),
};
