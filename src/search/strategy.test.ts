import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { RandomSearch } from './random-search.js';
import { RegularizedEvolution } from './evolution.js';
import { createStrategy, strategyKinds, type BaseStrategy } from './strategy.js';
import { mutateOneDecision, tournamentSelect, ageOut, randomDna } from './operators.js';
import { SyntheticProblem } from './synthetic.js';
import { rewardConfig } from './reward.js';
import { driveStrategy } from './fixtures/drive.js';

const space = SyntheticProblem.mnasLikeSpace(2);
const problem = new SyntheticProblem(space, { seed: 5 });
const cfg = rewardConfig('soft', problem.suggestedTargetMs());

const makers: Record<string, (seed: number) => BaseStrategy> = {
  random: (seed) => new RandomSearch(space, { seed }),
  evolution: (seed) => new RegularizedEvolution(space, { seed, populationSize: 8, sampleSize: 3 }),
};

/** The shared concurrent driver, scored on this file's synthetic problem. */
function drive(s: BaseStrategy, steps: number, order: Rng, width = 3, log: string[] = [], stopAt = Infinity): string[] {
  return driveStrategy(s, (dna) => problem.reward(cfg, dna), steps, order, width, log, stopAt);
}

for (const kind of Object.keys(makers)) {
  test(`${kind}: same seed -> same proposals; different seed -> different`, () => {
    const a = drive(makers[kind]!(42), 200, new Rng(1));
    const b = drive(makers[kind]!(42), 200, new Rng(1));
    const c = drive(makers[kind]!(43), 200, new Rng(1));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test(`${kind}: restore from a snapshot continues the exact stream`, () => {
    for (const k of [0, 1, 5, 17, 60, 133]) {
      const order = new Rng(9);
      const full = drive(makers[kind]!(7), 200, order);
      const o2 = new Rng(9);
      const first = makers[kind]!(7);
      const log = drive(first, 200, o2, 3, [], k);
      const snap = JSON.parse(JSON.stringify(first.state())); // through JSON, as stored
      const second = makers[kind]!(12345); // different seed: everything must come from the snapshot
      second.restore(snap);
      assert.deepEqual(second.pending(), first.pending());
      drive(second, 200 - k, o2, 3, log);
      assert.deepEqual(log, full, `snapshot at event ${k}`);
    }
  });

  test(`${kind}: feedback validation`, () => {
    const s = makers[kind]!(1);
    const p = s.propose();
    const q = s.propose();
    assert.equal(q.id, p.id + 1);
    assert.throws(() => s.feedback({ id: 99, dna: p.dna }, 0.5), /not pending/);
    assert.throws(() => s.feedback({ id: p.id, dna: q.dna.map((c, i) => (i === 0 ? (c + 1) % 4 : c)) }, 0.5), /does not match/);
    assert.throws(() => s.feedback(p, Number.NaN), /finite/);
    s.feedback(q, 0.5);
    assert.throws(() => s.feedback(q, 0.5), /not pending/);
    assert.deepEqual(s.pending().map((x) => x.id), [p.id]);
    const other = kind === 'random' ? makers['evolution']!(1) : makers['random']!(1);
    assert.throws(() => other.restore(s.state()), /snapshot is of a/);
    const otherSpace = new RandomSearch(SyntheticProblem.mnasLikeSpace(3), { seed: 1 });
    if (kind === 'random') assert.throws(() => otherSpace.restore(s.state()), /different search space/);
  });
}

test('registry creates strategies by kind', () => {
  assert.ok(strategyKinds().includes('random') && strategyKinds().includes('evolution'));
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
