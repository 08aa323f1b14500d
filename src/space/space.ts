/**
 * MnasNet's factorized hierarchical search space over a skeleton: per block, one searched layer
 * repeated N times, with six decisions (see decisions.ts). A DNA is one choice index per
 * decision, block-major. The space decodes DNA into an `Arch`, encodes an `Arch` back, samples
 * uniformly from a seeded `Rng`, and names the offending decision whenever a DNA is invalid.
 */
import type { Rng } from '../util/rng.js';
import { makeArch, type Arch, type BlockArgs } from './arch.js';
import {
  blockDecisions,
  CONV_OP_CHOICES,
  DECISION_KINDS,
  KERNEL_CHOICES,
  LAYER_DELTAS,
  SE_RATIO_CHOICES,
  SKIP_CHOICES,
  WIDTH_MULTIPLIERS,
  type Decision,
  type DecisionKind,
} from './decisions.js';
import { CIFAR_SKELETON, FMNIST_SKELETON, MOBILENET_V2_SKELETON, STANDARD_BLOCK_DEFAULTS, type Skeleton } from './skeleton.js';

/** One choice index per decision, in decision order (pyglove's DNA): the one DNA type of mnas. */
export type Dna = readonly number[];

/** What a DNA is checked against: each decision's label and number of choices. */
export interface DnaDecision {
  readonly label: string;
  readonly count: number;
}

/**
 * Throws unless `dna` holds one integer choice index per decision, each within its decision's
 * count; the message starts with `who` and names the decision, its DNA index and the value.
 */
export function validateDna(decisions: readonly DnaDecision[], dna: Dna, who: string): void {
  if (!Array.isArray(dna)) throw new Error(`${who}: DNA must be an array of integers, got ${typeof dna}`);
  if (dna.length !== decisions.length) throw new Error(`${who}: DNA has ${dna.length} entries, expected ${decisions.length}`);
  decisions.forEach((d, i) => {
    const v: unknown = dna[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= d.count) {
      throw new Error(`${who}: decision ${d.label} (DNA index ${i}) must be an integer in [0, ${d.count - 1}], got ${String(v)}`);
    }
  });
}

const PER_BLOCK = DECISION_KINDS.length;

export class SearchSpace {
  readonly name: string;
  readonly skeleton: Skeleton;
  private readonly decisionList: readonly Decision[];

  constructor(skeleton: Skeleton) {
    if (skeleton.blocks.length === 0) throw new Error(`space '${skeleton.name}': the skeleton has no blocks`);
    this.name = skeleton.name;
    this.skeleton = skeleton;
    this.decisionList = Object.freeze(skeleton.blocks.flatMap((b, i) => blockDecisions(i, b)));
    // The skeleton's own defaults must be expressible, and its global params valid.
    this.decode(this.defaultDna());
  }

  decisions(): readonly Decision[] {
    return this.decisionList;
  }

  /** Number of distinct DNAs (432^B), as a bigint. */
  size(): bigint {
    return this.decisionList.reduce((acc, d) => acc * BigInt(d.choices.length), 1n);
  }

  /** Uniform over DNAs: one `rng.int(count)` per decision, in decision order. */
  sample(rng: Rng): Dna {
    return Object.freeze(this.decisionList.map((d) => rng.int(d.choices.length)));
  }

  /** Throws an Error naming the decision label and the bad value. */
  validate(dna: Dna): void {
    validateDna(this.decisionList, dna, `space '${this.name}'`);
  }

  decode(dna: Dna): Arch {
    this.validate(dna);
    const sk = this.skeleton;
    let inputFilters = sk.stem.filters;
    const blocks: BlockArgs[] = sk.blocks.map((skBlock, b) => {
      const pick = (kind: DecisionKind): number => dna[b * PER_BLOCK + DECISION_KINDS.indexOf(kind)] as number;
      const convOp = CONV_OP_CHOICES[pick('conv_op')]!;
      const choices = this.decisionList.slice(b * PER_BLOCK, (b + 1) * PER_BLOCK);
      const filters = choices[DECISION_KINDS.indexOf('filters')]!.choices[pick('filters')] as number;
      const repeats = choices[DECISION_KINDS.indexOf('layers')]!.choices[pick('layers')] as number;
      const block: BlockArgs = {
        op: convOp.op,
        expand: convOp.expand,
        kernel: KERNEL_CHOICES[pick('kernel')]!,
        stride: skBlock.stride,
        seRatio: SE_RATIO_CHOICES[pick('se_ratio')]!,
        skip: SKIP_CHOICES[pick('skip')]!,
        filters,
        repeats,
        inputFilters,
      };
      inputFilters = filters;
      return block;
    });
    return makeArch({
      global: { input: sk.input, classes: sk.classes, stem: sk.stem, head: sk.head },
      blocks,
    });
  }

  /**
   * The DNA of an architecture of this space. Where several choices give the same arch (e.g.
   * layers 1 - 1 clamped to 1), the default choice wins, then the lowest index. Throws naming
   * the field that puts `arch` outside the space.
   */
  encode(arch: Arch): Dna {
    const sk = this.skeleton;
    const where = `space '${this.name}': arch is not in the space`;
    const g = arch.global;
    const expectGlobal = (field: string, actual: unknown, expected: unknown): void => {
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        throw new Error(`${where}: global ${field} is ${JSON.stringify(actual)}, the space fixes ${JSON.stringify(expected)}`);
      }
    };
    expectGlobal('input', g.input, sk.input);
    expectGlobal('classes', g.classes, sk.classes);
    expectGlobal('stem', { filters: g.stem.filters, stride: g.stem.stride }, sk.stem);
    expectGlobal('head', g.head, sk.head);
    const reference = this.decode(this.defaultDna()).global;
    expectGlobal('dropout', g.dropout, reference.dropout);
    expectGlobal('bnMomentum', g.bnMomentum, reference.bnMomentum);
    expectGlobal('bnEps', g.bnEps, reference.bnEps);
    if (arch.blocks.length !== sk.blocks.length) {
      throw new Error(`${where}: it has ${arch.blocks.length} blocks, the skeleton has ${sk.blocks.length}`);
    }
    const defaults = this.defaultDna();
    const dna: number[] = [];
    arch.blocks.forEach((block, b) => {
      if (block.stride !== sk.blocks[b]!.stride) {
        throw new Error(`${where}: block ${b} has stride ${block.stride}, the skeleton fixes ${sk.blocks[b]!.stride}`);
      }
      const values: Record<DecisionKind, string | number> = {
        conv_op: CONV_OP_CHOICES.find((c) => c.op === block.op && c.expand === block.expand)?.name ?? `${block.op}_e${block.expand}`,
        kernel: block.kernel,
        se_ratio: block.seRatio,
        skip: block.skip,
        filters: block.filters,
        layers: block.repeats,
      };
      DECISION_KINDS.forEach((kind, k) => {
        const index = b * PER_BLOCK + k;
        const decision = this.decisionList[index]!;
        const matches = decision.choices.flatMap((c, i) => (c === values[kind] ? [i] : []));
        if (matches.length === 0) {
          throw new Error(`${where}: ${decision.label} = ${JSON.stringify(values[kind])} is not one of ${JSON.stringify(decision.choices)}`);
        }
        dna.push(matches.includes(defaults[index]!) ? defaults[index]! : matches[0]!);
      });
    });
    return Object.freeze(dna);
  }

  /** The skeleton's own choices: 1.0x width, +0 layers and each block's default op/kernel/SE/skip. */
  defaultDna(): Dna {
    return Object.freeze(
      this.skeleton.blocks.flatMap((block, b) => {
        const d = block.defaults ?? STANDARD_BLOCK_DEFAULTS;
        const picks: Record<DecisionKind, number> = {
          conv_op: CONV_OP_CHOICES.findIndex((c) => c.op === d.op && c.expand === d.expand),
          kernel: KERNEL_CHOICES.indexOf(d.kernel),
          se_ratio: SE_RATIO_CHOICES.indexOf(d.seRatio),
          skip: SKIP_CHOICES.indexOf(d.skip),
          filters: WIDTH_MULTIPLIERS.indexOf(1.0),
          layers: LAYER_DELTAS.indexOf(0),
        };
        return DECISION_KINDS.map((kind) => {
          if (picks[kind] < 0) throw new Error(`space '${this.name}': the skeleton's default for ${kind} of block ${b} is not a choice of the space`);
          return picks[kind];
        });
      }),
    );
  }
}

const SPACES: ReadonlyMap<string, SearchSpace> = new Map(
  [MOBILENET_V2_SKELETON, FMNIST_SKELETON, CIFAR_SKELETON].map((sk) => [sk.name, new SearchSpace(sk)]),
);

export function spaceNames(): string[] {
  return [...SPACES.keys()];
}

export function getSpace(name: string): SearchSpace {
  const space = SPACES.get(name);
  if (!space) throw new Error(`unknown search space '${name}' (known: ${spaceNames().join(', ')})`);
  return space;
}
