/** What `mnas runs show` tells about one run: its summary, the Pareto front, the best trial and the top trials by reward. */
import { summarize, trialPoints, type DeviceFront, type TrialPoint } from '../search/outputs.js';
import { readRun, summaryOf, type RunSummary } from './summary.js';

export interface RunDetails {
  readonly summary: RunSummary;
  readonly best: TrialPoint | null;
  /** Sorted by latency. */
  readonly pareto: TrialPoint[];
  /** The `top` best finished trials by reward, best first. */
  readonly top: TrialPoint[];
  /** Predicted-then-measured runs: how many done trials were measured. */
  readonly measured?: { done: number; measured: number; share: number };
  /** Runs with other devices: the front on each. */
  readonly devices?: { [kind: string]: DeviceFront };
}

export function runDetails(dir: string, top = 10, now: Date = new Date()): RunDetails {
  const run = readRun(dir);
  const outputs = summarize(run.trials);
  const best = trialPoints(run.trials)
    .sort((a, b) => b.reward - a.reward || a.trial - b.trial)
    .slice(0, top);
  return {
    summary: summaryOf(run, now),
    best: outputs.best,
    pareto: outputs.pareto,
    top: best,
    ...(outputs.measured ? { measured: outputs.measured } : {}),
    ...(outputs.devices ? { devices: outputs.devices } : {}),
  };
}
