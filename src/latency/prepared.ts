/**
 * A measurement's set-up apart from its timing. The rule that a machine measures with nothing
 * else running (training held off: src/search/workers/worker-pool.ts holdWhile,
 * src/distributed/machine-hold.ts) is there for the timed runs; loading the model is work like
 * any other. On ort-cpu an interleaved measurement opens 6 sessions (3 of the model, 3 of the
 * reference; 35-130 ms for fmnist networks on one core), which held every training process while
 * they were created. Here the set-up starts when the quiet is asked for, and the quiet is told of
 * it (`ready`): one that takes time to come (training in this process finishing its step, other
 * workers of the machine acknowledging) lets the set-up run meanwhile; one that comes at once
 * (training processes stopped by signal) waits for the set-up before it stops anything. Either way
 * the hold covers only what needs it.
 */
import type { LatencyDevice, LatencyModel, LatencyResult, MeasureProtocol, PreparedMeasurement, RelativeLatencyResult } from './device.js';

/** Runs fn where the machine is quiet (a hold of training), resolving with its result; `ready` is the set-up fn awaits first (it may reject: fn then does). */
export type Quiet = <T>(fn: () => Promise<T>, ready: Promise<unknown>) => Promise<T>;

/**
 * Asks for quiet and sets the measurement up meanwhile (`prepare` is called at once), runs `time`
 * on it once both are there, and closes the set-up whatever happens: a set-up that fails ends the
 * quiet with its error, a quiet that fails (or is aborted) before it starts leaves nothing open.
 */
export async function timeQuietly<P extends { close(): Promise<void> }, T>(prepare: () => Promise<P>, quiet: Quiet, time: (prepared: P) => Promise<T>): Promise<T> {
  const preparing = prepare();
  // a set-up that fails while quiet is still being taken is handled below, not an unhandled rejection meanwhile
  preparing.catch(() => {});
  try {
    return await quiet(async () => time(await preparing), preparing);
  } finally {
    // also when quiet failed before it awaited the set-up: nothing is left open
    const prepared = await preparing.catch(() => undefined);
    await prepared?.close();
  }
}

/** The set-up, then the timing, then the close: what measure() is on a device that prepares. */
export async function timeNow<R extends LatencyResult>(prepared: PreparedMeasurement<R>, signal?: AbortSignal): Promise<R> {
  try {
    return await prepared.time(signal);
  } finally {
    await prepared.close();
  }
}

/** The device's prepare(), or, on a device without one, measure() as the timing with nothing to set up. */
export function prepareMeasure(device: LatencyDevice, model: LatencyModel, protocol?: Partial<MeasureProtocol>, signal?: AbortSignal): Promise<PreparedMeasurement> {
  if (device.prepare) return device.prepare(model, protocol, signal);
  return Promise.resolve({ time: (s) => device.measure(model, protocol, s ?? signal), close: async () => {} });
}

/** The device's prepareAgainst(), or measureAgainst() as the timing; throws on a device that cannot measure interleaved. */
export function prepareMeasureAgainst(device: LatencyDevice, model: LatencyModel, reference: LatencyModel, protocol?: Partial<MeasureProtocol>, signal?: AbortSignal): Promise<PreparedMeasurement<RelativeLatencyResult>> {
  if (device.prepareAgainst) return device.prepareAgainst(model, reference, protocol, signal);
  const against = device.measureAgainst?.bind(device);
  if (!against) return Promise.reject(new Error('the latency device cannot measure interleaved with a reference'));
  return Promise.resolve({ time: (s) => against(model, reference, protocol, s ?? signal), close: async () => {} });
}
