/**
 * Small, pure search operators (pyglove style); strategies are compositions of these.
 * All randomness comes from the Rng passed in, so results are reproducible.
 */
import type { Rng } from '../util/rng.js';
import type { DecisionSpaceLike, Dna } from './space-like.js';

/** Uniformly random DNA: each decision independently uniform over its choices. */
export function randomDna(space: DecisionSpaceLike, rng: Rng): number[] {
  return space.decisions().map((d) => rng.int(d.count));
}

/**
 * Changes exactly one decision to a different choice (Real et al.'s mutation). The decision is
 * uniform among those with more than one choice; the new choice is uniform among the others.
 * A space with no such decision returns a copy.
 */
export function mutateOneDecision(space: DecisionSpaceLike, dna: Dna, rng: Rng): number[] {
  const ds = space.decisions();
  const mutable: number[] = [];
  ds.forEach((d, i) => {
    if (d.count > 1) mutable.push(i);
  });
  const child = dna.slice();
  if (mutable.length === 0) return child;
  const i = mutable[rng.int(mutable.length)]!;
  const n = ds[i]!.count;
  const r = rng.int(n - 1);
  child[i] = r >= dna[i]! ? r + 1 : r;
  return child;
}

/**
 * Tournament selection: samples `sampleSize` members uniformly with replacement (Real et al.
 * 2019, Algorithm 1) and returns the one with the highest reward (first sampled on ties).
 */
export function tournamentSelect<T extends { readonly reward: number }>(population: readonly T[], sampleSize: number, rng: Rng): T {
  if (population.length === 0) throw new Error('tournamentSelect: empty population');
  if (!Number.isInteger(sampleSize) || sampleSize < 1) throw new Error(`tournamentSelect: sampleSize must be an integer >= 1, got ${sampleSize}`);
  let best = population[rng.int(population.length)]!;
  for (let k = 1; k < sampleSize; k++) {
    const c = population[rng.int(population.length)]!;
    if (c.reward > best.reward) best = c;
  }
  return best;
}

/** Removes the oldest members (front of the array) until at most `maxSize` remain; returns them. */
export function ageOut<T>(population: T[], maxSize: number): T[] {
  const n = Math.max(0, population.length - maxSize);
  return population.splice(0, n);
}
