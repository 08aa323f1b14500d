import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConvergenceTracker, creditWarmup, DEFAULT_PROTOCOL, measureAsync, measureSync, medianCiRanks, medianRelHalfWidth, normalQuantile, quantileCiRanks, resolveProtocol, summarize, type Clock,
} from './protocol.js';
import { Rng } from '../util/rng.js';

/** A clock that only advances when a fake run "takes" time. */
function fakeTimer(durations: (i: number) => number): { clock: Clock; run: () => void; calls: () => number } {
  let t = 0;
  let i = 0;
  return {
    clock: { now: () => t },
    run: () => {
      t += durations(i++);
    },
    calls: () => i,
  };
}

test('median CI ranks: exact binomial for small n, known textbook values', () => {
  assert.equal(medianCiRanks(5), null); // 2 * (1/2)^5 = 0.0625 > 0.05
  assert.deepEqual(medianCiRanks(6), { lo: 0, hi: 5 });
  // n = 20: P(B <= 5) = 0.0207, P(B <= 6) = 0.0577 -> [x_(6), x_(15)] 1-based
  assert.deepEqual(medianCiRanks(20), { lo: 5, hi: 14 });
  // n = 100: the classic [x_(40), x_(61)] 1-based
  assert.deepEqual(medianCiRanks(100), { lo: 39, hi: 60 });
  // normal approximation continues smoothly past the exact range
  const big = medianCiRanks(2000)!;
  assert.ok(Math.abs(big.lo - (1000 - 1.96 * Math.sqrt(2000) / 2)) <= 2);
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5);
});

test('quantile CI ranks: exact binomial tails for the 10th percentile, the median as a special case', () => {
  // P(B = 0) = 0.9^35 = 0.0250 > 0.025, 0.9^36 = 0.0225
  assert.equal(quantileCiRanks(35, 0.1), null);
  assert.deepEqual(quantileCiRanks(36, 0.1), { lo: 0, hi: 7 });
  assert.deepEqual(quantileCiRanks(100, 0.1), { lo: 4, hi: 16 });
  assert.deepEqual(quantileCiRanks(1000, 0.1), { lo: 81, hi: 119 });
  for (const n of [6, 20, 100, 777]) assert.deepEqual(quantileCiRanks(n, 0.5), medianCiRanks(n));
  const big = quantileCiRanks(5000, 0.1)!;
  assert.ok(Math.abs(big.lo - (500 - 1.96 * Math.sqrt(450))) <= 2 && Math.abs(big.hi - (500 + 1.96 * Math.sqrt(450))) <= 2, JSON.stringify(big));
  assert.throws(() => quantileCiRanks(100, 1), /quantile must be in \(0, 1\)/);
});

test('10th-percentile CI covers the true 10th percentile ~95% of the time (skewed data)', () => {
  const rng = new Rng(11);
  const trueP10 = -Math.log(0.9); // exponential(1)
  let covered = 0;
  const trials = 2000;
  for (let t = 0; t < trials; t++) {
    const n = 200;
    const s = Float64Array.from({ length: n }, () => -Math.log(1 - rng.next())).sort();
    const r = quantileCiRanks(n, 0.1)!;
    if ((s[r.lo] as number) <= trueP10 && trueP10 <= (s[r.hi] as number)) covered++;
  }
  const rate = covered / trials;
  assert.ok(rate >= 0.94 && rate <= 0.995, `coverage ${rate}`);
});

test('median CI covers the true median ~95% of the time (distribution-free, skewed data)', () => {
  const rng = new Rng(7);
  const trueMedian = Math.log(2); // exponential(1)
  let covered = 0;
  const trials = 2000;
  for (let t = 0; t < trials; t++) {
    const n = 25;
    const s = Float64Array.from({ length: n }, () => -Math.log(1 - rng.next())).sort();
    const r = medianCiRanks(n)!;
    if ((s[r.lo] as number) <= trueMedian && trueMedian <= (s[r.hi] as number)) covered++;
  }
  const rate = covered / trials;
  assert.ok(rate >= 0.94 && rate <= 0.995, `coverage ${rate}`);
});

test('summarize: the latency (the 10th percentile unless told), median, p10/p90, mean, CV', () => {
  const s = summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], true, 0.5);
  assert.equal(s.quantile, 0.1);
  assert.equal(s.latency_ms, s.p10_ms);
  assert.equal(summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], true, 0.5, 0.5).latency_ms, 5.5);
  assert.equal(s.median_ms, 5.5);
  assert.equal(s.mean_ms, 5.5);
  assert.ok(Math.abs(s.cv - Math.sqrt(55 / 6) / 5.5) < 1e-12);
  assert.equal(s.runs, 10);
  assert.equal(s.converged, true);
  assert.ok(s.p10_ms < s.median_ms && s.median_ms < s.p90_ms);
});

test('constant run times converge at minRuns (after minSeconds)', () => {
  const f = fakeTimer(() => 2);
  const r = measureSync(f.run, { warmupRuns: 3, warmupSeconds: 0, minRuns: 40, minSeconds: 0, maxRuns: 1000, relPrecision: 0.02, maxSeconds: 100 }, { clock: f.clock });
  assert.equal(r.converged, true);
  assert.equal(r.stop, 'converged');
  assert.equal(r.runs, 40);
  assert.equal(r.latency_ms, 2);
  assert.equal(r.median_ms, 2);
  assert.equal(r.cv, 0);
  assert.equal(f.calls(), 43); // warm-up runs are not recorded
});

test('the 10th percentile needs 36 runs for its interval; the median 6', () => {
  const p = { warmupRuns: 0, warmupSeconds: 0, minRuns: 6, minSeconds: 0, maxRuns: 1000, relPrecision: 0.02, maxSeconds: 100 };
  const t = fakeTimer(() => 2);
  const p10 = measureSync(t.run, p, { clock: t.clock });
  assert.deepEqual([p10.stop, p10.runs, p10.quantile], ['converged', 36, 0.1]);
  const f = fakeTimer(() => 2);
  const median = measureSync(f.run, { ...p, quantile: 0.5 }, { clock: f.clock });
  assert.deepEqual([median.stop, median.runs, median.quantile], ['converged', 6, 0.5]);
});

test('the interval is on the reported quantile: a slow half of the runs keeps the median from converging, not the 10th percentile', () => {
  const times = (i: number): number => (i % 2 === 0 ? 1 : 1.2 + (i % 7) * 0.1);
  const p = { warmupRuns: 0, warmupSeconds: 0, minRuns: 40, minSeconds: 0, maxRuns: 400, relPrecision: 0.02, maxSeconds: 1000 };
  const f1 = fakeTimer(times);
  const low = measureSync(f1.run, p, { clock: f1.clock });
  assert.deepEqual([low.stop, low.latency_ms], ['converged', 1]);
  const f2 = fakeTimer(times);
  const median = measureSync(f2.run, { ...p, quantile: 0.5 }, { clock: f2.clock });
  assert.equal(median.stop, 'max_runs');
  assert.ok(median.rel_half_width > 0.02);
});

test('minSeconds delays convergence: samples are spread over time', () => {
  const f = fakeTimer(() => 1);
  const r = measureSync(f.run, { warmupRuns: 0, warmupSeconds: 0, minRuns: 10, minSeconds: 0.2, maxRuns: 10000, relPrecision: 0.02, maxSeconds: 10 }, { clock: f.clock });
  assert.equal(r.converged, true);
  assert.ok(r.runs >= 200 && r.runs <= 215, `runs ${r.runs}`);
});

test('noisy but well-behaved timings converge with the median near the truth', () => {
  const rng = new Rng(1);
  // 10 ms +- 10% uniform noise, plus 5% huge outliers (preemption) that must not move the median
  const f = fakeTimer(() => (rng.next() < 0.05 ? 50 + 100 * rng.next() : 10 * (0.9 + 0.2 * rng.next())));
  const r = measureSync(f.run, { warmupRuns: 5, warmupSeconds: 0, minRuns: 20, minSeconds: 0, maxRuns: 100000, relPrecision: 0.02, maxSeconds: 1000 }, { clock: f.clock });
  assert.equal(r.converged, true);
  assert.ok(Math.abs(r.median_ms - 10.1) < 0.3, `median ${r.median_ms}`);
  assert.ok(r.rel_half_width <= 0.02);
  assert.ok(r.mean_ms > r.median_ms); // the outliers pull the mean, not the median
  assert.ok(r.p90_ms < 12);
});

test('a run cap stops a sequence that cannot converge', () => {
  const rng = new Rng(2);
  const f = fakeTimer(() => 1 + 100 * rng.next()); // hugely dispersed
  const r = measureSync(f.run, { warmupRuns: 0, warmupSeconds: 0, minRuns: 10, minSeconds: 0, maxRuns: 50, relPrecision: 0.001, maxSeconds: 1e9 }, { clock: f.clock });
  assert.equal(r.converged, false);
  assert.equal(r.stop, 'max_runs');
  assert.equal(r.runs, 50);
});

test('a time cap stops slow runs, even before minRuns', () => {
  const f = fakeTimer(() => 400); // 0.4 s per run
  const r = measureSync(f.run, { warmupRuns: 1, warmupSeconds: 0, minRuns: 30, minSeconds: 0, maxRuns: 1000, relPrecision: 0.02, maxSeconds: 1 }, { clock: f.clock });
  assert.equal(r.converged, false);
  assert.equal(r.stop, 'max_seconds');
  assert.equal(r.runs, 3);
  assert.ok(Math.abs(r.seconds - 1.2) < 1e-9);
});

test('warm-up lasts warmupSeconds as well as warmupRuns', () => {
  const f = fakeTimer(() => 1);
  measureSync(f.run, { warmupRuns: 2, warmupSeconds: 0.05, minRuns: 10, minSeconds: 0, maxRuns: 10, relPrecision: 0.5, maxSeconds: 10 }, { clock: f.clock });
  assert.equal(f.calls(), 50 + 10);
});

test('creditWarmup counts time already spent running the model toward the warm-up, never below zero, and keeps its runs', () => {
  const f = fakeTimer(() => 1);
  const p = { warmupRuns: 2, warmupSeconds: 0.05, minRuns: 10, minSeconds: 0, maxRuns: 10, relPrecision: 0.5, maxSeconds: 10 };
  measureSync(f.run, creditWarmup(p, 0.025), { clock: f.clock });
  assert.equal(f.calls(), 25 + 10);
  assert.equal(creditWarmup(p, 0.2).warmupSeconds, 0);
  assert.equal(creditWarmup(p, 0.2).warmupRuns, 2);
  assert.equal(creditWarmup(DEFAULT_PROTOCOL, 0), DEFAULT_PROTOCOL);
  assert.ok(Math.abs(creditWarmup(DEFAULT_PROTOCOL, 0.03).warmupSeconds! - (DEFAULT_PROTOCOL.warmupSeconds! - 0.03)) < 1e-12);
  assert.equal(creditWarmup({ ...p, warmupSeconds: undefined }, 0.03).warmupSeconds, undefined);
});

test('measureAsync: same rule, and an abort signal stops it', async () => {
  const f = fakeTimer(() => 3);
  const r = await measureAsync(async () => f.run(), { warmupRuns: 1, warmupSeconds: 0, minRuns: 40, minSeconds: 0, maxRuns: 100, relPrecision: 0.02, maxSeconds: 10 }, { clock: f.clock });
  assert.equal(r.runs, 40);
  assert.equal(r.median_ms, 3);
  const ac = new AbortController();
  let n = 0;
  await assert.rejects(
    measureAsync(
      async () => {
        if (++n === 5) ac.abort(new Error('stop now'));
      },
      { warmupRuns: 0, minRuns: 100, maxRuns: 1000, maxSeconds: 10 },
      { signal: ac.signal },
    ),
    /stop now/,
  );
});

test('medianRelHalfWidth shrinks with more samples and is Infinity for too few', () => {
  assert.equal(medianRelHalfWidth(Float64Array.from([1, 2, 3])), Infinity);
  const rng = new Rng(3);
  const draw = (n: number): Float64Array => Float64Array.from({ length: n }, () => 10 + rng.next()).sort();
  assert.ok(medianRelHalfWidth(draw(1000)) < medianRelHalfWidth(draw(30)));
});

test('resolveProtocol rejects nonsense', () => {
  assert.throws(() => resolveProtocol({ minRuns: 10, maxRuns: 5 }), /maxRuns/);
  assert.throws(() => resolveProtocol({ relPrecision: 0 }), /relPrecision/);
  assert.throws(() => resolveProtocol({ maxSeconds: -1 }), /maxSeconds/);
  assert.throws(() => resolveProtocol({ blockQuantile: 1 }), /blockQuantile must be in \(0, 1\), got 1/);
  assert.throws(() => resolveProtocol({ blockQuantile: 0 }), /blockQuantile/);
  assert.throws(() => resolveProtocol({ blockSeconds: 0 }), /blockSeconds/);
  assert.throws(() => resolveProtocol({ maxSeconds: 1, blockSeconds: 2 }), /blockSeconds/);
  assert.throws(() => resolveProtocol({ sessions: 0 }), /sessions must be an integer in \[1, 16\], got 0/);
  assert.throws(() => resolveProtocol({ sessions: 1.5 }), /sessions/);
  assert.throws(() => resolveProtocol({ sessions: 17 }), /sessions/);
  assert.equal(resolveProtocol({ sessions: 4 }).sessions, 4);
  assert.throws(() => resolveProtocol({ quantile: 0 }), /quantile must be in \(0, 1\), got 0/);
  assert.throws(() => resolveProtocol({ quantile: 1 }), /quantile/);
  assert.equal(resolveProtocol({}).quantile, 0.1);
  assert.equal(resolveProtocol({ maxRuns: undefined }).maxRuns, 5000);
});

test('ConvergenceTracker.finish: runs ended by someone else (a page cap) are judged over every sample', () => {
  // minSeconds keeps push() from checking, as between two checks
  const p = resolveProtocol({ warmupRuns: 0, minRuns: 10, minSeconds: 100, maxRuns: 1000, relPrecision: 0.05, maxSeconds: 200 });
  const steady = new ConvergenceTracker(p, 0);
  // 36 runs: the fewest with a 95% interval for the 10th percentile
  for (let i = 0; i < 36; i++) assert.equal(steady.push(2, i + 1), null);
  assert.deepEqual(steady.finish('max_seconds', 0.02), { ...summarize(Array(36).fill(2), true, 0.02), stop: 'converged', rel_half_width: 0 });
  const noisy = new ConvergenceTracker(p, 0);
  for (let i = 0; i < 20; i++) noisy.push(i % 2 ? 1 : 3, i + 1);
  const out = noisy.finish('max_runs', 0.04);
  assert.equal(out.stop, 'max_runs');
  assert.equal(out.converged, false);
  assert.ok(out.rel_half_width > 0.05);
});
