/**
 * The stops a trial-worker process has stood (SIGSTOP while its parent measured latency), as the
 * parent reports them once the process runs again: how long in all (a training loop leaves it out
 * of its throughput) and how much of it fell within a trial (the trial's held time). Times are
 * epoch milliseconds (performance.timeOrigin + performance.now()), the same clock in every
 * process of the machine.
 */
export interface Stop {
  readonly start: number;
  readonly end: number;
}

/** Stops kept for `within`: far more than fall within one trial. */
const KEPT = 256;

export const epochNow = (): number => performance.timeOrigin + performance.now();

export class StopLog {
  private readonly stops: Stop[] = [];
  private total = 0;

  add(stop: Stop): void {
    if (!(stop.end >= stop.start)) throw new RangeError(`a stop ends before it starts: ${stop.start} to ${stop.end}`);
    this.stops.push(stop);
    if (this.stops.length > KEPT) this.stops.shift();
    this.total += stop.end - stop.start;
  }

  /** Milliseconds stopped so far. */
  readonly totalMs = (): number => this.total;

  /** Milliseconds of the reported stops that fall within [from, to]. */
  within(from: number, to: number): number {
    let ms = 0;
    for (const s of this.stops) ms += Math.max(0, Math.min(s.end, to) - Math.max(s.start, from));
    return ms;
  }
}
