/**
 * Network plan (+ weights) -> a standard ONNX model, for latency measurement on real devices and
 * for using a found model without mnas. The one emitter of the project's graphs: whole networks
 * and any range of their layers (the latency table times layers alone, table.ts) come from here,
 * so a layer timed alone is the same graph, with the same node names and weights, as inside its
 * whole network.
 *
 * The graph is built by walking the plan (plan.ts) step by step (steps.ts), so it has exactly the
 * layers, widths, strides and shortcuts the engine network has. Eval mode: no dropout, every
 * BatchNorm folded into the conv before it (fold.ts). Input `input` [batch, C, H, W] (batch
 * symbolic, spatial fixed), output `logits` [batch, classes] (a range that stops before the
 * classifier: `output`, the last layer's NCHW map). Model metadata: `arch` (the arch string),
 * `weights` ('given' or 'random seed=<n>'), and for a range `layers` ('<first>..<last>' layer names).
 *
 * Node names follow the plan's parameter prefixes: `stem.conv`, `blocks.2.1.depthwise.conv`,
 * `blocks.2.1.se.reduce`, `head.conv`, `classifier`, ... so the conv initializers are
 * `<prefix>.conv.weight` / `.bias` (BN already folded in).
 *
 * This file imports no engine code (only types): exporting with random weights does not load
 * libtorch, so latency tooling can call `exportOnnx(buildPlan(arch))` anywhere.
 */
import { printArch } from '../space/arch-string.js';
import { Rng } from '../util/rng.js';
import type { Tensor } from '../torch/tensor.js';
import type { Network } from './network.js';
import { BATCH, GraphBuilder, foldConvBn, type Float32Tensor, type Opset, type Value } from './onnx/index.js';
import { allLayers, isWholeNetwork, layersIn, type ConvBnPlan, type LayerPlan, type LayerRange, type NetworkPlan, type ParamSpec, type SqueezeExcitePlan } from './plan.js';
import { layerSteps, type ShortcutStep } from './steps.js';
import { InputError } from '../util/input-error.js';

export interface ExportOnnxOptions {
  /** Default-domain opset, 13 (default) or 17. */
  opset?: 13 | 17;
  /** Seed of the random weights used when `weights` is omitted (default 0). */
  seed?: number;
  /** Graph name (default 'mnas'). */
  name?: string;
  /** Only these layers of the plan (default: all of them, the whole network). */
  layers?: LayerRange;
  /**
   * The training data's per-channel normalization, put into the graph: the model then takes raw
   * pixels scaled to [0, 1] (pixel / 255), and its metadata says so. Whole networks only.
   */
  inputNormalization?: InputNormalization;
}

/** The safetensors metadata key of the training data's normalization (JSON of an InputNormalization). */
export const NORMALIZATION_METADATA = 'input_normalization';

/** The normalization a weights file's metadata records, or null; throws for a malformed record. */
export function normalizationFromMetadata(metadata: Readonly<Record<string, string>>): InputNormalization | null {
  const raw = metadata[NORMALIZATION_METADATA];
  if (raw === undefined) return null;
  let v: { mean?: unknown; std?: unknown; classNames?: unknown };
  try {
    v = JSON.parse(raw) as typeof v;
  } catch (e) {
    throw new Error(`metadata ${NORMALIZATION_METADATA} is not JSON: ${(e as Error).message}`);
  }
  const numbers = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.every((n) => typeof n === 'number' && Number.isFinite(n));
  if (!numbers(v.mean) || !numbers(v.std) || v.mean.length !== v.std.length || v.std.some((n) => !(n > 0))) throw new Error(`metadata ${NORMALIZATION_METADATA} needs mean and std of one length, std > 0`);
  if (v.classNames !== undefined && !(Array.isArray(v.classNames) && v.classNames.every((c) => typeof c === 'string'))) throw new Error(`metadata ${NORMALIZATION_METADATA}: classNames must be strings`);
  return { mean: v.mean, std: v.std, ...(v.classNames ? { classNames: v.classNames as string[] } : {}) };
}

export interface InputNormalization {
  /** Per-channel mean and standard deviation of pixel / 255 over the training set. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Class names in label order, recorded in the metadata. */
  readonly classNames?: readonly string[];
}

/** Names and values of every parameter and buffer of the plan, flat row-major (OIHW, [out, in]). */
export type WeightMap = ReadonlyMap<string, Float32Array>;

/** Weights that do not fit the plan. `problems` lists every missing, mis-shaped or unknown entry. */
export class WeightsMismatchError extends InputError {
  constructor(readonly problems: readonly string[]) {
    const shown = problems.slice(0, 8).join('; ');
    super(`weights do not match the network plan: ${shown}${problems.length > 8 ? `; ... (${problems.length - 8} more)` : ''}`);
    this.name = 'WeightsMismatchError';
  }
}

const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/**
 * Checks `weights` against the plan: every plan parameter present with the plan's element count
 * and finite values, no entries the plan does not have, running variances >= 0. Throws
 * WeightsMismatchError naming each offending parameter.
 */
export function checkWeights(plan: NetworkPlan, weights: WeightMap): void {
  const problems: string[] = [];
  const known = new Set<string>();
  for (const p of plan.params) {
    known.add(p.name);
    const w = weights.get(p.name);
    if (w === undefined) {
      problems.push(`missing parameter '${p.name}' (shape ${fmt(p.shape)})`);
      continue;
    }
    if (!(w instanceof Float32Array)) {
      problems.push(`parameter '${p.name}' is not a Float32Array`);
      continue;
    }
    if (w.length !== p.size) {
      problems.push(`parameter '${p.name}' has ${w.length} values, the plan's shape ${fmt(p.shape)} needs ${p.size}`);
      continue;
    }
    const bad = w.findIndex((v) => !Number.isFinite(v) || (p.role === 'bn_running_var' && v < 0));
    if (bad >= 0) {
      problems.push(`parameter '${p.name}' has an invalid value ${w[bad]} at flat index ${bad}${p.role === 'bn_running_var' ? ' (running variance must be finite and >= 0)' : ''}`);
    }
  }
  for (const name of weights.keys()) if (!known.has(name)) problems.push(`unexpected parameter '${name}' (not in the plan)`);
  if (problems.length) throw new WeightsMismatchError(problems);
}

/**
 * Checks engine tensors (e.g. from a safetensors file) against the plan with their exact shapes
 * and dtype, and converts them to a WeightMap. Throws WeightsMismatchError.
 */
export function weightsFromTensors(plan: NetworkPlan, tensors: ReadonlyMap<string, Tensor>): Map<string, Float32Array> {
  const problems: string[] = [];
  const specs = new Map(plan.params.map((p) => [p.name, p]));
  for (const p of plan.params) {
    const t = tensors.get(p.name);
    if (!t) problems.push(`missing parameter '${p.name}' (shape ${fmt(p.shape)})`);
    else if (t.dtype !== 'float32') problems.push(`parameter '${p.name}' has dtype ${t.dtype}, expected float32`);
    else if (fmt(t.shape) !== fmt(p.shape)) problems.push(`parameter '${p.name}' has shape ${fmt(t.shape)}, the plan needs ${fmt(p.shape)}`);
  }
  for (const name of tensors.keys()) if (!specs.has(name)) problems.push(`unexpected parameter '${name}' (not in the plan)`);
  if (problems.length) throw new WeightsMismatchError(problems);
  const out = new Map<string, Float32Array>();
  for (const p of plan.params) out.set(p.name, (tensors.get(p.name) as Tensor).toFloat32Array());
  checkWeights(plan, out);
  return out;
}

/** Every parameter and buffer of an engine network (its stateDict), as flat float32 copies. */
export function weightsFromNetwork(net: Network): Map<string, Float32Array> {
  return weightsFromTensors(net.plan, net.stateDict());
}

/**
 * Deterministic random weights for the plan (pure JS, seeded): conv and FC weights uniform
 * with mean 0 and variance 1/fan_in, biases 0, and BN statistics derived from a running estimate of each conv's
 * input second moment, so every BN maps its conv's output to roughly unit variance (with a mild
 * seeded jitter of gamma, beta, mean and var). Activations stay O(1) through any depth; the
 * logits of a N(0,1) image are finite and of order 1. Meant for latency measurement and for
 * tests, not for accuracy.
 */
export function randomWeights(plan: NetworkPlan, seed = 0): Map<string, Float32Array> {
  const out = randomWeightsUpTo(plan, seed, plan.layers.length);
  checkWeights(plan, out);
  return out;
}

/**
 * randomWeights for the first `layerCount` layers only: the values are drawn in layer order, so a
 * layer's weights are the same as in the whole network's without drawing those of later layers.
 */
function randomWeightsUpTo(plan: NetworkPlan, seed: number, layerCount: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  const spec = new Map(plan.params.map((p) => [p.name, p]));
  const normal = (name: string, std: number): void => {
    const p = spec.get(name) as ParamSpec;
    const a = new Float32Array(p.size);
    // uniform with the given std: one 32-bit draw per value (millions of values: keep it cheap)
    rng.fillScaled(a, (2 * Math.sqrt(3) * std) / 4294967296, -Math.sqrt(3) * std);
    out.set(name, a);
  };
  const filled = (name: string, f: () => number): void => {
    const a = new Float32Array((spec.get(name) as ParamSpec).size);
    for (let i = 0; i < a.length; i++) a[i] = f();
    out.set(name, a);
  };
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * rng.next();
  /** conv + BN + optional ReLU; takes and returns the second moment of the activation. */
  const convBn = (c: ConvBnPlan, m2: number): number => {
    const fanIn = (c.inChannels / c.groups) * c.kernel * c.kernel;
    normal(`${c.prefix}.conv.weight`, Math.sqrt(1 / fanIn));
    // E[y^2] = fanIn * (1/fanIn) * E[x^2] = E[x^2]: normalise by it
    const v = Math.max(m2, 1e-6);
    filled(`${c.prefix}.bn.weight`, () => uniform(0.8, 1.2));
    filled(`${c.prefix}.bn.bias`, () => rng.normal() * 0.1);
    filled(`${c.prefix}.bn.running_mean`, () => rng.normal() * 0.1 * Math.sqrt(v));
    filled(`${c.prefix}.bn.running_var`, () => v * uniform(0.8, 1.25));
    return c.relu ? 0.5 : 1;
  };
  const se = (s: SqueezeExcitePlan, m2: number): number => {
    normal(`${s.prefix}.reduce.weight`, Math.sqrt(1 / s.channels));
    filled(`${s.prefix}.reduce.bias`, () => 0);
    normal(`${s.prefix}.expand.weight`, Math.sqrt(1 / s.reducedChannels));
    filled(`${s.prefix}.expand.bias`, () => 0);
    return m2 * 0.25; // gate ~ sigmoid(0) = 0.5
  };
  let m2 = 1; // the input image is assumed roughly N(0, 1)
  for (const l of plan.layers.slice(0, layerCount)) {
    const x = m2;
    let y = x;
    for (const step of layerSteps(l)) {
      switch (step.kind) {
        case 'conv_bn':
          y = convBn(step.conv, y);
          break;
        case 'squeeze_excite':
          y = se(step.se, y);
          break;
        case 'shortcut': {
          const s = step.shortcut;
          y += s.channelChange === 'zero_pad' ? (x * s.inChannels) / s.outChannels : x;
          break;
        }
        case 'global_pool':
          break;
        case 'classifier':
          normal('classifier.weight', Math.sqrt(1 / step.classifier.inFeatures));
          filled('classifier.bias', () => 0);
          break;
      }
    }
    m2 = y;
  }
  return out;
}

/**
 * Whether the plan's input resolution suits its strides: null if every stride-2 conv gets a map
 * of at least 2x2, otherwise a message naming the first layer that would "downsample" a 1-pixel
 * map and the smallest input that avoids it. (Such a plan is still computable, with padding
 * k // 2 every conv outputs >= 1 pixel, but its later strides do nothing: the arch does not fit.)
 */
export function resolutionProblem(plan: NetworkPlan): string | null {
  const strided: ConvBnPlan[] = [];
  for (const l of plan.layers) {
    for (const step of layerSteps(l)) if (step.kind === 'conv_bn' && step.conv.stride > 1) strided.push(step.conv);
  }
  const bad = strided.find((c) => c.inSize.height < 2 || c.inSize.width < 2);
  if (!bad) return null;
  // the size before the last strided conv is ceil(n / prod(earlier strides)); it must be >= 2
  const before = strided.slice(0, -1).reduce((p, c) => p * c.stride, 1);
  const min = before + 1;
  const { height, width } = plan.input;
  return (
    `input ${height}x${width} is too small for this arch: '${bad.prefix}' (stride ${bad.stride}) would downsample a ` +
    `${bad.inSize.height}x${bad.inSize.width} map; the arch needs at least ${min}x${min}`
  );
}

/**
 * The plan, or the range `options.layers` of its layers, as a serialized ONNX ModelProto (see
 * the file comment). Without `weights` (the whole plan's), seeded random weights (randomWeights)
 * are used. Throws WeightsMismatchError if the weights do not fit the plan, RangeError for a
 * range that selects no layer.
 */
export function exportOnnx(plan: NetworkPlan, weights?: WeightMap, options: ExportOnnxOptions = {}): Uint8Array {
  const opset = options.opset ?? 13;
  if (opset !== 13 && opset !== 17) throw new Error(`exportOnnx: opset must be 13 or 17, got ${String(opset)}`);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new Error(`exportOnnx: seed must be an integer, got ${String(seed)}`);
  const range = options.layers ?? allLayers(plan);
  const layers = layersIn(plan, range);
  if (weights) checkWeights(plan, weights);
  const w = weights ?? randomWeightsUpTo(plan, seed, range.to);

  const g = new GraphBuilder({ opset: opset as Opset, graphName: options.name ?? 'mnas' });
  g.setMetadata('arch', printArch(plan.arch));
  g.setMetadata('weights', weights ? 'given' : `random seed=${seed}`);
  if (!isWholeNetwork(plan, range)) g.setMetadata('layers', `${layers[0]!.name}..${layers.at(-1)!.name}`);
  const emit = layerEmitter(g, plan, w);
  const first = layers[0]!;
  let x = g.input('input', [BATCH, first.inChannels, first.inSize.height, first.inSize.width]);
  const norm = options.inputNormalization;
  if (norm) {
    if (!isWholeNetwork(plan, range)) throw new Error('exportOnnx: inputNormalization is for whole networks');
    const c = first.inChannels;
    if (norm.mean.length !== c || norm.std.length !== c || norm.std.some((v) => !(v > 0))) throw new Error(`exportOnnx: inputNormalization needs ${c} means and ${c} positive standard deviations`);
    // (x - mean) / std as x * (1 / std) + (-mean / std), per channel
    x = g.mul(x, g.initializer('input_scale_value', { data: Float32Array.from(norm.std, (v) => 1 / v), shape: [1, c, 1, 1] }), 'input_scale');
    x = g.add(x, g.initializer('input_shift_value', { data: Float32Array.from(norm.mean, (m, i) => -m / norm.std[i]!), shape: [1, c, 1, 1] }), 'input_shift');
    g.setMetadata('preprocessing', `input: float32 [N, ${c}, H, W], pixel / 255 (values in [0, 1]); the normalization (x - mean) / std with mean=${JSON.stringify(norm.mean)} std=${JSON.stringify(norm.std)} is part of the graph`);
    if (norm.classNames) g.setMetadata('classes', JSON.stringify(norm.classNames));
  } else if (isWholeNetwork(plan, range)) {
    g.setMetadata('preprocessing', 'input: float32 [N, C, H, W] already normalized as in training ((pixel / 255 - mean) / std of the training set)');
  }
  for (const l of layers) {
    x = emit(x, l);
    const expected = [BATCH, l.outChannels, l.outSize.height, l.outSize.width];
    const got = l.kind === 'classifier' ? [x.shape[0], x.shape[1], 1, 1] : x.shape;
    if (fmt(got as number[]) !== fmt(expected as number[])) {
      throw new Error(`exportOnnx: layer '${l.name}' gives ${fmt(x.shape as number[])}, the plan says ${fmt(expected as number[])} (bug)`);
    }
  }
  g.output(x, range.to === plan.layers.length ? 'logits' : 'output');
  return g.toBytes();
}

/** A function that appends one plan layer to `g` (eval mode, BN folded) and returns its output. */
function layerEmitter(g: GraphBuilder, plan: NetworkPlan, w: WeightMap): (x: Value, layer: LayerPlan) => Value {
  const get = (name: string): Float32Array => w.get(name) as Float32Array; // checked by the caller
  const tensorOf = (name: string, shape: readonly number[]): Float32Tensor => ({ data: get(name), shape });

  const convBn = (x: Value, c: ConvBnPlan): Value => {
    const weightName = `${c.prefix}.conv.weight`;
    const folded = foldConvBn(tensorOf(weightName, [c.outChannels, c.inChannels / c.groups, c.kernel, c.kernel]), undefined, {
      gamma: get(`${c.prefix}.bn.weight`),
      beta: get(`${c.prefix}.bn.bias`),
      runningMean: get(`${c.prefix}.bn.running_mean`),
      runningVar: get(`${c.prefix}.bn.running_var`),
      eps: plan.bnEps,
    });
    const y = g.conv(x, {
      weight: folded.weight,
      bias: folded.bias,
      strides: c.stride,
      pads: c.padding,
      group: c.groups,
      name: `${c.prefix}.conv`,
    });
    return c.relu ? g.relu(y, `${c.prefix}.relu`) : y;
  };

  const squeezeExcite = (x: Value, s: SqueezeExcitePlan): Value => {
    const pooled = g.globalAveragePool(x, `${s.prefix}.pool`);
    const r = g.conv(pooled, {
      weight: tensorOf(`${s.prefix}.reduce.weight`, [s.reducedChannels, s.channels, 1, 1]),
      bias: get(`${s.prefix}.reduce.bias`),
      name: `${s.prefix}.reduce`,
    });
    const e = g.conv(g.relu(r, `${s.prefix}.relu`), {
      weight: tensorOf(`${s.prefix}.expand.weight`, [s.channels, s.reducedChannels, 1, 1]),
      bias: get(`${s.prefix}.expand.bias`),
      name: `${s.prefix}.expand`,
    });
    return g.mul(x, g.sigmoid(e, `${s.prefix}.sigmoid`), `${s.prefix}.mul`);
  };

  /** y + shortcut(x), x the layer's input. */
  const shortcut = (x: Value, y: Value, step: ShortcutStep): Value => {
    const s = step.shortcut;
    let short = x;
    if (s.kind === 'pool') {
      if (s.downsample) short = g.averagePool(short, { kernel: 3, strides: 2, pads: 1, countIncludePad: false, name: `${step.layer}.shortcut.pool` });
      if (s.channelChange === 'zero_pad') short = g.padChannels(short, s.outChannels, `${step.layer}.shortcut.pad`);
      else if (s.channelChange === 'truncate') short = g.sliceChannels(short, s.outChannels, `${step.layer}.shortcut.slice`);
    }
    return g.add(y, short, `${step.layer}.add`);
  };

  return (x, layer) => {
    let y = x;
    for (const step of layerSteps(layer)) {
      switch (step.kind) {
        case 'conv_bn':
          y = convBn(y, step.conv);
          break;
        case 'squeeze_excite':
          y = squeezeExcite(y, step.se);
          break;
        case 'shortcut':
          y = shortcut(x, y, step);
          break;
        case 'global_pool':
          y = g.globalAveragePool(y, 'pool');
          break;
        case 'classifier': {
          // dropout is the identity in eval mode
          const c = step.classifier;
          y = g.gemm(g.flatten(y, 1, 'flatten'), {
            weight: tensorOf('classifier.weight', [c.outFeatures, c.inFeatures]),
            bias: get('classifier.bias'),
            name: 'classifier',
          });
          break;
        }
      }
    }
    return y;
  };
}
