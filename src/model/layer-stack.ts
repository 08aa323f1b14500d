/**
 * A range of a plan's layers as one engine module: what the engine device times when the latency
 * table profiles layers alone (the whole network is a Network, network.ts). The same modules as
 * in a Network (ConvBn, SearchLayer), so a layer runs the same code alone and inside its network.
 */
import { Layer, Linear, mean, reshape, type Tensor } from '../torch/index.js';
import { ConvBn, SearchLayer, type BuildOptions } from './blocks.js';
import type { LayerPlan } from './plan.js';

export class LayerStack extends Layer {
  private readonly parts: Array<(x: Tensor) => Tensor> = [];

  constructor(layers: readonly LayerPlan[], o: BuildOptions) {
    super();
    layers.forEach((l, i) => {
      switch (l.kind) {
        case 'stem':
        case 'head': {
          const m = this.registerModule(`l${i}`, new ConvBn(l.conv, o));
          this.parts.push((x) => m.forward(x));
          break;
        }
        case 'block': {
          const m = this.registerModule(`l${i}`, new SearchLayer(l, o));
          this.parts.push((x) => m.forward(x));
          break;
        }
        case 'pool':
          this.parts.push((x) => mean(x, [2, 3], true));
          break;
        case 'classifier': {
          const m = this.registerModule(`l${i}`, new Linear({ inFeatures: l.inFeatures, outFeatures: l.outFeatures, init: o.init, generator: o.generator }));
          this.parts.push((x) => m.forward(reshape(x, [x.shape[0] as number, l.inFeatures])));
          break;
        }
      }
    });
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const p of this.parts) y = p(y);
    return y;
  }
}
