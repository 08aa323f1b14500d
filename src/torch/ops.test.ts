/**
 * Forward values of the ops against plain-JavaScript references (the gradient checks in
 * gradcheck.test.ts cover backward; parity.test.ts compares a whole network with PyTorch).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  add, avgPool2d, batchNorm, cat, conv2d, crossEntropy, dropout, float64Tensor, globalAvgPool, int64Tensor, linear, logSoftmax,
  lstmCell, manualSeed, matmul, maxPool2d, mul, permute, relu, relu6, reshape, setNumThreads, sigmoid, slice, softmax, tanh,
  tensor, tidy, zeros, ones, Generator, randn, type Tensor,
} from './index.js';
import { assertClose, randomArray, seededRandom } from './testing.js';

setNumThreads(1);
const rand = seededRandom(2024);
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const f64 = (shape: number[], lo = -1, hi = 1): [Float64Array, Tensor] => {
  const d = randomArray(rand, prod(shape), lo, hi);
  return [d, float64Tensor(d, shape)];
};

function refConv(x: Float64Array, xs: number[], w: Float64Array, ws: number[], b: Float64Array | null, stride: number, pad: number, groups: number) {
  const [N, C, H, W] = xs as [number, number, number, number];
  const [O, Cg, K] = ws as [number, number, number];
  const Ho = Math.floor((H + 2 * pad - K) / stride) + 1, Wo = Math.floor((W + 2 * pad - K) / stride) + 1;
  const out = new Float64Array(N * O * Ho * Wo);
  const og = O / groups;
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    let s = b ? b[o]! : 0;
    const g = Math.floor(o / og);
    for (let c = 0; c < Cg; c++) for (let p = 0; p < K; p++) for (let q = 0; q < K; q++) {
      const y = i * stride - pad + p, xx = j * stride - pad + q;
      if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
      s += x[((n * C + g * Cg + c) * H + y) * W + xx]! * w[((o * Cg + c) * K + p) * K + q]!;
    }
    out[((n * O + o) * Ho + i) * Wo + j] = s;
  }
  return { out, shape: [N, O, Ho, Wo] };
}

test('conv2d matches a direct convolution (stride, padding, groups, depthwise, bias)', () => {
  tidy(() => {
    for (const [xs, ws, stride, pad, groups, bias] of [
      [[2, 4, 5, 5], [6, 2, 3, 3], 2, 1, 2, true],
      [[1, 3, 6, 6], [3, 1, 5, 5], 1, 2, 3, false],
      [[1, 3, 4, 4], [5, 3, 1, 1], 1, 0, 1, true],
      [[1, 2, 7, 7], [4, 2, 3, 3], 3, 0, 1, false],
    ] as const) {
      const [x, xt] = f64([...xs]);
      const [w, wt] = f64([...ws]);
      const [b, bt] = f64([ws[0]]);
      const r = refConv(x, [...xs], w, [...ws], bias ? b : null, stride, pad, groups);
      const y = conv2d(xt, wt, bias ? bt : null, { stride, padding: pad, groups });
      assert.deepEqual(y.shape, r.shape);
      assertClose(y.toFloat64Array(), r.out, `conv ${xs}/${ws} s${stride} p${pad} g${groups}`, 1e-12, 1e-12);
    }
  });
});

test('batch norm: train mode uses batch statistics and updates running stats; eval uses running stats', () => {
  tidy(() => {
    const [N, C, H, W] = [3, 2, 2, 2];
    const [x, xt] = f64([N, C, H, W], -2, 3);
    const w = [1.5, 0.5], b = [0.1, -0.2], eps = 1e-3, m = 0.1;
    const rm = float64Tensor([0.2, -0.1]), rv = float64Tensor([1.5, 0.7]);
    const y = batchNorm(xt, float64Tensor(w), float64Tensor(b), rm, rv, true, m, eps).toFloat64Array();
    const expect = new Float64Array(x.length);
    const newMean: number[] = [], newVar: number[] = [];
    for (let c = 0; c < C; c++) {
      const vals: number[] = [];
      for (let n = 0; n < N; n++) for (let k = 0; k < H * W; k++) vals.push(x[(n * C + c) * H * W + k]!);
      const mu = vals.reduce((s, v) => s + v, 0) / vals.length;
      const varB = vals.reduce((s, v) => s + (v - mu) ** 2, 0) / vals.length;
      for (let n = 0; n < N; n++) for (let k = 0; k < H * W; k++) {
        const i = (n * C + c) * H * W + k;
        expect[i] = ((x[i]! - mu) / Math.sqrt(varB + eps)) * w[c]! + b[c]!;
      }
      newMean.push((1 - m) * [0.2, -0.1][c]! + m * mu);
      newVar.push((1 - m) * [1.5, 0.7][c]! + (m * varB * vals.length) / (vals.length - 1)); // unbiased
    }
    assertClose(y, expect, 'train output', 1e-12, 1e-12);
    assertClose(rm.toFloat64Array(), newMean, 'running mean', 1e-12, 1e-14);
    assertClose(rv.toFloat64Array(), newVar, 'running var (unbiased)', 1e-12, 1e-14);
    const meanAfterTraining = rm.toFloat64Array();

    const ye = batchNorm(xt, float64Tensor(w), float64Tensor(b), rm, rv, false, m, eps).toFloat64Array();
    const expectEval = Float64Array.from(x, (v, i) => {
      const c = Math.floor(i / (H * W)) % C;
      return ((v - newMean[c]!) / Math.sqrt(newVar[c]! + eps)) * w[c]! + b[c]!;
    });
    assertClose(ye, expectEval, 'eval output', 1e-12, 1e-12);
    assertClose(rm.toFloat64Array(), meanAfterTraining, 'eval leaves running mean', 0, 0);
  });
});

test('pooling: average (padding counted or not), max with stride, global average', () => {
  tidy(() => {
    const x = float64Tensor(Float64Array.from({ length: 25 }, (_, i) => i), [1, 1, 5, 5]);
    assert.deepEqual([...avgPool2d(x, 2).toFloat64Array()], [3, 5, 13, 15]);
    assert.deepEqual([...maxPool2d(x, 2).toFloat64Array()], [6, 8, 16, 18]);
    assert.deepEqual([...maxPool2d(x, 3, { stride: 2, padding: 1 }).toFloat64Array()], [6, 8, 9, 16, 18, 19, 21, 23, 24]);
    // corner window of a 3x3 s2 p1 pool covers x[0..1][0..1] = 0, 1, 5, 6
    const excl = avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }).toFloat64Array();
    const incl = avgPool2d(x, 3, { stride: 2, padding: 1 }).toFloat64Array();
    assert.equal(excl[0], 3);
    assert.equal(incl[0], 12 / 9);
    assert.equal(excl[4], (6 + 7 + 8 + 11 + 12 + 13 + 16 + 17 + 18) / 9);
    assert.deepEqual(avgPool2d(x, 3, { stride: 2, padding: 1 }).shape, [1, 1, 3, 3]);
    const g = globalAvgPool(float64Tensor([1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 2, 2]));
    assert.deepEqual(g.shape, [1, 2]);
    assert.deepEqual([...g.toFloat64Array()], [2.5, 25]);
    assert.deepEqual(globalAvgPool(x, true).shape, [1, 1, 1, 1]);
  });
});

test('activations, softmax, log-softmax', () => {
  tidy(() => {
    const v = [-7, -0.5, 0, 0.5, 3, 6, 8];
    const t = float64Tensor(v);
    assert.deepEqual([...relu(t).toFloat64Array()], v.map((a) => Math.max(0, a)));
    assert.deepEqual([...relu6(t).toFloat64Array()], v.map((a) => Math.min(6, Math.max(0, a))));
    assertClose(sigmoid(t).toFloat64Array(), v.map((a) => 1 / (1 + Math.exp(-a))), 'sigmoid', 1e-14, 1e-15);
    assertClose(tanh(t).toFloat64Array(), v.map(Math.tanh), 'tanh', 1e-14, 1e-15);
    const [x, xt] = f64([3, 4], -3, 3);
    const sm = new Float64Array(12), lsm = new Float64Array(12);
    for (let r = 0; r < 3; r++) {
      const row = [...x.slice(r * 4, r * 4 + 4)];
      const mx = Math.max(...row);
      const z = row.reduce((s, a) => s + Math.exp(a - mx), 0);
      row.forEach((a, c) => {
        sm[r * 4 + c] = Math.exp(a - mx) / z;
        lsm[r * 4 + c] = a - mx - Math.log(z);
      });
    }
    assertClose(softmax(xt, 1).toFloat64Array(), sm, 'softmax', 1e-13, 1e-15);
    assertClose(logSoftmax(xt, -1).toFloat64Array(), lsm, 'logSoftmax', 1e-13, 1e-15);
    // stable for huge logits
    const big = softmax(tensor([1000, 1000, -1000], [1, 3]), 1).toFloat32Array();
    assert.deepEqual([...big], [0.5, 0.5, 0]);
  });
});

test('cross-entropy with label smoothing equals the PyTorch definition', () => {
  tidy(() => {
    const [x, xt] = f64([4, 5], -2, 2);
    const y = [0, 4, 2, 2];
    for (const eps of [0, 0.1, 0.4]) {
      let total = 0;
      const per: number[] = [];
      for (let r = 0; r < 4; r++) {
        const row = [...x.slice(r * 5, r * 5 + 5)];
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((s, a) => s + Math.exp(a - mx), 0));
        const logp = row.map((a) => a - lse);
        // (1 - eps) * nll + eps * mean over classes of -log p
        const l = -(1 - eps) * logp[y[r]!]! - (eps / 5) * logp.reduce((s, a) => s + a, 0);
        per.push(l);
        total += l;
      }
      const target = int64Tensor(y);
      assertClose([crossEntropy(xt, target, { labelSmoothing: eps }).item()], [total / 4], `CE mean eps ${eps}`, 1e-13, 0);
      assertClose([crossEntropy(xt, target, { labelSmoothing: eps, reduction: 'sum' }).item()], [total], `CE sum eps ${eps}`, 1e-13, 0);
      assertClose(crossEntropy(xt, target, { labelSmoothing: eps, reduction: 'none' }).toFloat64Array(), per, `CE none eps ${eps}`, 1e-13, 0);
    }
  });
});

test('matmul and linear', () => {
  tidy(() => {
    const a = float64Tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = float64Tensor([1, 0, -1, 2, 0.5, 1], [3, 2]);
    assert.deepEqual([...matmul(a, b).toFloat64Array()], [1 - 2 + 1.5, 0 + 4 + 3, 4 - 5 + 3, 0 + 10 + 6]);
    const w = float64Tensor([1, 0, 0, 0, 1, 1], [2, 3]);
    assert.deepEqual([...linear(a, w, float64Tensor([10, 20])).toFloat64Array()], [11, 25, 14, 31]);
    assert.deepEqual([...linear(a, w, null).toFloat64Array()], [1, 5, 4, 11]);
  });
});

test('reshape, permute, slice, concat move the right elements', () => {
  tidy(() => {
    const x = float64Tensor(Float64Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    const p = permute(x, [2, 0, 1]);
    assert.deepEqual(p.shape, [4, 2, 3]);
    const pv = p.toFloat64Array();
    assert.equal(pv[1 * 6 + 1 * 3 + 2], 12 + 2 * 4 + 1, 'p[1][1][2] = x[1][2][1]');
    assert.deepEqual(reshape(x, [6, -1]).shape, [6, 4]);
    assert.deepEqual([...slice(x, 2, 1, 4, 2).toFloat64Array()].slice(0, 4), [1, 3, 5, 7]);
    assert.deepEqual(slice(x, 1, -2, 3).shape, [2, 2, 4]);
    const c = cat([float64Tensor([1, 2], [1, 2]), float64Tensor([3, 4, 5, 6], [2, 2])], 0);
    assert.deepEqual(c.shape, [3, 2]);
    assert.deepEqual([...c.toFloat64Array()], [1, 2, 3, 4, 5, 6]);
    const c1 = cat([float64Tensor([1, 2], [2, 1]), float64Tensor([3, 4], [2, 1])], 1);
    assert.deepEqual([...c1.toFloat64Array()], [1, 3, 2, 4]);
  });
});

test('dropout: seeded masks, 1/(1-p) scaling, identity in eval mode', () => {
  tidy(() => {
    const x = ones([20000]);
    manualSeed(5);
    const a = dropout(x, 0.3, true).toFloat32Array();
    manualSeed(5);
    const b = dropout(x, 0.3, true).toFloat32Array();
    assert.deepEqual(a, b, 'same seed, same mask');
    const zerosFrac = a.filter((v) => v === 0).length / a.length;
    assert.ok(Math.abs(zerosFrac - 0.3) < 0.02, `dropped fraction ${zerosFrac}`);
    assert.ok(a.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6), 'kept values are scaled by 1/(1-p)');
    assert.deepEqual(dropout(x, 0.3, false).toFloat32Array(), x.toFloat32Array());
    assert.deepEqual(dropout(x, 0, true).toFloat32Array(), x.toFloat32Array());
  });
});

test('LSTM cell equals the gate equations (i, f, g, o order)', () => {
  tidy(() => {
    const [B, I, H] = [2, 3, 2];
    const [x, xt] = f64([B, I]);
    const [h, ht] = f64([B, H]);
    const [c, ct] = f64([B, H]);
    const [wi, wit] = f64([4 * H, I]);
    const [wh, wht] = f64([4 * H, H]);
    const [bi, bit] = f64([4 * H]);
    const [bh, bht] = f64([4 * H]);
    const [h2, c2] = lstmCell(xt, ht, ct, wit, wht, bit, bht);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const eh: number[] = [], ec: number[] = [];
    for (let n = 0; n < B; n++) {
      const gate = (k: number) => {
        let s = bi[k]! + bh[k]!;
        for (let j = 0; j < I; j++) s += wi[k * I + j]! * x[n * I + j]!;
        for (let j = 0; j < H; j++) s += wh[k * H + j]! * h[n * H + j]!;
        return s;
      };
      for (let u = 0; u < H; u++) {
        const ig = sig(gate(u)), fg = sig(gate(H + u)), gg = Math.tanh(gate(2 * H + u)), og = sig(gate(3 * H + u));
        const cn = fg * c[n * H + u]! + ig * gg;
        ec.push(cn);
        eh.push(og * Math.tanh(cn));
      }
    }
    assertClose(h2.toFloat64Array(), eh, 'h', 1e-13, 1e-15);
    assertClose(c2.toFloat64Array(), ec, 'c', 1e-13, 1e-15);
  });
});

test('broadcasting add/mul and float32 ops stay float32', () => {
  tidy(() => {
    const a = randn([2, 3], new Generator(1));
    const r = add(a, tensor([1, 2, 3]));
    assert.equal(r.dtype, 'float32');
    const av = a.toFloat32Array();
    assertClose(r.toFloat32Array(), Array.from(av, (v, i) => v + [1, 2, 3][i % 3]!), 'add broadcast', 1e-6, 1e-6);
    assertClose(mul(a, tensor([2, -1], [2, 1])).toFloat32Array(), Array.from(av, (v, i) => v * (i < 3 ? 2 : -1)), 'mul broadcast', 1e-6, 0);
    assert.deepEqual(zeros([2, 1, 3]).shape, [2, 1, 3]);
  });
});
