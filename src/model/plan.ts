/**
 * The network plan: an Arch resolved into a flat, typed list of layers with every shape,
 * spatial size and parameter name worked out. The model builder, the cost model and the ONNX
 * export all walk this one structure, so none of them re-derives channels or strides.
 *
 * Layers in order: 'stem', one 'block' layer per repeat of every block, 'head' (only if
 * arch.global.head > 0), 'pool' (global average), 'classifier' (dropout + FC with bias).
 *
 * Parameter names (PyTorch-style, conv weights OIHW, FC weights [out, in]):
 *   stem.conv.weight, stem.bn.{weight,bias,running_mean,running_var}
 *   blocks.<b>.<l>.expand.conv.weight      + .expand.bn.*      (mbconv only)
 *   blocks.<b>.<l>.depthwise.conv.weight   + .depthwise.bn.*   (mbconv, dsconv)
 *   blocks.<b>.<l>.regular.conv.weight     + .regular.bn.*     (conv)
 *   blocks.<b>.<l>.se.reduce.{weight,bias}, blocks.<b>.<l>.se.expand.{weight,bias}
 *   blocks.<b>.<l>.project.conv.weight     + .project.bn.*     (mbconv, dsconv)
 *   head.conv.weight, head.bn.*
 *   classifier.weight, classifier.bias
 * Running mean/var are buffers (trainable: false); everything else is a trainable parameter.
 * Semantics of each op and skip: see src/space/arch.ts and docs/space.md.
 */
import { ArchError } from '../space/arch-error.js';
import { deepFreeze, withGlobal, type Arch, type OpKind, type SkipKind } from '../space/arch.js';
import { checkArchLimits, checkPlanLimits } from './limits.js';
import { blockSteps } from './steps.js';

export interface Size2 {
  readonly height: number;
  readonly width: number;
}

export type ParamRole =
  | 'conv_weight'
  | 'conv_bias'
  | 'linear_weight'
  | 'linear_bias'
  | 'bn_weight'
  | 'bn_bias'
  | 'bn_running_mean'
  | 'bn_running_var';

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: ParamRole;
  /** false for BN running statistics (buffers). */
  readonly trainable: boolean;
  /** Number of elements (product of shape). */
  readonly size: number;
}

/** conv (no bias) -> BN -> optional ReLU. Params: `<prefix>.conv.weight`, `<prefix>.bn.*`. */
export interface ConvBnPlan {
  readonly prefix: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  /** 1 for a regular conv, = channels for a depthwise conv. */
  readonly groups: number;
  readonly relu: boolean;
  readonly inSize: Size2;
  readonly outSize: Size2;
}

/**
 * Squeeze-excite: global mean -> 1x1 conv+bias (channels -> reduced) -> ReLU -> 1x1 conv+bias
 * (reduced -> channels) -> sigmoid -> multiply. Params `<prefix>.reduce.*`, `<prefix>.expand.*`.
 */
export interface SqueezeExcitePlan {
  readonly prefix: string;
  readonly channels: number;
  readonly reducedChannels: number;
  readonly size: Size2;
}

/**
 * The shortcut actually built for one layer (null in BlockLayerPlan when there is none).
 * 'identity': y + x. 'pool': y + adjust(pool(x)) where pool is avg-pool 3x3 s2 p1
 * (count_include_pad = false) if `downsample`, and adjust zero-pads or truncates channels.
 */
export interface ShortcutPlan {
  readonly kind: 'identity' | 'pool';
  readonly downsample: boolean;
  readonly channelChange: 'none' | 'zero_pad' | 'truncate';
  readonly inChannels: number;
  readonly outChannels: number;
}

export interface StemLayerPlan {
  readonly kind: 'stem';
  readonly name: 'stem';
  readonly conv: ConvBnPlan;
  readonly inSize: Size2;
  readonly outSize: Size2;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly params: readonly ParamSpec[];
}

export interface BlockLayerPlan {
  readonly kind: 'block';
  /** `blocks.<block>.<layer>` */
  readonly name: string;
  readonly block: number;
  readonly layer: number;
  readonly op: OpKind;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Width of the depthwise stage (cin * expand); for 'conv' the conv's output width. */
  readonly expandedChannels: number;
  readonly expand: number;
  readonly kernel: number;
  readonly stride: number;
  /** 0 when there is no SE. */
  readonly seChannels: number;
  /** The skip the arch asked for ... */
  readonly skip: SkipKind;
  /** ... and the shortcut it resolves to for this layer. */
  readonly shortcut: ShortcutPlan | null;
  readonly inSize: Size2;
  readonly outSize: Size2;
  /** The op's stages, null where it has none; steps.ts gives their forward order. */
  readonly expandConv: ConvBnPlan | null;
  readonly depthwiseConv: ConvBnPlan | null;
  readonly regularConv: ConvBnPlan | null;
  readonly se: SqueezeExcitePlan | null;
  readonly projectConv: ConvBnPlan | null;
  readonly params: readonly ParamSpec[];
}

export interface HeadLayerPlan {
  readonly kind: 'head';
  readonly name: 'head';
  readonly conv: ConvBnPlan;
  readonly inSize: Size2;
  readonly outSize: Size2;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly params: readonly ParamSpec[];
}

export interface PoolLayerPlan {
  readonly kind: 'pool';
  readonly name: 'pool';
  readonly inSize: Size2;
  readonly outSize: Size2;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly params: readonly ParamSpec[];
}

export interface ClassifierLayerPlan {
  readonly kind: 'classifier';
  readonly name: 'classifier';
  readonly dropout: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly inSize: Size2;
  readonly outSize: Size2;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly params: readonly ParamSpec[];
}

export type LayerPlan = StemLayerPlan | BlockLayerPlan | HeadLayerPlan | PoolLayerPlan | ClassifierLayerPlan;

export interface NetworkPlan {
  readonly arch: Arch;
  readonly input: { readonly height: number; readonly width: number; readonly channels: number };
  readonly classes: number;
  readonly bnMomentum: number;
  readonly bnEps: number;
  readonly layers: readonly LayerPlan[];
  /** Every parameter and buffer, in layer order; names are unique. */
  readonly params: readonly ParamSpec[];
}

/** Layers `from` (inclusive) to `to` (exclusive) of a plan's layer list. */
export interface LayerRange {
  readonly from: number;
  readonly to: number;
}

/** The range of every layer of the plan: the whole network. */
export function allLayers(plan: NetworkPlan): LayerRange {
  return { from: 0, to: plan.layers.length };
}

export function isWholeNetwork(plan: NetworkPlan, range: LayerRange): boolean {
  return range.from === 0 && range.to === plan.layers.length;
}

/** The layers `range` selects; RangeError unless it selects at least one layer of the plan. */
export function layersIn(plan: NetworkPlan, range: LayerRange): readonly LayerPlan[] {
  const { from, to } = range;
  const n = plan.layers.length;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > n || from >= to) {
    throw new RangeError(`layer range [${from}, ${to}) does not select layers of a plan with ${n} layers`);
  }
  return plan.layers.slice(from, to);
}

/**
 * The plan with another BN momentum and/or dropout (a training recipe's overrides): the layers,
 * shapes and parameters stay those of `plan`, only the two settings (and the arch recording
 * them) change, so training with them does not plan the architecture again. Equal to
 * buildPlan(withGlobal(plan.arch, overrides)).
 */
export function withTrainingGlobals(plan: NetworkPlan, overrides: { readonly bnMomentum?: number; readonly dropout?: number }): NetworkPlan {
  const g = plan.arch.global;
  const bnMomentum = overrides.bnMomentum ?? g.bnMomentum;
  const dropout = overrides.dropout ?? g.dropout;
  if (bnMomentum === g.bnMomentum && dropout === g.dropout) return plan;
  const arch = withGlobal(plan.arch, { bnMomentum, dropout });
  return deepFreeze({
    ...plan,
    arch,
    bnMomentum: arch.global.bnMomentum,
    layers: plan.layers.map((l) => (l.kind === 'classifier' ? { ...l, dropout: arch.global.dropout } : l)),
  });
}

/** Output size of a conv/pool with kernel k, stride s and padding k // 2. */
export function convOutputSize(size: number, kernel: number, stride: number): number {
  return Math.floor((size + 2 * Math.floor(kernel / 2) - kernel) / stride) + 1;
}

/** `max(1, floor(inputChannels * seRatio))`, or 0 when seRatio is 0. */
export function seReducedChannels(inputChannels: number, seRatio: number): number {
  return seRatio > 0 ? Math.max(1, Math.floor(inputChannels * seRatio)) : 0;
}

/**
 * Throws ArchError when the input is too small for the arch's strides and LimitError (limits.ts)
 * before expanding an arch past the size limits (makeArch checks them too; this also covers
 * hand-made records).
 */
export function buildPlan(arch: Arch): NetworkPlan {
  checkArchLimits(arch);
  const g = arch.global;
  const layers: LayerPlan[] = [];
  let size: Size2 = { height: g.input.height, width: g.input.width };
  let channels = g.input.channels;

  const stemConv = convBn({ prefix: 'stem', inChannels: channels, outChannels: g.stem.filters, kernel: 3, stride: g.stem.stride, relu: true, inSize: size });
  layers.push({ kind: 'stem', name: 'stem', conv: stemConv, ...io(stemConv), params: convBnParams(stemConv) });
  size = stemConv.outSize;
  channels = stemConv.outChannels;

  arch.blocks.forEach((block, b) => {
    for (let l = 0; l < block.repeats; l++) {
      const layer = blockLayer(`blocks.${b}.${l}`, b, l, block, channels, l === 0 ? block.stride : 1, size);
      layers.push(layer);
      size = layer.outSize;
      channels = layer.outChannels;
    }
  });

  if (g.head > 0) {
    const headConv = convBn({ prefix: 'head', inChannels: channels, outChannels: g.head, kernel: 1, stride: 1, relu: true, inSize: size });
    layers.push({ kind: 'head', name: 'head', conv: headConv, ...io(headConv), params: convBnParams(headConv) });
    channels = g.head;
  }

  const pooled: Size2 = { height: 1, width: 1 };
  layers.push({ kind: 'pool', name: 'pool', inSize: size, outSize: pooled, inChannels: channels, outChannels: channels, params: [] });
  layers.push({
    kind: 'classifier',
    name: 'classifier',
    dropout: g.dropout,
    inFeatures: channels,
    outFeatures: g.classes,
    inSize: pooled,
    outSize: pooled,
    inChannels: channels,
    outChannels: g.classes,
    params: [param('classifier.weight', [g.classes, channels], 'linear_weight'), param('classifier.bias', [g.classes], 'linear_bias')],
  });

  const params = layers.flatMap((l) => l.params);
  const names = new Set<string>();
  for (const p of params) {
    if (names.has(p.name)) throw new Error(`plan: duplicate parameter name '${p.name}' (bug in the plan builder)`);
    names.add(p.name);
  }
  const plan: NetworkPlan = deepFreeze({
    arch,
    input: g.input,
    classes: g.classes,
    bnMomentum: g.bnMomentum,
    bnEps: g.bnEps,
    layers,
    params,
  });
  checkPlanLimits(plan);
  return plan;
}

function blockLayer(
  name: string,
  block: number,
  layer: number,
  args: Arch['blocks'][number],
  cin: number,
  stride: number,
  inSize: Size2,
): BlockLayerPlan {
  const cout = args.filters;
  const seChannels = seReducedChannels(cin, args.seRatio);
  let expandConv: ConvBnPlan | null = null;
  let depthwiseConv: ConvBnPlan | null = null;
  let regularConv: ConvBnPlan | null = null;
  let projectConv: ConvBnPlan | null = null;
  let expanded: number;
  let gatedSize: Size2;
  if (args.op === 'conv') {
    regularConv = convBn({ prefix: `${name}.regular`, inChannels: cin, outChannels: cout, kernel: args.kernel, stride, relu: true, inSize });
    expanded = cout;
    gatedSize = regularConv.outSize;
  } else {
    expanded = cin * args.expand;
    if (args.op === 'mbconv') expandConv = convBn({ prefix: `${name}.expand`, inChannels: cin, outChannels: expanded, kernel: 1, stride: 1, relu: true, inSize });
    depthwiseConv = convBn({ prefix: `${name}.depthwise`, inChannels: expanded, outChannels: expanded, kernel: args.kernel, stride, groups: expanded, relu: true, inSize });
    gatedSize = depthwiseConv.outSize;
    projectConv = convBn({ prefix: `${name}.project`, inChannels: expanded, outChannels: cout, kernel: 1, stride: 1, relu: false, inSize: gatedSize });
  }
  const se: SqueezeExcitePlan | null =
    seChannels > 0 ? { prefix: `${name}.se`, channels: expanded, reducedChannels: seChannels, size: gatedSize } : null;
  const shortcut = shortcutFor(args.skip, cin, cout, stride);
  const params = blockSteps({ name, expandConv, depthwiseConv, regularConv, se, projectConv, shortcut }).flatMap((step) =>
    step.kind === 'conv_bn' ? convBnParams(step.conv) : step.kind === 'squeeze_excite' ? seParams(step.se) : [],
  );
  return {
    kind: 'block',
    name,
    block,
    layer,
    op: args.op,
    inChannels: cin,
    outChannels: cout,
    expandedChannels: expanded,
    expand: args.expand,
    kernel: args.kernel,
    stride,
    seChannels,
    skip: args.skip,
    shortcut,
    inSize,
    outSize: gatedSize,
    expandConv,
    depthwiseConv,
    regularConv,
    se,
    projectConv,
    params,
  };
}

function shortcutFor(skip: SkipKind, cin: number, cout: number, stride: number): ShortcutPlan | null {
  if (skip === 'none') return null;
  if (skip === 'identity') {
    return stride === 1 && cin === cout
      ? { kind: 'identity', downsample: false, channelChange: 'none', inChannels: cin, outChannels: cout }
      : null;
  }
  const channelChange = cout > cin ? 'zero_pad' : cout < cin ? 'truncate' : 'none';
  return { kind: 'pool', downsample: stride !== 1, channelChange, inChannels: cin, outChannels: cout };
}

/** What a conv+BN is given; padding (k // 2) and the output size follow. `groups` defaults to 1. */
type ConvBnSpec = Omit<ConvBnPlan, 'padding' | 'outSize' | 'groups'> & { readonly groups?: number };

function convBn({ prefix, inChannels, outChannels, kernel, stride, groups = 1, relu, inSize }: ConvBnSpec): ConvBnPlan {
  const outSize = {
    height: convOutputSize(inSize.height, kernel, stride),
    width: convOutputSize(inSize.width, kernel, stride),
  };
  if (outSize.height < 1 || outSize.width < 1) {
    throw new ArchError(
      `plan: ${prefix}: a ${kernel}x${kernel} stride-${stride} conv on ${inSize.height}x${inSize.width} gives ${outSize.height}x${outSize.width}; the input is too small for this arch`,
    );
  }
  return { prefix, inChannels, outChannels, kernel, stride, padding: Math.floor(kernel / 2), groups, relu, inSize, outSize };
}

function io(c: ConvBnPlan): { inSize: Size2; outSize: Size2; inChannels: number; outChannels: number } {
  return { inSize: c.inSize, outSize: c.outSize, inChannels: c.inChannels, outChannels: c.outChannels };
}

function param(name: string, shape: number[], role: ParamRole): ParamSpec {
  return { name, shape, role, trainable: role !== 'bn_running_mean' && role !== 'bn_running_var', size: shape.reduce((a, b) => a * b, 1) };
}

function convBnParams(c: ConvBnPlan): ParamSpec[] {
  const n = c.outChannels;
  return [
    param(`${c.prefix}.conv.weight`, [n, c.inChannels / c.groups, c.kernel, c.kernel], 'conv_weight'),
    param(`${c.prefix}.bn.weight`, [n], 'bn_weight'),
    param(`${c.prefix}.bn.bias`, [n], 'bn_bias'),
    param(`${c.prefix}.bn.running_mean`, [n], 'bn_running_mean'),
    param(`${c.prefix}.bn.running_var`, [n], 'bn_running_var'),
  ];
}

function seParams(se: SqueezeExcitePlan): ParamSpec[] {
  return [
    param(`${se.prefix}.reduce.weight`, [se.reducedChannels, se.channels, 1, 1], 'conv_weight'),
    param(`${se.prefix}.reduce.bias`, [se.reducedChannels], 'conv_bias'),
    param(`${se.prefix}.expand.weight`, [se.channels, se.reducedChannels, 1, 1], 'conv_weight'),
    param(`${se.prefix}.expand.bias`, [se.channels], 'conv_bias'),
  ];
}

/** Fields that record what the architecture asked for rather than what was built. */
const REQUESTED_ONLY = new Set(['arch', 'op', 'expand', 'skip']);

/**
 * A string that is equal for two plans exactly when they build the same network (same stages,
 * shapes, shortcuts, parameters and BN settings): e.g. an 'identity' skip that cannot apply and
 * 'noskip', or an MBConv with expansion 1 and a depthwise-separable conv. Results can be shared
 * between such architectures.
 */
export function planIdentity(plan: NetworkPlan): string {
  return JSON.stringify(plan, (key, value: unknown) => (REQUESTED_ONLY.has(key) ? undefined : value));
}
