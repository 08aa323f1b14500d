/**
 * Learning-rate schedules (warm-up, cosine, exponential) and optimizer behaviour beyond the
 * torch.optim trajectories of parity.test.ts: hand-computed single steps, state, validation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Adam, clipGradNorm, constantSchedule, cosineSchedule, exponentialSchedule, float64Tensor, liveTensors, mul, RMSprop, SGD, sum,
  tensor, tidy,
} from './index.js';
import { assertClose } from './testing.js';

test('linear warm-up then constant', () => {
  const s = constantSchedule({ baseLr: 0.4, totalSteps: 100, warmupSteps: 4 });
  assert.deepEqual([0, 1, 2, 3, 4, 50, 99].map(s), [0.1, 0.2, 0.30000000000000004, 0.4, 0.4, 0.4, 0.4]);
  const w = constantSchedule({ baseLr: 1, totalSteps: 10, warmupSteps: 2, warmupStartLr: 0.5 });
  assert.deepEqual([0, 1, 2].map(w), [0.75, 1, 1]);
});

test('cosine decay after warm-up reaches finalLr at totalSteps and stays there', () => {
  const s = cosineSchedule({ baseLr: 1, totalSteps: 110, warmupSteps: 10, finalLr: 0.1 });
  assert.equal(s(9), 1, 'end of warm-up');
  assert.equal(s(10), 1, 'cosine starts at baseLr');
  assertClose([s(60)], [0.55], 'halfway', 1e-12, 1e-12);
  assertClose([s(35)], [0.1 + 0.45 * (1 + Math.cos(Math.PI / 4))], 'quarter', 1e-12, 1e-12);
  assertClose([s(110), s(500)], [0.1, 0.1], 'end', 1e-12, 1e-12);
  for (let t = 11; t < 110; t++) assert.ok(s(t) < s(t - 1), `monotone at ${t}`);
  const plain = cosineSchedule({ baseLr: 2, totalSteps: 4 });
  assertClose([0, 1, 2, 3, 4].map(plain), [2, 1 + Math.SQRT1_2, 1, 1 - Math.SQRT1_2, 0], 'no warm-up', 1e-12, 1e-12);
});

test('exponential decay: staircase (the MnasNet 0.97 every 2.4 epochs) and smooth', () => {
  const stair = exponentialSchedule({ baseLr: 0.256, totalSteps: 1000, rate: 0.97, decaySteps: 24, warmupSteps: 5 });
  assert.equal(stair(4), 0.256);
  assert.equal(stair(5), 0.256);
  assert.equal(stair(5 + 23), 0.256);
  assertClose([stair(5 + 24), stair(5 + 48 + 3)], [0.256 * 0.97, 0.256 * 0.97 ** 2], 'staircase', 1e-12, 0);
  const smooth = exponentialSchedule({ baseLr: 1, totalSteps: 100, rate: 0.5, decaySteps: 10, staircase: false });
  assertClose([smooth(5), smooth(10), smooth(30)], [Math.SQRT1_2, 0.5, 0.125], 'smooth', 1e-12, 0);
});

test('schedules reject bad options', () => {
  assert.throws(() => cosineSchedule({ baseLr: -1, totalSteps: 10 }), /baseLr/);
  assert.throws(() => cosineSchedule({ baseLr: 1, totalSteps: 0 }), /totalSteps/);
  assert.throws(() => constantSchedule({ baseLr: 1, totalSteps: 10, warmupSteps: 1.5 }), /warmupSteps/);
  assert.throws(() => exponentialSchedule({ baseLr: 1, totalSteps: 10, rate: 1.5, decaySteps: 1 }), /rate/);
  assert.throws(() => exponentialSchedule({ baseLr: 1, totalSteps: 10, rate: 0.5, decaySteps: 0 }), /decaySteps/);
});

/** One step on loss = sum(c * p^2) (grad 2cp) from p = [1, -2]. */
function oneStep(make: (p: ReturnType<typeof float64Tensor>[]) => { step(lr: number): void; dispose(): void }, lr: number, steps = 1): number[] {
  const p = float64Tensor([1, -2], [2], { requiresGrad: true }).keep();
  const opt = make([p]);
  for (let i = 0; i < steps; i++) {
    tidy(() => {
      (opt as unknown as { zeroGrad(): void }).zeroGrad();
      sum(mul(mul(p, p), 1.5)).backward();
    });
    opt.step(lr);
  }
  const out = [...p.toFloat64Array()];
  opt.dispose();
  p.dispose();
  return out;
}

test('single steps equal the update formulas (float64 parameters keep float64 state)', () => {
  const before = liveTensors();
  const g = (p: number) => 3 * p;
  // SGD with weight decay: p - lr * (g + wd p)
  assertClose(oneStep((ps) => new SGD(ps, { weightDecay: 0.1 }), 0.1), [1, -2].map((p) => p - 0.1 * (g(p) + 0.1 * p)), 'sgd', 1e-15, 0);
  // Nesterov, first step: buf = g; d = g + m * buf
  assertClose(oneStep((ps) => new SGD(ps, { momentum: 0.9, nesterov: true }), 0.1), [1, -2].map((p) => p - 0.1 * 1.9 * g(p)), 'nesterov', 1e-15, 0);
  // TF RMSProp, first step: ms = 0.9 + 0.1 g^2, mom = lr g / sqrt(ms + eps)
  assertClose(
    oneStep((ps) => new RMSprop(ps, { tfStyle: true, momentum: 0.9 }), 0.05),
    [1, -2].map((p) => p - (0.05 * g(p)) / Math.sqrt(0.9 + 0.1 * g(p) ** 2 + 1e-3)),
    'tf rmsprop',
    1e-15,
    0,
  );
  // torch RMSprop, first step: sq = (1 - alpha) g^2, p - lr g / (sqrt(sq) + eps)
  assertClose(oneStep((ps) => new RMSprop(ps, {}), 0.01), [1, -2].map((p) => p - (0.01 * g(p)) / (Math.sqrt(0.01 * g(p) ** 2) + 1e-8)), 'rmsprop', 1e-15, 0);
  // Adam, first step: p - lr * sign-ish m_hat / (sqrt(v_hat) + eps) = p - lr g / (|g| + eps)
  assertClose(oneStep((ps) => new Adam(ps), 0.1), [1, -2].map((p) => p - (0.1 * g(p)) / (Math.abs(g(p)) + 1e-8)), 'adam', 1e-14, 0);
  // AdamW decays the weights directly
  assertClose(oneStep((ps) => new Adam(ps, { weightDecay: 0.5, decoupledWeightDecay: true }), 0.1), [1, -2].map((p) => p * (1 - 0.05) - (0.1 * g(p)) / (Math.abs(g(p)) + 1e-8)), 'adamw', 1e-14, 0);
  assert.equal(liveTensors(), before);
  const p = float64Tensor([1], [1], { requiresGrad: true }).keep();
  const opt = new Adam([p]);
  assert.ok([...opt.stateTensors().values()].every((t) => t.dtype === 'float64'));
  opt.dispose();
  p.dispose();
});

test('optimizers validate options and learning rates; parameters without a gradient are left alone', () => {
  const p = tensor([1, 2], [2], { requiresGrad: true }).keep();
  const q = tensor([3], [1], { requiresGrad: true }).keep();
  try {
    assert.throws(() => new SGD([]), /no parameters/);
    assert.throws(() => new SGD([p], { nesterov: true }), /Nesterov/);
    assert.throws(() => new RMSprop([p], { alpha: 1 }), /alpha/);
    assert.throws(() => new Adam([p], { beta1: 1 }), /beta1/);
    const opt = new SGD([p, q], { momentum: 0.5 });
    assert.throws(() => opt.step(Number.NaN), /learning rate/);
    assert.throws(() => opt.step(-1), /learning rate/);
    tidy(() => sum(mul(p, 2)).backward());
    opt.step(0.5);
    assert.deepEqual([...p.toFloat32Array()], [0, 1]);
    assert.deepEqual([...q.toFloat32Array()], [3], 'no grad, no update');
    assert.equal(opt.steps, 1);
    assert.equal(opt.stateTensors().size, 2);
    opt.zeroGrad();
    assert.equal(p.grad, null);
    opt.dispose();
    // clipping: global norm of [3, 4] is 5
    tidy(() => sum(mul(p, tensor([3, 4]))).backward());
    assert.equal(clipGradNorm([p, q], 1), 5);
    tidy(() => assertClose(p.grad!.toFloat32Array(), [0.6, 0.8], 'clipped', 1e-5, 0));
  } finally {
    p.dispose();
    q.dispose();
  }
});
