/**
 * The only things the search needs from a search space: an ordered list of labelled decisions,
 * each with a number of choices. The real space (src/space/) satisfies this structurally, so the
 * search never imports it and the strategy never sees a network (NNI's split).
 */
export interface DecisionLike {
  readonly label: string;
  readonly choices: number;
}

export interface DecisionSpaceLike {
  decisions(): readonly DecisionLike[];
}

/** One choice index per decision, in the order of `decisions()` (pyglove's DNA). */
export type Dna = readonly number[];

/** JSON values: what strategy snapshots and run configs are made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Checks a space is usable by a strategy and returns its decisions. */
export function checkedDecisions(space: DecisionSpaceLike, who: string): readonly DecisionLike[] {
  const ds = space.decisions();
  if (ds.length === 0) throw new Error(`${who}: the search space has no decisions`);
  const seen = new Set<string>();
  ds.forEach((d, i) => {
    if (!Number.isInteger(d.choices) || d.choices < 1)
      throw new Error(`${who}: decision ${i} ('${d.label}') must have an integer number of choices >= 1, got ${d.choices}`);
    if (seen.has(d.label)) throw new Error(`${who}: duplicate decision label '${d.label}' at position ${i}`);
    seen.add(d.label);
  });
  return ds;
}

/** Throws unless `dna` has one in-range integer choice per decision. */
export function validateDna(space: DecisionSpaceLike, dna: Dna, who = 'dna'): void {
  const ds = space.decisions();
  if (!Array.isArray(dna)) throw new Error(`${who}: DNA must be an array of integers`);
  if (dna.length !== ds.length) throw new Error(`${who}: DNA has ${dna.length} entries, the space has ${ds.length} decisions`);
  dna.forEach((c, i) => {
    const d = ds[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= d.choices)
      throw new Error(`${who}: choice ${c} at position ${i} ('${d.label}') is outside [0, ${d.choices})`);
  });
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

/** A stable description of the space (labels and choice counts), to refuse restoring a snapshot into another space. */
export function spaceSignature(space: DecisionSpaceLike): string {
  return space
    .decisions()
    .map((d) => `${d.label}:${d.choices}`)
    .join(',');
}

/** Number of distinct DNAs (may be a large float). */
export function spaceSize(space: DecisionSpaceLike): number {
  return space.decisions().reduce((n, d) => n * d.choices, 1);
}

/** A flat space from labelled choice counts; handy for tests and the synthetic problem. */
export function flatSpace(choices: readonly (readonly [string, number])[]): DecisionSpaceLike {
  const ds = choices.map(([label, n]) => ({ label, choices: n }));
  return { decisions: () => ds };
}

/** A space whose decisions list their choice values (as src/space does) instead of a count. */
export interface ValuedDecisionSpace {
  decisions(): readonly { readonly label: string; readonly choices: number | readonly unknown[] }[];
}

/**
 * Adapts a space whose decisions carry their choice values (`choices: [3, 5]`, the shape of
 * src/space's Decision) to DecisionSpaceLike (`choices: 2`). Spaces that already give counts
 * pass through unchanged.
 */
export function adaptSpace(space: ValuedDecisionSpace): DecisionSpaceLike {
  const ds = space.decisions().map((d) => ({ label: d.label, choices: typeof d.choices === 'number' ? d.choices : d.choices.length }));
  return { decisions: () => ds };
}
