/**
 * Errors: libtorch exceptions arrive as JavaScript Errors carrying libtorch's message (prefixed
 * by the op), and no input from TypeScript crashes the process: bad shapes and dtypes, disposed
 * tensors, out-of-memory requests, and wrong argument types fed straight to every raw native
 * function.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  conv2d, crossEntropy, expand, Generator, int64Tensor, linear, liveTensors, matmul, mul, ones, randn, relu, reshape, sum, tensor,
  tidy, zeros,
} from './index.js';
import { native } from './native.js';

function throwsError(fn: () => unknown, pattern: RegExp, label: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, `${label}: threw a non-Error ${String(e)}`);
    assert.match(e.message, pattern, `${label}: message was ${e.message}`);
    return true;
  });
}

test('libtorch errors become JS Errors with libtorch\'s message: shapes, arguments, dtypes', () => {
  tidy(() => {
    throwsError(() => matmul(zeros([2, 3]), zeros([4, 5])), /^matmul: .*mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)/, 'matmul');
    throwsError(() => conv2d(zeros([1, 3, 4, 4]), zeros([2, 3, 3, 3]), null, { stride: 0 }), /^conv2d: .*non-positive stride/, 'stride 0');
    throwsError(() => conv2d(zeros([1, 3, 4, 4]), zeros([2, 3, 3, 3]), null, { padding: -1 }), /^conv2d: .*negative padding/, 'padding');
    throwsError(() => conv2d(zeros([1, 3, 2, 2]), zeros([2, 3, 3, 3]), null), /^conv2d: .*(Kernel size can't be greater than actual input size|kernel size)/i, 'kernel > input');
    throwsError(() => conv2d(zeros([1, 4, 4, 4]), zeros([2, 3, 3, 3]), null), /^conv2d: argument 1 \('weight'\) input channels 4/, 'channels');
    throwsError(() => conv2d(int64Tensor([1, 2, 3, 4], [1, 1, 2, 2]), zeros([1, 1, 1, 1]), null), /must be float32 or float64, got int64/, 'dtype');
    throwsError(() => linear(zeros([2, 3]), zeros([4, 5]), null), /^linear: .*input features 3 do not match weight shape \[4, 5\]/, 'linear');
    throwsError(() => crossEntropy(zeros([2, 3]), int64Tensor([0, 7])), /^crossEntropy: .*Target 7 is out of bounds/, 'target');
    throwsError(() => crossEntropy(zeros([2, 3]), tensor([0, 1])), /must be int64 class indices/, 'target dtype');
    throwsError(() => reshape(zeros([6]), [4, -1]), /^reshape: .*shape '\[4, -1\]' is invalid for input of size 6/, 'reshape');
    throwsError(() => expand(zeros([2, 3]), [4, 3]), /^expand: .*must match the existing size/, 'expand');
    throwsError(() => zeros([2], 'float16' as 'float32'), /must be one of float32, float64, int64, uint8, bool; got 'float16'/, 'dtype name');
    throwsError(() => native().uniform_(int64Tensor([1]).handle, 0, 1, null), /^uniform_: .*not implemented for 'Long'/, 'uniform on int64');
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const y = sum(mul(x, x));
    y.backward();
    throwsError(() => y.backward(), /^backward: .*backward through the graph a second time/, 'second backward');
  });
});

test('out of memory and absurd sizes are Errors, not crashes', () => {
  throwsError(() => zeros([1_000_000, 1_000_000]), /^zeros: .*(not enough memory|alloc)/i, 'zeros 4 TB');
  throwsError(() => native().arange(2 ** 52, 'float32'), /^arange: .*(not enough memory|alloc)/i, 'arange');
  throwsError(() => zeros([2 ** 40, 2 ** 40]), /more elements than int64 can count/, 'overflowing shape');
  throwsError(() => zeros([2 ** 60]), /must contain only safe integers/, 'unsafe integer');
  // an overflowing product must not sneak through reshape's element count check on an empty tensor
  throwsError(() => reshape(zeros([0]), [2 ** 32, 2 ** 32]), /more elements than int64 can count/, 'reshape overflow');
  throwsError(() => expand(zeros([1, 1]), [2 ** 33, 2 ** 33]), /more elements than int64 can count/, 'expand overflow');
  throwsError(() => zeros([-3]), /negative dimension/, 'negative size');
  // between "available" and "physical" memory Linux would overcommit and the OOM killer would
  // strike when the zeros are written; the binding's allocator refuses it first
  const info = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(info)?.[1] ?? NaN) * 1024;
  const request = kb('MemAvailable') + 2 ** 29;
  throwsError(() => zeros([Math.ceil(request / 4)]), /^zeros: .*not enough memory|can't allocate memory/, 'more than available');
  throwsError(() => native().randperm(-1, null), /^randperm: /, 'randperm negative');
  throwsError(() => native().dropout(ones([2]).handle, Number.NaN, true), /must be in \[0, 1\)/, 'dropout NaN');
  throwsError(() => native().crossEntropy(zeros([1, 2]).handle, int64Tensor([0]).handle, Number.NaN, 'mean'), /labelSmoothing/, 'smoothing NaN');
  throwsError(() => native().crossEntropy(zeros([1, 2]).handle, int64Tensor([0]).handle, 0, 'avg' as 'mean'), /reduction/, 'reduction');
});

test('disposed tensors are rejected, by the wrapper and by the raw functions', () => {
  const t = ones([2]);
  const h = t.handle;
  t.dispose();
  throwsError(() => relu(t), /tensor was disposed/, 'wrapper');
  throwsError(() => native().relu(h), /^relu: .*argument 'input' is a disposed or unknown tensor/, 'raw');
  throwsError(() => native().add(ones([1]).handle, h), /argument 'b' is a disposed or unknown tensor/, 'raw second argument');
  throwsError(() => native().cat([h], 0), /disposed or unknown tensor/, 'in a list');
});

const BAD_VALUES: unknown[] = [
  undefined, null, 'abc', '', {}, { handle: 1 }, [], [Number.NaN], ['x'], [1, 'a'], [-1], [1e300], [2 ** 31, 2 ** 31, 2 ** 31],
  Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, -(2 ** 31), 2 ** 53 + 2, 1e300, 0.5, 4194305, 123456789012,
  true, 10n, () => 1, Symbol('s'), new Float32Array(3), new Uint8Array(0), new Int32Array([1, 2]),
];

test('every raw native function survives wrong argument types and values', () => {
  const fns = Object.entries(native() as unknown as Record<string, unknown>).filter(([, f]) => typeof f === 'function') as [string, (...a: unknown[]) => unknown][];
  assert.ok(fns.length > 90, `only ${fns.length} native functions`);
  const base = liveTensors();
  const release = (r: unknown) => {
    if (typeof r === 'number') native().free(r);
    else if (Array.isArray(r)) native().freeMany(r.filter((v): v is number => typeof v === 'number'));
  };
  // functions whose first argument is a size or seed, not a tensor: a tensor handle there is a
  // (valid) size of up to gigabytes, which only costs time on a shared machine
  const sizeFirst = new Set(['zeros', 'ones', 'full', 'arange', 'rand', 'randn', 'randint', 'randperm', 'newGenerator', 'manualSeed', 'setNumThreads']);
  let calls = 0, errors = 0;
  const before = native().getNumThreads();
  const grad = native().isGradEnabled();
  for (const [name, fn] of fns) {
    for (const bad of BAD_VALUES) {
      const good = () => native().fromFloat32(new Float32Array([1, -2, 3, 4]), [1, 1, 2, 2], false);
      const patterns: (() => unknown[])[] = [() => [], () => [bad], () => Array(10).fill(bad)];
      if (!sizeFirst.has(name)) {
        patterns.push(
          () => [good(), bad, bad, bad, bad, bad, bad, bad, bad, bad],
          () => [good(), good(), bad, bad, bad, bad, bad, bad, bad, bad],
          () => [[good()], bad, bad, bad, bad, bad, bad, bad, bad, bad],
        );
      }
      for (const make of patterns) {
        const args = make();
        calls++;
        try {
          release(fn(...args));
        } catch (e) {
          errors++;
          assert.ok(e instanceof Error, `${name}(${args.map(String).join(', ')}) threw a non-Error: ${String(e)}`);
          assert.ok(e.message.length > 0);
        }
        for (const a of args) {
          if (typeof a === 'number' && !Object.is(a, bad)) native().free(a);
          if (Array.isArray(a) && a !== bad) native().freeMany(a as number[]);
        }
      }
    }
  }
  native().setNumThreads(before);
  native().setGradEnabled(grad);
  assert.ok(errors > calls * 0.8, `${errors} errors in ${calls} calls`);
  assert.equal(liveTensors(), base, 'failed calls leak no tensors');
  // and the engine still works
  tidy(() => assert.equal(sum(randn([10], new Generator(1))).dtype, 'float32'));
});
