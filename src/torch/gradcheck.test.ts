/**
 * Gradient checks: for every differentiable op, the autograd gradient (float64) against
 * central finite differences, with tight tolerances. Inputs of non-smooth ops (relu, relu6,
 * max pooling) are kept away from their kinks and ties.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  add, argmax, avgPool2d, batchNorm, cat, conv2d, crossEntropy, div, dropout, exp, float64Tensor, globalAvgPool, int64Tensor,
  linear, liveTensors, log, logSoftmax, lstmCell, manualSeed, matmul, maxPool2d, mean, mul, permute, relu, relu6, reshape,
  setNumThreads, sigmoid, slice, softmax, sqrt, squeezeExcite, sub, sum, tanh, tidy, transpose, type Tensor,
} from './index.js';
import { gradCheck, randomArray, seededRandom, type GradInput } from './testing.js';

setNumThreads(1);
const rand = seededRandom(12345);
const EPS = 1e-5;
const TOL = { eps: EPS, rtol: 1e-6, atol: 1e-7 };

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const input = (shape: readonly number[], lo = -1, hi = 1): GradInput => ({ data: randomArray(rand, size(shape), lo, hi), shape });
const constant = (shape: readonly number[], lo = -1, hi = 1): GradInput => ({ ...input(shape, lo, hi), grad: false });
/** Values with |x| in [0.1, 1] and random signs: no element within EPS of zero. */
const awayFromZero = (shape: readonly number[]): GradInput => ({
  data: Float64Array.from({ length: size(shape) }, () => (rand() < 0.5 ? -1 : 1) * (0.1 + 0.9 * rand())),
  shape,
});
/** A random permutation of distinct values 0.01 apart: no ties for max pooling. */
const distinct = (shape: readonly number[]): GradInput => {
  const n = size(shape);
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.01);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return { data: Float64Array.from(v), shape };
};

function check(label: string, fn: (xs: Tensor[]) => Tensor, inputs: GradInput[]): void {
  const before = liveTensors();
  const n = gradCheck(label, fn, inputs, TOL);
  assert.ok(n > 0, `${label}: nothing compared`);
  assert.equal(liveTensors(), before, `${label}: gradCheck leaked tensors`);
}

test('the gradient check itself fails on a wrong gradient (negative control)', () => {
  // x * detach(x) has true derivative 2x but autograd sees only x
  assert.throws(() => gradCheck('wrong', ([x]) => mul(x!, x!.detach()), [input([5])], TOL), /d\/d input 0/);
  // and passes on the right one
  gradCheck('right', ([x]) => mul(x!, x!), [input([5])], TOL);
});

test('activations: relu, relu6, sigmoid, tanh', () => {
  check('relu', ([x]) => relu(x!), [awayFromZero([3, 7])]);
  const r6: GradInput = { data: Float64Array.from({ length: 24 }, (_, i) => [-1.3, 0.4, 2.5, 5.7, 6.4, 9][i % 6]! + 0.01 * rand()), shape: [4, 6] };
  check('relu6', ([x]) => relu6(x!), [r6]);
  check('sigmoid', ([x]) => sigmoid(x!), [input([3, 5], -3, 3)]);
  check('tanh', ([x]) => tanh(x!), [input([3, 5], -2, 2)]);
});

test('arithmetic with broadcasting: add, sub, mul, div; exp, log, sqrt; sum, mean', () => {
  check('add', ([a, b]) => add(a!, b!), [input([2, 3]), input([3])]);
  check('add scalar', ([a]) => add(a!, 0.5), [input([4])]);
  check('sub', ([a, b]) => sub(a!, b!), [input([2, 3]), input([2, 1])]);
  check('mul', ([a, b]) => mul(a!, b!), [input([2, 3]), input([2, 1])]);
  check('mul scalar', ([a]) => mul(a!, -1.5), [input([4])]);
  check('div', ([a, b]) => div(a!, b!), [input([2, 3]), input([3], 0.5, 2)]);
  check('exp', ([a]) => exp(a!), [input([5])]);
  check('log', ([a]) => log(a!), [input([5], 0.5, 2)]);
  check('sqrt', ([a]) => sqrt(a!), [input([5], 0.5, 2)]);
  check('sum dims', ([a]) => sum(a!, [1]), [input([3, 4])]);
  check('mean dims keepdim', ([a]) => mean(a!, [0, 2], true), [input([2, 3, 2])]);
});

test('matmul and linear', () => {
  check('matmul 2d', ([a, b]) => matmul(a!, b!), [input([2, 3]), input([3, 4])]);
  check('matmul batched', ([a, b]) => matmul(a!, b!), [input([2, 2, 3]), input([3, 2])]);
  check('linear', ([x, w, b]) => linear(x!, w!, b!), [input([3, 4]), input([2, 4]), input([2])]);
  check('linear no bias', ([x, w]) => linear(x!, w!, null), [input([3, 4]), input([2, 4])]);
});

test('conv2d: stride, padding, groups, depthwise, bias', () => {
  check('conv2d plain', ([x, w, b]) => conv2d(x!, w!, b!), [input([1, 2, 4, 4]), input([3, 2, 3, 3]), input([3])]);
  check('conv2d stride 2 pad 1 groups 2', ([x, w, b]) => conv2d(x!, w!, b!, { stride: 2, padding: 1, groups: 2 }), [
    input([2, 4, 5, 5]),
    input([6, 2, 3, 3]),
    input([6]),
  ]);
  check('conv2d depthwise 5x5 pad 2', ([x, w]) => conv2d(x!, w!, null, { padding: 2, groups: 3 }), [input([1, 3, 5, 5]), input([3, 1, 5, 5])]);
  // depthwise convs 5 and 7 wide with weight gradients take mnas's own kernel (native/depthwise_conv.cc):
  // odd sizes, rows wider than one vector, strides, asymmetric kernels, both layouts
  check('depthwise 5x5 stride 2, rows over two vectors', ([x, w]) => conv2d(x!, w!, null, { stride: 2, padding: 2, groups: 2 }), [
    input([2, 2, 11, 37]),
    input([2, 1, 5, 5]),
  ]);
  check('depthwise 5x5 channels_last', ([x, w]) => conv2d(x!.contiguous('channels_last'), w!, null, { padding: 2, groups: 5 }), [
    input([2, 5, 6, 7]),
    input([5, 1, 5, 5]),
  ]);
  check('depthwise 7x5 stride 2 channels_last, 9 channels (a vector and a tail)', ([x, w]) =>
    conv2d(x!.contiguous('channels_last'), w!, null, { stride: 2, padding: [3, 2], groups: 9 }), [input([1, 9, 7, 8]), input([9, 1, 7, 5])]);
  check('depthwise 5x5 stride 2 pad 2, odd size', ([x, w]) => conv2d(x!, w!, null, { stride: 2, padding: 2, groups: 3 }), [input([2, 3, 7, 9]), input([3, 1, 5, 5])]);
  check('depthwise 3x5 strides 1x2, no padding, bias', ([x, w, b]) => conv2d(x!, w!, b!, { stride: [1, 2], groups: 2 }), [
    input([1, 2, 6, 11]),
    input([2, 1, 3, 5]),
    input([2]),
  ]);
  check('depthwise 7x7 pad 3 on 2x3', ([x, w]) => conv2d(x!, w!, null, { padding: 3, groups: 2 }), [input([2, 2, 2, 3]), input([2, 1, 7, 7])]);
  check('depthwise 1x1 and 2x2 (libtorch\'s weight gradient)', ([x, w1, w2]) => add(conv2d(x!, w1!, null, { groups: 3 }), slice(slice(conv2d(x!, w2!, null, { padding: 1, groups: 3 }), 2, 0, 4), 3, 0, 4)), [
    input([1, 3, 4, 4]),
    input([3, 1, 1, 1]),
    input([3, 1, 2, 2]),
  ]);
  check('depthwise, input constant (first layer: only the weight gradient)', ([x, w]) => conv2d(x!, w!, null, { padding: 2, groups: 4 }), [
    constant([3, 4, 6, 6]),
    input([4, 1, 5, 5]),
  ]);
  check('depthwise, weight constant (only the input gradient)', ([x, w]) => conv2d(x!, w!, null, { padding: 2, groups: 4 }), [input([1, 4, 6, 6]), constant([4, 1, 5, 5])]);
  check('conv2d 1x1 rectangular stride', ([x, w]) => conv2d(x!, w!, null, { stride: [1, 2] }), [input([2, 3, 3, 4]), input([2, 3, 1, 1])]);
});

test('batch norm: train mode (batch statistics) and eval mode (running statistics)', () => {
  check('batchNorm train', ([x, w, b]) => batchNorm(x!, w!, b!, null, null, true, 0.1, 1e-5), [
    input([3, 2, 3, 3]),
    input([2], 0.5, 1.5),
    input([2]),
  ]);
  // with running statistics, training takes mnas's fused batch norm (native/batch_norm.cc): both layouts, with and
  // without its ReLU, and an input far from zero (the sums of squares are taken around each channel's first value)
  for (const layout of ['contiguous', 'channels_last'] as const) {
    for (const relu of [false, true]) {
      check(`batchNorm train, running statistics, ${layout}, relu ${relu}`, ([x, w, b, rm, rv]) => batchNorm(x!.contiguous(layout), w!, b!, rm!, rv!, true, 0.1, 1e-5, { relu }), [
        input([3, 4, 3, 5]),
        input([4], 0.5, 1.5),
        input([4], -0.3, 0.3),
        constant([4]),
        constant([4], 0.5, 2),
      ]);
    }
  }
  check('batchNorm train, running statistics, input far from zero', ([x, w, b, rm, rv]) => batchNorm(x!, w!, b!, rm!, rv!, true, 0.1, 1e-5), [
    input([2, 3, 4, 4], 100, 101),
    input([3], 0.5, 1.5),
    input([3]),
    constant([3]),
    constant([3], 0.5, 2),
  ]);
  check('batchNorm eval', ([x, w, b, rm, rv]) => batchNorm(x!, w!, b!, rm!, rv!, false, 0.1, 1e-3), [
    input([2, 3, 2, 2]),
    input([3], 0.5, 1.5),
    input([3]),
    constant([3]),
    constant([3], 0.5, 2),
  ]);
});

test('squeeze-and-excitation: the fused function in both layouts, and the ops it replaces', () => {
  // the reduce layer's bias is well away from zero, so no hidden unit sits within EPS of ReLU's kink
  const bias = (n: number): GradInput => ({ data: Float64Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (0.6 + 0.1 * rand())), shape: [n] });
  for (const layout of ['contiguous', 'channels_last'] as const) {
    check(`squeezeExcite ${layout}`, ([x, w1, b1, w2, b2]) => squeezeExcite(x!.contiguous(layout), w1!, b1!, w2!, b2!), [
      input([3, 5, 3, 4]),
      input([2, 5], -0.5, 0.5),
      bias(2),
      input([5, 2]),
      input([5]),
    ]);
  }
  // no gradient for x: the weights' gradients alone
  check('squeezeExcite, x constant', ([x, w1, b1, w2, b2]) => squeezeExcite(x!.contiguous('channels_last'), w1!, b1!, w2!, b2!), [
    constant([2, 9, 2, 3]),
    input([3, 9], -0.5, 0.5),
    bias(3),
    input([9, 3]),
    input([9]),
  ]);
});

test('pooling: avg and max with stride and padding, global average', () => {
  check('avgPool2d 2 stride 2', ([x]) => avgPool2d(x!, 2), [input([1, 2, 4, 4])]);
  check('avgPool2d 3 stride 2 pad 1 exclude pad', ([x]) => avgPool2d(x!, 3, { stride: 2, padding: 1, countIncludePad: false }), [input([2, 2, 5, 5])]);
  check('avgPool2d 3 stride 2 pad 1 include pad', ([x]) => avgPool2d(x!, 3, { stride: 2, padding: 1 }), [input([1, 2, 5, 5])]);
  check('maxPool2d 2 stride 2', ([x]) => maxPool2d(x!, 2), [distinct([1, 2, 4, 4])]);
  check('maxPool2d 3 stride 2 pad 1', ([x]) => maxPool2d(x!, 3, { stride: 2, padding: 1 }), [distinct([2, 2, 5, 5])]);
  check('globalAvgPool', ([x]) => globalAvgPool(x!), [input([2, 3, 3, 2])]);
});

test('shape ops: reshape, permute, transpose, slice with step, concat', () => {
  check('reshape', ([x]) => reshape(x!, [3, -1]), [input([2, 3, 2])]);
  check('permute', ([x]) => permute(x!, [2, 0, 1]), [input([2, 3, 4])]);
  check('transpose', ([x]) => transpose(x!, 0, 1), [input([2, 3])]);
  check('slice step 2', ([x]) => slice(x!, 1, 1, 6, 2), [input([2, 7])]);
  check('slice negative end', ([x]) => slice(x!, 0, 0, -1), [input([3, 2])]);
  check('cat dim 1', ([a, b]) => cat([a!, b!], 1), [input([2, 1, 3]), input([2, 2, 3])]);
  check('cat then permute (channels last view)', ([a, b]) => permute(cat([a!, b!], 0), [0, 2, 3, 1]), [input([1, 2, 2, 2]), input([2, 2, 2, 2])]);
});

test('softmax and log-softmax', () => {
  check('softmax dim 1', ([x]) => softmax(x!, 1), [input([3, 4], -2, 2)]);
  check('softmax dim 0', ([x]) => softmax(x!, 0), [input([3, 4], -2, 2)]);
  check('logSoftmax dim -1', ([x]) => logSoftmax(x!, -1), [input([3, 5], -2, 2)]);
});

test('cross-entropy: plain, label smoothing, sum and per-sample reductions', () => {
  const target = () => int64Tensor([0, 3, 1, 3]);
  check('crossEntropy', ([x]) => crossEntropy(x!, target()), [input([4, 5], -2, 2)]);
  check('crossEntropy smoothing 0.1', ([x]) => crossEntropy(x!, target(), { labelSmoothing: 0.1 }), [input([4, 5], -2, 2)]);
  check('crossEntropy smoothing 0.3 sum', ([x]) => crossEntropy(x!, target(), { labelSmoothing: 0.3, reduction: 'sum' }), [input([4, 5], -2, 2)]);
  check('crossEntropy none', ([x]) => crossEntropy(x!, target(), { reduction: 'none', labelSmoothing: 0.2 }), [input([4, 5], -2, 2)]);
});

test('dropout (fixed mask through a fixed seed)', () => {
  check('dropout p=0.3', ([x]) => {
    manualSeed(99);
    return dropout(x!, 0.3, true);
  }, [input([4, 6])]);
  check('dropout eval is identity', ([x]) => dropout(x!, 0.5, false), [input([3])]);
});

test('LSTM cell: gradients for input, state and every weight', () => {
  const H = 3;
  check('lstmCell h', ([x, h, c, wih, whh, bih, bhh]) => lstmCell(x!, h!, c!, wih!, whh!, bih!, bhh!)[0], [
    input([2, 2]), input([2, H]), input([2, H]), input([4 * H, 2]), input([4 * H, H]), input([4 * H]), input([4 * H]),
  ]);
  check('lstmCell c', ([x, h, c, wih, whh]) => lstmCell(x!, h!, c!, wih!, whh!, null, null)[1], [
    input([2, 2]), input([2, H]), input([2, H]), input([4 * H, 2]), input([4 * H, H]),
  ]);
});

test('argmax is an int64 index with no gradient', () => {
  tidy(() => {
    const x = float64Tensor([0.1, 0.9, -1, 3, 2, 2.5], [2, 3], { requiresGrad: true });
    const a = argmax(x, 1);
    assert.equal(a.dtype, 'int64');
    assert.equal(a.requiresGrad, false);
    assert.deepEqual([...a.toBigInt64Array()], [1n, 0n]);
    assert.deepEqual([...argmax(x, 0, true).toBigInt64Array()], [1n, 1n, 1n]);
    assert.deepEqual(argmax(x, 0, true).shape, [1, 3]);
  });
});

// Last in the file: the inputs above come from one random stream, and checks added before them would change what they draw.
test('depthwise with stride 1: the input gradient comes from the forward kernel with the kernel turned', () => {
  check('depthwise 3x3 stride 1 channels_last', ([x, w]) => conv2d(x!.contiguous('channels_last'), w!, null, { padding: 1, groups: 4 }), [
    input([2, 4, 5, 6]),
    input([4, 1, 3, 3]),
  ]);
  check('depthwise 3x5 stride 1, paddings 0 and 1', ([x, w]) => conv2d(x!, w!, null, { padding: [0, 1], groups: 3 }), [input([1, 3, 6, 7]), input([3, 1, 3, 5])]);
});
