/**
 * Size limits of everything mnas builds, in one place. Two kinds of checks, both run before any
 * tensor, weight array or graph exists:
 *
 * - Static limits on the architecture (`checkArchLimits`, called by makeArch and buildPlan, so
 *   no Arch or plan exceeds them) and on a built plan (`checkPlanLimits`, MACs). They are far
 *   above every shipped preset and space (the widest choice of the 224x224 mobilenet-v2 space:
 *   400 filters, 2,400 expanded channels, 5 layers per block, e6, k5) yet small enough that no
 *   arch string of a few KB expands into millions of layers or inexact totals.
 * - The memory a plan needs at the batch that will be used (`checkPlanFits`) against the memory
 *   available now (MemAvailable, with a margin), so a command refuses a network that cannot fit
 *   instead of allocating until the OS or V8 aborts.
 *
 * Violations throw LimitError (an ArchError), whose message names the limit and the value.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { ArchError, quoteText } from '../space/arch-error.js';
import type { Arch, InputShape } from '../space/arch.js';
import { costOfPlan } from './cost.js';
import type { NetworkPlan } from './plan.js';

/** Blocks (stages) per arch: MnasNet, MobileNetV2 and EfficientNet have 7. */
export const MAX_BLOCKS = 64;
/** Layers per block: the spaces go up to 5 (4 + 1), EfficientNet-B7's deepest stage has 13. */
export const MAX_REPEATS = 64;
/** Layers over all blocks: ResNet-1001 has 333 residual blocks; keeps plans and graphs small. */
export const MAX_LAYERS = 1024;
/** Stem, block and head widths: the spaces go up to 1,280 (head), EfficientNet-B7 to 2,560. */
export const MAX_CHANNELS = 8192;
/** Expansion ratio of an MBConv: the spaces use 3 and 6, as do MobileNetV2, MnasNet and EfficientNet. */
export const MAX_EXPAND = 16;
/** Width of an expanded (depthwise) stage, input width x expansion: the spaces reach 2,400. */
export const MAX_EXPANDED_CHANNELS = 32768;
/** Kernel size: the spaces use 3 and 5, MixNet up to 11. */
export const MAX_KERNEL = 15;
/** Classes: ImageNet-1k in the presets, ImageNet-21k has 21,841. */
export const MAX_CLASSES = 100_000;
/** Input height and width: the presets take 224, EfficientNet-B7 600, detection backbones ~1,536. */
export const MAX_INPUT_SIZE = 4096;
/** Input channels: gray 1, RGB 3, RGB-D / RGBA 4, multispectral a few dozen. */
export const MAX_INPUT_CHANNELS = 64;
/**
 * MACs per image: MnasNet-A1 has 3.1e8 at 224x224 and 1e11 at 4096x4096. The cap also keeps every
 * total of the cost model (params, MACs, activations) an exact integer, far below 2^53.
 */
export const MAX_MACS = 1e13;
/**
 * Share of the available memory a plan may claim: the rest is for what the estimate leaves out
 * (the data set in memory, libtorch and V8 themselves, allocator caches, other processes).
 */
const MEMORY_MARGIN = 0.9;

/**
 * Bytes per activation element counted by the cost model, by use:
 * - train: the activations a training step keeps for backward, as costOfPlan counts them (one
 *   float32 each, BN and ReLU in place). A floor: measured tensor peaks reach 4x that (README,
 *   memory per proxy trial), so a refused plan cannot fit; one that passes may still not.
 * - eval: three times the widest layer's input + output (peak activations), a floor of the
 *   evaluation working set (src/train/run.ts sizes evaluation batches with 12, im2col included).
 * - export: no activations.
 */
const ACTIVATION_BYTES = { train: 4, eval: 3 * 4, export: 0 } as const;
/**
 * Copies of the float32 weights (params + BN buffers), by use: train = weights, gradients and up
 * to two optimizer state tensors (RMSprop: square average and momentum); eval = the network and
 * the runtime's copy (onnxruntime loads the exported bytes); export = the weight arrays, their
 * BN-folded copies and the encoded file.
 */
const WEIGHT_COPIES = { train: 4, eval: 2, export: 3 } as const;

export type PlanUse = keyof typeof ACTIVATION_BYTES;

/** A size limit is exceeded; `limit` is the constant's name, `value` the offending value. */
export class LimitError extends ArchError {
  constructor(message: string, readonly limit: string, readonly value: number) {
    super(message);
    this.name = 'LimitError';
  }
}

/** `where` names the field (e.g. arch.blocks[1].repeats), `what` the limit in words. */
function atMost(value: number, max: number, limit: string, where: string, what: string): void {
  // !(<=) also refuses NaN
  if (!(value <= max)) throw new LimitError(`${where}: ${formatCount(value)} exceeds the limit ${formatCount(max)} (${what})`, limit, value);
}

/** Digits for exact integers, else exponent notation (1e20 would print 21 digits of noise). */
function formatCount(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : Number.isFinite(n) ? n.toExponential(3).replace('.000e', 'e') : String(n);
}

/** Block count alone, checked before anything per block is parsed or validated. */
export function checkBlockCount(count: number, where = 'arch.blocks'): void {
  atMost(count, MAX_BLOCKS, 'MAX_BLOCKS', where, 'blocks per arch');
}

export function checkInputShape(input: InputShape, where = 'input'): void {
  atMost(input.height, MAX_INPUT_SIZE, 'MAX_INPUT_SIZE', `${where} height`, 'input height and width');
  atMost(input.width, MAX_INPUT_SIZE, 'MAX_INPUT_SIZE', `${where} width`, 'input height and width');
  atMost(input.channels, MAX_INPUT_CHANNELS, 'MAX_INPUT_CHANNELS', `${where} channels`, 'input channels');
}

/**
 * 'HxWxC' as an --input option takes it, e.g. 224x224x3, within the input limits. Throws
 * ArchError (malformed) or LimitError naming `option`.
 */
export function parseInputShapeText(text: string, option = '--input'): InputShape {
  const m = /^\s*(\d+)x(\d+)x(\d+)\s*$/.exec(String(text));
  const dims = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  // too many digits is past the limits below, which say so
  if (!m || dims.some((d) => d < 1)) {
    throw new ArchError(`${option} must be HxWxC with positive integers, e.g. 224x224x3, got '${quoteText(String(text))}'`);
  }
  const shape = { height: dims[0] as number, width: dims[1] as number, channels: dims[2] as number };
  checkInputShape(shape, option);
  return shape;
}

function checkClasses(classes: number, where = 'classes'): void {
  atMost(classes, MAX_CLASSES, 'MAX_CLASSES', where, 'classes');
}

function checkChannels(channels: number, where: string): void {
  atMost(channels, MAX_CHANNELS, 'MAX_CHANNELS', where, 'channels of a layer');
}

/**
 * Every static limit of an arch whose fields are already valid integers (makeArch checks those
 * first). O(blocks): nothing is expanded. Throws LimitError naming the field and the value.
 */
export function checkArchLimits(arch: Arch): void {
  const g = arch.global;
  checkInputShape(g.input, 'arch.global.input');
  checkClasses(g.classes, 'arch.global.classes');
  checkChannels(g.stem.filters, 'arch.global.stem.filters');
  checkChannels(g.head, 'arch.global.head');
  checkBlockCount(arch.blocks.length);
  let layers = 0;
  let channels = g.stem.filters;
  arch.blocks.forEach((b, i) => {
    const where = `arch.blocks[${i}]`;
    atMost(b.repeats, MAX_REPEATS, 'MAX_REPEATS', `${where}.repeats`, 'repeats per block');
    checkChannels(b.filters, `${where}.filters`);
    if (b.inputFilters !== undefined) checkChannels(b.inputFilters, `${where}.inputFilters`);
    atMost(b.expand, MAX_EXPAND, 'MAX_EXPAND', `${where}.expand`, 'expansion ratio');
    atMost(b.kernel, MAX_KERNEL, 'MAX_KERNEL', `${where}.kernel`, 'kernel size');
    // the first layer expands the previous block's width, the repeats their own
    const widest = Math.max(channels, b.repeats > 1 ? b.filters : 0) * b.expand;
    atMost(widest, MAX_EXPANDED_CHANNELS, 'MAX_EXPANDED_CHANNELS', `${where} expanded width`, 'input width x expansion');
    layers += b.repeats;
    channels = b.filters;
  });
  atMost(layers, MAX_LAYERS, 'MAX_LAYERS', 'arch.blocks', 'layers over all blocks');
}

/** Limits only a built plan can tell (MACs depend on every layer's output size). */
export function checkPlanLimits(plan: NetworkPlan): void {
  atMost(costOfPlan(plan).macs, MAX_MACS, 'MAX_MACS', 'plan', 'MACs per image');
}

export interface PlanMemory {
  /** Weight bytes times the copies the use keeps. */
  readonly weightBytes: number;
  readonly activationBytes: number;
  readonly totalBytes: number;
}

export interface PlanFitOptions {
  /** Images per forward pass (training batch, evaluation batch; 1 for latency). Default 1. */
  readonly batch?: number;
  /** What the plan is built for (default 'train'). */
  readonly use?: PlanUse;
  /** Bytes available (default: availableMemoryBytes()); for tests and callers that budget themselves. */
  readonly available?: number;
}

/** The least memory `plan` needs for `use` at `batch` (see ACTIVATION_BYTES and WEIGHT_COPIES). */
export function planMemoryBytes(plan: NetworkPlan, o: PlanFitOptions = {}): PlanMemory {
  const use = o.use ?? 'train';
  const batch = o.batch ?? 1;
  const cost = costOfPlan(plan);
  const weightBytes = 4 * (cost.params + cost.buffers) * WEIGHT_COPIES[use];
  const perImage = use === 'train' ? cost.activations : cost.peakActivations;
  const activationBytes = batch * perImage * ACTIVATION_BYTES[use];
  return { weightBytes, activationBytes, totalBytes: weightBytes + activationBytes };
}

/**
 * Throws LimitError unless `plan` fits the memory available now (MEMORY_MARGIN of it) when used
 * for `use` at `batch`; returns the estimate. What the search calls before building a candidate.
 */
export function checkPlanFits(plan: NetworkPlan, o: PlanFitOptions = {}): PlanMemory {
  const use = o.use ?? 'train';
  const batch = o.batch ?? 1;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new LimitError(`plan: batch must be a positive integer, got ${batch}`, 'batch', batch);
  const need = planMemoryBytes(plan, { use, batch });
  const available = o.available ?? availableMemoryBytes();
  const usable = Math.floor(available * MEMORY_MARGIN);
  if (need.totalBytes > usable) {
    const what = use === 'train' ? `training at batch ${batch}` : use === 'eval' ? `inference at batch ${batch}` : 'export';
    throw new LimitError(
      `the network needs at least ${formatBytes(need.totalBytes)} for ${what} (weights ${formatBytes(need.weightBytes)}, ` +
        `activations ${formatBytes(need.activationBytes)}), more than the ${formatBytes(usable)} usable ` +
        `(${Math.round(MEMORY_MARGIN * 100)}% of ${formatBytes(available)} available)`,
      'MEMORY',
      need.totalBytes,
    );
  }
  return need;
}

/** Throws LimitError unless a float32 tensor of `shape` fits the memory available now. */
export function checkTensorFits(shape: readonly number[], what: string, available = availableMemoryBytes()): void {
  const elements = shape.reduce((a, d) => a * d, 1);
  const usable = Math.floor(available * MEMORY_MARGIN);
  if (!(elements * 4 <= usable)) {
    throw new LimitError(`${what} [${shape.join(', ')}] needs ${formatBytes(elements * 4)}, more than the ${formatBytes(usable)} usable`, 'MEMORY', elements * 4);
  }
}

/** MemAvailable from /proc/meminfo (what can be allocated without swapping), else os.freemem(). */
export function availableMemoryBytes(): number {
  try {
    const m = /^MemAvailable:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} bytes`;
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} bytes` : `${v.toFixed(1)} ${units[u]}`;
}
