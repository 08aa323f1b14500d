/**
 * One attempt of an interleaved job on one device: the page times a block of the model and a block
 * of the reference in turn and sends each pair; the pairs are checked for plausibility
 * (./plausibility.ts) and fed to the same stopping rule as an interleaved measurement in this
 * process (../interleaved.ts PairTracker). No sockets and no timers: the wall clock is passed in.
 */
import type { MeasureProtocol } from '../device.js';
import { PairTracker, type PairOutcome } from '../interleaved.js';
import { quantileRelHalfWidth, type ProtocolOutcome } from '../protocol.js';
import type { DoneVerdict, RunsVerdict } from './job-measurement.js';
import type { PairResult } from './farm.js';
import { implausibleClock, implausibleTime, inconsistentSamples, type TimingBounds } from './plausibility.js';

export class PairMeasurement {
  private readonly tracker: PairTracker;
  /** Page-side ms spent in timed samples of both models (the tracker's clock). */
  private clockMs = 0;
  private stopped = false;
  private readonly modelTimes: number[] = [];
  private readonly referenceTimes: number[] = [];

  /** `sentAtMs`: wall clock (same source as the `nowMs` given later) when the job was sent to the device. */
  constructor(
    protocol: MeasureProtocol,
    private readonly timing: TimingBounds,
    readonly loadMs: number,
    /** Inferences per timed sample of the model: as loaded, then as the latest pair says (the page may grow it). */
    public innerRepeats: number,
    private reference: { loadMs: number; innerRepeats: number },
    private readonly sentAtMs: number,
  ) {
    this.tracker = new PairTracker(protocol);
  }

  /** Counts one pair of blocks (ms per inference, each sample of the given repeats when given); `nowMs` is the wall clock on arrival. */
  addPair(model: readonly number[], reference: readonly number[], nowMs: number, repeats: { model?: number; reference?: number } = {}): RunsVerdict {
    // pairs after the stopping point (sent before the page saw 'stop') are not counted
    if (this.stopped) return { stopNow: false };
    if (repeats.model !== undefined) this.innerRepeats = repeats.model;
    if (repeats.reference !== undefined) this.reference = { ...this.reference, innerRepeats: repeats.reference };
    for (const t of [...model, ...reference]) {
      const bad = implausibleTime(t, this.timing);
      if (bad) return { stopNow: false, implausible: bad };
    }
    this.clockMs += sum(model) * this.innerRepeats + sum(reference) * this.reference.innerRepeats;
    const clock = implausibleClock(this.clockMs, nowMs - this.sentAtMs);
    if (clock) return { stopNow: false, implausible: clock };
    this.modelTimes.push(...model);
    this.referenceTimes.push(...reference);
    this.stopped = this.tracker.addPair(model, reference, this.clockMs / 1000);
    return { stopNow: this.stopped };
  }

  /** The page ended its pairs (`reason`: its own account of why). */
  finish(reason: 'stopped' | 'maxRuns' | 'maxSeconds'): DoneVerdict {
    if (this.tracker.pairs === 0) return { kind: 'no-runs' };
    const inconsistent = inconsistentSamples(this.modelTimes, this.timing) ?? inconsistentSamples(this.referenceTimes, this.timing);
    if (inconsistent) return { kind: 'implausible', reason: inconsistent };
    const o: PairOutcome = this.tracker.finish(this.clockMs / 1000);
    const stats: ProtocolOutcome = {
      ...o.model,
      stop: o.converged ? 'converged' : reason === 'maxRuns' ? 'max_runs' : 'max_seconds',
      rel_half_width: quantileRelHalfWidth(Float64Array.from(this.modelTimes).sort(), o.model.quantile),
    };
    return {
      kind: 'measured',
      stats,
      times: [...this.modelTimes],
      pair: {
        ratio: o.ratio,
        ratio_rel_half_width: o.ratio_rel_half_width,
        pairs: o.pairs,
        runs_per_block: o.runs_per_block,
        reference: o.reference,
        referenceInnerRepeats: this.reference.innerRepeats,
        referenceLoadMs: this.reference.loadMs,
      },
    };
  }
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
