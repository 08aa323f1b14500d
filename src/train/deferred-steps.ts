/**
 * Training work that is awaited rather than run in place: onnxruntime's session creation and
 * runs (evaluate-onnx.ts). libtorch steps are synchronous, so a process whose event loop handles a
 * hold knows no step is running. An onnxruntime call is not: onnxruntime-node 1.30 defers the work
 * to a setImmediate callback (where it then blocks the thread), a later version may run it on a
 * thread pool, and either way a hold can be handled after the call was made and before its work
 * has ended. So a hold for a latency measurement in the same process first waits for such calls
 * to settle (TrainingHold); training in worker processes is stopped outright instead
 * (src/search/workers/process-stop.ts).
 */
const inFlight = new Set<Promise<unknown>>();

/** Registers `work` until it settles; returns it. */
export function deferredStep<T>(work: Promise<T>): Promise<T> {
  inFlight.add(work);
  const done = (): void => {
    inFlight.delete(work);
  };
  work.then(done, done);
  return work;
}

/** How many registered calls are running now. */
export function deferredStepsRunning(): number {
  return inFlight.size;
}

/** Resolves once no registered call is running (at once if none is). */
export async function deferredStepsIdle(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}
