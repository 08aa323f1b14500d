/**
 * `mnas runs stop DIR`: asks the search running in DIR to stop cleanly (it polls for the request
 * file, also from another machine sharing the directory) and waits until it has let go of the run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runLockState } from '../search/run-lock.js';
import { requestStop } from '../search/stop-request.js';
import { InputError } from '../util/input-error.js';
import { summarizeRun, type RunSummary } from './summary.js';

export interface StopOptions {
  /** Seconds to wait for the search to stop (0: ask and return). */
  readonly waitS: number;
  /** While waiting, about every second: seconds waited. */
  readonly onWait?: (seconds: number) => void;
}

export interface StopResult {
  /** True once the search let go of the run (false when not waiting or it did not stop in time). */
  readonly stopped: boolean;
  /** The run after the stop (or when the wait ended). */
  readonly summary: RunSummary;
  /** Who held the run when asked. */
  readonly holder?: { pid: number; host: string; since: string };
}

const POLL_MS = 200;

/** An InputError, before anything is written, if DIR is not a run or no search is running in it. */
export async function stopRun(dir: string, o: StopOptions): Promise<StopResult> {
  const before = summarizeRun(dir);
  if (before.state !== 'running') throw new InputError(`runs stop: no search is running in ${dir} (the run is ${before.state})`);
  requestStop(before.dir);
  const holder = before.holder ? { holder: before.holder } : {};
  const start = performance.now();
  let told = 0;
  while ((performance.now() - start) / 1000 < o.waitS) {
    if (!runLockState(before.dir).held) return { stopped: true, summary: summarizeRun(dir), ...holder };
    const waited = Math.floor((performance.now() - start) / 1000);
    if (waited > told) {
      told = waited;
      o.onWait?.(waited);
    }
    await sleep(POLL_MS);
  }
  const after = summarizeRun(dir);
  return { stopped: after.state !== 'running', summary: after, ...holder };
}
