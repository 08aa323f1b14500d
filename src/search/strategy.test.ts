import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { RandomSearch } from './random-search.js';
import { RegularizedEvolution } from './evolution.js';
import { createStrategy, type Proposal } from './strategy.js';
import type { PpoSearch } from './ppo/strategy.js';
import { STRATEGY_KINDS } from './strategy-kinds.js';
import type { BaseStrategy } from './base-strategy.js';
import { mutateOneDecision, tournamentSelect, ageOut, randomDna } from './operators.js';
import { SyntheticProblem } from './synthetic.js';
import { rewardConfig } from './reward.js';
import { driveStrategy } from './fixtures/drive.js';
import type { MemoryStore } from './memory-store.js';

const space = SyntheticProblem.mnasLikeSpace(2);
const problem = new SyntheticProblem(space, { seed: 5 });
const cfg = rewardConfig('soft', problem.suggestedTargetMs());

const makers: Record<string, (seed: number) => BaseStrategy> = {
  random: (seed) => new RandomSearch(space, { seed }),
  evolution: (seed) => new RegularizedEvolution(space, { seed, populationSize: 8, sampleSize: 3 }),
};

/** The shared driver (search loop, feedback out of order), on this file's synthetic problem. */
function drive(s: BaseStrategy, budget: number, order: Rng, more: { store?: MemoryStore; stopAfter?: number } = {}) {
  return driveStrategy(s, { problem, reward: cfg, budget, order, ...more });
}

for (const kind of Object.keys(makers)) {
  test(`${kind}: same seed -> same proposals; different seed -> different; feedback really arrives out of order`, async () => {
    const a = (await drive(makers[kind]!(42), 100, new Rng(1))).log;
    const b = (await drive(makers[kind]!(42), 100, new Rng(1))).log;
    const c = (await drive(makers[kind]!(43), 100, new Rng(1))).log;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const results = a.filter((e) => e.startsWith('F')).map((e) => Number(e.slice(1)));
    assert.equal(results.length, 100);
    assert.notDeepEqual(results, [...results].sort((x, y) => x - y));
  });

  test(`${kind}: a run interrupted anywhere resumes by replay to the exact uninterrupted stream`, async () => {
    const full = (await drive(makers[kind]!(7), 100, new Rng(9))).log;
    for (const k of [1, 5, 17, 60, 99]) {
      const order = new Rng(9);
      const first = await drive(makers[kind]!(7), 100, order, { stopAfter: k });
      assert.equal(first.summary.interrupted, true);
      const inFlight = first.store.inFlight().length;
      assert.ok(inFlight > 0, 'the interruption left trials in flight');
      const second = await drive(makers[kind]!(7), 100, order, { store: first.store });
      assert.equal(second.summary.resumed, inFlight);
      assert.deepEqual(second.log, full, `interrupted after ${k} results`);
      assert.equal(first.store.latestSnapshot(), undefined, 'a replayed strategy stores no snapshot');
    }
  });

  test(`${kind}: a run is not resumed with another seed, kind or space`, async () => {
    const { store } = await drive(makers[kind]!(7), 20, new Rng(9), { stopAfter: 5 });
    await assert.rejects(drive(makers[kind]!(8), 20, new Rng(9), { store }), /made by a different strategy .*differences at settings\.seed/);
    const other = kind === 'random' ? makers['evolution']!(7) : makers['random']!(7);
    await assert.rejects(drive(other, 20, new Rng(9), { store }), new RegExp(`stored: ${kind} .*given: ${other.kind}`));
    const otherSpace = new RandomSearch(SyntheticProblem.mnasLikeSpace(3), { seed: 7 });
    if (kind === 'random') await assert.rejects(drive(otherSpace, 20, new Rng(9), { store }), /differences at space/);
  });

}

for (const kind of STRATEGY_KINDS) {
  test(`${kind}: feedback validation`, () => {
    const s = createStrategy(kind, space, { seed: 1 });
    const p = s.propose() as Proposal;
    const q = s.propose() as Proposal;
    assert.equal(q.id, p.id + 1);
    assert.throws(() => s.feedback({ id: 99, dna: p.dna }, 0.5), /not pending/);
    assert.throws(() => s.feedback({ id: p.id, dna: q.dna.map((c, i) => (i === 0 ? (c + 1) % 4 : c)) }, 0.5), /does not match/);
    assert.throws(() => s.feedback(p, Number.NaN), /finite/);
    s.feedback(q, 0.5);
    assert.throws(() => s.feedback(q, 0.5), /not pending/);
    assert.deepEqual(s.pending().map((x) => x.id), [p.id]);
    (s as Partial<PpoSearch>).dispose?.();
  });
}

test('registry creates strategies by kind', () => {
  assert.deepEqual([...STRATEGY_KINDS].sort(), ['evolution', 'ppo', 'random']);
  for (const kind of STRATEGY_KINDS) {
    const s = createStrategy(kind, space, { seed: 1 });
    assert.equal(s.kind, kind);
    (s as Partial<PpoSearch>).dispose?.();
  }
  const e = createStrategy('evolution', space, { seed: 3, populationSize: 5, sampleSize: 2 });
  assert.equal(e.kind, 'evolution');
  assert.throws(() => createStrategy('nope', space, { seed: 1 }), /unknown strategy 'nope'/);
  assert.throws(() => new RegularizedEvolution(space, { seed: 1, populationSize: 4, sampleSize: 5 }), /sampleSize/);
});

test('every strategy refuses options it does not know', () => {
  assert.throws(() => createStrategy('random', space, { seed: 1, bogus: 1 }), /random: unknown option\(s\) bogus \(known: none\)/);
  assert.throws(() => createStrategy('evolution', space, { seed: 1, populationsize: 5 }), /evolution: unknown option\(s\) populationsize \(known: populationSize, sampleSize\)/);
  assert.throws(() => createStrategy('evolution', space, { seed: 1, populationSize: 'x' }), /must be numbers/);
});

test('mutateOneDecision changes exactly one decision to a different choice, uniformly', () => {
  const rng = new Rng(3);
  const counts = new Map<string, number>();
  const dna = randomDna(space, rng);
  for (let i = 0; i < 20000; i++) {
    const child = mutateOneDecision(space, dna, rng);
    const diff = child.map((c, j) => (c !== dna[j] ? j : -1)).filter((j) => j >= 0);
    assert.equal(diff.length, 1);
    const j = diff[0]!;
    assert.ok(child[j]! >= 0 && child[j]! < space.decisions()[j]!.count);
    counts.set(`${j}`, (counts.get(`${j}`) ?? 0) + 1);
  }
  const expected = 20000 / space.decisions().length;
  for (const v of counts.values()) assert.ok(Math.abs(v - expected) < expected * 0.2);
  const fixed = { decisions: () => [{ label: 'x', count: 1 }] };
  assert.deepEqual(mutateOneDecision(fixed, [0], rng), [0]);
});

test('tournamentSelect and ageOut', () => {
  const rng = new Rng(1);
  const pop = [0.1, 0.9, 0.5, 0.3].map((reward, id) => ({ id, reward }));
  assert.equal(tournamentSelect(pop, 200, rng).id, 1);
  const picks = new Set(Array.from({ length: 200 }, () => tournamentSelect(pop, 1, rng).id));
  assert.equal(picks.size, 4);
  const arr = [1, 2, 3, 4, 5];
  assert.deepEqual(ageOut(arr, 3), [1, 2]);
  assert.deepEqual(arr, [3, 4, 5]);
});

test('evolution: initial population is random, then children are one-mutation offspring of members', () => {
  const e = new RegularizedEvolution(space, { seed: 11, populationSize: 6, sampleSize: 2 });
  for (let i = 0; i < 6; i++) {
    const p = e.propose();
    e.feedback(p, problem.reward(cfg, p.dna));
  }
  for (let i = 0; i < 50; i++) {
    const members = e.members();
    assert.equal(members.length, 6);
    const p = e.propose();
    const parents = members.filter((m) => m.dna.filter((c, j) => c !== p.dna[j]).length === 1);
    assert.ok(parents.length >= 1, 'child must differ from some member in exactly one decision');
    e.feedback(p, problem.reward(cfg, p.dna));
    const after = e.members();
    assert.equal(after[after.length - 1]!.id, p.id); // newest appended
    assert.equal(after[0]!.id, members[1]!.id); // oldest aged out
  }
});
