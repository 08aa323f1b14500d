/**
 * A small, typed ONNX graph builder for MnasNet-space networks (eval-mode export: no Dropout,
 * BatchNorm folded into the preceding Conv/Gemm with ./fold.ts).
 *
 * Every helper returns a `Value` handle (tensor name, inferred shape, dtype). Shapes are tracked
 * so mistakes surface at export time with the node named, e.g.
 *   Conv 'blocks.2.dw': weight [24,1,5,5] expects 1 input channel per group (group 24), but input 'x' has 16 channels
 * Dims are numbers or symbolic strings; graph inputs normally use `BATCH` ("batch") as dim 0 so one
 * model serves any batch size.
 *
 * Names: a node and its (single) output tensor share one name. Pass `name` to choose it (it must be
 * unused, otherwise an error is thrown); without it a unique name like `conv_3` is generated.
 * Initializers a helper creates are named `<node>.weight`, `<node>.bias`, `<node>.pads`, ...
 *
 * Usage:
 *   const g = new GraphBuilder();
 *   const x = g.input('input', [BATCH, 3, 224, 224]);
 *   let y = g.conv(x, { weight, bias, strides: 2, pads: 1, name: 'stem.conv' });
 *   y = g.relu(y);
 *   g.output(g.gemm(g.flatten(g.globalAveragePool(y)), { weight: fcW, bias: fcB }), 'logits');
 *   saveModel('out/model.onnx', g.toBytes());
 */
import { AttributeType, DataType, DEFAULT_OPSET, encodeModelObject, IR_VERSION, PRODUCER_NAME, SUPPORTED_OPSETS, type Opset } from './proto.js';

/** A tensor dimension: a fixed size, or a symbolic name (ONNX dim_param) such as "batch". */
export type Dim = number | string;
/** The symbolic batch dimension used for graph inputs and outputs. */
export const BATCH = 'batch';
export type DType = 'float32' | 'int64';

/** Handle to a tensor in the graph (graph input, initializer, or node output). */
export interface Value {
  readonly name: string;
  readonly shape: readonly Dim[];
  readonly dtype: DType;
}

/** Dense float32 tensor in row-major order (OIHW for conv weights, [out, in] for FC weights). */
export interface Float32Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** Thrown for any invalid builder call; `node` names the node or tensor at fault. */
export class OnnxGraphError extends Error {
  constructor(
    readonly node: string,
    message: string,
  ) {
    super(message);
    this.name = 'OnnxGraphError';
  }
}

export interface GraphBuilderOptions {
  /** GraphProto.name (default "mnas"). */
  graphName?: string;
  /** Default-domain opset: 13 (default) or 17. */
  opset?: Opset;
  /** ModelProto.producer_version (optional). */
  producerVersion?: string;
  /** ModelProto.doc_string (optional). */
  docString?: string;
}

export interface ConvOptions {
  /** OIHW: [outChannels, inChannels / group, kH, kW]. */
  weight: Float32Tensor;
  /** [outChannels]; omitted means no bias input. */
  bias?: Float32Array;
  /** Default 1. */
  strides?: number | readonly [number, number];
  /** Default 0. A single number pads all sides; a 4-tuple is ONNX order [top, left, bottom, right]. */
  pads?: number | readonly [number, number, number, number];
  /** Default 1. */
  dilations?: number | readonly [number, number];
  /** Default 1; equal to the input channels for a depthwise conv. */
  group?: number;
  name?: string;
}

export interface AveragePoolOptions {
  kernel: number | readonly [number, number];
  /** Default 1. */
  strides?: number | readonly [number, number];
  /** Default 0; a 4-tuple is [top, left, bottom, right]. Each pad must be smaller than the kernel. */
  pads?: number | readonly [number, number, number, number];
  /** Default false: padded cells are excluded from the average (count_include_pad = 0). */
  countIncludePad?: boolean;
  name?: string;
}

export interface GemmOptions {
  /** [outFeatures, inFeatures] (PyTorch Linear layout; emitted with transB = 1). */
  weight: Float32Tensor;
  /** [outFeatures]; omitted means no bias. */
  bias?: Float32Array;
  name?: string;
}

export interface SliceOptions {
  starts: readonly number[];
  ends: readonly number[];
  axes: readonly number[];
  /** Default all 1; must be positive. */
  steps?: readonly number[];
  name?: string;
}

interface AttributeObject {
  name: string;
  type: number;
  i?: number;
  f?: number;
  s?: Uint8Array;
  ints?: number[];
  floats?: number[];
}

interface NodeObject {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: AttributeObject[];
}

interface InitializerObject {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

function intAttr(name: string, i: number): AttributeObject {
  return { name, type: AttributeType.INT, i };
}
function intsAttr(name: string, ints: readonly number[]): AttributeObject {
  return { name, type: AttributeType.INTS, ints: [...ints] };
}

function pair(v: number | readonly [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  return [v[0], v[1]];
}
function quad(v: number | readonly [number, number, number, number] | undefined): [number, number, number, number] {
  if (v === undefined) return [0, 0, 0, 0];
  if (typeof v === 'number') return [v, v, v, v];
  return [v[0], v[1], v[2], v[3]];
}

function fmtShape(shape: readonly Dim[]): string {
  return `[${shape.join(',')}]`;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isPosInt(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

/** Builds one ONNX graph; call `toBytes()` once all nodes and outputs are added. */
export class GraphBuilder {
  readonly opset: Opset;
  private readonly graphName: string;
  private readonly producerVersion: string | undefined;
  private readonly docString: string | undefined;
  private readonly values = new Map<string, Value>();
  private readonly nodeNames = new Set<string>();
  private readonly nodes: NodeObject[] = [];
  private readonly initializers: InitializerObject[] = [];
  private readonly inputs: Value[] = [];
  private readonly outputs: Value[] = [];
  private readonly scalarCache = new Map<number, Value>();
  private readonly metadata = new Map<string, string>();
  private autoId = 0;
  private symId = 0;

  constructor(options: GraphBuilderOptions = {}) {
    const opset = options.opset ?? DEFAULT_OPSET;
    if (!(SUPPORTED_OPSETS as readonly number[]).includes(opset)) {
      throw new OnnxGraphError('<model>', `GraphBuilder: opset ${opset} is not supported (use one of ${SUPPORTED_OPSETS.join(', ')})`);
    }
    this.opset = opset;
    this.graphName = options.graphName ?? 'mnas';
    this.producerVersion = options.producerVersion;
    this.docString = options.docString;
  }

  // ---------------------------------------------------------------- inputs, initializers, outputs

  /** Declares a graph input. Use `BATCH` for the batch dimension, e.g. [BATCH, 3, 224, 224]. */
  input(name: string, shape: readonly Dim[], dtype: DType = 'float32'): Value {
    this.claimTensorName(name, 'input');
    for (const d of shape) {
      if (typeof d === 'number' ? !(Number.isInteger(d) && d >= 0) : d.length === 0) {
        throw new OnnxGraphError(name, `input '${name}': invalid shape ${fmtShape(shape)} (dims must be non-negative integers or non-empty names)`);
      }
    }
    const v = this.register(name, shape, dtype);
    this.inputs.push(v);
    return v;
  }

  /** Adds a float32 initializer (stored as little-endian raw_data). */
  initializer(name: string, tensor: Float32Tensor): Value {
    this.claimTensorName(name, 'initializer');
    checkTensor(name, tensor);
    const raw = new Uint8Array(tensor.data.length * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < tensor.data.length; i++) view.setFloat32(i * 4, tensor.data[i] as number, true);
    this.initializers.push({ name, dims: [...tensor.shape], dataType: DataType.FLOAT, rawData: raw });
    return this.register(name, tensor.shape, 'float32');
  }

  /** Adds an int64 initializer (little-endian raw_data). `shape` defaults to [values.length]. */
  int64Initializer(name: string, values: readonly number[] | BigInt64Array, shape?: readonly number[]): Value {
    this.claimTensorName(name, 'initializer');
    const dims = shape ?? [values.length];
    if (!dims.every((d) => Number.isInteger(d) && d >= 0) || product(dims) !== values.length) {
      throw new OnnxGraphError(name, `initializer '${name}': shape ${fmtShape(dims)} does not hold ${values.length} values`);
    }
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number | bigint;
      if (typeof v === 'number' && !Number.isSafeInteger(v)) {
        throw new OnnxGraphError(name, `initializer '${name}': ${v} at index ${i} is not a safe integer`);
      }
      view.setBigInt64(i * 8, BigInt(v), true);
    }
    this.initializers.push({ name, dims: [...dims], dataType: DataType.INT64, rawData: raw });
    return this.register(name, dims, 'int64');
  }

  /**
   * Marks `value` as a graph output. With `name` (different from value.name) an Identity node
   * renames it, so outputs can have stable names such as "logits".
   */
  output(value: Value, name?: string): Value {
    this.own(value, 'output');
    let v = value;
    if (name !== undefined && name !== value.name) {
      v = this.addNode('Identity', [value], [], value.shape, value.dtype, this.nodeName(name, 'identity'));
    }
    if (this.outputs.some((o) => o.name === v.name)) throw new OnnxGraphError(v.name, `output '${v.name}' is already a graph output`);
    if (this.inputs.some((o) => o.name === v.name)) throw new OnnxGraphError(v.name, `output '${v.name}' is a graph input; pass a new output name`);
    this.outputs.push(v);
    return v;
  }

  /** Stores a metadata_props entry in the model (e.g. the architecture string). */
  setMetadata(key: string, value: string): void {
    this.metadata.set(key, value);
  }

  // ---------------------------------------------------------------- ops

  /** 2-D convolution (NCHW input, OIHW weight, optional bias). */
  conv(x: Value, opts: ConvOptions): Value {
    const name = this.nodeName(opts.name, 'conv');
    const where = `Conv '${name}'`;
    this.ownFloat(x, where);
    this.rank(x, 4, where);
    const w = opts.weight;
    checkTensor(`${name}.weight`, w);
    if (w.shape.length !== 4) throw new OnnxGraphError(name, `${where}: weight must be OIHW (rank 4), got shape ${fmtShape(w.shape)}`);
    const [o, iPerGroup, kh, kw] = w.shape as [number, number, number, number];
    const group = opts.group ?? 1;
    if (!isPosInt(group)) throw new OnnxGraphError(name, `${where}: group must be a positive integer, got ${group}`);
    if (!isPosInt(o) || !isPosInt(iPerGroup) || !isPosInt(kh) || !isPosInt(kw)) {
      throw new OnnxGraphError(name, `${where}: weight shape ${fmtShape(w.shape)} has a zero dimension`);
    }
    if (o % group !== 0) throw new OnnxGraphError(name, `${where}: ${o} output channels are not divisible by group ${group}`);
    const c = x.shape[1] as Dim;
    if (typeof c === 'number') {
      if (c % group !== 0) throw new OnnxGraphError(name, `${where}: input '${x.name}' has ${c} channels, not divisible by group ${group}`);
      if (c / group !== iPerGroup) {
        throw new OnnxGraphError(
          name,
          `${where}: weight ${fmtShape(w.shape)} expects ${iPerGroup} input channel(s) per group (group ${group}), but input '${x.name}' has ${c} channels` +
            (group === 1 ? '' : ` (${c / group} per group)`),
        );
      }
    }
    if (opts.bias !== undefined && opts.bias.length !== o) {
      throw new OnnxGraphError(name, `${where}: bias has ${opts.bias.length} values, expected ${o} (output channels)`);
    }
    if (opts.bias !== undefined) checkTensor(`${name}.bias`, { data: opts.bias, shape: [o] });
    const strides = pair(opts.strides, 1);
    const dil = pair(opts.dilations, 1);
    const pads = quad(opts.pads);
    if (!strides.every(isPosInt)) throw new OnnxGraphError(name, `${where}: strides must be positive integers, got [${strides}]`);
    if (!dil.every(isPosInt)) throw new OnnxGraphError(name, `${where}: dilations must be positive integers, got [${dil}]`);
    if (!pads.every((p) => Number.isInteger(p) && p >= 0)) throw new OnnxGraphError(name, `${where}: pads must be non-negative integers, got [${pads}]`);
    const oh = this.convDim(x.shape[2] as Dim, kh, strides[0], pads[0] + pads[2], dil[0], name, where, 'height');
    const ow = this.convDim(x.shape[3] as Dim, kw, strides[1], pads[1] + pads[3], dil[1], name, where, 'width');
    this.claimTensorNames([`${name}.weight`, `${name}.bias`], where);
    const inputs = [x, this.initializer(`${name}.weight`, w)];
    if (opts.bias !== undefined) inputs.push(this.initializer(`${name}.bias`, { data: opts.bias, shape: [o] }));
    const attrs = [intsAttr('kernel_shape', [kh, kw]), intsAttr('strides', strides), intsAttr('pads', pads), intsAttr('dilations', dil), intAttr('group', group)];
    return this.addNode('Conv', inputs, attrs, [x.shape[0] as Dim, o, oh, ow], 'float32', name);
  }

  /** max(x, 0). */
  relu(x: Value, name?: string): Value {
    return this.unary('Relu', x, name);
  }

  /** Sigmoid(x). */
  sigmoid(x: Value, name?: string): Value {
    return this.unary('Sigmoid', x, name);
  }

  /** Clip(x, min, max), min/max passed as shared scalar initializers (opset >= 11 form). */
  clip(x: Value, min: number, max: number, name?: string): Value {
    const n = this.nodeName(name, 'clip');
    this.ownFloat(x, `Clip '${n}'`);
    if (!(Number.isFinite(min) && Number.isFinite(max) && min <= max)) throw new OnnxGraphError(n, `Clip '${n}': need finite min <= max, got [${min}, ${max}]`);
    return this.addNode('Clip', [x, this.scalar(min), this.scalar(max)], [], x.shape, 'float32', n);
  }

  /** ReLU6 = Clip(x, 0, 6). */
  relu6(x: Value, name?: string): Value {
    return this.clip(x, 0, 6, name ?? this.autoName('relu6'));
  }

  /** Elementwise a + b with numpy broadcasting (residual connections). */
  add(a: Value, b: Value, name?: string): Value {
    return this.binary('Add', a, b, name);
  }

  /** Elementwise a * b with numpy broadcasting (e.g. SE gating [N,C,H,W] * [N,C,1,1]). */
  mul(a: Value, b: Value, name?: string): Value {
    return this.binary('Mul', a, b, name);
  }

  /** [N,C,H,W] -> [N,C,1,1] spatial mean. */
  globalAveragePool(x: Value, name?: string): Value {
    const n = this.nodeName(name, 'gap');
    const where = `GlobalAveragePool '${n}'`;
    this.ownFloat(x, where);
    if (x.shape.length < 3) throw new OnnxGraphError(n, `${where}: input '${x.name}' must have rank >= 3, got ${fmtShape(x.shape)}`);
    const shape = x.shape.map((d, i) => (i < 2 ? d : 1));
    return this.addNode('GlobalAveragePool', [x], [], shape, 'float32', n);
  }

  /** 2-D average pooling (floor mode). */
  averagePool(x: Value, opts: AveragePoolOptions): Value {
    const n = this.nodeName(opts.name, 'avgpool');
    const where = `AveragePool '${n}'`;
    this.ownFloat(x, where);
    this.rank(x, 4, where);
    const k = pair(opts.kernel, 1);
    const s = pair(opts.strides, 1);
    const p = quad(opts.pads);
    if (!k.every(isPosInt) || !s.every(isPosInt)) throw new OnnxGraphError(n, `${where}: kernel and strides must be positive integers, got kernel [${k}] strides [${s}]`);
    if (!p.every((v, i) => Number.isInteger(v) && v >= 0 && v < (k[i % 2] as number))) {
      throw new OnnxGraphError(n, `${where}: pads [${p}] must be non-negative and smaller than the kernel [${k}]`);
    }
    const oh = this.convDim(x.shape[2] as Dim, k[0], s[0], p[0] + p[2], 1, n, where, 'height');
    const ow = this.convDim(x.shape[3] as Dim, k[1], s[1], p[1] + p[3], 1, n, where, 'width');
    const attrs = [intsAttr('kernel_shape', k), intsAttr('strides', s), intsAttr('pads', p), intAttr('count_include_pad', opts.countIncludePad ? 1 : 0)];
    return this.addNode('AveragePool', [x], attrs, [x.shape[0] as Dim, x.shape[1] as Dim, oh, ow], 'float32', n);
  }

  /**
   * Constant zero padding. `pads` has 2*rank entries in ONNX order
   * [x1_begin, x2_begin, ..., x1_end, x2_end]; they become an int64 initializer input.
   */
  pad(x: Value, pads: readonly number[], name?: string): Value {
    const n = this.nodeName(name, 'pad');
    const where = `Pad '${n}'`;
    this.ownFloat(x, where);
    const r = x.shape.length;
    if (pads.length !== 2 * r) throw new OnnxGraphError(n, `${where}: pads needs ${2 * r} entries for rank-${r} input '${x.name}', got ${pads.length}`);
    if (!pads.every((v) => Number.isInteger(v) && v >= 0)) throw new OnnxGraphError(n, `${where}: pads must be non-negative integers, got [${pads}]`);
    const shape = x.shape.map((d, i) => {
      const extra = (pads[i] as number) + (pads[i + r] as number);
      if (extra === 0) return d;
      return typeof d === 'number' ? d + extra : this.symbol(n, i);
    });
    this.claimTensorNames([`${n}.pads`], where);
    const padsV = this.int64Initializer(`${n}.pads`, pads);
    return this.addNode('Pad', [x, padsV], [{ name: 'mode', type: AttributeType.STRING, s: new TextEncoder().encode('constant') }], shape, 'float32', n);
  }

  /** Zero-pads channels (axis 1) at the end of an NCHW tensor up to `channels`. */
  padChannels(x: Value, channels: number, name?: string): Value {
    const where = `Pad '${name ?? '<auto>'}'`;
    this.ownFloat(x, where);
    this.rank(x, 4, where);
    const c = x.shape[1] as Dim;
    if (typeof c !== 'number') throw new OnnxGraphError(name ?? x.name, `${where}: channel count of '${x.name}' is symbolic (${c})`);
    if (!Number.isInteger(channels) || channels < c) {
      throw new OnnxGraphError(name ?? x.name, `${where}: cannot zero-pad ${c} channels of '${x.name}' to ${channels}`);
    }
    return this.pad(x, [0, 0, 0, 0, 0, channels - c, 0, 0], name);
  }

  /** Slice with int64 starts/ends/axes/steps inputs. */
  slice(x: Value, opts: SliceOptions): Value {
    const n = this.nodeName(opts.name, 'slice');
    const where = `Slice '${n}'`;
    this.ownFloat(x, where);
    const r = x.shape.length;
    const { starts, ends, axes } = opts;
    const steps = opts.steps ?? axes.map(() => 1);
    if (starts.length !== axes.length || ends.length !== axes.length || steps.length !== axes.length) {
      throw new OnnxGraphError(n, `${where}: starts, ends, axes and steps must have the same length`);
    }
    const shape: Dim[] = [...x.shape];
    const seen = new Set<number>();
    axes.forEach((a0, j) => {
      const a = a0 < 0 ? a0 + r : a0;
      if (!Number.isInteger(a) || a < 0 || a >= r || seen.has(a)) throw new OnnxGraphError(n, `${where}: bad or repeated axis ${a0} for rank-${r} input '${x.name}'`);
      seen.add(a);
      const st = steps[j] as number;
      if (!isPosInt(st)) throw new OnnxGraphError(n, `${where}: steps must be positive integers, got ${st}`);
      const d = x.shape[a] as Dim;
      if (typeof d !== 'number') {
        shape[a] = this.symbol(n, a);
        return;
      }
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      const b = clamp(starts[j] as number);
      const e = clamp(ends[j] as number);
      shape[a] = Math.max(0, Math.ceil((e - b) / st));
    });
    this.claimTensorNames(['starts', 'ends', 'axes', 'steps'].map((k) => `${n}.${k}`), where);
    const inputs = [
      x,
      this.int64Initializer(`${n}.starts`, starts),
      this.int64Initializer(`${n}.ends`, ends),
      this.int64Initializer(`${n}.axes`, axes),
      this.int64Initializer(`${n}.steps`, steps),
    ];
    return this.addNode('Slice', inputs, [], shape, 'float32', n);
  }

  /** Keeps the first `channels` channels (axis 1) of an NCHW tensor. */
  sliceChannels(x: Value, channels: number, name?: string): Value {
    const where = `Slice '${name ?? '<auto>'}'`;
    this.ownFloat(x, where);
    const c = x.shape[1];
    if (x.shape.length < 2 || !isPosInt(channels) || (typeof c === 'number' && channels > c)) {
      throw new OnnxGraphError(name ?? x.name, `${where}: cannot keep ${channels} channels of '${x.name}' with shape ${fmtShape(x.shape)}`);
    }
    return this.slice(x, { starts: [0], ends: [channels], axes: [1], ...(name !== undefined ? { name } : {}) });
  }

  /** Flatten to 2-D: [prod(dims[:axis]), prod(dims[axis:])]. Default axis 1. */
  flatten(x: Value, axis = 1, name?: string): Value {
    const n = this.nodeName(name, 'flatten');
    const where = `Flatten '${n}'`;
    this.ownFloat(x, where);
    const r = x.shape.length;
    if (!Number.isInteger(axis) || axis < 0 || axis > r) throw new OnnxGraphError(n, `${where}: axis ${axis} out of range for rank ${r}`);
    const fold = (dims: readonly Dim[], i: number): Dim => {
      if (dims.length === 1) return dims[0] as Dim;
      return dims.every((d) => typeof d === 'number') ? product(dims as number[]) : this.symbol(n, i);
    };
    const shape = [fold(x.shape.slice(0, axis), 0), fold(x.shape.slice(axis), 1)];
    return this.addNode('Flatten', [x], [intAttr('axis', axis)], shape, 'float32', n);
  }

  /** Fully connected layer: x [N, in] -> [N, out] via Gemm(x, W, b) with transB = 1. */
  gemm(x: Value, opts: GemmOptions): Value {
    const n = this.nodeName(opts.name, 'gemm');
    const where = `Gemm '${n}'`;
    this.ownFloat(x, where);
    this.rank(x, 2, where);
    const w = opts.weight;
    checkTensor(`${n}.weight`, w);
    if (w.shape.length !== 2) throw new OnnxGraphError(n, `${where}: weight must be [out, in], got shape ${fmtShape(w.shape)}`);
    const [out, inF] = w.shape as [number, number];
    const k = x.shape[1] as Dim;
    if (typeof k === 'number' && k !== inF) {
      throw new OnnxGraphError(n, `${where}: weight ${fmtShape(w.shape)} expects ${inF} input features, but input '${x.name}' has ${k}`);
    }
    if (opts.bias !== undefined && opts.bias.length !== out) {
      throw new OnnxGraphError(n, `${where}: bias has ${opts.bias.length} values, expected ${out}`);
    }
    if (opts.bias !== undefined) checkTensor(`${n}.bias`, { data: opts.bias, shape: [out] });
    this.claimTensorNames([`${n}.weight`, `${n}.bias`], where);
    const inputs = [x, this.initializer(`${n}.weight`, w)];
    if (opts.bias !== undefined) inputs.push(this.initializer(`${n}.bias`, { data: opts.bias, shape: [out] }));
    return this.addNode('Gemm', inputs, [intAttr('transB', 1)], [x.shape[0] as Dim, out], 'float32', n);
  }

  /** Mean over `axes` (attribute form, valid for opsets 13 and 17). */
  reduceMean(x: Value, axes: readonly number[], keepdims = true, name?: string): Value {
    const n = this.nodeName(name, 'reducemean');
    const where = `ReduceMean '${n}'`;
    this.ownFloat(x, where);
    const r = x.shape.length;
    const norm = axes.map((a) => (a < 0 ? a + r : a));
    if (norm.length === 0 || !norm.every((a) => Number.isInteger(a) && a >= 0 && a < r) || new Set(norm).size !== norm.length) {
      throw new OnnxGraphError(n, `${where}: bad axes [${axes}] for rank-${r} input '${x.name}'`);
    }
    const shape: Dim[] = [];
    x.shape.forEach((d, i) => {
      if (!norm.includes(i)) shape.push(d);
      else if (keepdims) shape.push(1);
    });
    return this.addNode('ReduceMean', [x], [intsAttr('axes', norm), intAttr('keepdims', keepdims ? 1 : 0)], shape, 'float32', n);
  }

  // ---------------------------------------------------------------- serialization

  /** The ModelProto as a plain protobufjs object (camelCase fields); mostly for inspection. */
  toModelObject(): Record<string, unknown> {
    if (this.inputs.length === 0) throw new OnnxGraphError('<model>', 'GraphBuilder: the graph has no inputs');
    if (this.outputs.length === 0) throw new OnnxGraphError('<model>', 'GraphBuilder: the graph has no outputs (call output())');
    const valueInfo = (v: Value) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: v.dtype === 'float32' ? DataType.FLOAT : DataType.INT64,
          shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    const model: Record<string, unknown> = {
      irVersion: IR_VERSION,
      producerName: PRODUCER_NAME,
      opsetImport: [{ domain: '', version: this.opset }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    };
    if (this.producerVersion !== undefined) model.producerVersion = this.producerVersion;
    if (this.docString !== undefined) model.docString = this.docString;
    if (this.metadata.size > 0) model.metadataProps = [...this.metadata].map(([key, value]) => ({ key, value }));
    return model;
  }

  /** Serialized ModelProto bytes (ir_version 8, producer "mnas"), ready for saveModel or onnxruntime. */
  toBytes(): Uint8Array {
    return encodeModelObject(this.toModelObject());
  }

  /** Number of nodes added so far. */
  get nodeCount(): number {
    return this.nodes.length;
  }

  // ---------------------------------------------------------------- internals

  private unary(op: string, x: Value, name: string | undefined): Value {
    const n = this.nodeName(name, op.toLowerCase());
    this.ownFloat(x, `${op} '${n}'`);
    return this.addNode(op, [x], [], x.shape, 'float32', n);
  }

  private binary(op: string, a: Value, b: Value, name: string | undefined): Value {
    const n = this.nodeName(name, op.toLowerCase());
    const where = `${op} '${n}'`;
    this.ownFloat(a, where);
    this.ownFloat(b, where);
    const r = Math.max(a.shape.length, b.shape.length);
    const shape: Dim[] = [];
    for (let i = 0; i < r; i++) {
      const da = a.shape[a.shape.length - r + i] ?? 1;
      const db = b.shape[b.shape.length - r + i] ?? 1;
      if (da === db || db === 1) shape.push(da);
      else if (da === 1) shape.push(db);
      else if (typeof da === 'number' && typeof db === 'number') {
        throw new OnnxGraphError(n, `${where}: shapes ${fmtShape(a.shape)} ('${a.name}') and ${fmtShape(b.shape)} ('${b.name}') do not broadcast`);
      } else shape.push(typeof da === 'number' ? da : db);
    }
    return this.addNode(op, [a, b], [], shape, 'float32', n);
  }

  private scalar(value: number): Value {
    const cached = this.scalarCache.get(value);
    if (cached) return cached;
    const v = this.initializer(this.autoName('const'), { data: new Float32Array([value]), shape: [] });
    this.scalarCache.set(value, v);
    return v;
  }

  private convDim(d: Dim, k: number, s: number, padSum: number, dil: number, node: string, where: string, what: string): Dim {
    if (typeof d !== 'number') return this.symbol(node, what === 'height' ? 2 : 3);
    const span = dil * (k - 1) + 1;
    const out = Math.floor((d + padSum - span) / s) + 1;
    if (out < 1) throw new OnnxGraphError(node, `${where}: input ${what} ${d} with padding ${padSum} is smaller than the kernel extent ${span}`);
    return out;
  }

  private addNode(opType: string, inputs: readonly Value[], attrs: AttributeObject[], shape: readonly Dim[], dtype: DType, n: string): Value {
    this.claimTensorName(n, 'node output', `${opType} '${n}'`);
    if (this.nodeNames.has(n)) throw new OnnxGraphError(n, `${opType} '${n}': duplicate node name '${n}'`);
    this.nodeNames.add(n);
    this.nodes.push({ name: n, opType, input: inputs.map((v) => v.name), output: [n], attribute: attrs });
    return this.register(n, shape, dtype);
  }

  private register(name: string, shape: readonly Dim[], dtype: DType): Value {
    const v: Value = Object.freeze({ name, shape: Object.freeze([...shape]), dtype });
    this.values.set(name, v);
    return v;
  }

  /**
   * Returns the node name to use: the requested one (checked unused now, claimed when the node is
   * added, so a call that fails validation does not burn the name) or a fresh automatic one.
   */
  private nodeName(requested: string | undefined, base: string): string {
    if (requested !== undefined) {
      if (requested.length === 0) throw new OnnxGraphError(requested, `empty node name for ${base}`);
      if (this.nodeNames.has(requested) || this.values.has(requested)) {
        throw new OnnxGraphError(requested, `duplicate name '${requested}': a node or tensor with this name already exists`);
      }
      return requested;
    }
    return this.autoName(base);
  }

  private autoName(base: string): string {
    for (;;) {
      const n = `${base}_${this.autoId++}`;
      if (!this.nodeNames.has(n) && !this.values.has(n)) return n;
    }
  }

  private symbol(node: string, axis: number): string {
    return `${node}_dim${axis}_${this.symId++}`;
  }

  private claimTensorName(name: string, what: string, where?: string): void {
    if (name.length === 0) throw new OnnxGraphError(name, `${where ?? what}: empty tensor name`);
    if (this.values.has(name)) {
      throw new OnnxGraphError(name, `${where ? `${where}: ` : ''}duplicate name '${name}' for ${what}: a tensor with this name already exists`);
    }
  }

  /** Fails (before anything is added) if any of the helper-created initializer names is taken. */
  private claimTensorNames(names: readonly string[], where: string): void {
    for (const n of names) this.claimTensorName(n, 'initializer', where);
  }

  private own(v: Value, where: string): void {
    if (this.values.get(v.name) !== v) {
      throw new OnnxGraphError(v.name, `${where}: value '${v.name}' does not belong to this graph builder`);
    }
  }

  private ownFloat(v: Value, where: string): void {
    this.own(v, where);
    if (v.dtype !== 'float32') throw new OnnxGraphError(v.name, `${where}: input '${v.name}' must be float32, got ${v.dtype}`);
  }

  private rank(v: Value, r: number, where: string): void {
    if (v.shape.length !== r) throw new OnnxGraphError(v.name, `${where}: input '${v.name}' must have rank ${r}, got shape ${fmtShape(v.shape)}`);
  }
}

function checkTensor(name: string, t: Float32Tensor): void {
  if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new OnnxGraphError(name, `tensor '${name}': shape ${fmtShape(t.shape)} must have non-negative integer dims`);
  }
  if (product(t.shape) !== t.data.length) {
    throw new OnnxGraphError(name, `tensor '${name}': shape ${fmtShape(t.shape)} needs ${product(t.shape)} values, got ${t.data.length}`);
  }
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i] as number)) throw new OnnxGraphError(name, `initializer '${name}': non-finite value ${t.data[i]} at flat index ${i}`);
  }
}
