/**
 * `ort-cpu`: onnxruntime-node on the host CPU, batch 1. By default one intra-op thread and
 * sequential execution, as the paper measured on one big core of a Pixel 1.
 *
 * Cost per model: one session (created once per measure call, or kept open with `open()` by a
 * caller that measures the same model repeatedly), one preallocated input and output tensor and
 * one feeds/fetches object; the timed loop only awaits `session.run(feeds, fetches)`.
 */
import * as ort from 'onnxruntime-node';
import { checkTensorFits, LimitError } from '../model/limits.js';
import { ModelRejectedError, type DeviceDescription, type LatencyDevice, type LatencyModel, type LatencyResult, type MeasureProtocol, type PreparedMeasurement, type RelativeLatencyResult } from './device.js';
import { onFastestCore, type CoreChoice } from './core-choice.js';
import { interleavedProtocol, measureInterleaved } from './interleaved.js';
import { cpuModel, hostDetails } from './host.js';
import { timeNow } from './prepared.js';
import { creditWarmup, measureAsync, resolveProtocol } from './protocol.js';

export interface OrtCpuOptions {
  /** intra-op threads (default 1). */
  threads?: number;
  /** Graph optimization level (default 'all'). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * With one thread, time on the fastest of the cores this thread may use (core-choice.ts says why;
   * default true; MNAS_PICK_CORE=0 turns it off for every device).
   */
  pickCore?: boolean;
}

/** An open session with its preallocated input/output, ready to time. */
export interface OrtRunner {
  run(): Promise<void>;
  readonly outputShape: readonly number[];
  close(): Promise<void>;
}

export class OrtCpuDevice implements LatencyDevice {
  readonly threads: number;
  private readonly level: NonNullable<OrtCpuOptions['graphOptimizationLevel']>;
  private readonly pickCore: boolean;

  constructor(o: OrtCpuOptions = {}) {
    const t = o.threads ?? 1;
    if (!Number.isInteger(t) || t < 1) throw new Error(`ort-cpu: threads must be a positive integer, got ${t}`);
    this.threads = t;
    this.level = o.graphOptimizationLevel ?? 'all';
    this.pickCore = (o.pickCore ?? true) && t === 1;
  }

  /** `body` on the core where `probe` runs fastest, when this device picks one, with the probe counted toward the protocol's warm-up. */
  private async onCore<T extends object>(protocol: MeasureProtocol, probe: () => Promise<void>, body: (protocol: MeasureProtocol) => Promise<T>, signal?: AbortSignal): Promise<T & { core?: CoreChoice }> {
    if (!this.pickCore || protocol.pickCore === false) return body(protocol);
    const { value, choice } = await onFastestCore(probe, (probedSeconds) => body(creditWarmup(protocol, probedSeconds)), signal);
    return choice ? { ...value, core: choice } : value;
  }

  async describe(): Promise<DeviceDescription> {
    return {
      id: `ort-cpu:t${this.threads}`,
      kind: 'ort-cpu',
      cpu: cpuModel(),
      runtime: 'onnxruntime-node',
      runtimeVersion: ort.env.versions.node ?? ort.env.versions.common ?? 'unknown',
      threads: this.threads,
      details: { ...hostDetails(), execution_mode: 'sequential', inter_op_threads: 1, graph_optimization: this.level, batch: 1 },
    };
  }

  /** Opens a session for `model` with preallocated feeds and fetches. */
  async open(model: LatencyModel): Promise<OrtRunner> {
    const shape = model.inputShape;
    // refused before the session and the input exist (LimitError)
    const bad = shape.find((d) => !Number.isSafeInteger(d) || d < 1);
    if (bad !== undefined) throw new LimitError(`ort-cpu: model '${model.name}' input shape [${shape.join(', ')}] has a non-positive or inexact dimension`, 'shape', bad);
    checkTensorFits(shape, `ort-cpu: input of model '${model.name}'`);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model.onnx, {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: this.level,
        enableCpuMemArena: true,
        enableMemPattern: true,
      });
    } catch (e) {
      throw new ModelRejectedError(`ort-cpu: cannot load model '${model.name}': ${(e as Error).message}`, { cause: e });
    }
    if (session.inputNames.length !== 1) {
      await session.release();
      throw new ModelRejectedError(`ort-cpu: model '${model.name}' has ${session.inputNames.length} inputs, expected 1`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = ((i * 2654435761) % 1000) / 1000; // fixed, non-degenerate input
    const feeds = { [session.inputNames[0] as string]: new ort.Tensor('float32', data, [...shape]) };
    // one plain run tells the output shapes; then outputs are preallocated and reused
    let outs: ort.InferenceSession.OnnxValueMapType;
    try {
      outs = await session.run(feeds);
    } catch (e) {
      await session.release();
      throw new ModelRejectedError(`ort-cpu: model '${model.name}' does not run with input [${shape.join(', ')}]: ${(e as Error).message}`, { cause: e });
    }
    const fetches: Record<string, ort.Tensor> = {};
    let outputShape: readonly number[] = [];
    for (const name of session.outputNames) {
      const t = outs[name] as ort.Tensor;
      fetches[name] = new ort.Tensor('float32', new Float32Array(t.size), [...t.dims]);
      if (outputShape.length === 0) outputShape = [...t.dims];
    }
    let closed = false;
    return {
      outputShape,
      run: async () => {
        await session.run(feeds, fetches);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        await session.release();
      },
    };
  }

  async measure(model: LatencyModel, protocol: Partial<MeasureProtocol> = {}, signal?: AbortSignal): Promise<LatencyResult> {
    return timeNow(await this.prepare(model, protocol, signal), signal);
  }

  /** Interleaved with `reference`, each in the protocol's number of sessions (interleaved.ts SESSIONS says why). */
  async measureAgainst(model: LatencyModel, reference: LatencyModel, protocol: Partial<MeasureProtocol> = {}, signal?: AbortSignal): Promise<RelativeLatencyResult> {
    return timeNow(await this.prepareAgainst(model, reference, protocol, signal), signal);
  }

  /** The model's session open; time() warms it up, picks the core and times it. */
  async prepare(model: LatencyModel, protocol: Partial<MeasureProtocol> = {}, signal?: AbortSignal): Promise<PreparedMeasurement> {
    signal?.throwIfAborted();
    const runner = await this.open(model);
    return {
      time: async (s = signal) => {
        const stats = await this.onCore(resolveProtocol(protocol), runner.run, (p) => measureAsync(runner.run, p, s ? { signal: s } : {}), s);
        return { ...stats, device: await this.describe() };
      },
      close: () => runner.close(),
    };
  }

  /** The sessions of the model and of the reference open (protocol.sessions of each); time() times them in turn. */
  async prepareAgainst(model: LatencyModel, reference: LatencyModel, protocol: Partial<MeasureProtocol> = {}, signal?: AbortSignal): Promise<PreparedMeasurement<RelativeLatencyResult>> {
    const p = interleavedProtocol(protocol);
    const models: OrtRunner[] = [];
    const references: OrtRunner[] = [];
    const closeAll = async (): Promise<void> => {
      for (const runner of [...models, ...references]) await runner.close();
    };
    try {
      for (let i = 0; i < (p.sessions ?? 1); i++) {
        signal?.throwIfAborted();
        models.push(await this.open(model));
        references.push(await this.open(reference));
      }
    } catch (e) {
      await closeAll();
      throw e;
    }
    return {
      time: async (s = signal) => {
        const r = await this.onCore(p, references[0]!.run, (credited) => measureInterleaved(models.map((m) => m.run), references.map((m) => m.run), credited, s ? { signal: s } : {}), s);
        return { ...r.model, ...(r.core ? { core: r.core } : {}), ratio: r.ratio, ratio_rel_half_width: r.ratio_rel_half_width, reference_ms: r.reference.latency_ms, pairs: r.pairs, runs_per_block: r.runs_per_block, sessions: models.length, device: await this.describe() };
      },
      close: closeAll,
    };
  }

  async close(): Promise<void> {
    // sessions are released per measurement; nothing global to free
  }
}
