/** The messages between a search process and its trial-worker processes (Node IPC, structured clone). */
import type { ProxySettings, ProxyTrialResult } from '../proxy-trainer.js';

/** A proxy trial as plain data: the worker plans the architecture string itself. */
export interface TrialSpec {
  /** Architecture string (src/space/arch-string.ts). */
  readonly arch: string;
  readonly seed: number;
}

export type ToWorker =
  /** parentPid: the pool's process, with which the worker dies (it may be stopped then and unable to notice). */
  | { readonly type: 'init'; readonly settings: ProxySettings; readonly parentPid: number }
  | { readonly type: 'trial'; readonly id: number; readonly spec: TrialSpec }
  | { readonly type: 'cancel'; readonly id: number }
  /** The worker stood stopped (SIGSTOP) from `start` to `end` (epoch ms, ./stop-log.ts) and has just been continued. */
  | { readonly type: 'continued'; readonly start: number; readonly end: number }
  | { readonly type: 'exit' };

export type FromWorker =
  | { readonly type: 'ready'; readonly pid: number }
  | { readonly type: 'init-failed'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly result: ProxyTrialResult }
  | { readonly type: 'trial-error'; readonly id: number; readonly message: string }
  | { readonly type: 'aborted'; readonly id: number };
