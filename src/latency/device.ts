/**
 * The one interface every latency device implements (ort-cpu, engine, browser): given a model,
 * measure its batch-1 inference latency for real on that device.
 */
import type { LayerRange, NetworkPlan } from '../model/plan.js';
import { InputError } from '../util/input-error.js';
import type { CoreChoice } from './core-choice.js';
import type { DeviceKind } from './registry.js';

/** Layers of a network plan (all of them for a whole network) and the seed of their random weights. */
export interface PlanSource {
  readonly kind: 'plan';
  readonly plan: NetworkPlan;
  readonly layers: LayerRange;
  readonly seed: number;
}

/** The trivial model whose run costs only a device's fixed cost per run (table.ts overhead_ms). */
export interface OverheadSource {
  readonly kind: 'overhead';
}

export type ModelSource = PlanSource | OverheadSource;

/** A model to measure (model.ts makes them from plans, arch specs and .onnx files). */
export interface LatencyModel {
  /** Display name (preset, arch string or file name). */
  readonly name: string;
  /** NCHW input shape with batch 1, e.g. [1, 1, 28, 28]. */
  readonly inputShape: readonly [number, number, number, number];
  /** What the model runs; absent for a user's .onnx file, which is only bytes. The engine device builds from it. */
  readonly source?: ModelSource;
  /**
   * The ONNX bytes (eval mode, BN folded, dynamic batch) that ONNX devices run: for a plan,
   * exported on first read and kept (model/export.ts); for a file, its contents.
   */
  readonly onnx: Uint8Array;
}

/** A device refuses the model: cannot load or run it, or (engine) has no plan to build it from. */
export class ModelRejectedError extends InputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelRejectedError';
  }
}

/** When to stop timing: warm-up, then runs until the reported quantile is known to +-relPrecision, within the caps. */
export interface MeasureProtocol {
  warmupRuns: number;
  /** Optional: keep warming up until this many seconds have passed as well (CPU clocks, caches). */
  warmupSeconds?: number;
  minRuns: number;
  /** Optional: do not stop as converged before this many seconds of timed runs (spreads samples over time, so a short burst of noise cannot dominate). */
  minSeconds?: number;
  maxRuns: number;
  /** Stop when the 95% confidence half-width of the reported quantile is below this fraction of it (0.02 = +-2%). */
  relPrecision: number;
  /**
   * Which quantile of the timed runs is the measurement's latency (`latency_ms`): default
   * protocol.ts LATENCY_QUANTILE, 0.1 (the protocol's header says why); 0.5 reports the median.
   */
  quantile?: number;
  /** Time cap for the timed runs, seconds. */
  maxSeconds: number;
  /** Measured interleaved: seconds of one block of runs of each model (default interleaved.ts BLOCK_SECONDS). */
  blockSeconds?: number;
  /**
   * Measured interleaved: which quantile of each block's runs a pair compares, model's over the
   * reference's (default interleaved.ts BLOCK_QUANTILE, 0.1; 0.5 compares the blocks' medians).
   */
  blockQuantile?: number;
  /**
   * Measured interleaved on ort-cpu: separately created sessions of each model that the pairs of
   * blocks rotate through (default 1; INTERLEAVED_PROTOCOL's 3 says why). The browser page keeps one.
   */
  sessions?: number;
  /**
   * ort-cpu with one thread: first time a short probe on each core the thread may use and measure
   * on the fastest (core-choice.ts; default true). Off for single layers: the probe costs about
   * 60 ms, more than a layer's whole measurement.
   */
  pickCore?: boolean;
}

export interface LatencyStats {
  /** The latency: the protocol's `quantile` of the timed runs (`quantile` says which). */
  latency_ms: number;
  quantile: number;
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
  kind: DeviceKind;
  cpu: string;
  runtime: string;
  runtimeVersion: string;
  threads: number;
  /** Anything else worth recording (user agent, backend wasm/webgpu, SIMD...). */
  details?: Record<string, string | number | boolean>;
}

export interface LatencyResult extends LatencyStats {
  device: DeviceDescription;
  /** The core a one-thread CPU measurement chose and ran on (core-choice.ts); absent where none was chosen. */
  core?: CoreChoice;
}

/** A latency measured interleaved with a reference model (./interleaved.ts): the model's own statistics, and its ratio to the reference. */
export interface RelativeLatencyResult extends LatencyResult {
  /** Median over pairs of blocks of model / reference. */
  ratio: number;
  ratio_rel_half_width: number;
  /** The reference's latency over its blocks of this measurement (the protocol's quantile of its runs). */
  reference_ms: number;
  pairs: number;
  runs_per_block: number;
  /** Sessions of each model the pairs rotated through (ort-cpu; absent where the device keeps one). */
  sessions?: number;
}

/**
 * A measurement whose set-up is done (the model loaded, its sessions open) and whose timing is
 * not: the set-up needs no quiet machine, the timing does (./prepared.ts).
 */
export interface PreparedMeasurement<R extends LatencyResult = LatencyResult> {
  /** Warm-up, the core choice and the timed runs; call it once. */
  time(signal?: AbortSignal): Promise<R>;
  /** Frees what the set-up opened; also without time(), and more than once. */
  close(): Promise<void>;
}

export interface LatencyDevice {
  describe(): Promise<DeviceDescription>;
  measure(model: LatencyModel, protocol?: Partial<MeasureProtocol>, signal?: AbortSignal): Promise<LatencyResult>;
  /** The model timed in turn with a reference (./interleaved.ts); devices that cannot hold two models at once leave it out. */
  measureAgainst?(model: LatencyModel, reference: LatencyModel, protocol?: Partial<MeasureProtocol>, signal?: AbortSignal): Promise<RelativeLatencyResult>;
  /** measure() in two steps; devices whose set-up is not worth doing apart leave it out. */
  prepare?(model: LatencyModel, protocol?: Partial<MeasureProtocol>, signal?: AbortSignal): Promise<PreparedMeasurement>;
  /** measureAgainst() in two steps. */
  prepareAgainst?(model: LatencyModel, reference: LatencyModel, protocol?: Partial<MeasureProtocol>, signal?: AbortSignal): Promise<PreparedMeasurement<RelativeLatencyResult>>;
  close(): Promise<void>;
}
