/**
 * The only things the search needs from a search space: an ordered list of labelled decisions,
 * each with a number of choices (`count`). The real space (src/space/) satisfies this
 * structurally - its decisions also list their choice values, which the search never reads - so
 * the strategy never sees a network (NNI's split).
 */
import type { Dna, DnaDecision } from '../space/space.js';

export type { Dna } from '../space/space.js';

export type DecisionLike = DnaDecision;

export interface DecisionSpaceLike {
  decisions(): readonly DecisionLike[];
}

/** JSON values: what strategy snapshots and run configs are made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Checks a space is usable by a strategy and returns its decisions. */
export function checkedDecisions(space: DecisionSpaceLike, who: string): readonly DecisionLike[] {
  const ds = space.decisions();
  if (ds.length === 0) throw new Error(`${who}: the search space has no decisions`);
  const seen = new Set<string>();
  ds.forEach((d, i) => {
    if (!Number.isInteger(d.count) || d.count < 1)
      throw new Error(`${who}: decision ${i} ('${d.label}') must have an integer number of choices >= 1, got ${d.count}`);
    if (seen.has(d.label)) throw new Error(`${who}: duplicate decision label '${d.label}' at position ${i}`);
    seen.add(d.label);
  });
  return ds;
}

/** Canonical string of a DNA: the key used for identical-architecture lookups and storage. */
export function dnaKey(dna: Dna): string {
  return JSON.stringify(dna);
}

/** Parses a DNA stored by `dnaKey`. */
export function parseDna(text: string): Dna {
  const v: unknown = JSON.parse(text);
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x))) throw new Error(`parseDna: not a DNA: ${text.slice(0, 80)}`);
  return v as number[];
}

/** A stable description of the space (labels and choice counts), to refuse resuming a run in another space. */
export function spaceSignature(space: DecisionSpaceLike): string {
  return space
    .decisions()
    .map((d) => `${d.label}:${d.count}`)
    .join(',');
}

/** Number of distinct DNAs (may be a large float). */
export function spaceSize(space: DecisionSpaceLike): number {
  return space.decisions().reduce((n, d) => n * d.count, 1);
}

/** A flat space from (label, number of choices) pairs; handy for tests and the synthetic problem. */
export function flatSpace(decisions: readonly (readonly [label: string, count: number])[]): DecisionSpaceLike {
  const ds = decisions.map(([label, count]) => ({ label, count }));
  return { decisions: () => ds };
}
