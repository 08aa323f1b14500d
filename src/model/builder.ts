/** Architecture -> trainable network on the engine (one call, seeded). */
import type { Arch } from '../space/arch.js';
import { Generator, type InitScheme } from '../torch/index.js';
import { Network } from './network.js';
import { buildPlan, type NetworkPlan } from './plan.js';

export interface BuildNetworkOptions {
  /** Seed of the weight initialisation. */
  seed?: number;
  /** 'tf-mnasnet' (default): the reference models' initialisers; 'pytorch': torch defaults. */
  init?: InitScheme;
  /** Convert conv weights to channels_last memory (pair with channels_last inputs). */
  channelsLast?: boolean;
}

export function buildNetworkFromPlan(plan: NetworkPlan, o: BuildNetworkOptions = {}): Network {
  // the generator only draws the initial weights
  const generator = new Generator(o.seed ?? 0);
  let net: Network;
  try {
    net = new Network(plan, {
      // the arch records TF's convention (0.99 keeps 99% of the running value)
      bnMomentum: 1 - plan.bnMomentum,
      bnEps: plan.bnEps,
      init: o.init ?? 'tf-mnasnet',
      generator,
    });
  } finally {
    generator.dispose();
  }
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
