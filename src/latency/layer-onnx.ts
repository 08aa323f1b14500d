/**
 * ONNX models of single plan layers (and of runs of consecutive layers) for latency profiling:
 * the same eval-mode graph a full export has (BN folded into conv bias, no dropout), seeded
 * random weights, dynamic batch, fed at batch 1.
 *
 * Per layer kind:
 *   stem / head:  Conv(+bias) -> Relu                          input [1, cin, H, W]
 *   block:        the searched layer with its shortcut          input [1, cin, H, W]
 *   pool:         GlobalAveragePool                             input [1, C, H, W]
 *   classifier:   Flatten -> Gemm                               input [1, C, 1, 1]
 */
import { buildPlan, type ConvBnPlan, type LayerPlan, type NetworkPlan } from '../model/plan.js';
import { BATCH, GraphBuilder, type Value } from '../model/onnx/index.js';
import type { Arch } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import { Rng } from '../util/rng.js';
import type { LatencyModel } from './device.js';

type Shape4 = readonly [number, number, number, number];

/** NCHW batch-1 input shape of a layer. */
export function layerInputShape(layer: LayerPlan): Shape4 {
  if (layer.kind === 'classifier') return [1, layer.inFeatures, 1, 1];
  return [1, layer.inChannels, layer.inSize.height, layer.inSize.width];
}

class Weights {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  /** Uniform He-style init, so activations stay in a normal float range (no denormals). */
  tensor(shape: number[], fanIn: number): { data: Float32Array; shape: number[] } {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const a = Math.sqrt(6 / Math.max(1, fanIn));
    for (let i = 0; i < n; i++) data[i] = (this.rng.next() * 2 - 1) * a;
    return { data, shape };
  }
  bias(n: number): Float32Array {
    const b = new Float32Array(n);
    for (let i = 0; i < n; i++) b[i] = (this.rng.next() * 2 - 1) * 0.1;
    return b;
  }
}

function convBn(g: GraphBuilder, x: Value, c: ConvBnPlan, w: Weights): Value {
  const cinPerGroup = c.inChannels / c.groups;
  const y = g.conv(x, {
    weight: w.tensor([c.outChannels, cinPerGroup, c.kernel, c.kernel], cinPerGroup * c.kernel * c.kernel),
    bias: w.bias(c.outChannels),
    strides: c.stride,
    pads: c.padding,
    group: c.groups,
    name: `${c.prefix}.conv`,
  });
  return c.relu ? g.relu(y, `${c.prefix}.relu`) : y;
}

/** Appends one plan layer to the graph; returns its output. */
export function emitLayer(g: GraphBuilder, x: Value, layer: LayerPlan, w: Weights): Value {
  switch (layer.kind) {
    case 'stem':
    case 'head':
      return convBn(g, x, layer.conv, w);
    case 'pool':
      return g.globalAveragePool(x, 'pool');
    case 'classifier': {
      const f = g.flatten(x, 1, 'flatten');
      return g.gemm(f, { weight: w.tensor([layer.outFeatures, layer.inFeatures], layer.inFeatures), bias: w.bias(layer.outFeatures), name: 'classifier' });
    }
    case 'block': {
      let y = x;
      for (const c of [layer.expandConv, layer.depthwiseConv, layer.regularConv]) if (c) y = convBn(g, y, c, w);
      if (layer.se) {
        const se = layer.se;
        const s = g.globalAveragePool(y, `${se.prefix}.pool`);
        const r = g.relu(
          g.conv(s, { weight: w.tensor([se.reducedChannels, se.channels, 1, 1], se.channels), bias: w.bias(se.reducedChannels), name: `${se.prefix}.reduce` }),
          `${se.prefix}.relu`,
        );
        const e = g.conv(r, { weight: w.tensor([se.channels, se.reducedChannels, 1, 1], se.reducedChannels), bias: w.bias(se.channels), name: `${se.prefix}.expand` });
        y = g.mul(y, g.sigmoid(e, `${se.prefix}.gate`), `${se.prefix}.mul`);
      }
      if (layer.projectConv) y = convBn(g, y, layer.projectConv, w);
      const s = layer.shortcut;
      if (!s) return y;
      let sc = x;
      if (s.kind === 'pool') {
        if (s.downsample) sc = g.averagePool(sc, { kernel: 3, strides: 2, pads: 1, countIncludePad: false, name: `${layer.name}.skip.pool` });
        if (s.channelChange === 'zero_pad') sc = g.padChannels(sc, s.outChannels, `${layer.name}.skip.pad`);
        else if (s.channelChange === 'truncate') sc = g.sliceChannels(sc, s.outChannels, `${layer.name}.skip.slice`);
      }
      return g.add(y, sc, `${layer.name}.add`);
    }
  }
}

/** A model of consecutive plan layers (one layer for profiling, all of them for a whole net). */
export function layersModel(layers: readonly LayerPlan[], name: string, seed = 0): LatencyModel {
  if (layers.length === 0) throw new Error('layersModel: no layers');
  const g = new GraphBuilder({ graphName: name });
  const shape = layerInputShape(layers[0] as LayerPlan);
  let y = g.input('input', [BATCH, shape[1], shape[2], shape[3]]);
  const w = new Weights(seed);
  for (const l of layers) y = emitLayer(g, y, l, w);
  g.output(y, 'output');
  return { name, onnx: g.toBytes(), inputShape: shape, layers };
}

/** A whole network (stem to logits) built by the profiler's own emitter. */
export function planModel(plan: NetworkPlan, name: string, seed = 0): LatencyModel {
  const { layers: _layers, ...model } = layersModel(plan.layers, name, seed);
  return { ...model, arch: printArch(plan.arch) };
}

export function archModel(arch: Arch, name: string, seed = 0): LatencyModel {
  return planModel(buildPlan(arch), name, seed);
}
