import { nextTurn } from '../util/next-turn.js';

export interface HoldPointOptions {
  /** Called at each hold point; while it returns a promise, the loop waits for it (see LoopOptions.hold). */
  readonly hold?: () => Promise<void> | undefined;
  readonly signal?: AbortSignal;
}

/**
 * What a long loop of synchronous libtorch or onnxruntime work awaits before each step: a turn of
 * the event loop (so messages such as a worker's 'hold' are handled), then the hold if it is
 * closed, then the abort signal (rejects with its reason).
 */
export async function holdPoint(options: HoldPointOptions): Promise<void> {
  await nextTurn();
  const held = options.hold?.();
  if (held) await held;
  options.signal?.throwIfAborted();
}
