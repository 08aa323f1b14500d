/** Interleaved measurement: the ratio of two workloads holds while the "machine" changes speed under both. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK_QUANTILE, INTERLEAVED_PROTOCOL, MIN_PAIRS, PairTracker, SESSIONS, interleavedProtocol, measureInterleaved, runsPerBlock, sessionsOfPair } from './interleaved.js';
import { OrtCpuDevice } from './ort-cpu.js';
import { archToModel } from './model.js';
import { resolveArch } from '../space/resolve.js';

/** A real CPU wait of `ms`, so real timers measure it. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('the ratio of a workload twice as long as the reference is 2, also when the machine slows to 1.6x every other 30 ms', async () => {
  // a function of the clock, not a timer: the measurement loop never yields to timers
  const slowness = () => (Math.floor(performance.now() / 30) % 2 === 0 ? 1 : 1.6);
  const r = await measureInterleaved(
    async () => spin(0.2 * slowness()),
    async () => spin(0.1 * slowness()),
    { warmupRuns: 3, warmupSeconds: 0, minSeconds: 0.3, maxSeconds: 2 },
  );
  assert.ok(Math.abs(r.ratio - 2) < 0.1, `ratio ${r.ratio}`);
  // the milliseconds themselves did change: both workloads spread over the two speeds
  assert.ok(r.reference.p90_ms > 1.3 * r.reference.p10_ms, `reference p10 ${r.reference.p10_ms} p90 ${r.reference.p90_ms}`);
  assert.ok(r.pairs >= MIN_PAIRS);
  assert.equal(r.model.runs, r.pairs * r.runs_per_block);
  assert.equal(r.reference.runs, r.model.runs);
});

test('a pair compares the fast runs of each block (its p10), so runs the machine slowed in one block do not move the ratio', () => {
  // model blocks of 10 runs at 2 ms, in every third block 8 of them slowed to 3 ms; reference blocks of 10 runs at 1 ms
  const measure = (blockQuantile?: number) => {
    const t = new PairTracker(interleavedProtocol({ maxSeconds: 100, ...(blockQuantile === undefined ? {} : { blockQuantile }) }));
    for (let i = 0; i < MIN_PAIRS; i++) t.addPair(Array.from({ length: 10 }, (_, j) => (i % 3 === 2 && j < 8 ? 3 : 2)), Array(10).fill(1), 1);
    return t.finish(1);
  };
  assert.equal(BLOCK_QUANTILE, 0.1);
  const fast = measure();
  assert.equal(fast.ratio, 2);
  assert.equal(fast.ratio_rel_half_width, 0);
  // compared by their medians, a third of the pairs come out at 3: the same median ratio, known far less precisely
  const medians = measure(0.5);
  assert.equal(medians.ratio, 2);
  assert.equal(medians.ratio_rel_half_width, 0.5);
});

test('by default the ratio is measured to +-1% over at least 0.5 s; a cap below that minimum lowers it', async () => {
  const r = await measureInterleaved(async () => spin(0.2), async () => spin(0.1));
  assert.ok(r.converged, JSON.stringify(r));
  assert.ok(r.ratio_rel_half_width <= INTERLEAVED_PROTOCOL.relPrecision, `half-width ${r.ratio_rel_half_width}`);
  assert.ok(r.seconds >= INTERLEAVED_PROTOCOL.minSeconds!, `seconds ${r.seconds}`);
  const capped = await measureInterleaved(async () => spin(0.2), async () => spin(0.1), { maxSeconds: 0.2 });
  assert.ok(capped.seconds < 0.45, `seconds ${capped.seconds}`);
});

test('blockSeconds sets how long a block of each model runs', async () => {
  const r = await measureInterleaved(async () => spin(0.2), async () => spin(0.1), { warmupRuns: 3, warmupSeconds: 0, minSeconds: 0.05, maxSeconds: 1, blockSeconds: 0.002 });
  // a run takes at least 0.2 ms, so at most 10 fill 2 ms (50 fill the default block)
  assert.ok(r.runs_per_block >= 3 && r.runs_per_block <= runsPerBlock(0.2, 0.002), `${r.runs_per_block} runs per block of 2 ms`);
  assert.equal(runsPerBlock(0.2), 50);
});

test('pairs rotate through the sessions of each model so that every combination comes up, and the ratio is over all of them', async () => {
  const pairsOf = (m: number, r: number, n: number) => new Set(Array.from({ length: n }, (_, i) => sessionsOfPair(i, m, r).join(',')));
  assert.equal(pairsOf(3, 3, 9).size, 9);
  assert.equal(pairsOf(2, 3, 6).size, 6);
  assert.equal(pairsOf(3, 2, 6).size, 6);
  assert.equal(pairsOf(4, 3, 12).size, 12);
  assert.equal(pairsOf(1, 1, 5).size, 1);
  // three "sessions" of the model, one 10% slower than the others; the reference in three equal ones
  const blocks = [0, 0, 0];
  const refBlocks = [0, 0, 0];
  const session = (i: number, ms: number, counts: number[]) => async () => {
    counts[i]!++;
    spin(ms);
  };
  const r = await measureInterleaved(
    [session(0, 0.2, blocks), session(1, 0.2, blocks), session(2, 0.22, blocks)],
    [session(0, 0.1, refBlocks), session(1, 0.1, refBlocks), session(2, 0.1, refBlocks)],
    { warmupRuns: 3, warmupSeconds: 0, minSeconds: 0.2, maxSeconds: 2 },
  );
  for (const counts of [blocks, refBlocks]) assert.ok(counts.every((n) => n > r.runs_per_block), `runs per session ${counts.join(', ')}`);
  // the median pair is from the two equal sessions: the slow one does not decide it, and does not go unseen in the runs
  assert.ok(Math.abs(r.ratio - 2) < 0.1, `ratio ${r.ratio}`);
  assert.equal(INTERLEAVED_PROTOCOL.sessions, SESSIONS);
  await assert.rejects(measureInterleaved([], async () => {}), /no run function/);
});

test('an aborted interleaved measurement throws the abort reason', async () => {
  const c = new AbortController();
  c.abort(new Error('stop now'));
  await assert.rejects(measureInterleaved(async () => {}, async () => {}, {}, { signal: c.signal }), /stop now/);
});

test('ort-cpu measures a model against itself at a ratio of 1 and against a larger one above 1', async () => {
  const device = new OrtCpuDevice({ threads: 1 });
  const small = archToModel(resolveArch('bench-fmnist'), 'small');
  const self = await device.measureAgainst(small, small);
  assert.ok(Math.abs(self.ratio - 1) < 0.1, `self ratio ${self.ratio}`);
  const big = await device.measureAgainst(archToModel(resolveArch('mnasnet-a1-fmnist'), 'big'), small);
  assert.ok(big.ratio > 1.2, `ratio ${big.ratio}`);
  assert.ok(big.median_ms > big.reference_ms);
  assert.equal(big.device.kind, 'ort-cpu');
  assert.equal(big.sessions, SESSIONS);
  const one = await device.measureAgainst(small, small, { sessions: 1 });
  assert.equal(one.sessions, 1);
});
