/**
 * A MnasNet-space network built from its plan: stem -> blocks of searched layers -> optional
 * 1x1 head -> global average pool -> dropout -> classifier. Parameter and buffer names are
 * exactly the plan's (stem.conv.weight, blocks.2.1.se.reduce.bias, classifier.weight, ...).
 */
import { dropout, Layer, Linear, mean, releasing, Sequential, type Tensor } from '../torch/index.js';
import { ConvBn, SearchLayer, type BuildOptions } from './blocks.js';
import type { NetworkPlan } from './plan.js';

export class Network extends Layer {
  readonly stem: ConvBn;
  readonly blocks: Sequential;
  readonly head: ConvBn | null = null;
  readonly classifier: Linear;
  readonly dropoutRate: number;

  constructor(readonly plan: NetworkPlan, options: BuildOptions) {
    super();
    let stem: ConvBn | undefined;
    let classifier: Linear | undefined;
    const blocks: SearchLayer[][] = [];
    this.dropoutRate = 0;
    for (const l of plan.layers) {
      switch (l.kind) {
        case 'stem':
          stem = new ConvBn(l.conv, options);
          break;
        case 'block':
          (blocks[l.block] ??= []).push(new SearchLayer(l, options));
          break;
        case 'head':
          this.head = new ConvBn(l.conv, options);
          break;
        case 'pool':
          break;
        case 'classifier':
          this.dropoutRate = l.dropout;
          classifier = new Linear({ inFeatures: l.inFeatures, outFeatures: l.outFeatures, init: options.init, generator: options.generator });
          break;
      }
    }
    if (!stem || !classifier) throw new Error('Network: the plan has no stem or no classifier');
    this.stem = this.registerModule('stem', stem);
    this.blocks = this.registerModule('blocks', new Sequential(blocks.map((b) => new Sequential(b))));
    if (this.head) this.registerModule('head', this.head);
    this.classifier = this.registerModule('classifier', classifier);
  }

  /** Pooled features before the classifier, [N, C]. */
  features(x: Tensor): Tensor {
    const stem = this.stem.forward(x);
    let y = releasing(stem, x, this.blocks.forward(stem));
    if (this.head) y = releasing(y, x, this.head.forward(y));
    return releasing(y, x, mean(y, [2, 3], false));
  }

  forward(x: Tensor): Tensor {
    let f = this.features(x);
    if (this.dropoutRate > 0 && this.training) f = releasing(f, x, dropout(f, this.dropoutRate, true));
    return releasing(f, x, this.classifier.forward(f));
  }
}
