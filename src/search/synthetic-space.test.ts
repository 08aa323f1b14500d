import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getSpace } from '../space/space.js';
import { Rng } from '../util/rng.js';
import { rewardConfig } from './reward.js';
import { costModelLatency, macsOf, syntheticProblemForSpace } from './synthetic-space.js';

test('separable cost-model latency tracks MACs at the default arch and on samples', () => {
  const space = getSpace('fmnist');
  const lat = costModelLatency(space, { seed: 0, macsPerMs: 1e6 });
  const problem = syntheticProblemForSpace(space, { seed: 0, macsPerMs: 1e6 });
  // random samples: the linearisation keeps the ordering by MACs largely intact
  const rng = new Rng(1);
  const xs: number[] = [], ys: number[] = [];
  const errors: number[] = [];
  for (let i = 0; i < 60; i++) {
    const d = space.sample(rng);
    xs.push(macsOf(space, d));
    ys.push(problem.latencyMs(d));
    errors.push(Math.abs(ys[i]! - xs[i]! / 1e6) / (xs[i]! / 1e6));
  }
  errors.sort((a, b) => a - b);
  assert.ok(errors[30]! < 0.3, `median relative error ${errors[30]}`);
  let concordant = 0, pairs = 0;
  for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) {
    pairs++;
    if (Math.sign(xs[i]! - xs[j]!) === Math.sign(ys[i]! - ys[j]!)) concordant++;
  }
  assert.ok(concordant / pairs > 0.75, `concordance ${concordant / pairs}`);
  assert.equal(lat.ticks.length, space.decisions().length);
});

test('the optimum is exact: no random sample beats it', () => {
  const space = getSpace('fmnist');
  const problem = syntheticProblemForSpace(space, { seed: 3 });
  const cfg = rewardConfig('soft', problem.latencyMs(space.defaultDna()));
  const opt = problem.optimum(cfg);
  assert.ok(Math.abs(problem.reward(cfg, opt.dna) - opt.reward) < 1e-12);
  const rng = new Rng(9);
  for (let i = 0; i < 2000; i++) assert.ok(problem.reward(cfg, space.sample(rng)) <= opt.reward + 1e-12);
});
