// How the device page times a model: samples of `repeats` inferences, long enough against the
// page's clock. Browsers coarsen performance.now() (Chromium: 0.1 ms without cross-origin
// isolation), so a model of a few µs must run hundreds of times per sample or its samples read 0.
// Plain ES module, no build step: served next to device.js and unit-tested from Node
// (../sample-timing.test.ts) with a fake clock.

/** Most inferences one sample may hold. */
export const MAX_REPEATS = 1_000_000;

/** Shortest sample worth reporting: the job's minSampleMs, and at least 20 ticks of the page's clock. */
export function sampleTargetMs(minSampleMs, timerResolutionMs) {
  const ticks = Number.isFinite(timerResolutionMs) && timerResolutionMs > 0 ? 20 * timerResolutionMs : 0;
  return Math.max(minSampleMs, Math.min(2000, ticks));
}

async function timeRepeats(run, repeats, now) {
  const a = now();
  for (let r = 0; r < repeats; r++) await run();
  return now() - a;
}

/** The next sample size for one that lasted `elapsedMs` and was too short: toward 1.25x the target, x2 to x16. */
function grown(repeats, elapsedMs, targetMs) {
  const factor = elapsedMs > 0 ? Math.ceil((1.25 * targetMs) / elapsedMs) : 16;
  return Math.min(MAX_REPEATS, repeats * Math.min(16, Math.max(2, factor)));
}

/**
 * Inferences per sample so that even the fastest of `probes` samples lasts at least 3/4 of targetMs.
 * A rough count (runs that fit in one target window) is checked by timing it again `probes` times:
 * one slow run in the window (a GC pause, a tier-up compile) leaves the count too small, and the
 * re-check grows it.
 */
export async function calibrateRepeats(run, targetMs, now, probes = 3) {
  let repeats = 0;
  const c0 = now();
  do {
    await run();
    repeats++;
  } while (now() - c0 < targetMs && repeats < MAX_REPEATS);
  for (let round = 0; round < 32 && repeats < MAX_REPEATS; round++) {
    let fastest = Infinity;
    for (let p = 0; p < probes && fastest >= 0.75 * targetMs; p++) fastest = Math.min(fastest, await timeRepeats(run, repeats, now));
    if (fastest >= 0.75 * targetMs) return repeats;
    repeats = grown(repeats, fastest, targetMs);
  }
  return repeats;
}

/**
 * Times samples of a model. sample() returns ms per inference, or null for a sample shorter than half
 * the target: the model got faster since calibration (the WebAssembly tier-up, or a slow calibration
 * run), the sample is too coarse to keep, and later samples hold more inferences (`repeats` grows).
 */
export class Sampler {
  constructor(run, repeats, targetMs, now) {
    this.run = run;
    this.repeats = Math.max(1, Math.min(MAX_REPEATS, repeats));
    this.targetMs = targetMs;
    this.now = now;
  }

  async sample() {
    const elapsed = await timeRepeats(this.run, this.repeats, this.now);
    if (elapsed < this.targetMs / 2 && this.repeats < MAX_REPEATS) {
      this.repeats = grown(this.repeats, elapsed, this.targetMs);
      return null;
    }
    return elapsed / this.repeats;
  }
}
