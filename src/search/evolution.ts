/**
 * Regularized (aging) evolution, Real et al. 2019, composed from the operators:
 *   - the first `populationSize` proposals are uniformly random (the initial population);
 *   - afterwards: tournament-select a parent among `sampleSize` members sampled from the current
 *     population, propose the parent with one decision mutated to a different choice;
 *   - feedback appends (dna, reward) to the population; the oldest member is aged out once the
 *     population exceeds `populationSize`.
 * Asynchronous like the paper's workers: proposals made while feedback is pending select from
 * the population as it is (if it is still empty, they are random). Failed trials join the
 * population with the failure reward, so they are never selected over a working member and age
 * out like any other. The population is a function of the events, so a resumed run rebuilds it by
 * replaying them (no snapshot).
 */
import { BaseStrategy } from './base-strategy.js';
import { ageOut, mutateOneDecision, randomDna, tournamentSelect } from './operators.js';
import type { DecisionSpaceLike, Dna, Json } from './space-like.js';
import type { Proposal, StrategyDefinition, StrategyOptions } from './strategy.js';

export interface EvolutionOptions extends StrategyOptions {
  /** P: population size (paper: 100 at scale; small spaces want 10-50). */
  readonly populationSize: number;
  /** S: tournament sample size (paper: 25 for P = 100). */
  readonly sampleSize: number;
}

interface Member {
  readonly id: number;
  readonly dna: Dna;
  readonly reward: number;
}

export class RegularizedEvolution extends BaseStrategy {
  readonly kind = 'evolution';
  protected readonly version = 1;
  readonly populationSize: number;
  readonly sampleSize: number;
  private population: Member[] = [];

  constructor(space: DecisionSpaceLike, options: EvolutionOptions) {
    super(space, options);
    const { populationSize: p, sampleSize: s } = options;
    if (!Number.isInteger(p) || p < 1 || p > 1_000_000) throw new Error(`evolution: populationSize must be an integer in [1, 1000000], got ${p}`);
    if (!Number.isInteger(s) || s < 1 || s > p) throw new Error(`evolution: sampleSize must be an integer in [1, populationSize=${p}], got ${s}`);
    this.populationSize = p;
    this.sampleSize = s;
  }

  protected generate(): Dna {
    if (this.proposed < this.populationSize || this.population.length === 0) return randomDna(this.space, this.rng);
    const parent = tournamentSelect(this.population, this.sampleSize, this.rng);
    return mutateOneDecision(this.space, parent.dna, this.rng);
  }

  protected observe(proposal: Proposal, reward: number): void {
    this.population.push({ id: proposal.id, dna: proposal.dna, reward });
    ageOut(this.population, this.populationSize);
  }

  /** Current population, oldest first. */
  members(): readonly Member[] {
    return this.population.slice();
  }

  protected settings(): { [key: string]: Json } {
    return { populationSize: this.populationSize, sampleSize: this.sampleSize };
  }
}

/** Defaults sized for searches of tens to hundreds of trials (Real et al. used P=100, S=25 at 20K). */
export const EVOLUTION_DEFAULTS = { populationSize: 20, sampleSize: 5 } as const;

export const REGULARIZED_EVOLUTION: StrategyDefinition = {
  options: ['populationSize', 'sampleSize'],
  create: (space, o) => {
    const p = o['populationSize'] ?? EVOLUTION_DEFAULTS.populationSize;
    const s = o['sampleSize'] ?? EVOLUTION_DEFAULTS.sampleSize;
    if (typeof p !== 'number' || typeof s !== 'number') throw new Error('evolution: populationSize and sampleSize must be numbers');
    return new RegularizedEvolution(space, { seed: o.seed, populationSize: p, sampleSize: s });
  },
};
