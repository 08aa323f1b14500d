import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../util/rng.js';
import { expectedTopPick, trialsFor, type PoolItem } from './budget-pick.js';

/** Every n-subset of the pool, the proxy's first choice in each (ties shared equally). */
function bruteForce(pool: readonly PoolItem[], n: number): number {
  let total = 0;
  let subsets = 0;
  const visit = (start: number, chosen: PoolItem[]): void => {
    if (chosen.length === n) {
      const best = Math.max(...chosen.map((x) => x.proxy));
      const top = chosen.filter((x) => x.proxy === best);
      total += top.reduce((s, x) => s + x.final, 0) / top.length;
      subsets++;
      return;
    }
    for (let i = start; i < pool.length; i++) visit(i + 1, [...chosen, pool[i]!]);
  };
  visit(0, []);
  return total / subsets;
}

test('one draw is a random pick; the whole pool is the proxy’s favourite', () => {
  const pool = [
    { proxy: 0.3, final: 0.9 },
    { proxy: 0.2, final: 0.8 },
    { proxy: 0.1, final: 0.95 },
  ];
  assert.ok(Math.abs(expectedTopPick(pool, 1) - (0.9 + 0.8 + 0.95) / 3) < 1e-12);
  assert.ok(Math.abs(expectedTopPick(pool, 2) - ((2 / 3) * 0.9 + (1 / 3) * 0.8)) < 1e-12);
  assert.equal(expectedTopPick(pool, 3), 0.9);
  assert.equal(expectedTopPick(pool, 50), 0.9, 'more draws than the pool holds: all of it');
});

test('matches every subset enumerated, with ties and duplicates (a bootstrap resample)', () => {
  const rng = new Rng(7);
  for (let round = 0; round < 30; round++) {
    const size = 2 + rng.int(8);
    const pool = Array.from({ length: size }, () => ({ proxy: rng.int(4) / 4, final: rng.next() }));
    for (let n = 1; n <= size; n++) {
      const exact = expectedTopPick(pool, n);
      const enumerated = bruteForce(pool, n);
      assert.ok(Math.abs(exact - enumerated) < 1e-12, `size ${size} n ${n}: ${exact} vs ${enumerated}`);
    }
  }
});

test('bad draws are refused', () => {
  assert.throws(() => expectedTopPick([], 1), /empty pool/);
  assert.throws(() => expectedTopPick([{ proxy: 1, final: 1 }], 0), /at least one/);
});

test('a budget pays for whole trials, at least one, and says when the pool runs out', () => {
  assert.deepEqual(trialsFor(100, 30, 20), { n: 3, exhausted: false });
  assert.deepEqual(trialsFor(10, 30, 20), { n: 1, exhausted: false });
  assert.deepEqual(trialsFor(300, 10, 20), { n: 20, exhausted: true });
  assert.deepEqual(trialsFor(200, 10, 20), { n: 20, exhausted: false });
  assert.deepEqual(trialsFor(0.3 * 3, 0.3, 20), { n: 3, exhausted: false }, 'floating-point budgets still pay for exact multiples');
});
