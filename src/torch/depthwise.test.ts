/**
 * Depthwise convolutions train with mnas's own weight gradient for kernels 5 and 7 wide, and with
 * stride 1 take the input gradient from the forward kernel with the kernel turned
 * (native/depthwise_conv.cc); the float64 finite-difference checks are in gradcheck.test.ts.
 * Here: in float32 at the sizes a search trains, the same gradients as libtorch's
 * (MNAS_DEPTHWISE=aten), and the cases that keep libtorch's path.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { conv2d, manualSeed, mul, noGrad, randn, setNumThreads, sum, tidy, zeroGrad, type Tensor } from './index.js';
import { maxRelativeDifference } from './testing.js';

setNumThreads(1);

afterEach(() => {
  delete process.env.MNAS_DEPTHWISE;
});

interface Case {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly k: number;
  readonly stride: number;
}

/** The gradients of sum(conv(x, w) * r) with respect to x and w, with the given weight-gradient path. */
function gradients(x: Tensor, w: Tensor, r: Tensor, k: number, stride: number, path: 'own' | 'aten'): [Float32Array, Float32Array] {
  if (path === 'aten') process.env.MNAS_DEPTHWISE = 'aten';
  else delete process.env.MNAS_DEPTHWISE;
  zeroGrad([x, w]);
  tidy(() => sum(mul(conv2d(x, w, null, { stride, padding: k >> 1, groups: x.shape[1] }), r)).backward());
  return [x.grad?.toFloat32Array() ?? new Float32Array(0), w.grad!.toFloat32Array()];
}

/**
 * Both paths on the same x (its layout as given), w and r: the weight gradients agree to 1e-5 of
 * the largest; the input gradients too with stride 1, and exactly with stride 2 (libtorch's in
 * both). Returns both paths' gradients.
 */
function compareWithLibtorch(x: Tensor, k: number, stride: number, label: string): { own: Float32Array; aten: Float32Array; ownX: Float32Array; atenX: Float32Array } {
  const c = x.shape[1]!;
  const w = randn([c, 1, k, k]);
  x.requiresGrad = true;
  w.requiresGrad = true;
  const r = noGrad(() => randn(conv2d(x, w, null, { stride, padding: k >> 1, groups: c }).shape));
  const [ownX, own] = gradients(x, w, r, k, stride, 'own');
  const [atenX, aten] = gradients(x, w, r, k, stride, 'aten');
  assert.ok(maxRelativeDifference(own, aten) < 1e-5, `${label}: weight gradients differ by ${maxRelativeDifference(own, aten)}`);
  if (stride === 1) assert.ok(maxRelativeDifference(ownX, atenX) < 1e-5, `${label}: input gradients differ by ${maxRelativeDifference(ownX, atenX)}`);
  else assert.deepEqual(ownX, atenX, `${label}: the input gradient is libtorch's in both paths`);
  return { own, aten, ownX, atenX };
}


test('depthwise weight and input gradients match libtorch in float32 at the sizes a search trains', () => {
  const cases: Case[] = [
    { n: 32, c: 24, h: 28, w: 28, k: 5, stride: 1 },
    { n: 32, c: 16, h: 28, w: 28, k: 7, stride: 2 },
    { n: 16, c: 40, h: 14, w: 14, k: 5, stride: 2 },
    { n: 16, c: 48, h: 7, w: 7, k: 7, stride: 1 },
    { n: 8, c: 8, h: 4, w: 4, k: 5, stride: 1 },
    { n: 32, c: 24, h: 28, w: 28, k: 3, stride: 1 },
    { n: 16, c: 40, h: 7, w: 7, k: 3, stride: 1 },
  ];
  for (const { n, c, h, w: width, k, stride } of cases) {
    tidy(() => {
      manualSeed(3);
      const { own, ownX } = compareWithLibtorch(randn([n, c, h, width]), k, stride, `${n}x${c}x${h}x${width} k${k} s${stride}`);
      assert.ok(own.some((v) => v !== 0) && ownX.some((v) => v !== 0));
    });
  }
});

test('the two paths are distinguishable: a wrong gradient from either would show', () => {
  // guards the test above against comparing one path with itself: the env var must reach the addon
  tidy(() => {
    manualSeed(4);
    const { own, aten } = compareWithLibtorch(randn([4, 8, 9, 9]), 5, 1, '4x8x9x9 k5 s1');
    assert.notDeepEqual(own, aten, 'bit-identical results: both calls took the same path');
  });
});

test('channels_last inputs (what training hands on here) get the same gradients as libtorch', () => {
  for (const [k, stride] of [[5, 1], [7, 1], [5, 2], [3, 1]] as const) {
    tidy(() => {
      manualSeed(5);
      const x = randn([6, 40, 13, 13]).contiguous('channels_last');
      assert.ok(!x.isContiguous() && x.isContiguous('channels_last'));
      const { own, aten, ownX, atenX } = compareWithLibtorch(x, k, stride, `channels_last k${k} s${stride}`);
      // oneDNN's strided kernels sum in the same order as ours here (bit-identical); its stride-1 ones do not
      if (stride === 1 && k !== 3) assert.notDeepEqual(own, aten, `k${k} s${stride}: bit-identical weight gradients, both calls took the same path`);
      if (stride === 1) assert.notDeepEqual(ownX, atenX, `k${k} s${stride}: bit-identical input gradients, both calls took the same path`);
    });
  }
});

test('the input gradient with stride 1 keeps the input layout and works with any padding and output-gradient layout', () => {
  tidy(() => {
    manualSeed(7);
    // padding 0 (a smaller output) and an NCHW output gradient against a channels_last input
    const x = randn([3, 8, 9, 9]).contiguous('channels_last');
    const w = randn([8, 1, 3, 3]);
    x.requiresGrad = true;
    w.requiresGrad = true;
    const r = randn([3, 8, 7, 7]);
    const gradOf = (path: 'own' | 'aten'): Tensor => {
      if (path === 'aten') process.env.MNAS_DEPTHWISE = 'aten';
      else delete process.env.MNAS_DEPTHWISE;
      zeroGrad([x, w]);
      const y = conv2d(x, w, null, { padding: 0, groups: 8 });
      assert.deepEqual(y.shape, [3, 8, 7, 7]);
      sum(mul(y, r)).backward();
      return x.grad!;
    };
    const own = gradOf('own');
    assert.deepEqual(own.shape, [3, 8, 9, 9]);
    assert.ok(own.isContiguous('channels_last'), 'the input gradient keeps the input layout');
    const ownValues = own.toFloat32Array();
    const aten = gradOf('aten').toFloat32Array();
    assert.ok(maxRelativeDifference(ownValues, aten) < 1e-5, `input gradients differ by ${maxRelativeDifference(ownValues, aten)}`);
  });
});

test('inference keeps libtorch’s forward pass: the same outputs with and without gradients', () => {
  tidy(() => {
    manualSeed(6);
    const x = randn([4, 8, 10, 10]);
    const w = randn([8, 1, 5, 5]);
    w.requiresGrad = true;
    const inference = noGrad(() => conv2d(x, w, null, { padding: 2, groups: 8 }).toFloat32Array());
    const training = conv2d(x, w, null, { padding: 2, groups: 8 }).toFloat32Array();
    assert.deepEqual(inference, training);
  });
});
