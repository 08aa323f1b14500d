/**
 * Measuring one model for real, in one call: resolve what the user gave (model.ts), open the
 * device, run the measurement protocol, close the device. What `mnas measure` does, without
 * printing; also the library's measure function.
 */
import { costOfPlan } from '../model/cost.js';
import { isWholeNetwork } from '../model/plan.js';
import type { InputShape } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import type { LatencyDevice, LatencyModel, LatencyResult, MeasureProtocol, RelativeLatencyResult } from './device.js';
import { InputError } from '../util/input-error.js';
import { resolveModel } from './model.js';
import { createDevice } from './registry.js';

export interface MeasureLatencyOptions {
  /**
   * The kind of device to open for this measurement (default 'ort-cpu': DEVICE_KINDS, or a kind
   * added with registerDevice), or an open device, which is left open.
   */
  readonly device?: string | LatencyDevice;
  /** Inference threads of the device opened here (default 1). */
  readonly threads?: number;
  /** Overrides of the device's default protocol (caps, precision). */
  readonly protocol?: Partial<MeasureProtocol>;
  readonly signal?: AbortSignal;
  /** For a spec: the input shape (overrides the arch's; fixes an .onnx file's). */
  readonly input?: InputShape;
  /** For a spec resolved to an arch: the seed of the random weights (default 0). */
  readonly seed?: number;
  /** Measure interleaved with this reference model (./interleaved.ts): the result carries the ratio to it. */
  readonly against?: string | LatencyModel;
}

/** What the network measured is, for a whole network of the search space. */
export interface MeasuredNetwork {
  readonly arch: string;
  readonly macs: number;
  readonly params: number;
}

export interface LatencyMeasurement {
  readonly model: LatencyModel;
  /** Absent for an .onnx file or a range of layers. */
  readonly network?: MeasuredNetwork;
  readonly result: LatencyResult | RelativeLatencyResult;
}

/**
 * Measures the batch-1 latency of `model` (a LatencyModel, or a preset name, arch string, arch
 * file or .onnx file) on a device. Bad specs, models a device refuses and models that cannot fit
 * in memory reject with an InputError.
 */
export async function measureLatency(model: string | LatencyModel, o: MeasureLatencyOptions = {}): Promise<LatencyMeasurement> {
  const resolved = typeof model === 'string' ? resolveModel(model, { ...(o.input ? { input: o.input } : {}), seed: o.seed ?? 0 }) : model;
  const source = resolved.source;
  let network: MeasuredNetwork | undefined;
  if (source?.kind === 'plan' && isWholeNetwork(source.plan, source.layers)) {
    const cost = costOfPlan(source.plan);
    network = { arch: printArch(source.plan.arch), macs: cost.macs, params: cost.params };
  }
  const against = typeof o.against === 'string' ? resolveModel(o.against, { ...(o.input ? { input: o.input } : {}), seed: o.seed ?? 0 }) : o.against;
  const opened = typeof o.device !== 'object';
  const device = typeof o.device === 'object' ? o.device : await createDevice(o.device ?? 'ort-cpu', { threads: o.threads ?? 1 });
  try {
    if (against && !device.measureAgainst) throw new InputError(`device '${(await device.describe()).kind}' cannot measure against a reference (ort-cpu and browser can)`);
    const result = against ? await device.measureAgainst!(resolved, against, o.protocol ?? {}, o.signal) : await device.measure(resolved, o.protocol ?? {}, o.signal);
    return { model: resolved, ...(network ? { network } : {}), result };
  } finally {
    if (opened) await device.close();
  }
}
