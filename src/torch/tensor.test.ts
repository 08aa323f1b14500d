/**
 * Tensors: dtypes and typed-array round trips, seeded generators, memory layouts, autograd
 * basics and the no-grad scope, ownership (tidy / keep / dispose), threads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  add, dispose, float64Tensor, full, Generator, getNumThreads, int64Tensor, isGradEnabled, keep, liveTensors, manualSeed, mul,
  noGrad, ones, permute, rand, randint, randn, randperm, relu_, setNumThreads, sum, tensor, tidy, uint8Tensor, zeros, zeroGrad,
  conv2d, Tensor,
} from './index.js';
import { native } from './native.js';
import { assertClose } from './testing.js';

test('float32, float64, int64 and uint8 tensors round-trip through typed arrays', () => {
  tidy(() => {
    const f = tensor(new Float32Array([1.5, -2, 3.25, 0, 1e-30, -7]), [2, 3]);
    assert.equal(f.dtype, 'float32');
    assert.deepEqual(f.shape, [2, 3]);
    assert.equal(f.rank, 2);
    assert.equal(f.size, 6);
    assert.deepEqual([...f.toFloat32Array()], [1.5, -2, 3.25, 0, Math.fround(1e-30), -7]);

    const d = float64Tensor([Math.PI, 1 / 3, -1e300], [3]);
    assert.equal(d.dtype, 'float64');
    assert.deepEqual([...d.toFloat64Array()], [Math.PI, 1 / 3, -1e300], 'float64 keeps every bit');

    const big = int64Tensor(new BigInt64Array([9007199254740993n, -5n]), [2]);
    assert.equal(big.dtype, 'int64');
    assert.deepEqual([...big.toBigInt64Array()], [9007199254740993n, -5n], 'int64 beyond 2^53 is exact');
    const small = int64Tensor([3, -1, 7], [3, 1]);
    assert.equal(small.dtype, 'int64');
    assert.deepEqual([...small.toInt32Array()], [3, -1, 7]);

    const u = uint8Tensor(new Uint8Array([0, 255, 17, 128]), [2, 2]);
    assert.equal(u.dtype, 'uint8');
    assert.deepEqual([...u.toUint8Array()], [0, 255, 17, 128]);
    assert.deepEqual([...u.to('float32').toFloat32Array()], [0, 255, 17, 128]);
    assert.deepEqual([...tensor([1.7, -2.2]).to('int64').toBigInt64Array()], [1n, -2n]);

    assert.deepEqual([...zeros([2], 'int64').toBigInt64Array()], [0n, 0n]);
    assert.deepEqual([...ones([2], 'float64').toFloat64Array()], [1, 1]);
    assert.deepEqual([...full([3], 2.5).toFloat32Array()], [2.5, 2.5, 2.5]);
    assert.equal(zeros([0, 3]).size, 0);
    assert.deepEqual([...zeros([0, 3]).toFloat32Array()], []);
    assert.equal(tensor([4]).item(), 4);
  });
});

test('seeded generators: same seed, same tensor; different seeds differ; global seed too', () => {
  tidy(() => {
    const a = randn([64], new Generator(42)).toFloat32Array();
    const b = randn([64], new Generator(42)).toFloat32Array();
    const c = randn([64], new Generator(43)).toFloat32Array();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const g = new Generator(7);
    const first = rand([16], g).toFloat32Array();
    const second = rand([16], g).toFloat32Array();
    assert.notDeepEqual(first, second, 'a generator advances');
    assert.ok(first.every((v) => v >= 0 && v < 1));
    assert.deepEqual(randint(0, 10, [32], new Generator(1)).toBigInt64Array(), randint(0, 10, [32], new Generator(1)).toBigInt64Array());
    const p = [...randperm(20, new Generator(5)).toBigInt64Array()].map(Number);
    assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i));
    manualSeed(123);
    const u = rand([8]).toFloat32Array();
    manualSeed(123);
    assert.deepEqual(rand([8]).toFloat32Array(), u);
    // statistics: mean ~0, std ~1 for 10k normals
    const n = randn([10000], new Generator(9)).toFloat32Array();
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const sd = Math.sqrt(n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length);
    assert.ok(Math.abs(mean) < 0.05 && Math.abs(sd - 1) < 0.05, `mean ${mean} sd ${sd}`);
  });
  assert.throws(() => new Generator(-1), /non-negative integer/);
  assert.throws(() => manualSeed(1.5), /non-negative integer/);
});

test('contiguous and channels_last layouts: strides, same values, same conv results', () => {
  tidy(() => {
    const x = randn([2, 3, 4, 5], new Generator(3));
    assert.deepEqual(x.strides, [60, 20, 5, 1]);
    assert.ok(x.isContiguous() && !x.isContiguous('channels_last'));
    const cl = x.contiguous('channels_last');
    assert.deepEqual(cl.strides, [60, 1, 15, 3]);
    assert.ok(cl.isContiguous('channels_last') && !cl.isContiguous());
    assert.deepEqual(cl.toFloat32Array(), x.toFloat32Array(), 'values are read in logical (NCHW) order');
    assert.deepEqual(cl.contiguous().strides, [60, 20, 5, 1]);
    // NHWC data viewed through permute is channels_last memory
    const nhwc = permute(x, [0, 2, 3, 1]).contiguous();
    const asNchw = permute(nhwc, [0, 3, 1, 2]);
    assert.ok(asNchw.isContiguous('channels_last'));
    const w = randn([4, 3, 3, 3], new Generator(4));
    const y1 = conv2d(x, w, null, { padding: 1 }).toFloat32Array();
    const y2 = conv2d(cl, w.contiguous('channels_last'), null, { padding: 1 });
    assert.ok(y2.isContiguous('channels_last'), 'conv keeps channels_last');
    assertClose(y2.toFloat32Array(), y1, 'channels_last conv', 1e-5, 1e-5);
  });
});

test('autograd: requiresGrad, backward, accumulated gradients, zeroGrad, no-grad scope', () => {
  tidy(() => {
    const x = tensor([1, 2, 3], [3], { requiresGrad: true });
    assert.equal(x.requiresGrad, true);
    assert.equal(x.grad, null, 'no gradient before backward');
    const y = sum(mul(x, x));
    assert.equal(y.requiresGrad, true);
    y.backward();
    assert.deepEqual([...x.grad!.toFloat32Array()], [2, 4, 6]);
    sum(mul(x, 3)).backward();
    assert.deepEqual([...x.grad!.toFloat32Array()], [5, 7, 9], 'gradients accumulate');
    zeroGrad([x]);
    assert.equal(x.grad, null);
    // explicit output gradient for a non-scalar
    const z = mul(x, 2);
    z.backward(tensor([1, 0, -1]));
    assert.deepEqual([...x.grad!.toFloat32Array()], [2, 0, -2]);
    assert.throws(() => mul(x, 2).backward(), /only for scalar outputs/);
    assert.throws(() => tensor([1]).backward(), /does not require grad/);

    assert.equal(isGradEnabled(), true);
    const r = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      return add(x, 1);
    });
    assert.equal(r.requiresGrad, false, 'no graph inside noGrad');
    assert.equal(isGradEnabled(), true, 'restored');
    assert.throws(() => noGrad(() => {
      throw new Error('boom');
    }), /boom/);
    assert.equal(isGradEnabled(), true, 'restored after a throw');
    assert.equal(noGrad(() => noGrad(() => isGradEnabled())), false);
    assert.equal(x.detach().requiresGrad, false);

    // in-place relu on a non-leaf keeps its values correct
    const v = tensor([-1, 2, -3, 4]);
    assert.equal(relu_(v), v);
    assert.deepEqual([...v.toFloat32Array()], [0, 2, 0, 4]);
  });
});

test('tidy frees what was created inside except what it returns; keep and dispose', () => {
  const base = liveTensors();
  const out = tidy(() => {
    const a = ones([3]);
    const b = add(a, a);
    mul(b, b);
    return b;
  });
  assert.equal(liveTensors(), base + 1, 'only the returned tensor survives');
  assert.deepEqual([...out.toFloat32Array()], [2, 2, 2]);
  out.dispose();
  out.dispose(); // twice is fine
  assert.ok(out.isDisposed);
  assert.throws(() => out.toFloat32Array(), /disposed/);
  assert.equal(liveTensors(), base);

  // nested scopes: an inner result moves to the outer scope and is freed there
  const kept = tidy(() => {
    const inner = tidy(() => [ones([1]), { t: zeros([2]) }] as const);
    assert.equal(liveTensors(), base + 2);
    const k = keep(ones([4]));
    add(inner[0], 1);
    return { k };
  });
  assert.equal(liveTensors(), base + 1, 'inner results were freed by the outer scope; the kept tensor lives');
  assert.equal(kept.k.kept, true);
  kept.k.dispose();
  assert.equal(liveTensors(), base);

  // a throwing fn still frees its tensors
  assert.throws(() => tidy(() => {
    ones([5]);
    throw new Error('fail inside');
  }), /fail inside/);
  assert.equal(liveTensors(), base);

  // Map results, dispose() of structures, async fn rejected
  const m = tidy(() => new Map([['a', ones([1])], ['b', ones([1])]]));
  assert.equal(liveTensors(), base + 2);
  dispose(m);
  assert.equal(liveTensors(), base);
  assert.throws(() => tidy(() => Promise.resolve(1) as unknown as number), /synchronous/);
  assert.equal(liveTensors(), base);
  // a tensor made outside any scope lives until disposed
  const free = ones([2]);
  tidy(() => {
    add(free, 1);
  });
  assert.equal(free.isDisposed, false);
  // a result returned to no scope is owned by the caller
  const orphan = tidy(() => add(free, 1));
  assert.equal(liveTensors(), base + 2);
  orphan.dispose();
  free.dispose();
  assert.equal(liveTensors(), base);
});

test('a disposed handle stays invalid even after its native slot is reused', () => {
  const a = ones([1]);
  const h = a.handle;
  a.dispose();
  const b = zeros([1]);
  try {
    assert.throws(() => native().toFloat32(h), /disposed or unknown tensor/);
    assert.equal(native().free(h), false);
    assert.deepEqual([...b.toFloat32Array()], [0]);
  } finally {
    b.dispose();
  }
  assert.ok(new Tensor(native().ones([1], 'float32')).toString().startsWith('Tensor(float32'));
});

test('intra-op thread count can be set and read back', () => {
  const before = getNumThreads();
  try {
    setNumThreads(2);
    assert.equal(getNumThreads(), 2);
    setNumThreads(1);
    assert.equal(getNumThreads(), 1);
    tidy(() => assert.equal(sum(ones([1000])).item(), 1000));
  } finally {
    setNumThreads(before);
  }
  assert.throws(() => setNumThreads(0), /positive integer/);
  assert.throws(() => native().setNumThreads(100000), /between 1 and 1024/);
  assert.throws(() => native().setNumThreads(-3), /between 1 and 1024/);
  assert.equal(getNumThreads(), before);
});
