/**
 * The one interface every latency device implements (ort-cpu, engine, browser): given a model,
 * measure its batch-1 inference latency for real on that device.
 */
import type { LayerPlan } from '../model/plan.js';

/** A model to measure: the ONNX bytes (eval mode, BN folded, dynamic batch) and its input. */
export interface LatencyModel {
  /** Display name (preset, arch string or file name). */
  name: string;
  onnx: Uint8Array;
  /** NCHW input shape with batch 1, e.g. [1, 1, 28, 28]. */
  inputShape: readonly [number, number, number, number];
  /** The arch string when the model comes from the search space (the engine device builds from it). */
  arch?: string;
  /**
   * Optional, for layer-level profiling (src/latency/table.ts): the plan layers this model runs,
   * in order, when it is not a whole network. Devices that build natively (engine) use it;
   * ONNX devices ignore it.
   */
  layers?: readonly LayerPlan[];
}

/** When to stop timing: warm-up, then runs until the median is known to +-relPrecision, within the caps. */
export interface MeasureProtocol {
  warmupRuns: number;
  /** Optional: keep warming up until this many seconds have passed as well (CPU clocks, caches). */
  warmupSeconds?: number;
  minRuns: number;
  /** Optional: do not stop as converged before this many seconds of timed runs (spreads samples over time, so a short burst of noise cannot dominate). */
  minSeconds?: number;
  maxRuns: number;
  /** Stop when the 95% confidence half-width of the median is below this fraction of it (0.02 = +-2%). */
  relPrecision: number;
  /** Time cap for the timed runs, seconds. */
  maxSeconds: number;
}

export interface LatencyStats {
  median_ms: number;
  p10_ms: number;
  p90_ms: number;
  mean_ms: number;
  /** Coefficient of variation of the run times (std / mean). */
  cv: number;
  runs: number;
  /** Whether the precision target was reached (false: a cap stopped it). */
  converged: boolean;
  seconds: number;
}

export interface DeviceDescription {
  /** Stable id, e.g. "ort-cpu", "engine", "browser:<device id>". */
  id: string;
  kind: 'ort-cpu' | 'engine' | 'browser';
  cpu: string;
  runtime: string;
  runtimeVersion: string;
  threads: number;
  /** Anything else worth recording (user agent, backend wasm/webgpu, SIMD...). */
  details?: Record<string, string | number | boolean>;
}

export interface LatencyResult extends LatencyStats {
  device: DeviceDescription;
}

export interface LatencyDevice {
  describe(): Promise<DeviceDescription>;
  measure(model: LatencyModel, protocol?: Partial<MeasureProtocol>, signal?: AbortSignal): Promise<LatencyResult>;
  close(): Promise<void>;
}
