/**
 * `engine`: the project's own libtorch engine, in eval mode under noGrad, batch 1. Whole
 * networks are built from the model's arch string (buildNetwork, seeded); layer-profiling
 * models are built from their plan layers (LatencyModel.layers). The ONNX bytes are not used.
 *
 * The engine's thread count is process-wide (setNumThreads); measure() sets it to this
 * device's count before timing.
 */
import { ConvBn, SearchLayer, type BuildOptions } from '../model/blocks.js';
import { buildNetwork } from '../model/builder.js';
import type { LayerPlan } from '../model/plan.js';
import { parseArch } from '../space/arch-string.js';
import {
  Generator, Layer, Linear, mean, noGrad, rand, reshape, setNumThreads, tidy, torchVersion, type Tensor,
} from '../torch/index.js';
import type { DeviceDescription, LatencyDevice, LatencyModel, LatencyResult, MeasureProtocol } from './device.js';
import { cpuModel, hostDetails } from './host.js';
import { measureSync } from './protocol.js';

export interface EngineOptions {
  /** Engine (libtorch intra-op) threads, default 1. */
  threads?: number;
  /** Weight seed (default 0). */
  seed?: number;
}

/** A stack of plan layers as one engine module (the layer-profiling counterpart of Network). */
class LayerStack extends Layer {
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

export class EngineDevice implements LatencyDevice {
  readonly threads: number;
  private readonly seed: number;

  constructor(o: EngineOptions = {}) {
    const t = o.threads ?? 1;
    if (!Number.isInteger(t) || t < 1) throw new Error(`engine: threads must be a positive integer, got ${t}`);
    this.threads = t;
    this.seed = o.seed ?? 0;
  }

  async describe(): Promise<DeviceDescription> {
    const v = torchVersion();
    return {
      id: `engine:t${this.threads}`,
      kind: 'engine',
      cpu: cpuModel(),
      runtime: 'mnas-engine (libtorch)',
      runtimeVersion: v.torch,
      threads: this.threads,
      details: { ...hostDetails(), parallel: v.parallel.split('\n')[0]?.trim() ?? '', batch: 1, mode: 'eval, no grad' },
    };
  }

  private build(model: LatencyModel): Layer {
    const o = { seed: this.seed };
    if (model.layers && model.layers.length > 0) {
      const generator = new Generator(this.seed);
      try {
        return new LayerStack(model.layers, { bnMomentum: 0.01, bnEps: 1e-3, init: 'tf-mnasnet', generator });
      } finally {
        generator.dispose();
      }
    }
    if (!model.arch) throw new Error(`engine: model '${model.name}' has no arch string (the engine device builds networks from the arch; an .onnx file alone cannot run on it)`);
    return buildNetwork(parseArch(model.arch), o);
  }

  async measure(model: LatencyModel, protocol: Partial<MeasureProtocol> = {}, signal?: AbortSignal): Promise<LatencyResult> {
    setNumThreads(this.threads);
    const net = this.build(model);
    net.eval();
    const x = rand([...model.inputShape]).keep();
    try {
      const forward = (): void =>
        noGrad(() =>
          tidy(() => {
            net.forward(x);
          }),
        );
      const stats = measureSync(forward, protocol, signal ? { signal } : {});
      return { ...stats, device: await this.describe() };
    } finally {
      x.dispose();
      net.dispose();
    }
  }

  async close(): Promise<void> {}
}
