/**
 * One attempt of a job on one device: the page streams raw run times; they are checked for
 * plausibility (./plausibility.ts) and fed to the measurement protocol's stopping rule
 * (../protocol.ts ConvergenceTracker, the same as every other device), which also gives the
 * statistics. No sockets and no timers: the wall clock is passed in.
 */
import type { MeasureProtocol } from '../device.js';
import { ConvergenceTracker, type ProtocolOutcome, type StopReason } from '../protocol.js';
import type { PairResult } from './farm.js';
import type { DeviceMessage } from './messages.js';
import { implausibleClock, implausibleTime, inconsistentSamples, type TimingBounds } from './plausibility.js';

export interface RunsVerdict {
  /** The latency just became precise enough (or a cap was reached): tell the page to stop. */
  stopNow: boolean;
  /** Why these timings cannot be true, if they cannot. */
  implausible?: string;
}

export type DoneVerdict =
  | { kind: 'measured'; stats: ProtocolOutcome; times: number[]; /** An interleaved job's ratio to its reference (./pair-measurement.ts). */ pair?: PairResult }
  | { kind: 'no-runs' }
  | { kind: 'implausible'; reason: string };

type DoneReason = Extract<DeviceMessage, { type: 'done' }>['reason'];

export class JobMeasurement {
  private readonly tracker: ConvergenceTracker;
  /** Page-side ms spent in counted timed runs (the tracker's clock). */
  private clockMs = 0;
  private stop: StopReason | null = null;

  /** `sentAtMs`: wall clock (same source as the `nowMs` given later) when the job was sent to the device. */
  constructor(
    protocol: MeasureProtocol,
    private readonly timing: TimingBounds,
    readonly loadMs: number,
    /** Inferences per timed sample: as loaded, then as the latest batch says (the page may grow it). */
    public innerRepeats: number,
    private readonly sentAtMs: number,
  ) {
    this.tracker = new ConvergenceTracker(protocol, 0);
  }

  /** Counts a batch of per-inference run times, each of `innerRepeats` inferences when given; `nowMs` is the wall clock on arrival. */
  addRuns(times: readonly number[], nowMs: number, innerRepeats?: number): RunsVerdict {
    let stopNow = false;
    if (innerRepeats !== undefined && !this.stop) this.innerRepeats = innerRepeats;
    for (const t of times) {
      // runs after the stopping point (sent before the page saw 'stop') are not counted
      if (this.stop) break;
      const bad = implausibleTime(t, this.timing);
      if (bad) return { stopNow, implausible: bad };
      this.clockMs += t * this.innerRepeats;
      this.stop = this.tracker.push(t, this.clockMs);
      if (this.stop) stopNow = true;
    }
    const clock = implausibleClock(this.clockMs, nowMs - this.sentAtMs);
    return clock ? { stopNow, implausible: clock } : { stopNow };
  }

  /** The page ended its timed runs (`reason`: its own account of why). */
  finish(reason: DoneReason): DoneVerdict {
    const count = this.tracker.count;
    if (count === 0) return { kind: 'no-runs' };
    const samples = this.tracker.samples.subarray(0, count);
    const inconsistent = inconsistentSamples(samples, this.timing);
    if (inconsistent) return { kind: 'implausible', reason: inconsistent };
    const capReached: StopReason = this.stop ?? (reason === 'maxRuns' ? 'max_runs' : 'max_seconds');
    return { kind: 'measured', stats: this.tracker.finish(capReached, this.clockMs / 1000), times: Array.from(samples) };
  }
}
