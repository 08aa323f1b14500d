/**
 * What a whole network's latency depends on beyond the sum of its layers timed alone, as numbers a
 * linear model can weigh (predictor.ts): the work of each kind of operator (pointwise, depthwise by
 * kernel, regular and SE convolutions, stem, head), how many operators and layers there are (each
 * costs a dispatch and, for small tensors, more than its FLOPs), and how much activation memory
 * moves, and how much of it crosses between layers (block_io_melements: a layer timed alone has
 * its input reordered into the runtime's blocked layout and its output back, ORT's NCHWc on x86,
 * which a whole network does not do between its layers; activation_melements weighs the expanded
 * tensors inside the blocks too), and the elements added by identity shortcuts
 * (identity_add_melements: a layer with one, timed alone, runs the Add on its own; in a whole
 * network ORT fuses it into the projecting conv), the elements added by pool shortcuts that pool,
 * pad or truncate their input first (pool_adjusted_add_melements: timed alone, that layer's input
 * arrives in plain NCHW, which those operators take; in a network it arrives in the blocked layout
 * of the conv before it and is reordered for them, so its fitted weight is positive; refitting
 * the stored tables of five ort-cpu runs on an AVX-512 host with it, 2026-12-03, the evaluated
 * models within 10% went 96 -> 97, 98 -> 99, 88 -> 93, 93 -> 98 and 96 -> 97%, with a lower mean
 * error in every one), and the weights (weights_m: a layer timed alone runs again and again on
 * weights it keeps in cache; a whole network's weights pass through the cache once per
 * inference, which costs most on a CPU whose per-core cache holds the weights of one layer but
 * not of the network). Timing one network's consecutive layers in pairs
 * (ort-cpu, 2026-12-03, bench/layer-pairs.mjs, two runs), a pair saved over its two layers timed
 * alone, beyond the fixed per-model cost, 0.089 of the reference's latency (both runs) into a
 * 28x28x24 layer with an identity shortcut and 0.024 and 0.014 into smaller ones; into layers
 * without one 0.004-0.016 below 28x28, and -0.005 to 0.046 at 28x28 (the noisiest pairs). On
 * 257 measured architectures of the fmnist space (ort-cpu, ratios to bench-fmnist measured
 * interleaved during a search), a linear model of these fitted on 120 predicted 98.6% of the
 * others within 10%, where a line on total MACs predicted 77% (`mnas bench predictor-fit`).
 */
import { convMacs, costOfLayer, seMacs } from '../model/cost.js';
import type { ConvBnPlan, LayerPlan, NetworkPlan } from '../model/plan.js';

/** Feature names in the order modelFeatures returns them (a calibration stores the names it used). */
export const MODEL_FEATURES = [
  'pointwise_mmacs',
  'depthwise_k3_mmacs',
  'depthwise_k5_mmacs',
  'depthwise_k7_mmacs',
  'regular_mmacs',
  'se_mmacs',
  'stem_mmacs',
  'head_mmacs',
  'block_layers',
  'se_layers',
  'shortcut_adds',
  'convs',
  'activation_melements',
  'depthwise_melements',
  'block_io_melements',
  'identity_add_melements',
  'weights_m',
  'pool_adjusted_add_melements',
  'weights_beyond_200k',
  'weights_beyond_500k',
] as const;

export type ModelFeature = (typeof MODEL_FEATURES)[number];

/**
 * What the predictor weighs: the network's features and the sum of its layers' entries in the
 * device's latency table, net of the per-run overhead (predictor.ts computes that one). The table
 * carries what the features cannot (how this runtime runs each layer configuration); the features
 * carry what timing layers alone misses. On 200 random fmnist architectures (ort-cpu, ratios to
 * the default measured interleaved, a table profiled in 3 interleaved passes), a fit on 120 others
 * left 79.5% within 10% with the features alone, 98.5% with the table sum alone and 99.0% with
 * both (worst error 23%, 15% and 17%; median 5.4%, 3.1% and 2.5%; 2026-12-01).
 */
export const PREDICTOR_FEATURES = [...MODEL_FEATURES, 'layer_table_ms'] as const;

export type PredictorFeature = (typeof PREDICTOR_FEATURES)[number];

const macsOf = (c: ConvBnPlan | null): number => (c ? convMacs(c) : 0);
const elements = (s: { height: number; width: number }, channels: number): number => s.height * s.width * channels;

const zeros = (): Record<ModelFeature, number> => Object.fromEntries(MODEL_FEATURES.map((k) => [k, 0])) as Record<ModelFeature, number>;

/**
 * Where a network's weights stop staying in cache from one inference to the next: the features
 * weights_beyond_200k and weights_beyond_500k are its weights (in millions) beyond these counts.
 * Fitted on their own, per table, the knees move with the device's cache; two fixed knees let the
 * linear model bend twice instead. On an AVX-512 host with 2 MiB of L2 per core (0.52 M float32
 * weights), refitting the stored tables of 14 ort-cpu runs (2026-12-04) with them took the mean
 * error on the evaluated models from 3.50% to 2.73% (fmnist, 7 runs) and from 3.07% to 2.77%
 * (cifar, 7); any knees from 0.15-0.25 M and 0.4-0.6 M did within 0.15 point of that, one knee alone
 * less well, and the browser's tables (WASM) were unchanged (0.75% to 0.74%).
 */
export const WEIGHT_KNEES: Readonly<Record<'weights_beyond_200k' | 'weights_beyond_500k', number>> = { weights_beyond_200k: 0.2, weights_beyond_500k: 0.5 };

/** Features of the whole network that are not a sum over its layers (the weight knees). */
const NETWORK_FEATURES = Object.keys(WEIGHT_KNEES) as (keyof typeof WEIGHT_KNEES)[];

/** The features of a network, by name (MACs, elements and weights in millions): the sum of its layers' (layerFeatures), and the weights beyond each knee. */
export function modelFeatures(plan: NetworkPlan): Record<ModelFeature, number> {
  return networkOf(plan.layers.map(layerFeatures));
}

/** The network's features from its layers' own: their sum, and the weights beyond each knee. */
function networkOf(layers: readonly Record<ModelFeature, number>[]): Record<ModelFeature, number> {
  const f = zeros();
  for (const lf of layers) for (const k of MODEL_FEATURES) f[k] += lf[k];
  for (const k of NETWORK_FEATURES) f[k] = Math.max(0, f.weights_m - WEIGHT_KNEES[k]);
  return f;
}

/**
 * What each layer adds to its network's features, so that a linear model of them splits exactly
 * into per-layer parts: its own features, and of the network-wide ones (the weights beyond each
 * knee) a share in proportion to its weights.
 */
export function layerShares(plan: NetworkPlan): Record<ModelFeature, number>[] {
  const own = plan.layers.map(layerFeatures);
  const whole = networkOf(own);
  return own.map((f) => {
    const share = whole.weights_m > 0 ? f.weights_m / whole.weights_m : 0;
    return { ...f, ...Object.fromEntries(NETWORK_FEATURES.map((k) => [k, share * whole[k]])) };
  });
}

/** One layer's own features (the network-wide weight knees are 0 here: see layerShares). */
export function layerFeatures(l: LayerPlan): Record<ModelFeature, number> {
  const f = zeros();
  f.weights_m = costOfLayer(l).params / 1e6;
  if (l.kind === 'stem') f.stem_mmacs = macsOf(l.conv) / 1e6;
  else if (l.kind === 'head') f.head_mmacs = macsOf(l.conv) / 1e6;
  else if (l.kind === 'block') {
    f.block_layers = 1;
    f.pointwise_mmacs = (macsOf(l.expandConv) + macsOf(l.projectConv)) / 1e6;
    f.regular_mmacs = macsOf(l.regularConv) / 1e6;
    const dw = l.depthwiseConv;
    if (dw) {
      const key = `depthwise_k${dw.kernel}_mmacs` as ModelFeature;
      // kernels beyond the shipped spaces' 3/5/7 count with the largest
      f[key in f ? key : 'depthwise_k7_mmacs'] = macsOf(dw) / 1e6;
      f.depthwise_melements = elements(dw.outSize, dw.outChannels) / 1e6;
    }
    f.convs = [l.expandConv, dw, l.regularConv, l.projectConv].filter((c) => c !== null).length;
    if (l.se) {
      f.se_mmacs = seMacs(l.se) / 1e6;
      f.se_layers = 1;
    }
    f.shortcut_adds = l.shortcut ? 1 : 0;
    if (l.shortcut?.kind === 'identity') f.identity_add_melements = elements(l.outSize, l.outChannels) / 1e6;
    else if (l.shortcut?.kind === 'pool' && (l.shortcut.downsample || l.shortcut.channelChange !== 'none')) f.pool_adjusted_add_melements = elements(l.outSize, l.outChannels) / 1e6;
    f.activation_melements = (elements(l.inSize, l.inChannels) + elements(l.outSize, l.outChannels) + (dw ? 2 * elements(dw.inSize, dw.inChannels) : 0)) / 1e6;
    f.block_io_melements = (elements(l.inSize, l.inChannels) + elements(l.outSize, l.outChannels)) / 1e6;
  }
  return f;
}
