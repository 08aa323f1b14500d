/**
 * `engine`: the project's own libtorch engine, in eval mode under noGrad, batch 1. It builds
 * what the model's plan source holds (buildLayers: the whole Network, or a LayerStack of the
 * range's layers, with the source's weight seed); it never reads the ONNX bytes, so a model
 * without a plan (an .onnx file) cannot run on it.
 *
 * The engine's thread count is process-wide (setNumThreads); the timing sets it to this
 * device's count first.
 */
import { buildLayers } from '../model/builder.js';
import { Layer, noGrad, rand, setNumThreads, tidy, torchVersion, type Tensor } from '../torch/index.js';
import { ModelRejectedError, type DeviceDescription, type LatencyDevice, type LatencyModel, type LatencyResult, type MeasureProtocol, type PreparedMeasurement } from './device.js';
import { cpuModel, hostDetails } from './host.js';
import { timeNow } from './prepared.js';
import { measureSync } from './protocol.js';

export interface EngineOptions {
  /** Engine (libtorch intra-op) threads, default 1. */
  threads?: number;
}

/** The overhead model on the engine: a forward pass that does nothing. */
class PassThrough extends Layer {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class EngineDevice implements LatencyDevice {
  readonly threads: number;

  constructor(o: EngineOptions = {}) {
    const t = o.threads ?? 1;
    if (!Number.isInteger(t) || t < 1) throw new Error(`engine: threads must be a positive integer, got ${t}`);
    this.threads = t;
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
    const source = model.source;
    if (!source) {
      throw new ModelRejectedError(`engine: model '${model.name}' is an ONNX file; the engine device builds networks from an arch (a preset, an arch string or an arch file)`);
    }
    if (source.kind === 'overhead') return new PassThrough();
    return buildLayers(source.plan, source.layers, { seed: source.seed });
  }

  async measure(model: LatencyModel, protocol: Partial<MeasureProtocol> = {}, signal?: AbortSignal): Promise<LatencyResult> {
    return timeNow(await this.prepare(model, protocol, signal), signal);
  }

  /** The network built, in eval mode, with its input; time() times its forward pass. */
  async prepare(model: LatencyModel, protocol: Partial<MeasureProtocol> = {}, signal?: AbortSignal): Promise<PreparedMeasurement> {
    signal?.throwIfAborted();
    const net = this.build(model);
    net.eval();
    let x: Tensor;
    try {
      x = rand([...model.inputShape]).keep();
    } catch (e) {
      net.dispose();
      throw e;
    }
    let closed = false;
    return {
      time: async (s = signal) => {
        setNumThreads(this.threads);
        const forward = (): void =>
          noGrad(() =>
            tidy(() => {
              net.forward(x);
            }),
          );
        const stats = measureSync(forward, protocol, s ? { signal: s } : {});
        return { ...stats, device: await this.describe() };
      },
      close: async () => {
        if (closed) return;
        closed = true;
        x.dispose();
        net.dispose();
      },
    };
  }

  async close(): Promise<void> {}
}
