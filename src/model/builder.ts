/** Architecture or plan -> network on the engine (one call, seeded); a range of a plan's layers -> module. */
import type { Arch } from '../space/arch.js';
import { Generator, type InitScheme, type Layer } from '../torch/index.js';
import type { BuildOptions } from './blocks.js';
import { LayerStack } from './layer-stack.js';
import { Network } from './network.js';
import { buildPlan, isWholeNetwork, layersIn, type LayerRange, type NetworkPlan } from './plan.js';

export interface BuildNetworkOptions {
  /** Seed of the weight initialisation. */
  seed?: number;
  /** 'tf-mnasnet' (default): the reference models' initialisers; 'pytorch': torch defaults. */
  init?: InitScheme;
  /** Convert conv weights to channels_last memory (pair with channels_last inputs). */
  channelsLast?: boolean;
}

export function buildNetworkFromPlan(plan: NetworkPlan, o: BuildNetworkOptions = {}): Network {
  const net = withGenerator(plan, o, (options) => new Network(plan, options));
  const expected = new Map(plan.params.map((p) => [p.name, p.shape.join('x')]));
  for (const [name, t] of net.stateDict()) {
    if (expected.get(name) !== t.shape.join('x')) throw new Error(`buildNetwork: built '${name}' [${t.shape}] does not match the plan (bug)`);
    expected.delete(name);
  }
  if (expected.size) throw new Error(`buildNetwork: plan entries not built: ${[...expected.keys()].join(', ')} (bug)`);
  if (o.channelsLast) net.toChannelsLast();
  return net;
}

export function buildNetwork(arch: Arch, o: BuildNetworkOptions = {}): Network {
  return buildNetworkFromPlan(buildPlan(arch), o);
}

/**
 * The layers `range` selects as one module: the Network when it is the whole plan, otherwise a
 * LayerStack of the same layer modules (for timing layers alone). RangeError for an empty range.
 */
export function buildLayers(plan: NetworkPlan, range: LayerRange, o: Pick<BuildNetworkOptions, 'seed' | 'init'> = {}): Layer {
  if (isWholeNetwork(plan, range)) return buildNetworkFromPlan(plan, o);
  const layers = layersIn(plan, range);
  return withGenerator(plan, o, (options) => new LayerStack(layers, options));
}

/** Builds with the plan's BN settings and a seeded generator that only draws the initial weights. */
function withGenerator<T>(plan: NetworkPlan, o: Pick<BuildNetworkOptions, 'seed' | 'init'>, build: (options: BuildOptions) => T): T {
  const generator = new Generator(o.seed ?? 0);
  try {
    return build({
      // the arch records TF's convention (0.99 keeps 99% of the running value)
      bnMomentum: 1 - plan.bnMomentum,
      bnEps: plan.bnEps,
      init: o.init ?? 'tf-mnasnet',
      generator,
    });
  } finally {
    generator.dispose();
  }
}
