/**
 * Batch norm in training trains with mnas's fused batch norm and ReLU (native/batch_norm.cc); the
 * float64 finite-difference checks are in gradcheck.test.ts. Here: in float32 at the sizes a
 * search trains, the same outputs, gradients and running statistics as libtorch's batch norm
 * followed by its ReLU (MNAS_BATCHNORM=aten), on one thread and two, and the calls that keep
 * libtorch's path.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { add, batchNorm, manualSeed, mul, ones, rand, randn, setNumThreads, sum, tidy, zeroGrad, zeros, type Tensor } from './index.js';
import { maxRelativeDifference } from './testing.js';

afterEach(() => {
  delete process.env.MNAS_BATCHNORM;
  setNumThreads(1);
});

interface Outcome {
  y: Float32Array;
  gradX: Float32Array;
  gradWeight: Float32Array;
  gradBias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

function run(x: Tensor, w: Tensor, b: Tensor, r: Tensor, relu: boolean, path: 'own' | 'aten'): Outcome {
  if (path === 'aten') process.env.MNAS_BATCHNORM = 'aten';
  else delete process.env.MNAS_BATCHNORM;
  const c = x.shape[1]!;
  const runningMean = zeros([c]);
  const runningVar = ones([c]);
  zeroGrad([x, w, b]);
  const y = tidy(() => {
    const out = batchNorm(x, w, b, runningMean, runningVar, true, 0.1, 1e-5, { relu });
    sum(mul(out, r)).backward();
    return out.toFloat32Array();
  });
  const o = { y, gradX: x.grad!.toFloat32Array(), gradWeight: w.grad!.toFloat32Array(), gradBias: b.grad!.toFloat32Array(), runningMean: runningMean.toFloat32Array(), runningVar: runningVar.toFloat32Array() };
  runningMean.dispose();
  runningVar.dispose();
  return o;
}

const cases = [
  { shape: [128, 24, 14, 14], layout: 'contiguous' },
  { shape: [128, 48, 7, 7], layout: 'channels_last' },
  { shape: [32, 40, 28, 28], layout: 'contiguous' },
  { shape: [16, 72, 4, 4], layout: 'channels_last' },
  { shape: [5, 3, 2, 3], layout: 'contiguous' },
] as const;

for (const threads of [1, 2]) {
  test(`float32 batch norm in training agrees with libtorch's, with and without the ReLU (${threads} thread${threads > 1 ? 's' : ''})`, () => {
    setNumThreads(threads);
    for (const { shape, layout } of cases) {
      for (const relu of [false, true]) {
        const label = `${shape.join('x')} ${layout} relu ${relu}`;
        manualSeed(7);
        // a channel mean well away from zero, as convolution outputs have
        const x = tidy(() => add(mul(randn([...shape]), 2), 0.5).contiguous(layout));
        x.requiresGrad = true;
        const w = tidy(() => add(rand([shape[1]]), 0.5));
        w.requiresGrad = true;
        const b = tidy(() => mul(randn([shape[1]]), 0.3));
        b.requiresGrad = true;
        const r = randn([...shape]).contiguous(layout);
        const own = run(x, w, b, r, relu, 'own');
        const aten = run(x, w, b, r, relu, 'aten');
        assert.ok(maxRelativeDifference(own.y, aten.y) < 1e-5, `${label}: outputs differ by ${maxRelativeDifference(own.y, aten.y)}`);
        // where the ReLU's input is within rounding of zero the two may gate differently: those elements are left out
        const clearly = (i: number) => !relu || aten.y[i]! > 1e-4 || (own.y[i] === 0 && aten.y[i] === 0);
        assert.ok(maxRelativeDifference(own.gradX, aten.gradX, clearly) < 1e-4, `${label}: input gradients differ by ${maxRelativeDifference(own.gradX, aten.gradX, clearly)}`);
        for (const k of ['gradWeight', 'gradBias', 'runningMean', 'runningVar'] as const) {
          assert.ok(maxRelativeDifference(own[k], aten[k]) < 1e-4, `${label}: ${k} differs by ${maxRelativeDifference(own[k], aten[k])}`);
        }
        if (relu) assert.ok(own.y.every((v) => v >= 0), `${label}: the ReLU applied`);
        for (const t of [x, w, b, r]) t.dispose();
      }
    }
  });
}

test('the fused path is taken: its float32 output is not bit-identical to libtorch\'s', () => {
  manualSeed(3);
  const x = randn([64, 32, 14, 14]).contiguous('channels_last');
  x.requiresGrad = true;
  const w = ones([32]);
  w.requiresGrad = true;
  const b = zeros([32]);
  b.requiresGrad = true;
  const r = randn([64, 32, 14, 14]).contiguous('channels_last');
  const own = run(x, w, b, r, true, 'own');
  const aten = run(x, w, b, r, true, 'aten');
  assert.ok(own.y.some((v, i) => v !== aten.y[i]), 'the two paths gave bit-identical outputs: is the fused path used?');
  for (const t of [x, w, b, r]) t.dispose();
});

test('calls the fused batch norm does not take keep libtorch\'s: no running statistics, evaluation, one value per channel', () => {
  manualSeed(5);
  const x = randn([4, 3, 5, 5]);
  const w = ones([3]);
  const b = zeros([3]);
  const rm = zeros([3]);
  const rv = ones([3]);
  tidy(() => {
    // without running statistics: the batch's, and the ReLU still applied
    const y = batchNorm(x, w, b, null, null, true, 0.1, 1e-5, { relu: true }).toFloat32Array();
    assert.ok(y.every((v) => v >= 0) && y.some((v) => v > 0));
    // evaluation: the running statistics, untouched
    const e = batchNorm(x, w, b, rm, rv, false, 0.1, 1e-5, { relu: true }).toFloat32Array();
    assert.ok(e.every((v) => v >= 0));
    assert.deepEqual([...rm.toFloat32Array()], [0, 0, 0]);
  });
  // a single value per channel (no batch variance): whatever libtorch does with it, bit for bit
  const one = randn([1, 3, 1, 1]);
  const viaDefault = tidy(() => batchNorm(one, w, b, zeros([3]), ones([3]), true, 0.1, 1e-5, { relu: true }).toFloat32Array());
  process.env.MNAS_BATCHNORM = 'aten';
  const viaLibtorch = tidy(() => batchNorm(one, w, b, zeros([3]), ones([3]), true, 0.1, 1e-5, { relu: true }).toFloat32Array());
  assert.deepEqual(viaDefault, viaLibtorch);
  for (const t of [x, w, b, rm, rv, one]) t.dispose();
});
