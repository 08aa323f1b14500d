import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { liveTensors } from '../../torch/index.js';
import { Rng } from '../../util/rng.js';
import { getSpace, validateDna } from '../../space/index.js';
import { createStrategy } from '../strategy.js';
import { STRATEGY_KINDS } from '../strategy-kinds.js';
import { RandomSearch } from '../random-search.js';
import { SyntheticProblem } from '../synthetic.js';
import { rewardConfig } from '../reward.js';
import { ExperimentStore } from '../store.js';
import type { TrialRecord } from '../run-store.js';
import type { MemoryStore } from '../memory-store.js';
import { runSearch } from '../loop.js';
import { LocalPool } from '../executor.js';
import { PpoSearch, PPO_DEFAULTS, type PpoOptions } from './strategy.js';
import { driveStrategy } from '../fixtures/drive.js';
import { tempDir } from '../../util/testing.js';

const space = SyntheticProblem.mnasLikeSpace(2);
const problem = new SyntheticProblem(space, { seed: 5 });
const cfg = rewardConfig('soft', problem.suggestedTargetMs());
// Small minibatches and a large learning rate: many updates, large weight changes within a short drive.
const fast: Omit<PpoOptions, 'seed'> = { batchSize: 5, epochs: 3, learningRate: 0.01 };
const make = (seed: number, o: Omit<PpoOptions, 'seed'> = fast) => new PpoSearch(space, { seed, ...o });

/** The shared driver (search loop, feedback out of order), on this file's synthetic problem. */
function drive(s: PpoSearch, budget: number, order: Rng, more: { store?: MemoryStore; stopAfter?: number } = {}) {
  return driveStrategy(s, { problem, reward: cfg, budget, order, ...more });
}

test('ppo: same seed -> same proposals; different seed -> different; the policy actually changes', async () => {
  const a = make(42);
  const la = (await drive(a, 120, new Rng(1))).log;
  const b = make(42);
  const lb = (await drive(b, 120, new Rng(1))).log;
  const c = make(43);
  const lc = (await drive(c, 120, new Rng(1))).log;
  assert.deepEqual(la, lb);
  assert.notDeepEqual(la, lc);
  assert.ok(a.updates >= 15, `updates ${a.updates}`);
  const fresh = make(42);
  const w = (s: PpoSearch) => s.policy.namedParameters().map(([, p]) => Array.from(p.toFloat32Array()));
  assert.notDeepEqual(w(a), w(fresh));
  for (const s of [a, b, c, fresh]) s.dispose();
});

test('ppo: a run interrupted anywhere resumes (snapshot of the last update + replay) to the exact uninterrupted stream', async () => {
  const whole = make(7);
  const full = await drive(whole, 120, new Rng(9));
  assert.equal(full.store.latestSnapshot()?.state.data['updates'], whole.updates, 'the latest snapshot is of the last update');
  whole.dispose();
  for (const k of [1, 4, 5, 17, 58, 99, 119]) {
    const order = new Rng(9);
    const first = make(7);
    const cut = await drive(first, 120, order, { stopAfter: k });
    const second = make(7);
    const resumed = await drive(second, 120, order, { store: cut.store });
    assert.deepEqual(resumed.log, full.log, `interrupted after ${k} results`);
    assert.equal(second.updates, 120 / fast.batchSize!);
    first.dispose();
    second.dispose();
  }
});

test('ppo: restore from a snapshot (through JSON) restores the policy, the minibatch and the pending proposals', () => {
  const first = make(7);
  const order = new Rng(3);
  for (let i = 0; i < 13; i++) {
    const p = first.propose();
    if (order.next() < 0.7) first.feedback(p, problem.reward(cfg, p.dna));
  }
  const second = make(12345); // different seed: everything must come from the snapshot
  second.restore(JSON.parse(JSON.stringify(first.state())));
  assert.deepEqual(second.pending(), first.pending());
  assert.equal(second.updates, first.updates);
  assert.equal(second.collected, first.collected);
  assert.equal(second.baselineValue, first.baselineValue);
  for (let i = 0; i < 40; i++) {
    const p = first.propose();
    assert.deepEqual(second.propose(), p);
    for (const s of [first, second]) for (const q of s.pending().slice(0, 2)) s.feedback(q, problem.reward(cfg, q.dna));
  }
  assert.deepEqual(second.state(), first.state());
  first.dispose();
  second.dispose();
});

test('ppo: snapshot weights change exactly when an update happens', () => {
  const s = make(3);
  let prev = s.state().data['weights'];
  let changes = 0;
  for (let i = 0; i < 30; i++) {
    const p = s.propose();
    assert.equal(s.state().data['weights'], prev, 'proposing must not change the weights');
    const before = s.updates;
    s.feedback(p, problem.reward(cfg, p.dna));
    const w = s.state().data['weights'];
    if (s.updates > before) {
      assert.notEqual(w, prev);
      changes++;
    } else assert.equal(w, prev);
    prev = w;
  }
  assert.equal(changes, 30 / fast.batchSize!);
  s.dispose();
});

test('ppo: restore checks the snapshot (feedback validation: strategy.test.ts, for every kind)', () => {
  const s = make(1);
  s.propose();
  s.feedback(s.propose(), 0.5);
  const snap = s.state();
  assert.throws(() => new PpoSearch(SyntheticProblem.mnasLikeSpace(3), { seed: 1 }).restore(snap), /different search space/);
  assert.throws(() => make(1, { ...fast, learningRate: 0.02 }).restore(snap), /learningRate=0.01.*learningRate=0.02/);
  const broken = JSON.parse(JSON.stringify(snap));
  broken.data.weights = Buffer.from('not safetensors').toString('base64');
  assert.throws(() => make(1).restore(broken));
  const badBehaviour = JSON.parse(JSON.stringify(snap));
  badBehaviour.data.behaviour[0][1].pop();
  assert.throws(() => make(1).restore(badBehaviour), /log-probabilities of proposal/);
  s.dispose();
});

test('ppo: registered; options from JSON; invalid options are rejected', () => {
  assert.ok(STRATEGY_KINDS.includes('ppo'));
  const s = createStrategy('ppo', space, { seed: 2, learningRate: 0.001, epochs: 2 }) as PpoSearch;
  assert.equal(s.kind, 'ppo');
  assert.equal(s.config.learningRate, 0.001);
  assert.equal(s.config.epochs, 2);
  assert.equal(s.config.batchSize, PPO_DEFAULTS.batchSize);
  assert.equal(s.config.hiddenSize, 100);
  assert.throws(() => createStrategy('ppo', space, { seed: 1, lr: 0.1 }), /unknown option\(s\) lr/);
  assert.throws(() => createStrategy('ppo', space, { seed: 1, epochs: '3' }), /epochs must be a number/);
  assert.throws(() => new PpoSearch(space, { seed: 1, clip: 0 }), /clip must be in \(0, 1\)/);
  assert.throws(() => new PpoSearch(space, { seed: 1, batchSize: 0 }), /batchSize/);
  assert.throws(() => new PpoSearch(space, { seed: 1, learningRate: -1 }), /learningRate/);
  assert.throws(() => new PpoSearch(space, { seed: 1.5 }), /seed must be an integer/);
  s.dispose();
});

test('ppo: proposes valid DNA for the real fmnist space; negative seeds work', () => {
  const real = getSpace('fmnist');
  const s = createStrategy('ppo', real, { seed: -7 }) as PpoSearch;
  for (let i = 0; i < 25; i++) {
    const p = s.propose();
    real.validate(p.dna);
    s.feedback(p, 0.5 + 0.01 * p.dna[0]!);
  }
  assert.equal(s.updates, 1);
  s.dispose();
});

test('ppo: native memory stays flat over proposals, updates, snapshots and restores', () => {
  const s = make(4);
  const feed = (n: number) => {
    for (let i = 0; i < n; i++) {
      const p = s.propose();
      s.feedback(p, problem.reward(cfg, p.dna));
    }
  };
  feed(60);
  const base = liveTensors();
  for (let round = 0; round < 5; round++) {
    feed(60);
    s.restore(JSON.parse(JSON.stringify(s.state())));
  }
  assert.equal(liveTensors(), base);
  s.dispose();
});

test('ppo in the loop: interrupted and resumed runs reproduce the uninterrupted run (concurrency 3)', async () => {
  const essence = (t: TrialRecord) => [t.id, t.dna.join(''), t.status, t.reward];
  const run = async (budget: number, dir: string, stopAfter?: number) => {
    const strategy = createStrategy('ppo', problem, { seed: 11, batchSize: 4, epochs: 2, learningRate: 0.01 });
    const store = ExperimentStore.open(dir, { config: { kind: 'ppo-test' } });
    const ac = new AbortController();
    let seen = 0;
    await runSearch({
      strategy,
      evaluator: problem.evaluator(),
      reward: cfg,
      budget,
      store,
      executor: new LocalPool(3),
      signal: ac.signal,
      onProgress: () => {
        if (++seen === stopAfter) ac.abort(new Error('simulated interruption'));
      },
    });
    const trials = store.listTrials();
    store.close();
    (strategy as PpoSearch).dispose();
    return trials;
  };
  const tmp = () => join(tempDir('mnas-ppo-'), 'run');
  const wholeDir = tmp();
  const full = await run(60, wholeDir);
  assert.equal(full.length, 60);
  // 15 updates, one snapshot each, only the latest kept: the database holds about one snapshot, not one per event
  const store = ExperimentStore.open(wholeDir);
  const snapshotBytes = JSON.stringify(store.latestSnapshot()!.state).length;
  assert.equal(store.latestSnapshot()!.state.data['updates'], 15);
  store.close();
  const dbBytes = statSync(join(wholeDir, 'mnas.db')).size;
  assert.ok(dbBytes < 3 * snapshotBytes, `database ${dbBytes} B, one snapshot ${snapshotBytes} B`);
  const dir = tmp();
  for (const stop of [7, 13, 26]) await run(60, dir, stop); // three interruptions, each resuming the previous
  const resumed = await run(60, dir);
  assert.deepEqual(resumed.map(essence), full.map(essence));
});
