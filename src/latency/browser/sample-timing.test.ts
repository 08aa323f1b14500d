import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { staticDir } from './http-routes.js';

interface SamplerLike {
  repeats: number;
  sample(): Promise<number | null>;
}
interface SampleTiming {
  MAX_REPEATS: number;
  sampleTargetMs(minSampleMs: number, timerResolutionMs: number): number;
  calibrateRepeats(run: () => Promise<void>, targetMs: number, now: () => number, probes?: number): Promise<number>;
  Sampler: new (run: () => Promise<void>, repeats: number, targetMs: number, now: () => number) => SamplerLike;
}

const timing = (await import(pathToFileURL(path.join(staticDir(), 'sample-timing.js')).href)) as SampleTiming;

/**
 * A model on a page with a coarse clock: run i costs cost(i) ms of virtual time and now() reads
 * that time rounded down to the clock's tick, as Chromium's performance.now() does (0.1 ms).
 */
function page(cost: (run: number) => number, tickMs = 0.1) {
  let t = 0;
  let runs = 0;
  return {
    run: async () => {
      t += cost(runs++);
    },
    now: () => Math.floor(t / tickMs) * tickMs,
    get runs() {
      return runs;
    },
  };
}

async function samples(s: SamplerLike, n: number): Promise<{ times: number[]; dropped: number }> {
  const times: number[] = [];
  let dropped = 0;
  while (times.length < n) {
    const t = await s.sample();
    if (t === null) dropped++;
    else times.push(t);
    assert.ok(dropped < 40, 'the sampler keeps dropping samples');
  }
  return { times, dropped };
}

const within = (x: number, want: number, rel: number) => Math.abs(x / want - 1) <= rel;

test('one slow run while calibrating does not leave samples too short for the clock (they read 0 ms)', async () => {
  // a 5 µs layer whose first timed run hits a 1.95 ms pause: counting the runs that fit in the 2 ms
  // window gives 11, and samples of 11 runs last 55 µs, under one 0.1 ms tick of the clock
  const p = page((i) => (i === 0 ? 1.95 : 0.005));
  const repeats = await timing.calibrateRepeats(p.run, 2, p.now);
  assert.ok(repeats * 0.005 >= 1.5, `${repeats} inferences of 5 µs per sample`);
  const { times, dropped } = await samples(new timing.Sampler(p.run, repeats, 2, p.now), 50);
  assert.equal(dropped, 0);
  for (const t of times) assert.ok(within(t, 0.005, 0.1), `sample ${t} ms for a 5 µs model`);
});

test('a model that gets faster after calibration (the WebAssembly tier-up) gets longer samples, never 0 ms ones', async () => {
  // 50 µs per run for the first 400 runs, then 5 µs: calibrated at about 40 runs, samples of 0.2 ms follow
  const p = page((i) => (i < 400 ? 0.05 : 0.005));
  const repeats = await timing.calibrateRepeats(p.run, 2, p.now);
  assert.ok(repeats < 100, `calibrated on the slow tier: ${repeats}`);
  const s = new timing.Sampler(p.run, repeats, 2, p.now);
  const { times, dropped } = await samples(s, 30);
  assert.ok(dropped >= 1, 'the too-short samples were dropped');
  assert.ok(s.repeats * 0.005 >= 1, `grown to ${s.repeats} inferences per sample`);
  // the samples kept are the slow tier's (before the switch) or the fast tier's, each to within a tick
  for (const t of times) assert.ok(t > 0 && (within(t, 0.05, 0.1) || within(t, 0.005, 0.1)), `sample ${t} ms`);
  assert.ok(times.slice(-10).every((t) => within(t, 0.005, 0.1)), 'the last samples time the fast tier');
});

test('a steady model is calibrated once and keeps every sample; slow models take one inference per sample', async () => {
  // ±20% jitter around 0.3 ms (deterministic)
  const p = page((i) => 0.3 * (1 + 0.2 * Math.sin(i * 12.9898)));
  const repeats = await timing.calibrateRepeats(p.run, 2, p.now);
  assert.ok(repeats >= 5 && repeats <= 20, `${repeats} inferences of 0.3 ms`);
  const { dropped } = await samples(new timing.Sampler(p.run, repeats, 2, p.now), 200);
  assert.equal(dropped, 0);

  const slow = page(() => 40);
  assert.equal(await timing.calibrateRepeats(slow.run, 2, slow.now), 1);
  assert.equal(slow.runs, 4, 'one run to count, three to check');
});

test('the sample target is minSampleMs, or 20 ticks of a coarse clock (at most 2 s)', async () => {
  assert.equal(timing.sampleTargetMs(2, 0.1), 2);
  assert.equal(timing.sampleTargetMs(2, 0.005), 2);
  assert.equal(timing.sampleTargetMs(2, 1), 20);
  assert.equal(timing.sampleTargetMs(2, 1000), 2000);
  assert.equal(timing.sampleTargetMs(3, 0), 3);
  assert.equal(timing.sampleTargetMs(3, Number.NaN), 3);
  // a 1 ms clock (some browsers' privacy settings): samples of 20 ms, each accurate to 5%
  const p = page(() => 0.05, 1);
  const target = timing.sampleTargetMs(2, 1);
  const s = new timing.Sampler(p.run, await timing.calibrateRepeats(p.run, target, p.now), target, p.now);
  for (const t of (await samples(s, 20)).times) assert.ok(within(t, 0.05, 0.06), `sample ${t} ms`);
});

test('the sample size stays within MAX_REPEATS, however fast the clock says the model is', async () => {
  const p = page(() => 0);
  const s = new timing.Sampler(p.run, 1, 2, p.now);
  for (let i = 0; i < 10 && s.repeats < timing.MAX_REPEATS; i++) assert.equal(await s.sample(), null);
  assert.equal(s.repeats, timing.MAX_REPEATS);
});
