/** Uniform random search, seeded: the baseline every strategy must beat. */
import { BaseStrategy, registerStrategy, type StrategyOptions } from './strategy.js';
import { randomDna } from './operators.js';
import type { DecisionSpaceLike, Dna, Json } from './space-like.js';

export class RandomSearch extends BaseStrategy {
  readonly kind = 'random';
  protected readonly version = 1;

  constructor(space: DecisionSpaceLike, options: StrategyOptions) {
    super(space, options);
  }

  protected generate(): Dna {
    return randomDna(this.space, this.rng);
  }

  protected observe(): void {}

  protected saveData(): { [key: string]: Json } {
    return {};
  }

  protected loadData(): void {}
}

registerStrategy('random', (space, o) => new RandomSearch(space, { seed: o.seed }), []);
