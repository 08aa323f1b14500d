/**
 * Stopping and continuing local processes with SIGSTOP and SIGCONT: how a latency measurement
 * takes the machine from its training processes. A stop takes effect within microseconds, where
 * a training process asked to pause would first finish its step (up to a tenth of a second, and
 * with two processes the one that paused first idles until the other has), and nothing of a
 * stopped process runs, not even a thread of onnxruntime or OpenMP.
 *
 * A stopped process cannot run any handler, so its parent must continue it (`continueProcesses`
 * in a finally) and it must die with its parent (native exitWithParent, armed by trial-worker.ts).
 */
import { readdirSync } from 'node:fs';
import { procStatFields } from '../../util/proc-stat.js';

/** How long `stopProcesses` waits for every thread of every process to stop. */
const STOP_WAIT_MS = 1000;

/** Whether every thread of `pid` is stopped; true when the process is gone (nothing of it runs). */
export function isStopped(pid: number): boolean {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true;
  }
  for (const task of tasks) {
    const state = procStatFields(`/proc/${pid}/task/${task}/stat`)?.[0];
    if (state === undefined) continue; // the thread ended
    if (state !== 'T' && state !== 't' && state !== 'Z' && state !== 'X') return false;
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/**
 * Sends SIGSTOP to each process and resolves once all their threads have stopped (or exited).
 * Rejects if some thread still runs after a second, after continuing them all again.
 */
export async function stopProcesses(pids: readonly number[]): Promise<void> {
  const sent = pids.filter((pid) => signal(pid, 'SIGSTOP'));
  const start = performance.now();
  for (let pending = sent; ; ) {
    pending = pending.filter((pid) => !isStopped(pid));
    if (pending.length === 0) return;
    if (performance.now() - start > STOP_WAIT_MS) {
      continueProcesses(sent);
      throw new Error(`process ${pending.join(', ')} did not stop within ${STOP_WAIT_MS} ms of SIGSTOP`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Sends SIGCONT to each process that still exists. */
export function continueProcesses(pids: readonly number[]): void {
  for (const pid of pids) signal(pid, 'SIGCONT');
}
