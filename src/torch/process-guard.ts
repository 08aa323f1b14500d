/**
 * This process dies with its parent: the kernel sends it SIGKILL when the parent exits
 * (native/process_guard.cc). A training process is stopped with SIGSTOP while its parent measures
 * latency, and a stopped process cannot notice that its parent has gone.
 */
import { native } from './native.js';

/** Arms the parent-death signal; false when `parentPid` is no longer this process's parent (it has died already) or the system has no such signal. */
export function exitWithParent(parentPid: number): boolean {
  return native().exitWithParent(parentPid);
}
