/**
 * Training work that runs off the JavaScript thread: onnxruntime's session creation and runs
 * (evaluate-onnx.ts). libtorch steps are synchronous, so a process whose event loop handles a
 * hold knows no step is running; while an onnxruntime call is awaited the loop is free, so a hold
 * for a latency measurement must first wait for such calls to end (TrainingHold, trial-worker.ts).
 */
const inFlight = new Set<Promise<unknown>>();

/** Registers `work` until it settles; returns it. */
export function offThreadStep<T>(work: Promise<T>): Promise<T> {
  inFlight.add(work);
  const done = (): void => {
    inFlight.delete(work);
  };
  work.then(done, done);
  return work;
}

/** How many registered calls are running now. */
export function offThreadStepsRunning(): number {
  return inFlight.size;
}

/** Resolves once no registered call is running (at once if none is). */
export async function offThreadStepsIdle(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}
