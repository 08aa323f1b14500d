/** Latency devices for tests (never imported by shipped code). */
import { costOfLayer } from '../model/cost.js';
import type { DeviceDescription, LatencyDevice, LatencyModel, LatencyResult, LatencyStats, MeasureProtocol } from './device.js';
import { LATENCY_QUANTILE } from './protocol.js';

/** The stats of runs that all took `ms`: every statistic is `ms`. */
export function fixedStats(ms: number, runs: number, seconds: number): LatencyStats {
  return { latency_ms: ms, quantile: LATENCY_QUANTILE, median_ms: ms, p10_ms: ms, p90_ms: ms, mean_ms: ms, cv: 0, runs, converged: true, seconds };
}

/**
 * A real device whose speed changes: measurement k (1-based) of the wrapped device is reported
 * `factor(k)` times slower, as if the machine had drifted after some measurements.
 */
export class DriftingDevice implements LatencyDevice {
  /** Measurements so far. */
  count = 0;

  constructor(
    private readonly inner: LatencyDevice,
    private readonly factor: (measurement: number) => number,
  ) {}

  describe(): Promise<DeviceDescription> {
    return this.inner.describe();
  }

  async measure(model: LatencyModel, protocol?: Partial<MeasureProtocol>, signal?: AbortSignal): Promise<LatencyResult> {
    const f = this.factor(++this.count);
    const r = await this.inner.measure(model, protocol, signal);
    return { ...r, latency_ms: r.latency_ms * f, median_ms: r.median_ms * f, p10_ms: r.p10_ms * f, p90_ms: r.p90_ms * f, mean_ms: r.mean_ms * f };
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * A deterministic device: a model of a plan takes overheadMs + MACs / macsPerMs, the overhead
 * model overheadMs alone; so a latency table profiled on it predicts its full models exactly.
 */
export class CostModelDevice implements LatencyDevice {
  measured = 0;
  constructor(
    private readonly macsPerMs = 1e8,
    private readonly overheadMs = 0.05,
    readonly kind: 'ort-cpu' | 'engine' = 'ort-cpu',
  ) {}

  async describe(): Promise<DeviceDescription> {
    return { id: `cost-model-${this.kind}`, kind: this.kind, cpu: 'none', runtime: 'cost model', runtimeVersion: '1', threads: 1 };
  }

  async measure(model: LatencyModel): Promise<LatencyResult> {
    this.measured++;
    const s = model.source;
    if (!s) throw new Error('CostModelDevice: the model has no plan');
    let ms = this.overheadMs;
    if (s.kind === 'plan') {
      for (const l of s.plan.layers.slice(s.layers.from, s.layers.to)) ms += costOfLayer(l).macs / this.macsPerMs;
    }
    return { ...fixedStats(ms, 1, ms / 1000), device: await this.describe() };
  }

  async close(): Promise<void> {}
}
