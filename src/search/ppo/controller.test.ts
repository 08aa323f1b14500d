import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam, liveTensors, noGrad, tensor, tidy } from '../../torch/index.js';
import { Rng } from '../../util/rng.js';
import { Controller, pick } from './controller.js';
import { EmaBaseline, ppoLoss, ppoUpdate, type PpoSettings } from './ppo.js';

const choiceCounts = [4, 2, 2, 3, 3, 3, 4, 2];

test('controller: paper shapes, every weight in U[-0.1, 0.1], seeded initial weights', () => {
  const c = new Controller({ choiceCounts, seed: 3 });
  const total = choiceCounts.reduce((a, b) => a + b, 0);
  const h = 100;
  // LSTM (4h x (e + h) weights + two 4h biases) + start + embeddings + heads (weights and biases)
  assert.equal(c.parameterCount(), 4 * h * (h + h) + 8 * h + h + total * h + total * h + total);
  for (const [name, p] of c.namedParameters()) {
    const v = p.toFloat32Array();
    assert.ok(v.every((x) => x >= -0.1 && x <= 0.1), `${name} outside [-0.1, 0.1]`);
    assert.ok(Math.max(...v.map(Math.abs)) > 0.09, `${name} does not span the range`);
  }
  const same = new Controller({ choiceCounts, seed: 3 });
  const other = new Controller({ choiceCounts, seed: 4 });
  const w = (m: Controller) => m.namedParameters().map(([n, p]) => [n, Array.from(p.toFloat32Array())]);
  assert.deepEqual(w(same), w(c));
  assert.notDeepEqual(w(other), w(c));
  for (const m of [c, same, other]) m.dispose();
  assert.throws(() => new Controller({ choiceCounts: [], seed: 1 }), /at least one decision/);
  assert.throws(() => new Controller({ choiceCounts: [2, 0], seed: 1 }), /decision 1/);
  assert.throws(() => new Controller({ choiceCounts, seed: -1 }), /seed/);
});

test('controller: sampled log-probabilities equal the teacher-forced pass; initial policy is near uniform', () => {
  const c = new Controller({ choiceCounts, seed: 1 });
  const rng = new Rng(5);
  const samples = Array.from({ length: 16 }, () => c.sample(() => rng.next()));
  for (const s of samples) {
    assert.equal(s.dna.length, choiceCounts.length);
    s.dna.forEach((x, i) => assert.ok(Number.isInteger(x) && x >= 0 && x < choiceCounts[i]!));
  }
  const { lp, ent } = tidy(() =>
    noGrad(() => {
      const ev = c.evaluate(samples.map((s) => s.dna));
      assert.deepEqual(ev.logProbs.shape, [16, choiceCounts.length]);
      return { lp: ev.logProbs.toFloat32Array(), ent: ev.entropies.toFloat32Array() };
    }),
  );
  samples.forEach((s, b) => s.logProbs.forEach((v, i) => assert.ok(Math.abs(v - lp[b * choiceCounts.length + i]!) < 1e-5, `sample ${b} decision ${i}`)));
  // weights in U[-0.1, 0.1]: every softmax is close to uniform
  for (let b = 0; b < 16; b++) choiceCounts.forEach((k, i) => assert.ok(Math.abs(ent[b * choiceCounts.length + i]! - Math.log(k)) < 0.02));
  assert.throws(() => c.evaluate([[0, 0]]), /has 2 entries/);
  assert.throws(() => c.evaluate([choiceCounts.map((k) => k)]), /outside \[0, 4\)/);
  c.dispose();
});

test('pick: inverse CDF over log-probabilities', () => {
  const lp = [Math.log(0.2), Math.log(0.5), Math.log(0.3)];
  assert.equal(pick(lp, 0), 0);
  assert.equal(pick(lp, 0.1999), 0);
  assert.equal(pick(lp, 0.2001), 1);
  assert.equal(pick(lp, 0.6999), 1);
  assert.equal(pick(lp, 0.7001), 2);
  assert.equal(pick(lp, 0.99999999), 2);
  assert.equal(pick([0], 0.5), 0);
});

test('controller: sampling frequencies follow the softmax', () => {
  const c = new Controller({ choiceCounts: [3], seed: 2, initRange: 2 }); // large weights: a skewed softmax
  const rng = new Rng(1);
  const counts = [0, 0, 0];
  let lp: number[] = [];
  for (let n = 0; n < 3000; n++) {
    const s = c.sample(() => rng.next());
    counts[s.dna[0]!]!++;
    lp[s.dna[0]!] = s.logProbs[0]!;
  }
  lp = lp.map((v) => Math.exp(v));
  counts.forEach((n, k) => assert.ok(Math.abs(n / 3000 - lp[k]!) < 0.03, `choice ${k}: ${n / 3000} vs p ${lp[k]}`));
  c.dispose();
});

test('EmaBaseline: starts at the first reward, then decays at 0.95', () => {
  const b = new EmaBaseline(0.95);
  assert.equal(b.value, undefined);
  assert.equal(b.advantage(0.5), 0);
  assert.equal(b.value, 0.5);
  assert.ok(Math.abs(b.advantage(0.7) - 0.2) < 1e-15);
  assert.ok(Math.abs(b.value! - (0.95 * 0.5 + 0.05 * 0.7)) < 1e-15);
  assert.throws(() => new EmaBaseline(1), /decay/);
});

test('ppoLoss: clipped surrogate by hand, no gradient through clipped ratios', () => {
  const clip = 0.2;
  // ratios e^0.5 (above 1 + clip) and e^-0.5 (below 1 - clip), each with a positive and a negative advantage
  const lpv = [0.5, -0.5, 0.5, -0.5];
  const adv = [1, 1, -1, -1];
  tidy(() => {
    const lp = tensor(lpv, [4, 1], { requiresGrad: true });
    const old = tensor([0, 0, 0, 0], [4, 1]);
    const ent = tensor([1, 2, 3, 4], [4, 1]);
    const { loss } = ppoLoss(lp, ent, old, tensor(adv, [4, 1]), clip, 0.01);
    const manual = lpv.map((l, i) => {
      const r = Math.exp(l);
      const a = adv[i]!;
      return Math.min(r * a, Math.min(Math.max(r, 1 - clip), 1 + clip) * a);
    });
    const expected = -manual.reduce((s, v) => s + v, 0) / 4 - 0.01 * 2.5;
    assert.ok(Math.abs(loss.item() - expected) < 1e-6, `${loss.item()} vs ${expected}`);
    loss.backward();
    const g = lp.grad!.toFloat32Array();
    // A > 0, r > 1 + clip: clipped (0); A > 0, r < 1 - clip: unclipped; A < 0, r > 1 + clip: unclipped; A < 0, r < 1 - clip: clipped
    assert.equal(g[0], 0);
    assert.ok(Math.abs(g[1]! - -Math.exp(-0.5) / 4) < 1e-6);
    assert.ok(Math.abs(g[2]! - Math.exp(0.5) / 4) < 1e-6);
    assert.equal(g[3], 0);
  });
});

test('ppoUpdate: raises the probability of positive-advantage samples, lowers the others; no tensor leaks', () => {
  const c = new Controller({ choiceCounts, seed: 7 });
  const opt = new Adam(c.parameters());
  const rng = new Rng(2);
  const samples = Array.from({ length: 10 }, () => c.sample(() => rng.next()));
  const batch = samples.map((s, i) => ({ dna: s.dna, oldLogProbs: s.logProbs, advantage: i % 2 ? 0.1 : -0.1 }));
  const settings: PpoSettings = { clip: 0.2, entropyWeight: 1e-5, epochs: 4, learningRate: 0.00035, maxGradNorm: 0 };
  const before = liveTensors();
  const stats = ppoUpdate(c, opt, batch, settings);
  assert.equal(liveTensors(), before);
  assert.equal(opt.steps, 4);
  // first epoch: ratios are 1, so loss = -mean(A) - beta * H = -1e-5 * H
  assert.ok(Math.abs(stats.loss + 1e-5 * stats.entropy) < 1e-7, `first-epoch loss ${stats.loss}, entropy ${stats.entropy}`);
  const logProbsOf = (dnas: (readonly number[])[]) => tidy(() => noGrad(() => c.evaluate(dnas).logProbs.toFloat32Array()));
  const after = logProbsOf(samples.map((s) => s.dna));
  const delta = samples.map((s, b) => s.logProbs.reduce((a, v, i) => a + after[b * choiceCounts.length + i]! - v, 0));
  // the surrogate objective sum_b A_b log pi(dna_b) went up
  assert.ok(delta.reduce((a, d, b) => a + batch[b]!.advantage * d, 0) > 0, `log-prob changes ${delta}`);

  // two DNAs with no choice in common: the good one gains probability, the bad one loses it
  const good = choiceCounts.map(() => 0);
  const bad = choiceCounts.map(() => 1);
  const [g0, b0] = [good, bad].map((d) => logProbsOf([d]).reduce((a, v) => a + v, 0));
  const old = (d: number[]) => Array.from(logProbsOf([d]));
  ppoUpdate(c, opt, [{ dna: good, oldLogProbs: old(good), advantage: 0.05 }, { dna: bad, oldLogProbs: old(bad), advantage: -0.05 }], settings);
  const [g1, b1] = [good, bad].map((d) => logProbsOf([d]).reduce((a, v) => a + v, 0));
  assert.ok(g1! > g0! && b1! < b0!, `good ${g0} -> ${g1}, bad ${b0} -> ${b1}`);
  assert.throws(() => ppoUpdate(c, opt, [], settings), /empty minibatch/);
  opt.dispose();
  c.dispose();
});
