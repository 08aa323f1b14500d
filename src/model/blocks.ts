/**
 * The layers of MnasNet-space networks as modules on the engine, each built from its entry in
 * the network plan (plan.ts), which fixes every width, stride and parameter name.
 */
import {
  add, avgPool2d, BatchNorm2d, Conv2d, conv2d, div, isGradEnabled, Layer, mul, pad, releasing, relu_, reshape, slice, sqrt, squeezeExcite, sub, tidy,
  type Generator, type InitScheme, type Tensor,
} from '../torch/index.js';
import type { BlockLayerPlan, ConvBnPlan, ShortcutPlan, SqueezeExcitePlan } from './plan.js';
import { blockSteps } from './steps.js';

export interface BuildOptions {
  /** BN momentum in PyTorch convention (TF's 0.99 is 0.01). */
  bnMomentum: number;
  bnEps: number;
  init: InitScheme;
  generator?: Generator;
}

/** conv (no bias) -> BN -> optional ReLU. Children: conv, bn. */
export class ConvBn extends Layer {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly relu: boolean;

  constructor(p: ConvBnPlan, o: BuildOptions) {
    super();
    this.relu = p.relu;
    this.conv = this.registerModule('conv', new Conv2d({
      inChannels: p.inChannels, outChannels: p.outChannels, kernel: p.kernel, stride: p.stride, padding: p.padding,
      groups: p.groups, bias: false, init: o.init, generator: o.generator,
    }));
    this.bn = this.registerModule('bn', new BatchNorm2d({ channels: p.outChannels, momentum: o.bnMomentum, eps: o.bnEps }));
  }

  forward(x: Tensor): Tensor {
    if (!this.training && !isGradEnabled()) return this.inferenceForward(x);
    const c = this.conv.forward(x);
    return releasing(c, x, this.bn.forward(c, { relu: this.relu }));
  }

  /**
   * Eval mode without gradients (evaluation, BN-free inference): the BN folded into the conv's
   * weights and a bias, as the ONNX export folds it, so the activation is not read and written
   * once more by a separate BN pass. The folded weights are small and recomputed per call.
   */
  private inferenceForward(x: Tensor): Tensor {
    const { conv, bn } = this;
    const [weight, bias] = tidy(() => {
      const scale = div(bn.weight, sqrt(add(bn.runningVar, bn.eps)));
      return [mul(conv.weight, reshape(scale, [scale.shape[0]!, 1, 1, 1])), sub(bn.bias, mul(bn.runningMean, scale))];
    });
    const y = conv2d(x, weight!, bias!, { stride: conv.stride, padding: conv.padding, groups: conv.groups });
    weight!.dispose();
    bias!.dispose();
    return this.relu ? relu_(y) : y;
  }
}

/**
 * Squeeze-and-excitation. Weights are stored as 1x1 convs (as the reference models and their
 * exports have them) but applied as linear layers on the pooled vector: the same arithmetic
 * without running a convolution on 1x1 images.
 */
class SqueezeExcite extends Layer {
  readonly reduce: Conv2d;
  readonly expand: Conv2d;

  constructor(readonly plan: SqueezeExcitePlan, o: BuildOptions) {
    super();
    const c = plan.channels, r = plan.reducedChannels;
    this.reduce = this.registerModule('reduce', new Conv2d({ inChannels: c, outChannels: r, kernel: 1, bias: true, init: o.init, generator: o.generator }));
    this.expand = this.registerModule('expand', new Conv2d({ inChannels: r, outChannels: c, kernel: 1, bias: true, init: o.init, generator: o.generator }));
  }

  forward(x: Tensor): Tensor {
    const c = this.plan.channels, r = this.plan.reducedChannels;
    // the weight views are tiny; the tidy() around the forward pass frees them
    return squeezeExcite(x, reshape(this.reduce.weight, [r, c]), this.reduce.bias!, reshape(this.expand.weight, [c, r]), this.expand.bias!);
  }
}

/** One searched layer (plan.ts for the semantics of ops and shortcuts; steps.ts for their order). */
export class SearchLayer extends Layer {
  private readonly body: Layer[] = [];
  private readonly shortcut: ShortcutPlan | null = null;

  constructor(readonly plan: BlockLayerPlan, o: BuildOptions) {
    super();
    for (const step of blockSteps(plan)) {
      switch (step.kind) {
        case 'conv_bn':
          this.body.push(this.registerModule(step.stage, new ConvBn(step.conv, o)));
          break;
        case 'squeeze_excite':
          this.body.push(this.registerModule('se', new SqueezeExcite(step.se, o)));
          break;
        case 'shortcut':
          this.shortcut = step.shortcut;
          break;
      }
    }
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const l of this.body) y = releasing(y, x, l.forward(y));
    const s = this.shortcut;
    if (!s) return y;
    if (s.kind === 'identity') return releasing(y, x, add(y, x));
    const shortcut = poolShortcut(x, s);
    return releasing(shortcut, x, releasing(y, x, add(y, shortcut)));
  }
}

/** The documented "pooling" skip: avg-pool 3x3 stride 2 pad 1 (padding not counted) when
 * downsampling, then channels zero-padded at the end or truncated to the output width. */
function poolShortcut(x: Tensor, s: ShortcutPlan): Tensor {
  let y = s.downsample ? avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }) : x;
  if (s.channelChange === 'zero_pad') y = releasing(y, x, pad(y, [0, 0, 0, 0, 0, s.outChannels - s.inChannels]));
  else if (s.channelChange === 'truncate') y = releasing(y, x, slice(y, 1, 0, s.outChannels));
  return y;
}
