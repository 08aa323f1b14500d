/** The messages between a search process and its trial-worker processes (Node IPC, structured clone). */
import type { ProxySettings, ProxyTrialResult } from '../proxy-trainer.js';

/** A proxy trial as plain data: the worker plans the architecture string itself. */
export interface TrialSpec {
  /** Architecture string (src/space/arch-string.ts). */
  readonly arch: string;
  readonly seed: number;
}

export type ToWorker =
  | { readonly type: 'init'; readonly settings: ProxySettings }
  | { readonly type: 'trial'; readonly id: number; readonly spec: TrialSpec }
  | { readonly type: 'cancel'; readonly id: number }
  /** Stop before the next training step and answer 'held'; 'release' lets training go on. */
  | { readonly type: 'hold' }
  | { readonly type: 'release' }
  | { readonly type: 'exit' };

export type FromWorker =
  | { readonly type: 'ready'; readonly pid: number }
  | { readonly type: 'init-failed'; readonly message: string }
  | { readonly type: 'held' }
  | { readonly type: 'result'; readonly id: number; readonly result: ProxyTrialResult }
  | { readonly type: 'trial-error'; readonly id: number; readonly message: string }
  | { readonly type: 'aborted'; readonly id: number };
