/**
 * The native binding against hostile arguments: array elements whose getters (own accessors,
 * inherited ones on Array.prototype, growing arrays) create and free tensors while an op is
 * reading its arguments, including the very tensors being passed; Proxies and valueOf objects
 * where numbers or arrays belong; shape getters that detach a typed array's buffer. Every call
 * either works with the values it read or throws a JS Error, and when the getters invalidate
 * nothing the result equals the plain call's. Also: a handle that is not a non-negative safe
 * integer is a TypeError/RangeError naming the argument at every entry point taking handles,
 * and generators are released (explicitly, and by garbage collection).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Generator, liveGenerators, rand } from './creation.js';
import { native, type Handle, type NativeTorch } from './native.js';

const n = (): NativeTorch => native();
const F = (values: readonly number[], shape: readonly number[], requiresGrad = false): Handle =>
  n().fromFloat32(Float32Array.from(values), shape, requiresGrad);
const seq = (count: number, scale = 1, offset = 0): number[] => Array.from({ length: count }, (_, i) => ((i * 7) % 11) * scale + offset);

type Observed = (number[] | null)[];
type Mode =
  | { kind: 'plain' }
  | { kind: 'benign' }
  | { kind: 'hostile'; freeOnCall: number };

/** What a case sees: `input` registers a tensor a hostile getter may free, `arr` wraps an array argument. */
interface Ctx {
  input(h: Handle): Handle;
  arr<T>(xs: readonly T[]): T[];
  /** A tensor's values, or null when a hostile getter freed it. */
  read(h: Handle): number[] | null;
}

interface Case {
  name: string;
  run(ctx: Ctx): Observed;
  /** false where freeing the inputs legitimately changes what is observed (freeMany's count) */
  compareHostile?: boolean;
}

/** A contiguous copy's values; frees h. */
const readContiguous = (h: Handle): number[] => {
  try {
    return readOut(n().contiguous(h, 'contiguous'));
  } finally {
    n().free(h);
  }
};

const readOut = (h: Handle): number[] => {
  try {
    return Array.from(n().toFloat64(h));
  } finally {
    n().free(h);
  }
};

/** A float tensor with grad 2 * values (from backward of sum(p * p)). */
function paramWithGrad(values: readonly number[], shape: readonly number[]): Handle {
  const p = F(values, shape, true);
  const sq = n().mul(p, p);
  const loss = n().sumAll(sq);
  n().backward(loss, null);
  n().freeMany([sq, loss]);
  return p;
}

const X = (ctx: Ctx): Handle => ctx.input(F(seq(32, 0.5, -2), [1, 2, 4, 4]));

const CASES: Case[] = [
  {
    name: 'conv2d',
    run: (c) => {
      const x = X(c);
      const w = c.input(F(seq(36, 0.1, -0.3), [2, 2, 3, 3]));
      const b = c.input(F([0.5, -1], [2]));
      return [readOut(n().conv2d(x, w, b, c.arr([1, 1]), c.arr([1, 1]), c.arr([1, 1]), 1))];
    },
  },
  { name: 'sum', run: (c) => [readOut(n().sum(X(c), c.arr([1, 3]), true))] },
  { name: 'mean', run: (c) => [readOut(n().mean(X(c), c.arr([0, 2]), false))] },
  { name: 'reshape', run: (c) => [readOut(n().reshape(X(c), c.arr([4, -1])))] },
  { name: 'expand', run: (c) => [readOut(n().expand(c.input(F([1, 2], [2, 1])), c.arr([2, 3])))] },
  { name: 'permute', run: (c) => [readContiguous(n().permute(X(c), c.arr([0, 2, 3, 1])))] },
  { name: 'flip', run: (c) => [readOut(n().flip(X(c), c.arr([3])))] },
  { name: 'pad', run: (c) => [readOut(n().pad(X(c), c.arr([1, 0, 0, 1]), 9))] },
  { name: 'avgPool2d', run: (c) => [readOut(n().avgPool2d(X(c), c.arr([2, 2]), c.arr([2, 2]), c.arr([0, 0]), false, true))] },
  { name: 'maxPool2d', run: (c) => [readOut(n().maxPool2d(X(c), c.arr([3, 3]), c.arr([1, 1]), c.arr([1, 1]), false))] },
  { name: 'adaptiveAvgPool2d', run: (c) => [readOut(n().adaptiveAvgPool2d(X(c), c.arr([2, 1])))] },
  {
    name: 'cat',
    run: (c) => [readOut(n().cat(c.arr([X(c), c.input(F(seq(16), [1, 1, 4, 4])), X(c)]), 1))],
  },
  { name: 'stack', run: (c) => [readOut(n().stack(c.arr([X(c), X(c)]), 2))] },
  { name: 'zeros', run: (c) => [readOut(n().zeros(c.arr([2, 3]), 'float32'))] },
  { name: 'fromFloat32', run: (c) => [readOut(n().fromFloat32(Float32Array.from(seq(6)), c.arr([3, 2]), false))] },
  {
    name: 'augmentBatch',
    run: (c) => {
      const images = c.input(n().fromUint8(Uint8Array.from(seq(2 * 3 * 3 * 2, 20)), [2, 3, 3, 2]));
      const index = c.input(n().fromInt32(Int32Array.from([1, 0, 1]), [3]));
      return [readContiguous(n().augmentBatch(images, index, c.arr([0, 1, 2]), c.arr([2, 1, 0]), c.arr([0, 1, 1]), 1, c.arr([0.5, 0.25]), c.arr([0.2, 0.4])))];
    },
  },
  {
    name: 'sgdStep',
    run: (c) => {
      const p = c.input(paramWithGrad(seq(6, 0.1), [2, 3]));
      const q = c.input(paramWithGrad(seq(4, -0.2), [4]));
      const bufs = [c.input(n().zeros([2, 3], 'float32')), c.input(n().zeros([4], 'float32'))];
      n().sgdStep(c.arr([p, q]), c.arr(bufs), 0.1, 0.9, 0, 0.01, true, true);
      return [c.read(p), c.read(q), c.read(bufs[0]!)];
    },
  },
  {
    name: 'rmspropStep',
    run: (c) => {
      const p = c.input(paramWithGrad(seq(6, 0.1), [6]));
      const sq = c.input(n().ones([6], 'float32'));
      const buf = c.input(n().zeros([6], 'float32'));
      n().rmspropStep(c.arr([p]), c.arr([sq]), c.arr([buf]), 0.01, 0.9, 1e-3, 0, 0.9, true);
      return [c.read(p), c.read(sq)];
    },
  },
  {
    name: 'adamStep',
    run: (c) => {
      const p = c.input(paramWithGrad(seq(5, 0.3), [5]));
      const m = c.input(n().zeros([5], 'float32'));
      const v = c.input(n().zeros([5], 'float32'));
      n().adamStep(c.arr([p]), c.arr([m]), c.arr([v]), 1, 0.01, 0.9, 0.999, 1e-8, 0.1, true);
      return [c.read(p), c.read(m), c.read(v)];
    },
  },
  {
    name: 'clipGradNorm',
    run: (c) => {
      const ps = [c.input(paramWithGrad(seq(4, 1), [4])), c.input(paramWithGrad(seq(3, 2), [3]))];
      const norm = n().clipGradNorm(c.arr(ps), 1);
      const grads = ps.map((p) => {
        try {
          return readOut(n().grad(p));
        } catch {
          return null;
        }
      });
      return [[norm], ...grads];
    },
  },
  {
    name: 'zeroGrad',
    run: (c) => {
      const ps = [c.input(paramWithGrad(seq(4), [4])), c.input(paramWithGrad(seq(2), [2]))];
      n().zeroGrad(c.arr(ps));
      return ps.map((p) => {
        try {
          return [n().grad(p)];
        } catch {
          return null;
        }
      });
    },
  },
  {
    name: 'freeMany',
    run: (c) => {
      const hs = [c.input(n().ones([2], 'float32')), c.input(n().ones([3], 'float32'))];
      const freed = n().freeMany(c.arr(hs));
      return [[freed, ...hs.map((h) => Number(n().free(h)))]];
    },
    compareHostile: false,
  },
];

/** Runs one case in one mode; returns what it observed or the error it threw. */
function runCase(c: Case, mode: Mode): { observed?: Observed; error?: unknown } {
  const victims: Handle[] = [];
  const held: Handle[] = [];
  let getterCalls = 0;
  const churn = () => {
    // enough fresh tensors to outgrow the table's free slots, and to take over freed slots
    // with other contents (an op reading through a stale reference would see these)
    for (let i = 0; i < 300; i++) held.push(n().full([1, 2, 4, 4], 7 + i, 'float32'));
    for (let i = 0; i < 100; i++) n().free(held.pop()!);
  };
  const ctx: Ctx = {
    input: (h) => (victims.push(h), h),
    arr: <T>(xs: readonly T[]): T[] => {
      if (mode.kind === 'plain') return [...xs];
      const out: T[] = [];
      xs.forEach((x, k) => {
        Object.defineProperty(out, k, {
          enumerable: true,
          get: () => {
            churn();
            if (mode.kind === 'hostile' && getterCalls === mode.freeOnCall) n().freeMany(victims);
            getterCalls++;
            return x;
          },
        });
      });
      return out;
    },
    read: (h) => {
      try {
        return Array.from(n().toFloat64(h));
      } catch (e) {
        assert.ok(mode.kind === 'hostile', `${c.name}: could not read an input in ${mode.kind} mode: ${String(e)}`);
        return null;
      }
    },
  };
  try {
    return { observed: c.run(ctx) };
  } catch (error) {
    return { error };
  } finally {
    for (const h of victims) n().free(h);
    n().freeMany(held);
  }
}

function assertClose(actual: Observed, expected: Observed, label: string, allowNull: boolean): void {
  assert.equal(actual.length, expected.length, `${label}: ${actual.length} outputs, expected ${expected.length}`);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (a === null || e === null) {
      assert.ok(allowNull || (a === null && e === null), `${label}: output ${i} unreadable`);
      return;
    }
    assert.equal(a.length, e.length, `${label}: output ${i} has ${a.length} values, expected ${e.length}`);
    a.forEach((v, k) => assert.ok(Math.abs(v - e[k]!) <= 1e-5 * (1 + Math.abs(e[k]!)), `${label}: output ${i}[${k}] = ${v}, expected ${e[k]}`));
  });
}

test('ops read arguments safely while array getters create and free tensors (including their own inputs)', () => {
  const base = n().liveCount();
  const started = Date.now();
  let hostileWorked = 0, hostileThrew = 0;
  for (const c of CASES) {
    const plain = runCase(c, { kind: 'plain' });
    assert.ok(plain.observed, `${c.name}: plain call failed: ${String(plain.error)}`);
    const benign = runCase(c, { kind: 'benign' });
    assert.ok(benign.observed, `${c.name}: call with allocating getters failed: ${String(benign.error)}`);
    assertClose(benign.observed, plain.observed, `${c.name} (allocating getters)`, false);
    for (const freeOnCall of [0, 1, 2, 5]) {
      const hostile = runCase(c, { kind: 'hostile', freeOnCall });
      const label = `${c.name} (inputs freed by getter call ${freeOnCall})`;
      if (hostile.observed) {
        hostileWorked++;
        // it read its tensors before they were freed: same values as the plain call
        if (c.compareHostile !== false) assertClose(hostile.observed, plain.observed, label, true);
      } else {
        hostileThrew++;
        assert.ok(hostile.error instanceof Error, `${label}: threw a non-Error ${String(hostile.error)}`);
        assert.match(hostile.error.message, /disposed or unknown tensor|grad/, `${label}: ${hostile.error.message}`);
      }
    }
    assert.equal(n().liveCount(), base, `${c.name}: tensors leaked`);
  }
  assert.ok(hostileWorked > 0 && hostileThrew > 0, `hostile calls: ${hostileWorked} worked, ${hostileThrew} threw`);
  assert.ok(Date.now() - started < 30_000, 'the fuzz test stays bounded');
});

test('Proxies, array-likes and valueOf objects are rejected without running their code', () => {
  const base = n().liveCount();
  let trapped = 0;
  const spy = <T extends object>(target: T): T =>
    new Proxy(target, {
      get: (t, k, r) => (trapped++, Reflect.get(t, k, r)),
      getOwnPropertyDescriptor: (t, k) => (trapped++, Reflect.getOwnPropertyDescriptor(t, k)),
      has: (t, k) => (trapped++, Reflect.has(t, k)),
      ownKeys: (t) => (trapped++, Reflect.ownKeys(t)),
    });
  const x = F(seq(32), [1, 2, 4, 4]);
  const sneaky = { valueOf: () => (trapped++, n().free(x), 1), toString: () => (trapped++, '1'), [Symbol.toPrimitive]: () => (trapped++, 1) };
  const calls: [string, () => unknown][] = [
    ['conv2d proxy stride', () => n().conv2d(x, x, null, spy([1, 1]), [0, 0], [1, 1], 1)],
    ['cat proxy list', () => n().cat(spy([x, x]), 0)],
    ['sgdStep proxy params', () => n().sgdStep(spy([x]), [], 0.1, 0, 0, 0, false, true)],
    ['freeMany proxy', () => n().freeMany(spy([x]))],
    ['sum array-like dims', () => n().sum(x, { length: 1, 0: 1 } as unknown as number[], false)],
    ['cat array-like list', () => n().cat({ length: 1, 0: x } as unknown as number[], 0)],
    ['relu valueOf handle', () => n().relu(sneaky as unknown as number)],
    ['free valueOf handle', () => n().free(sneaky as unknown as number)],
    ['addScalar valueOf scalar', () => n().addScalar(x, sneaky as unknown as number)],
    ['softmax valueOf dim', () => n().softmax(x, sneaky as unknown as number)],
    ['reshape valueOf in list', () => n().reshape(x, [sneaky as unknown as number, -1])],
    ['cat valueOf in list', () => n().cat([x, sneaky as unknown as number], 0)],
    ['rand valueOf generator', () => n().rand([2], sneaky as never)],
    ['dtype toString', () => n().toDtype(x, sneaky as never)],
  ];
  for (const [label, call] of calls) {
    assert.throws(call, (e: unknown) => e instanceof TypeError && /argument \d+ \('\w+'\)/.test(e.message), label);
  }
  assert.equal(trapped, 0, 'no trap, valueOf or toString ran');
  n().free(x);
  assert.equal(n().liveCount(), base);
});

test('inherited index getters, growing arrays and result-array setters on Array.prototype', () => {
  const base = n().liveCount();
  const x = F(seq(32), [1, 2, 4, 4]);
  const w = F(seq(36, 0.1), [2, 2, 3, 3]);
  const expected = readOut(n().conv2d(x, w, null, [1, 1], [0, 0], [1, 1], 1));
  // while Array.prototype has an accessor at index 0, only native calls run (no array writes
  // at index 0, no asserts): results are checked after it is removed
  const junk: Handle[] = [n().zeros([1], 'float32')];
  const churn = () => {
    for (let i = 0; i < 500; i++) junk.push(n().full([2, 2, 3, 3], i, 'float32'));
  };
  const proto = Array.prototype as unknown as Record<string, unknown>;
  let conv: Handle, catError: unknown;
  try {
    // a hole in [ , 1] is read through Array.prototype[0]
    Object.defineProperty(Array.prototype, '0', { configurable: true, get: () => (churn(), 1) });
    // eslint-disable-next-line no-sparse-arrays
    conv = n().conv2d(x, w, null, [, 1] as number[], [0, 0], [1, 1], 1);
    try {
      // eslint-disable-next-line no-sparse-arrays
      n().cat([, x] as number[], 0);
    } catch (e) {
      catError = e;
    }
  } finally {
    delete proto['0'];
  }
  assert.deepEqual(readOut(conv), expected);
  assert.ok(catError instanceof Error);
  assert.match(catError.message, /^cat: argument 'tensors' is a disposed or unknown tensor \(handle 1\)/);

  // results are built by setting indices of a new array: a setter on Array.prototype sees them
  const seen: unknown[] = [undefined];
  const lstmInputs = [F([1, 2], [1, 2]), F([0.5], [1, 1]), F([1], [1, 1]), F(seq(8), [4, 2]), F(seq(4), [4, 1])] as const;
  const w2 = n().clone(w);
  let shape: number[], strides: number[], hc: [Handle, Handle];
  let doomed: Handle[] = [];
  try {
    Object.defineProperty(Array.prototype, '0', {
      configurable: true,
      get: () => undefined,
      set: (v: unknown) => {
        seen[seen.length] = v;
        churn();
        n().freeMany(doomed);
      },
    });
    doomed = [x, w];
    shape = n().shape(w);
    doomed = [w2];
    strides = n().strides(w2);
    doomed = [...lstmInputs];
    hc = n().lstmCell(...lstmInputs, null, null);
  } finally {
    delete proto['0'];
  }
  assert.deepEqual([shape[1], shape[2], shape[3], strides[1], strides[2], strides[3]], [2, 3, 3, 9, 3, 1]);
  assert.equal(seen.length, 4, 'the setter saw index 0 of each result');
  assert.deepEqual(n().shape(seen[3] as Handle), [1, 1], 'lstmCell h reached the setter');
  assert.deepEqual(n().shape(hc[1]), [1, 1]);
  assert.equal(n().free(w2), false, 'the setter freed the inputs');
  n().freeMany([seen[3] as Handle, hc[1]]);

  // an array growing while it is read: the binding reads the new elements too
  const x2 = F(seq(32), [1, 2, 4, 4]);
  const grow: number[] = [1];
  Object.defineProperty(grow, 0, { enumerable: true, get: () => (grow.length === 1 && grow.push(1, 2), churn(), 0) });
  const s2 = n().sum(x2, grow, false);
  assert.deepEqual(n().shape(s2), [4]);
  // and a getter that truncates the array ends the read
  const shrink = [1, 2, 3];
  Object.defineProperty(shrink, 0, { enumerable: true, configurable: true, get: () => ((shrink.length = 1), 1) });
  const s3 = n().sum(x2, shrink, false);
  assert.deepEqual(n().shape(s3), [1, 4, 4]);
  n().freeMany([s2, s3, x2, ...junk]);
  assert.equal(n().liveCount(), base);
});

test('a shape getter that detaches the data buffer cannot make fromFloat32 read freed memory', () => {
  const base = n().liveCount();
  const data = Float32Array.from(seq(1 << 16));
  const shape: number[] = [];
  Object.defineProperty(shape, 0, { enumerable: true, get: () => (structuredClone(data.buffer, { transfer: [data.buffer] }), 1 << 16) });
  assert.throws(() => n().fromFloat32(data, shape, false), /argument 1 \('shape'\) has 65536 elements but the data has 0/);
  // a resizable buffer shrunk by the getter: the length is read after the shape
  const Resizable = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
  const buffer = new Resizable(64, { maxByteLength: 64 });
  const data2 = new Float32Array(buffer);
  const shape2: number[] = [];
  Object.defineProperty(shape2, 0, { enumerable: true, get: () => (buffer.resize(8), 16) });
  assert.throws(() => n().fromFloat32(data2, shape2, false), /argument 1 \('shape'\) has 16 elements but the data has 2/);
  assert.equal(n().liveCount(), base);
});

// ---- handle validation at every entry point --------------------------------------------------

/** Argument kinds: '$T' float tensor [1,2,4,4], '$W' float matrix [3,4] (linear's weight), '$O'
 * optional float tensor, '$B' bool tensor, '$L' int64 index tensor [2], '$U' uint8 NHWC images;
 * arrays of them are lists; anything else is passed as is. Each call has one bad handle and
 * otherwise valid arguments, so the error can only be about it. */
type Spec = unknown[];
const T = '$T', O = '$O', B = '$B', L = '$L', U = '$U', W = '$W';
const unary = [T];
const SPECS: Record<string, Spec> = {
  toFloat64: unary, toUint8: unary, toFloat32: unary, toInt64: unary, toInt32: unary, item: unary, shape: unary, strides: unary,
  dtype: unary, requiresGrad: unary, setRequiresGrad: [T, false], isContiguous: [T, 'contiguous'], contiguous: [T, 'contiguous'],
  restride: [T, 'channels_last'], clone: unary, detach: unary, toDtype: [T, 'float64'], uniform_: [T, 0, 1, null],
  normal_: [T, 0, 1, null], backward: [T, O], grad: unary, zeroGrad: [[T, T]], copyInto: [T, T], fill_: [T, 1],
  relu: unary, relu_: unary, relu6: unary, sigmoid: unary, tanh: unary, exp: unary, log: unary, sqrt: unary, neg: unary,
  abs: unary, sumAll: unary, meanAll: unary, allFinite: unary, add: [T, T], sub: [T, T], mul: [T, T], div: [T, T],
  maximum: [T, T], minimum: [T, T], matmul: [T, T], eq: [T, T], gt: [T, T], lt: [T, T], addScalar: [T, 1], mulScalar: [T, 1],
  powScalar: [T, 2], clamp: [T, 0, 1], where: [B, T, T], sum: [T, [1], false], mean: [T, [1], false], max: [T, 1, false],
  argmax: [T, 1, false], softmax: [T, 1], logSoftmax: [T, 1], linear: [T, W, O], conv2d: [T, T, O, [1, 1], [0, 0], [1, 1], 1],
  batchNorm: [T, O, O, O, O, true, 0.1, 1e-5], squeezeExcite: [T, W, T, W, T], avgPool2d: [T, [2, 2], [2, 2], [0, 0], false, true],
  maxPool2d: [T, [2, 2], [2, 2], [0, 0], false], adaptiveAvgPool2d: [T, [1, 1]], reshape: [T, [-1]], permute: [T, [0, 1, 2, 3]],
  transpose: [T, 0, 1], flatten: [T, 0, -1], unsqueeze: [T, 0], squeeze: [T, 0], expand: [T, [1, 2, 4, 4]],
  slice: [T, 1, 0, 1, 1], cat: [[T, T], 0], stack: [[T, T], 0], indexSelect: [T, 0, L], gather: [T, 0, L],
  pad: [T, [1, 1], 0], flip: [T, [0]], crossEntropy: [T, L, 0, 'mean'], dropout: [T, 0.5, true],
  lstmCell: [T, T, T, T, T, O, O], multinomial: [T, 1, false, null], augmentBatch: [U, L, [0, 0], [0, 0], [0, 0], 0, [0], [1]],
  sgdStep: [[T, T], [T, T], 0.1, 0.9, 0, 0, false, true], rmspropStep: [[T], [T], [T], 0.1, 0.9, 1e-3, 0, 0.9, false],
  adamStep: [[T], [T], [T], 1, 0.1, 0.9, 0.999, 1e-8, 0, false], clipGradNorm: [[T, T], 1],
  free: [O], freeMany: [[O, O]],
};
/** Entry points that take no tensor handle (generators have their own test). */
const NO_HANDLES = new Set([
  'fromFloat32', 'fromInt64', 'fromFloat64', 'fromInt32', 'fromUint8', 'liveCount', 'zeros', 'ones', 'full', 'arange', 'rand',
  'randn', 'randint', 'randperm', 'manualSeed', 'newGenerator', 'freeGenerator', 'liveGeneratorCount', 'setNumThreads',
  'getNumThreads', 'setGradEnabled', 'isGradEnabled', 'version', 'allocatorStats', 'resetAllocatorPeaks',
  'setAllocatorCacheLimit', 'emptyAllocatorCache', 'exitWithParent',
]);

const BAD_HANDLES: { make: (valid: Handle) => number; error: typeof TypeError | typeof RangeError; text: (v: number) => string }[] = [
  { make: (h) => h + 0.5, error: TypeError, text: (v) => `got ${v}` },
  { make: () => 0.25, error: TypeError, text: () => 'got 0.25' },
  { make: () => Number.NaN, error: TypeError, text: () => 'got nan' },
  { make: () => Number.POSITIVE_INFINITY, error: TypeError, text: () => 'got inf' },
  { make: (h) => -h, error: RangeError, text: (v) => `: ${v}` },
  { make: () => -1, error: RangeError, text: () => ': -1' },
  { make: () => 2 ** 53, error: RangeError, text: () => ': 9007199254740992' },
  { make: () => 2 ** 64, error: RangeError, text: () => ': 1.8446744073709552e+19' },
];

test('every entry point that takes a tensor handle rejects fractional, NaN, negative and huge ones by name', () => {
  const fns = Object.keys(n()).filter((k) => typeof (n() as unknown as Record<string, unknown>)[k] === 'function');
  const unclassified = fns.filter((f) => !(f in SPECS) && !NO_HANDLES.has(f));
  assert.deepEqual(unclassified, [], 'classify new native functions in SPECS or NO_HANDLES');
  const base = n().liveCount();
  let checks = 0;
  for (const [name, spec] of Object.entries(SPECS)) {
    const fn = (n() as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
    // every handle position: [argument index, list index or -1]
    const positions: [number, number][] = [];
    spec.forEach((s, i) => {
      if (Array.isArray(s)) s.forEach((e, k) => typeof e === 'string' && e.startsWith('$') && positions.push([i, k]));
      else if (typeof s === 'string' && s.startsWith('$')) positions.push([i, -1]);
    });
    assert.ok(positions.length > 0, `${name} has no handle argument`);
    for (const [pi, pk] of positions) {
      for (const bad of BAD_HANDLES) {
        const made: Handle[] = [];
        const make = (s: unknown): unknown => {
          if (Array.isArray(s)) return s.map(make);
          if (typeof s !== 'string' || !s.startsWith('$')) return s;
          let h: Handle;
          if (s === B) {
            const u = n().fromUint8(Uint8Array.from([1, 0]), [2]);
            h = n().toDtype(u, 'bool');
            n().free(u);
          } else if (s === W) h = F(seq(12), [3, 4], true);
          else if (s === L) h = n().fromInt32(Int32Array.from([0, 0]), [2]);
          else if (s === U) h = n().fromUint8(new Uint8Array(4), [1, 2, 2, 1]);
          else h = F(seq(32), [1, 2, 4, 4], true);
          made.push(h);
          return h;
        };
        const args = spec.map(make);
        const valid = made[0]!;
        const value = bad.make(valid);
        if (pk < 0) args[pi] = value;
        else (args[pi] as unknown[])[pk] = value;
        const label = `${name}: argument ${pi}${pk >= 0 ? ` element ${pk}` : ''} = ${value}`;
        assert.throws(() => fn(...args), (e: unknown) => {
          assert.ok(e instanceof bad.error, `${label}: expected a ${bad.error.name}, got ${String(e)}`);
          assert.match(e.message, new RegExp(`^${name}: argument ${pi} \\('\\w+'\\) .*tensor handle`), label);
          assert.ok(e.message.toLowerCase().includes(bad.text(value).toLowerCase()), `${label}: message '${e.message}' lacks '${bad.text(value)}'`);
          if (pk >= 0) assert.match(e.message, new RegExp(`\\(element ${pk}\\)`), label);
          return true;
        }, label);
        checks++;
        n().freeMany(made);
      }
    }
  }
  assert.ok(checks > 500, `${checks} checks`);
  assert.equal(n().liveCount(), base, 'rejected calls leak nothing');
});

test('free and freeMany validate handles and freeMany frees nothing when one entry is invalid', () => {
  const a = n().ones([1], 'float32');
  const b = n().ones([1], 'float32');
  assert.equal(n().free(0), false, 'free(0) is a no-op');
  assert.throws(() => n().freeMany([a, b + 0.5]), (e: unknown) => e instanceof TypeError && /argument 0 \('handles'\).*\(element 1\)/.test(e.message));
  assert.throws(() => n().freeMany([a, -b]), RangeError);
  assert.deepEqual([n().shape(a), n().shape(b)], [[1], [1]], 'nothing was freed');
  assert.equal(n().freeMany([a, b, a, 0]), 2);
  assert.equal(n().free(a), false, 'a second free is a no-op');
  // the handle that used to be truncated to a live tensor
  const c = n().ones([1], 'float32');
  assert.throws(() => n().relu(c + 0.5), TypeError);
  assert.throws(() => n().free(c + 0.5), TypeError);
  assert.equal(n().free(c), true);
});

// ---- generators ----------------------------------------------------------------------------------

test('generators are released by dispose and rejected afterwards; bad generator arguments are TypeErrors', () => {
  const base = liveGenerators();
  for (let i = 0; i < 200; i++) {
    const g = new Generator(i);
    const t = rand([2], g);
    t.dispose();
    g.dispose();
    g.dispose();
  }
  assert.equal(liveGenerators(), base, 'disposed generators are freed');
  const g = new Generator(3);
  assert.equal(liveGenerators(), base + 1);
  const raw = g.id;
  g.dispose();
  assert.equal(g.isDisposed, true);
  assert.throws(() => rand([2], g), /generator was disposed/);
  assert.throws(() => n().rand([2], raw), /rand: argument 'generator' is a freed generator/);
  assert.equal(n().freeGenerator(raw), false);
  [1, 0.5, -1, Number.NaN, {}, 'g', [raw]].forEach((bad, i) => {
    assert.throws(() => n().randn([2], bad as never), (e: unknown) => e instanceof TypeError && /argument 1 \('generator'\) must be a generator/.test(e.message), `bad generator ${i}`);
    assert.throws(() => n().freeGenerator(bad as never), TypeError, `bad generator ${i}`);
  });
  // seeded streams still reproduce
  const [g1, g2] = [new Generator(42), new Generator(42)];
  const [r1, r2] = [rand([4], g1), rand([4], g2)];
  assert.deepEqual(r1.toFloat32Array(), r2.toFloat32Array());
  for (const x of [r1, r2, g1, g2]) x.dispose();
  assert.equal(liveGenerators(), base);
});

test('generators nobody disposes are freed when garbage collected', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const base = liveGenerators();
  const make = () => {
    for (let i = 0; i < 300; i++) rand([1], new Generator(i)).dispose();
  };
  make();
  assert.ok(liveGenerators() >= base, 'created');
  for (let round = 0; round < 20 && liveGenerators() > base; round++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(liveGenerators() <= base, `${liveGenerators() - base} generators outlived garbage collection`);
});
