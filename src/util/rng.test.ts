import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './rng.js';

test('same seed gives the same stream, different seeds differ', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const sa = Array.from({ length: 20 }, () => a.nextUint32());
  const sb = Array.from({ length: 20 }, () => b.nextUint32());
  const sc = Array.from({ length: 20 }, () => c.nextUint32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
});

test('state round trip resumes the exact stream', () => {
  const a = new Rng(7);
  for (let i = 0; i < 10; i++) a.next();
  const b = Rng.fromState(a.state());
  assert.deepEqual(Array.from({ length: 10 }, () => a.next()), Array.from({ length: 10 }, () => b.next()));
});

test('int(n) is uniform enough and in range', () => {
  const r = new Rng(1);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60000; i++) counts[r.int(6)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 500, `count ${c}`);
  assert.throws(() => r.int(0), /n must be an integer/);
});

test('next() in [0,1) with mean near 0.5; permutation is a permutation', () => {
  const r = new Rng(3);
  let sum = 0;
  for (let i = 0; i < 10000; i++) { const v = r.next(); assert.ok(v >= 0 && v < 1); sum += v; }
  assert.ok(Math.abs(sum / 10000 - 0.5) < 0.02);
  const p = Array.from(r.permutation(100)).sort((x, y) => x - y);
  assert.deepEqual(p, Array.from({ length: 100 }, (_, i) => i));
});

test('fillScaled gives the nextUint32 stream, scaled, and leaves the state where the calls would', () => {
  const a = new Rng(11), b = new Rng(11);
  const filled = new Float64Array(1000);
  a.fillScaled(filled, 2, -1);
  const called = Array.from({ length: 1000 }, () => b.nextUint32() * 2 - 1);
  assert.deepEqual(Array.from(filled), called);
  // values above 2^31 included: the int32 locals must not change them
  assert.ok(called.some((v) => v > 2 ** 32 - 1));
  assert.deepEqual(a.state(), b.state());
  const f32 = new Float32Array(5);
  a.fillScaled(f32, 1 / 2 ** 32, 0);
  assert.deepEqual(Array.from(f32), Array.from({ length: 5 }, () => Math.fround(b.nextUint32() / 2 ** 32)));
});
