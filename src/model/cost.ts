/**
 * Cheap metrics computed from a NetworkPlan (no tensors):
 * - params: trainable parameters (conv and FC weights and biases, BN gamma and beta). BN
 *   running mean/var are buffers, reported separately as `buffers`.
 * - macs: multiply-accumulates of every conv and linear layer, SE's two 1x1 convs included;
 *   BN, activations, pooling (global and the pooling skip), residual adds and SE gating are
 *   not counted. Conv: outH * outW * cout * (cin / groups) * k * k; linear: in * out.
 * - activations: elements (batch 1) of every tensor a conv or linear layer writes, i.e. each
 *   conv/BN/ReLU output (BN and ReLU counted as in place), each SE vector (pooled and reduced)
 *   plus the SE-gated map, and the classifier logits; the network total also counts the input
 *   image. This is what a training step keeps for backward, up to in-place details.
 * - peakActivations: max over layers of (layer input + layer output elements), a lower bound on
 *   the inference working set.
 */
import type { ConvBnPlan, LayerPlan, NetworkPlan, SqueezeExcitePlan } from './plan.js';
import { layerSteps, type LayerStep } from './steps.js';

export interface LayerCost {
  readonly name: string;
  readonly kind: LayerPlan['kind'];
  /** Short description, e.g. 'mbconv e6 k3 s2 se8 skip=identity' */
  readonly description: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly inSize: string;
  readonly outSize: string;
  readonly params: number;
  readonly buffers: number;
  readonly macs: number;
  readonly activations: number;
}

export interface NetworkCost {
  readonly params: number;
  readonly buffers: number;
  readonly macs: number;
  readonly activations: number;
  readonly peakActivations: number;
  readonly layers: readonly LayerCost[];
}

export function convMacs(c: ConvBnPlan): number {
  return c.outSize.height * c.outSize.width * c.outChannels * (c.inChannels / c.groups) * c.kernel * c.kernel;
}

export function seMacs(se: SqueezeExcitePlan): number {
  return 2 * se.channels * se.reducedChannels;
}

function convActivations(c: ConvBnPlan): number {
  return c.outSize.height * c.outSize.width * c.outChannels;
}

function seActivations(se: SqueezeExcitePlan): number {
  return se.channels + se.reducedChannels + se.channels + se.size.height * se.size.width * se.channels;
}

function stepMacsAndActivations(step: LayerStep): { macs: number; activations: number } {
  switch (step.kind) {
    case 'conv_bn':
      return { macs: convMacs(step.conv), activations: convActivations(step.conv) };
    case 'squeeze_excite':
      return { macs: seMacs(step.se), activations: seActivations(step.se) };
    case 'shortcut':
      return { macs: 0, activations: 0 };
    case 'global_pool':
      return { macs: 0, activations: step.channels };
    case 'classifier':
      return { macs: step.classifier.inFeatures * step.classifier.outFeatures, activations: step.classifier.outFeatures };
  }
}

function layerMacsAndActivations(layer: LayerPlan): { macs: number; activations: number } {
  let macs = 0;
  let activations = 0;
  for (const step of layerSteps(layer)) {
    const c = stepMacsAndActivations(step);
    macs += c.macs;
    activations += c.activations;
  }
  return { macs, activations };
}

function describe(layer: LayerPlan): string {
  switch (layer.kind) {
    case 'stem':
    case 'head':
      return `conv ${layer.conv.kernel}x${layer.conv.kernel} s${layer.conv.stride}`;
    case 'block': {
      const op = layer.op === 'mbconv' ? `mbconv e${layer.expand}` : layer.op;
      const se = layer.seChannels > 0 ? ` se${layer.seChannels}` : '';
      const shortcut = layer.shortcut ? ` +${layer.shortcut.kind}` : '';
      return `${op} k${layer.kernel} s${layer.stride}${se}${shortcut}`;
    }
    case 'pool':
      return 'global avg pool';
    case 'classifier':
      return `dropout ${layer.dropout}, fc`;
  }
}

const sizeText = (s: { height: number; width: number }): string => `${s.height}x${s.width}`;

export function costOfLayer(layer: LayerPlan): LayerCost {
  const { macs, activations } = layerMacsAndActivations(layer);
  return {
    name: layer.name,
    kind: layer.kind,
    description: describe(layer),
    inChannels: layer.inChannels,
    outChannels: layer.outChannels,
    inSize: sizeText(layer.inSize),
    outSize: sizeText(layer.outSize),
    params: layer.params.filter((p) => p.trainable).reduce((a, p) => a + p.size, 0),
    buffers: layer.params.filter((p) => !p.trainable).reduce((a, p) => a + p.size, 0),
    macs,
    activations,
  };
}

export function costOfPlan(plan: NetworkPlan): NetworkCost {
  const layers = plan.layers.map(costOfLayer);
  const inputElements = plan.input.height * plan.input.width * plan.input.channels;
  const elements = (l: LayerPlan, side: 'in' | 'out'): number =>
    side === 'in' ? l.inSize.height * l.inSize.width * l.inChannels : l.outSize.height * l.outSize.width * l.outChannels;
  return {
    params: layers.reduce((a, l) => a + l.params, 0),
    buffers: layers.reduce((a, l) => a + l.buffers, 0),
    macs: layers.reduce((a, l) => a + l.macs, 0),
    activations: inputElements + layers.reduce((a, l) => a + l.activations, 0),
    peakActivations: Math.max(...plan.layers.map((l) => elements(l, 'in') + elements(l, 'out'))),
    layers,
  };
}
