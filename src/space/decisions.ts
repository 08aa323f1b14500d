/**
 * The six per-block decisions of MnasNet's factorized hierarchical space and their choices
 * (4 * 2 * 2 * 3 * 3 * 3 = 432 per block). A DNA holds one choice index per decision, block
 * after block, in the order of DECISION_KINDS.
 */
import type { OpKind, SkipKind } from './arch.js';
import { roundFilters } from './round-filters.js';
import type { SkeletonBlock } from './skeleton.js';

export type DecisionKind = 'conv_op' | 'kernel' | 'se_ratio' | 'skip' | 'filters' | 'layers';

export const DECISION_KINDS: readonly DecisionKind[] = Object.freeze([
  'conv_op',
  'kernel',
  'se_ratio',
  'skip',
  'filters',
  'layers',
]);

export interface ConvOpChoice {
  readonly name: string;
  readonly op: OpKind;
  readonly expand: number;
}

export const CONV_OP_CHOICES: readonly ConvOpChoice[] = Object.freeze([
  Object.freeze({ name: 'conv', op: 'conv', expand: 1 }),
  Object.freeze({ name: 'dsconv', op: 'dsconv', expand: 1 }),
  Object.freeze({ name: 'mbconv_e3', op: 'mbconv', expand: 3 }),
  Object.freeze({ name: 'mbconv_e6', op: 'mbconv', expand: 6 }),
] as const);
export const KERNEL_CHOICES: readonly number[] = Object.freeze([3, 5]);
export const SE_RATIO_CHOICES: readonly number[] = Object.freeze([0, 0.25]);
export const SKIP_CHOICES: readonly SkipKind[] = Object.freeze(['pool', 'identity', 'none'] as const);
export const WIDTH_MULTIPLIERS: readonly number[] = Object.freeze([0.75, 1.0, 1.25]);
export const LAYER_DELTAS: readonly number[] = Object.freeze([-1, 0, 1]);

/** One labelled decision, e.g. `b2/kernel` with choices [3, 5]. */
export interface Decision {
  /** `b<block>/<kind>`, blocks numbered from 0. */
  readonly label: string;
  readonly block: number;
  readonly kind: DecisionKind;
  /**
   * What each choice index means: conv_op names ('conv', 'dsconv', 'mbconv_e3', 'mbconv_e6'),
   * kernel sizes, SE ratios, skip kinds ('pool', 'identity', 'none'), the resolved filter
   * counts for the multipliers 0.75/1.0/1.25, and the resolved layer counts for -1/0/+1
   * (different indices may resolve to the same value, e.g. layers 1 - 1 is clamped to 1).
   */
  readonly choices: readonly (string | number)[];
  /** Number of choices (= choices.length). */
  readonly count: number;
}

export function decisionLabel(block: number, kind: DecisionKind): string {
  return `b${block}/${kind}`;
}

export function filterChoices(width: number): number[] {
  return WIDTH_MULTIPLIERS.map((m) => roundFilters(width * m));
}

export function layerChoices(layers: number): number[] {
  return LAYER_DELTAS.map((d) => Math.max(1, layers + d));
}

export function blockDecisions(index: number, block: SkeletonBlock): Decision[] {
  const choices: Record<DecisionKind, readonly (string | number)[]> = {
    conv_op: CONV_OP_CHOICES.map((c) => c.name),
    kernel: KERNEL_CHOICES,
    se_ratio: SE_RATIO_CHOICES,
    skip: SKIP_CHOICES,
    filters: filterChoices(block.width),
    layers: layerChoices(block.layers),
  };
  return DECISION_KINDS.map((kind) =>
    Object.freeze({
      label: decisionLabel(index, kind),
      block: index,
      kind,
      choices: Object.freeze([...choices[kind]]),
      count: choices[kind].length,
    }),
  );
}
