/**
 * The architecture as an immutable record: global parameters plus per-block arguments, the
 * same split as tensorflow/tpu's MnasNet (GlobalParams / BlockArgs). `makeArch` validates a
 * plain object, fills defaults and deep-freezes it; everything downstream (plan, cost, export,
 * strings) takes the frozen `Arch`.
 *
 * Layer semantics (one "layer" = one repeat of a block; see docs/space.md):
 * - 'mbconv' (expand e >= 2): the tensorflow/tpu MnasNet layer. 1x1 expand conv cin -> cin*e + BN
 *   + ReLU, depthwise kxk stride s + BN + ReLU, optional SE, 1x1 project conv -> cout + BN (no
 *   activation).
 * - 'dsconv' (expand 1): MBConv with e = 1: depthwise kxk stride s + BN + ReLU, optional SE, 1x1
 *   project + BN (no activation).
 * - 'conv' (expand 1): regular kxk conv cin -> cout stride s + BN + ReLU, optional SE on its
 *   output (same reduced-width rule).
 * - SE: global mean -> 1x1 conv with bias to max(1, floor(cin * seRatio)) channels (cin = the
 *   layer's input channels) -> ReLU -> 1x1 conv with bias back to the gated width -> sigmoid,
 *   multiplied into the feature map.
 * - All convolutions pad k // 2 on every side (kernels are odd), have no bias, and are followed
 *   by BN (momentum `bnMomentum` in the TF convention, eps `bnEps`).
 * - skip 'identity': residual add only where stride 1 and cin == cout, otherwise no skip.
 *   skip 'pool': our definition of the paper's unspecified "pooling" skip, a parameter-free
 *   shortcut added to EVERY layer of the block: if the layer has stride 2 the input goes
 *   through avg-pool 3x3 stride 2 padding 1 (count_include_pad = false; same output size as
 *   the strided kxk conv for every input size); then if cout > cin the channels are zero-padded
 *   at the end, if cout < cin the first cout channels are kept; the result is added to the
 *   layer output. skip 'none': no shortcut.
 * - The first layer of a block has the block's stride and input width; repeats have stride 1
 *   and input width = output width. The first block's input is the stem's output: a declared
 *   `inputFilters` on block 0 that differs from the stem is kept for printing (tensorflow/tpu's
 *   mnasnet-small says i16 after an 8-filter stem) but the stem wins. On later blocks a declared
 *   `inputFilters` must equal the previous block's `filters`.
 * - Stem: conv3x3 (stride `stem.stride`) + BN + ReLU. Head (if `head` > 0): conv1x1 + BN + ReLU.
 *   Then global average pool, dropout, fully connected layer (with bias) to `classes`.
 */

import { checkArchLimits, checkBlockCount } from '../model/limits.js';
import { ArchError, quoteText } from './arch-error.js';

export type OpKind = 'conv' | 'dsconv' | 'mbconv';
export type SkipKind = 'identity' | 'pool' | 'none';

export const OP_KINDS: readonly OpKind[] = Object.freeze(['conv', 'dsconv', 'mbconv']);
export const SKIP_KINDS: readonly SkipKind[] = Object.freeze(['identity', 'pool', 'none']);

export interface InputShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export interface StemArgs {
  readonly filters: number;
  readonly stride: number;
  readonly kernel: 3;
}

export interface GlobalParams {
  readonly input: InputShape;
  readonly classes: number;
  readonly stem: StemArgs;
  /** Filters of the 1x1 head conv before pooling; 0 = no head conv. */
  readonly head: number;
  readonly dropout: number;
  /** BN momentum in the TensorFlow convention (running = m * running + (1 - m) * batch). */
  readonly bnMomentum: number;
  readonly bnEps: number;
}

export interface BlockArgs {
  readonly op: OpKind;
  /** Expansion ratio: 1 for 'conv' and 'dsconv', an integer >= 2 for 'mbconv'. */
  readonly expand: number;
  readonly kernel: number;
  /** Stride of the block's first layer (1 or 2); the repeats have stride 1. */
  readonly stride: number;
  /** 0 = no squeeze-excite. */
  readonly seRatio: number;
  readonly skip: SkipKind;
  /** Output channels of every layer of the block. */
  readonly filters: number;
  readonly repeats: number;
  /** Declared input channels (informational, see the module comment); undefined = chained. */
  readonly inputFilters?: number;
}

export interface Arch {
  readonly global: GlobalParams;
  readonly blocks: readonly BlockArgs[];
}

export const DEFAULT_DROPOUT = 0.2;
export const DEFAULT_BN_MOMENTUM = 0.99;
export const DEFAULT_BN_EPS = 1e-3;

/** What `makeArch` accepts: the record with the defaulted fields optional. */
export interface GlobalParamsInput {
  readonly input: InputShape;
  readonly classes: number;
  readonly stem: { readonly filters: number; readonly stride: number; readonly kernel?: number };
  readonly head: number;
  readonly dropout?: number;
  readonly bnMomentum?: number;
  readonly bnEps?: number;
}

export interface ArchInput {
  readonly global: GlobalParamsInput;
  readonly blocks: readonly BlockArgs[];
}

const GLOBAL_KEYS = ['input', 'classes', 'stem', 'head', 'dropout', 'bnMomentum', 'bnEps'];
const INPUT_KEYS = ['height', 'width', 'channels'];
const STEM_KEYS = ['filters', 'stride', 'kernel'];
const BLOCK_KEYS = ['op', 'expand', 'kernel', 'stride', 'seRatio', 'skip', 'filters', 'repeats', 'inputFilters'];

/**
 * Validate, fill defaults, check the size limits (model/limits.ts) and deep-freeze. Throws an
 * ArchError naming the field and the value.
 */
export function makeArch(input: ArchInput): Arch {
  if (!isRecord(input)) throw new ArchError(`arch: expected an object with 'global' and 'blocks', got ${show(input)}`);
  rejectUnknownKeys(input, ['global', 'blocks'], 'arch');
  const global = makeGlobalParams(input.global);
  if (!Array.isArray(input.blocks) || input.blocks.length === 0) {
    throw new ArchError(`arch.blocks: expected a non-empty array of blocks, got ${show(input.blocks)}`);
  }
  checkBlockCount(input.blocks.length);
  const blocks = input.blocks.map((b, i) => makeBlockArgs(b, `arch.blocks[${i}]`));
  blocks.forEach((b, i) => {
    if (i === 0 || b.inputFilters === undefined) return;
    const previous = blocks[i - 1] as BlockArgs;
    if (b.inputFilters !== previous.filters) {
      throw new ArchError(
        `arch.blocks[${i}].inputFilters: declared ${b.inputFilters} but block ${i - 1} outputs ${previous.filters} filters`,
      );
    }
  });
  const arch = { global, blocks };
  checkArchLimits(arch);
  return deepFreeze(arch);
}

export function makeGlobalParams(g: GlobalParamsInput): GlobalParams {
  const where = 'arch.global';
  if (!isRecord(g)) throw new ArchError(`${where}: expected an object, got ${show(g)}`);
  rejectUnknownKeys(g, GLOBAL_KEYS, where);
  if (!isRecord(g.input)) throw new ArchError(`${where}.input: expected {height, width, channels}, got ${show(g.input)}`);
  rejectUnknownKeys(g.input, INPUT_KEYS, `${where}.input`);
  if (!isRecord(g.stem)) throw new ArchError(`${where}.stem: expected {filters, stride}, got ${show(g.stem)}`);
  rejectUnknownKeys(g.stem, STEM_KEYS, `${where}.stem`);
  const kernel = g.stem.kernel ?? 3;
  if (kernel !== 3) throw new ArchError(`${where}.stem.kernel: the stem is a 3x3 conv, got ${show(kernel)}`);
  return {
    input: {
      height: positiveInt(g.input.height, `${where}.input.height`),
      width: positiveInt(g.input.width, `${where}.input.width`),
      channels: positiveInt(g.input.channels, `${where}.input.channels`),
    },
    classes: positiveInt(g.classes, `${where}.classes`),
    stem: {
      filters: positiveInt(g.stem.filters, `${where}.stem.filters`),
      stride: oneOf(g.stem.stride, [1, 2], `${where}.stem.stride`),
      kernel: 3,
    },
    head: nonNegativeInt(g.head, `${where}.head`),
    dropout: inRange(g.dropout ?? DEFAULT_DROPOUT, 0, 1, false, `${where}.dropout`),
    bnMomentum: inRange(g.bnMomentum ?? DEFAULT_BN_MOMENTUM, 0, 1, false, `${where}.bnMomentum`),
    bnEps: inRange(g.bnEps ?? DEFAULT_BN_EPS, 0, 1, true, `${where}.bnEps`),
  };
}

export function makeBlockArgs(b: BlockArgs, where = 'block'): BlockArgs {
  if (!isRecord(b)) throw new ArchError(`${where}: expected an object, got ${show(b)}`);
  rejectUnknownKeys(b, BLOCK_KEYS, where);
  const op = oneOf(b.op, OP_KINDS, `${where}.op`);
  const expand = positiveInt(b.expand, `${where}.expand`);
  if (op === 'mbconv' && expand < 2) {
    throw new ArchError(`${where}.expand: 'mbconv' needs an expansion >= 2 (an e1 MBConv is 'dsconv'), got ${expand}`);
  }
  if (op !== 'mbconv' && expand !== 1) {
    throw new ArchError(`${where}.expand: '${op}' has no expansion, expand must be 1, got ${expand}`);
  }
  const kernel = positiveInt(b.kernel, `${where}.kernel`);
  if (kernel % 2 === 0) throw new ArchError(`${where}.kernel: must be odd so that padding k//2 is symmetric, got ${kernel}`);
  const seRatio = inRange(b.seRatio, 0, 1, false, `${where}.seRatio`);
  const block: { -readonly [K in keyof BlockArgs]: BlockArgs[K] } = {
    op,
    expand,
    kernel,
    stride: oneOf(b.stride, [1, 2], `${where}.stride`),
    seRatio,
    skip: oneOf(b.skip, SKIP_KINDS, `${where}.skip`),
    filters: positiveInt(b.filters, `${where}.filters`),
    repeats: positiveInt(b.repeats, `${where}.repeats`),
  };
  if (b.inputFilters !== undefined) block.inputFilters = positiveInt(b.inputFilters, `${where}.inputFilters`);
  return block;
}

/** A copy of `arch` with some global params replaced (validated again). */
export function withGlobal(arch: Arch, overrides: Partial<GlobalParamsInput>): Arch {
  return makeArch({ global: { ...arch.global, ...overrides }, blocks: arch.blocks });
}

/** The input channels each block's first layer really gets (the stem wins for block 0). */
export function chainedInputFilters(arch: Arch): readonly number[] {
  const result: number[] = [];
  let channels = arch.global.stem.filters;
  for (const b of arch.blocks) {
    result.push(channels);
    channels = b.filters;
  }
  return result;
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

function isRecord(v: unknown): v is Record<string, unknown> & Record<never, never> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknownKeys(obj: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) throw new ArchError(`${where}: unknown field '${quoteText(key)}' (known: ${known.join(', ')})`);
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return `'${quoteText(v)}'`;
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = `a ${typeof v}`; // bigint, circular object
  }
  return quoteText(text, 80);
}

function positiveInt(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ArchError(`${where}: expected a positive integer, got ${show(v)}`);
  return v;
}

function nonNegativeInt(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new ArchError(`${where}: expected a non-negative integer, got ${show(v)}`);
  }
  return v;
}

function inRange(v: unknown, lo: number, hi: number, openLow: boolean, where: string): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (openLow ? v > lo : v >= lo) && v < hi;
  if (!ok) throw new ArchError(`${where}: expected a number in ${openLow ? '(' : '['}${lo}, ${hi}), got ${show(v)}`);
  return v as number;
}

function oneOf<T>(v: unknown, allowed: readonly T[], where: string): T {
  if (!allowed.includes(v as T)) throw new ArchError(`${where}: expected one of ${allowed.map(show).join(', ')}, got ${show(v)}`);
  return v as T;
}
