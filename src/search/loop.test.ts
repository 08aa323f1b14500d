import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ExperimentStore } from './store.js';
import { MemoryStore } from './memory-store.js';
import type { RunStore, TrialRecord } from './run-store.js';
import { runSearch, type SearchProgress } from './loop.js';
import { LocalPool } from './executor.js';
import { setup, type SetupConfig } from './fixtures/search-setup.js';
import { RandomSearch } from './random-search.js';
import { SyntheticProblem } from './synthetic.js';
import { rewardConfig } from './reward.js';
import { flatSpace } from './space-like.js';
import type { Evaluator } from './evaluator.js';
import type { Strategy } from './strategy.js';
import { tempDir } from '../util/testing.js';

const tmp = () => join(tempDir('mnas-loop-'), 'run');
const base: SetupConfig = { strategy: 'evolution', seed: 1, problemSeed: 100, blocks: 3, delayMs: 0, jitterMs: 0, failFirst: -1 };

async function search(
  cfg: SetupConfig,
  budget: number,
  opts: { concurrency?: number; dir?: string; stopAfter?: number; stopAtEvaluation?: number; drainAfter?: number; sync?: 'FULL' | 'NORMAL'; schedule?: 'ordered' | 'asap'; memory?: MemoryStore } = {},
) {
  const s = setup(cfg);
  const ac = new AbortController();
  const drain = new AbortController();
  let evaluations = 0;
  const evaluator: Evaluator = {
    evaluate(dna, signal, ctx) {
      // stop while this evaluation runs: like a crash mid-training
      if (++evaluations === opts.stopAtEvaluation) setImmediate(() => ac.abort(new Error('simulated interruption')));
      return s.evaluator.evaluate(dna, signal, ctx);
    },
  };
  const dir = opts.dir ?? tmp();
  const store: RunStore & { close?: () => void } = opts.memory ?? ExperimentStore.open(dir, { config: cfg, synchronous: opts.sync ?? 'NORMAL' });
  const progress: SearchProgress[] = [];
  let seen = 0;
  const summary = await runSearch({
    strategy: s.strategy,
    evaluator,
    reward: s.reward,
    budget,
    store,
    executor: new LocalPool(opts.concurrency ?? 1),
    arch: (d) => d.join(''),
    signal: ac.signal,
    stopProposing: drain.signal,
    schedule: opts.schedule ?? 'ordered',
    onProgress: (p) => {
      progress.push(p);
      if (++seen === opts.stopAfter) ac.abort(new Error('simulated interruption'));
      if (seen === opts.drainAfter) drain.abort(new Error('time limit'));
    },
  });
  const trials = store.listTrials();
  store.close?.();
  return { summary, trials, progress, dir, s, optimum: s.problem.optimum(s.reward) };
}

/** The comparable content of a trial (timestamps and timings excluded). */
const essence = (t: TrialRecord) => [t.id, t.dna.join(''), t.arch, t.status, t.accuracy, t.latencyMs, t.reward, t.reusedFrom, t.error, t.macs];

test('the loop makes the same trials, rewards and events on the SQLite and the in-memory store, and resumes on both', async () => {
  for (const strategy of ['random', 'evolution'] as const) {
    const cfg: SetupConfig = { ...base, strategy, seed: 3, delayMs: 1, jitterMs: 3, failFirst: 1, blocks: 1 };
    const onDisk = await search(cfg, 50, { concurrency: 3 });
    const inMemory = await search(cfg, 50, { concurrency: 3, memory: new MemoryStore() });
    assert.deepEqual(inMemory.trials.map(essence), onDisk.trials.map(essence), strategy);
    assert.deepEqual(inMemory.trials.map((t) => [t.proposeEvent, t.resultEvent]), onDisk.trials.map((t) => [t.proposeEvent, t.resultEvent]));
    assert.ok(onDisk.trials.some((t) => t.status === 'failed') && onDisk.trials.some((t) => t.reusedFrom !== null), 'failures and reuse are part of the comparison');
    const memory = new MemoryStore();
    await search(cfg, 50, { concurrency: 3, memory, stopAfter: 20 });
    const resumed = await search(cfg, 50, { concurrency: 3, memory });
    assert.deepEqual(resumed.trials.map(essence), onDisk.trials.map(essence), `${strategy} resumed in memory`);
  }
});

test('stopProposing: the trials in flight finish and are stored, nothing new is proposed, and a resume reaches the uninterrupted run', async () => {
  const cfg: SetupConfig = { ...base, strategy: 'evolution', seed: 5, delayMs: 2, jitterMs: 4, blocks: 1 };
  const whole = await search(cfg, 40, { concurrency: 3 });
  const dir = tmp();
  const drained = await search(cfg, 40, { concurrency: 3, dir, drainAfter: 10 });
  assert.equal(drained.summary.interrupted, true);
  // trials 10 and 11 were in flight (3 at once) when the tenth result came: they finish, none is added
  assert.deepEqual(drained.trials.map((t) => t.status), Array(12).fill('done'));
  assert.deepEqual(drained.trials.map(essence), whole.trials.slice(0, 12).map(essence));
  const resumed = await search(cfg, 40, { concurrency: 3, dir });
  assert.equal(resumed.summary.interrupted, false);
  assert.equal(resumed.summary.resumed, 0, 'nothing was left in flight');
  assert.deepEqual(resumed.trials.map(essence), whole.trials.map(essence));
});

test('random and evolution reach high reward; evolution beats random on median over fixed seeds', async () => {
  const ratios: Record<string, number[]> = { random: [], evolution: [] };
  for (const strategy of ['random', 'evolution'] as const) {
    for (let seed = 0; seed < 5; seed++) {
      const r = await search({ ...base, strategy, seed, problemSeed: 100 + seed }, 200);
      assert.equal(r.trials.length, 200);
      assert.ok(r.trials.every((t) => t.status === 'done'));
      ratios[strategy]!.push(r.summary.best!.reward! / r.optimum.reward);
    }
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // Thresholds sit well below the deterministic values (random ~0.92-0.95, evolution ~0.95-1.0).
  assert.ok(Math.min(...ratios['random']!) > 0.85, `random ${ratios['random']}`);
  assert.ok(Math.min(...ratios['evolution']!) > 0.92, `evolution ${ratios['evolution']}`);
  assert.ok(median(ratios['evolution']!) > median(ratios['random']!) + 0.01, `median evolution ${median(ratios['evolution']!)} vs random ${median(ratios['random']!)}`);
});

test('evolution finds the exact optimum of a small space (432 points) within 200 trials, every seed', async () => {
  for (let seed = 0; seed < 6; seed++) {
    const r = await search({ ...base, blocks: 1, seed }, 200);
    assert.equal(r.summary.best!.reward, r.optimum.reward, `seed ${seed}`);
    assert.deepEqual(r.summary.best!.dna, r.optimum.dna);
    assert.ok(r.summary.reused > 0, 'a small space revisits architectures');
  }
});

test('progress, Pareto front and summary are consistent with the store', async () => {
  const r = await search({ ...base, seed: 4 }, 60, { concurrency: 3 });
  assert.equal(r.progress.length, 60);
  assert.deepEqual(r.progress.map((p) => p.trialId), [...Array(60).keys()], 'ordered schedule feeds back in id order');
  assert.deepEqual(r.progress.map((p) => p.finished), Array.from({ length: 60 }, (_, i) => i + 1));
  for (let i = 1; i < 60; i++) assert.ok(r.progress[i]!.bestReward! >= r.progress[i - 1]!.bestReward!);
  const bestStored = Math.max(...r.trials.map((t) => t.reward!));
  assert.equal(r.summary.best!.reward, bestStored);
  assert.equal(r.progress[59]!.paretoSize, r.summary.pareto.length);
  for (const p of r.summary.pareto) assert.ok(!r.trials.some((t) => t.accuracy! >= p.accuracy! && t.latencyMs! <= p.latencyMs! && (t.accuracy! > p.accuracy! || t.latencyMs! < p.latencyMs!)));
  assert.equal(r.summary.interrupted, false);
  assert.deepEqual(r.trials[0]!.timings, { evalMs: r.trials[0]!.timings && (r.trials[0]!.timings as { evalMs: number }).evalMs });
});

test('failed trials are recorded with their reason and the failure reward; the search continues', async () => {
  const r = await search({ ...base, failFirst: 0, seed: 5 }, 80, { concurrency: 2 });
  const failed = r.trials.filter((t) => t.status === 'failed');
  assert.ok(failed.length > 5);
  assert.ok(failed.every((t) => t.dna[0] === 0 && t.error === 'first decision is 0' && t.reward === 0));
  assert.ok(r.trials.filter((t) => t.status === 'done').every((t) => t.dna[0] !== 0));
  assert.equal(r.trials.length, 80);
  assert.equal(r.summary.failed, failed.length);
});

test('evaluator errors and invalid metrics become failed trials', async () => {
  const space = flatSpace([['a', 4], ['b', 4]]);
  const evaluator: Evaluator = {
    async evaluate(dna) {
      if (dna[0] === 0) throw new Error('CUDA out of memory');
      if (dna[0] === 1) return { status: 'done', accuracy: 1.5, latencyMs: 3 };
      return { status: 'done', accuracy: 0.1 * dna[1]!, latencyMs: 1 + dna[0]! };
    },
  };
  const store = ExperimentStore.open(tmp(), { config: {}, synchronous: 'NORMAL' });
  const sum = await runSearch({ strategy: new RandomSearch(space, { seed: 2 }), evaluator, reward: rewardConfig('soft', 2), budget: 40, store, reuse: false });
  const trials = store.listTrials();
  for (const t of trials) {
    if (t.dna[0] === 0) assert.deepEqual([t.status, t.error], ['failed', 'evaluator threw: CUDA out of memory']);
    else if (t.dna[0] === 1) assert.match(t.error!, /^invalid metrics: computeReward: accuracy must be in \[0, 1\], got 1.5/);
    else assert.equal(t.status, 'done');
  }
  assert.equal(sum.evaluated, 40);
  store.close();
});

test('identical architectures are evaluated once; later trials reuse the result', async () => {
  const space = flatSpace([['a', 2], ['b', 2], ['c', 2]]);
  const problem = new SyntheticProblem(space, { seed: 1 });
  const calls: string[] = [];
  const inner = problem.evaluator({ delayMs: 2, onEvaluate: (d) => calls.push(d.join('')) });
  const store = ExperimentStore.open(tmp(), { config: {}, synchronous: 'NORMAL' });
  const sum = await runSearch({ strategy: new RandomSearch(space, { seed: 3 }), evaluator: inner, reward: rewardConfig('soft', 3), budget: 40, store, executor: new LocalPool(4) });
  const trials = store.listTrials();
  assert.equal(new Set(calls).size, calls.length, 'no DNA evaluated twice, even concurrently');
  assert.equal(calls.length, new Set(trials.map((t) => t.dna.join(''))).size);
  assert.equal(sum.evaluated + sum.reused, 40);
  for (const t of trials.filter((x) => x.reusedFrom !== null)) {
    const src = store.trial(t.reusedFrom!)!;
    assert.ok(src.id < t.id && src.reusedFrom === null && src.dna.join('') === t.dna.join(''));
    assert.deepEqual([t.accuracy, t.latencyMs, t.reward, t.macs], [src.accuracy, src.latencyMs, src.reward, src.macs]);
  }
  store.close();
});

for (const concurrency of [1, 3]) {
  test(`in-process interruption and resume reproduce the uninterrupted run exactly (concurrency ${concurrency})`, async () => {
    const cfg: SetupConfig = { ...base, seed: 8, delayMs: 1, jitterMs: 4, failFirst: 2, blocks: 1 };
    const budget = 70;
    const full = await search(cfg, budget, { concurrency });
    const stops = [{ stopAfter: 1 }, { stopAfter: 13 }, { stopAfter: 40 }, { stopAtEvaluation: 1 }, { stopAtEvaluation: 22 }];
    for (const stop of stops) {
      const k = JSON.stringify(stop);
      const dir = tmp();
      const first = await search(cfg, budget, { concurrency, dir, ...stop });
      assert.equal(first.summary.interrupted, true);
      const store = ExperimentStore.open(dir);
      const inFlight = store.inFlight().length;
      store.close();
      assert.ok(inFlight <= concurrency, `in flight after stop: ${inFlight}`);
      if (stop.stopAtEvaluation || concurrency > 1) assert.ok(inFlight >= 1, `${k}: something was in flight`);
      const second = await search(cfg, budget, { concurrency, dir });
      assert.equal(second.summary.resumed, inFlight);
      assert.equal(second.summary.interrupted, false);
      assert.deepEqual(second.trials.map(essence), full.trials.map(essence), `stopped after ${k}`);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('asap schedule: full budget, no trial lost or duplicated across an interruption', async () => {
  const cfg: SetupConfig = { ...base, seed: 9, delayMs: 1, jitterMs: 6 };
  const dir = tmp();
  await search(cfg, 50, { concurrency: 4, dir, stopAfter: 17, schedule: 'asap' });
  const r = await search(cfg, 50, { concurrency: 4, dir, schedule: 'asap' });
  assert.deepEqual(r.trials.map((t) => t.id), [...Array(50).keys()]);
  assert.ok(r.trials.every((t) => t.status === 'done'));
  assert.equal(r.summary.interrupted, false);
});

test('resume refuses a strategy that does not match the stored run', async () => {
  const cfg: SetupConfig = { ...base, seed: 10 };
  const dir = tmp();
  await search(cfg, 10, { dir, stopAfter: 4, concurrency: 2 });
  const store = ExperimentStore.open(dir);
  const s = setup({ ...cfg, strategy: 'random' });
  await assert.rejects(runSearch({ strategy: s.strategy, evaluator: s.evaluator, reward: s.reward, budget: 10, store }), /made by a different strategy \(stored: evolution .*given: random/);
  store.close();
  assert.throws(() => ExperimentStore.open(dir, { config: { ...cfg, seed: 11 } }), /seed/);
});

function runChildUntil(dir: string, arg: object, lines: number): Promise<{ killed: boolean; seen: number }> {
  const script = fileURLToPath(new URL('./fixtures/loop-runner.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, dir, JSON.stringify(arg)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      seen += d.toString().split('\n').filter((l) => /^\d+ \d+$/.test(l)).length;
      if (seen >= lines && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ killed: true, seen });
      else if (code === 0) resolve({ killed: false, seen });
      else reject(new Error(`loop-runner exited ${code}: ${err}`));
    });
  });
}

test('a search process killed with SIGKILL resumes to exactly the uninterrupted result', async () => {
  // ~20 rounds of 10-15 ms: the kills (after 15 lines) land mid-run even on a loaded machine
  const cfg: SetupConfig = { ...base, seed: 12, delayMs: 10, jitterMs: 5, failFirst: 1, blocks: 2 };
  const budget = 60;
  const concurrency = 3;
  const full = await search(cfg, budget, { concurrency });
  const dir = tmp();
  const a = await runChildUntil(dir, { setup: cfg, budget, concurrency }, 15);
  assert.ok(a.killed);
  const store = ExperimentStore.open(dir);
  assert.equal(store.integrityCheck(), 'ok');
  const finishedAtKill = store.count('done') + store.count('failed');
  assert.ok(finishedAtKill >= 15 && finishedAtKill < budget);
  store.close();
  const b = await runChildUntil(dir, { setup: cfg, budget, concurrency }, 10); // killed a second time
  assert.ok(b.killed);
  const resumed = await search(cfg, budget, { concurrency, dir }); // finish in-process
  assert.deepEqual(resumed.trials.map(essence), full.trials.map(essence));
  assert.ok(resumed.trials.some((t) => t.attempts > 1) || resumed.summary.resumed === 0);
  rmSync(dir, { recursive: true, force: true });
});

test('async strategies and strategies that wait for feedback (canPropose) plug in', async () => {
  const space = SyntheticProblem.mnasLikeSpace(1);
  const problem = new SyntheticProblem(space, { seed: 2 });
  const reward = rewardConfig('soft', problem.suggestedTargetMs());
  const run = async (strategy: Strategy, concurrency: number) => {
    const store = ExperimentStore.open(tmp(), { config: {}, synchronous: 'NORMAL' });
    await runSearch({ strategy, evaluator: problem.evaluator({ delayMs: 1 }), reward, budget: 30, store, executor: new LocalPool(concurrency) });
    const t = store.listTrials().map(essence);
    store.close();
    return t;
  };
  // A PPO-like shape: async propose/feedback, at most 2 proposals outstanding.
  const inner = new RandomSearch(space, { seed: 6 });
  const wrapped: Strategy = {
    kind: inner.kind,
    describe: () => inner.describe(),
    canPropose: () => inner.pending().length < 2,
    propose: async () => inner.propose(),
    feedback: async (p, r, i) => inner.feedback(p, r, i),
    pending: () => inner.pending(),
  };
  assert.deepEqual(await run(wrapped, 4), await run(new RandomSearch(space, { seed: 6 }), 2));
});

test('runSearch: DNAs with the same identity are evaluated once, also across a resume; skipped trials keep their defined reward', async () => {
  const cfg = { ...base, strategy: 'random' as const, blocks: 2 };
  const s = setup(cfg);
  // identity: only the first decision matters, so most DNAs share an evaluation
  const identity = (d: readonly number[]) => String(d[0]);
  const evaluated: string[] = [];
  const evaluator: Evaluator = {
    async evaluate(dna, signal, ctx) {
      evaluated.push(identity(dna));
      if (dna[0] === 0) return { status: 'skipped', reason: 'too slow', latencyMs: 2 * s.reward.targetMs, assumedAccuracy: 0.1 };
      return s.evaluator.evaluate(dna, signal, ctx);
    },
  };
  const dir = tmp();
  const run = async (budget: number) => {
    const store = ExperimentStore.open(dir, { config: cfg, synchronous: 'NORMAL' });
    const strategy = budget === 20 ? s.strategy : setup(cfg).strategy;
    const summary = await runSearch({ strategy, evaluator, reward: s.reward, budget, store, identity, arch: (d) => d.join('') });
    const trials = store.listTrials();
    store.close();
    return { summary, trials };
  };
  const first = await run(20);
  const second = await run(40);
  const trained = evaluated.filter((k) => k !== '0');
  assert.equal(new Set(trained).size, trained.length, `each identity trained once: ${evaluated.join(',')}`);
  const reused = second.trials.filter((t) => t.reusedFrom !== null);
  assert.ok(reused.length > 20, `most trials reuse a result (${reused.length})`);
  for (const t of reused) {
    const source = second.trials.find((x) => x.id === t.reusedFrom)!;
    assert.equal(identity(source.dna), identity(t.dna));
    assert.equal(source.reusedFrom, null, 'reuse points at an evaluated trial');
    assert.equal(t.accuracy, source.accuracy);
  }
  const skipped = second.trials.filter((t) => t.dna[0] === 0);
  assert.ok(skipped.length > 0);
  for (const t of skipped) {
    assert.equal(t.status, 'failed');
    assert.match(t.error!, /too slow/);
    assert.ok(Math.abs(t.reward! - 0.1 * Math.pow(2, s.reward.beta)) < 1e-12, `reward of a skipped trial: ${t.reward}`);
  }
  assert.equal(first.summary.finished, 20);
  assert.equal(second.summary.finished, 40);
});
