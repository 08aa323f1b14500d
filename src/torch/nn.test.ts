/**
 * Modules (Conv2d, BatchNorm2d, Linear, LSTMCell, Sequential): named parameters and buffers,
 * train/eval mode, state save/load through safetensors, and the safetensors codec itself.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  Activation, BatchNorm2d, Conv2d, decodeSafetensors, dispose, encodeSafetensors, float64Tensor, Generator, int64Tensor, Linear,
  liveTensors, loadSafetensors, LSTMCell, randn, relu, saveSafetensors, Sequential, setNumThreads, tensor, tidy, uint8Tensor,
  type Tensor,
} from './index.js';
import { assertClose } from './testing.js';
import { tempDir } from '../util/testing.js';

setNumThreads(1);

const net = (seed: number) => {
  const g = new Generator(seed);
  return new Sequential([
    new Conv2d({ inChannels: 2, outChannels: 4, kernel: 3, stride: 2, bias: true, generator: g }),
    new BatchNorm2d({ channels: 4, momentum: 0.2, eps: 1e-3 }),
    new Activation(relu),
    new Conv2d({ inChannels: 4, outChannels: 4, kernel: 3, groups: 4, generator: g, init: 'tf-mnasnet' }),
  ]);
};

test('named parameters and buffers follow PyTorch naming; parameters require grad', () => {
  const m = net(1);
  try {
    assert.deepEqual(m.namedParameters().map(([n, p]) => [n, [...p.shape]]), [
      ['0.weight', [4, 2, 3, 3]], ['0.bias', [4]], ['1.weight', [4]], ['1.bias', [4]], ['3.weight', [4, 1, 3, 3]],
    ]);
    assert.deepEqual(m.namedBuffers().map(([n]) => n), ['1.running_mean', '1.running_var']);
    assert.ok(m.parameters().every((p) => p.requiresGrad && p.kept));
    assert.ok(m.namedBuffers().every(([, b]) => !b.requiresGrad));
    assert.equal(m.parameterCount(), 72 + 4 + 4 + 4 + 36);
    const lin = new Linear({ inFeatures: 3, outFeatures: 2, bias: false });
    assert.deepEqual(lin.namedParameters().map(([n]) => n), ['weight']);
    lin.dispose();
    const cell = new LSTMCell({ inputSize: 3, hiddenSize: 5 });
    assert.deepEqual(cell.namedParameters().map(([n, p]) => `${n}:${p.shape}`), ['weight_ih:20,3', 'weight_hh:20,5', 'bias_ih:20', 'bias_hh:20']);
    tidy(() => {
      const [h, c] = cell.zeroState(2);
      const [h2, c2] = cell.forward(randn([2, 3], new Generator(1)), h, c);
      assert.deepEqual(h2.shape, [2, 5]);
      assert.deepEqual(c2.shape, [2, 5]);
    });
    cell.dispose();
    assert.throws(() => new Conv2d({ inChannels: 3, outChannels: 4, kernel: 3, groups: 2 }), /not divisible by groups/);
    assert.throws(() => new BatchNorm2d({ channels: 0 }), /positive integer/);
  } finally {
    m.dispose();
  }
});

test('seeded init: the same seed builds the same weights', () => {
  const a = net(7), b = net(7), c = net(8);
  try {
    const w = (m: Sequential) => m.namedParameters().map(([, p]) => [...p.toFloat32Array()]);
    assert.deepEqual(w(a), w(b));
    assert.notDeepEqual(w(a), w(c));
  } finally {
    dispose([a, b, c].flatMap((m) => m.parameters()));
    for (const m of [a, b, c]) m.dispose();
  }
});

test('train mode updates BN running statistics and uses batch statistics; eval mode uses and keeps running statistics', () => {
  const m = net(2);
  try {
    tidy(() => {
      const x = randn([3, 2, 6, 6], new Generator(3));
      const bn = m.layers[1] as BatchNorm2d;
      assert.equal(m.training, true);
      const rm0 = bn.runningMean.toFloat32Array();
      const yTrain = m.forward(x).toFloat32Array();
      const rm1 = bn.runningMean.toFloat32Array();
      assert.notDeepEqual(rm1, rm0, 'train forward updates running mean');
      m.eval();
      assert.ok(m.layers.every((l) => !l.training), 'eval propagates to children');
      const yEval1 = m.forward(x).toFloat32Array();
      const yEval2 = m.forward(x).toFloat32Array();
      assert.deepEqual(bn.runningMean.toFloat32Array(), rm1, 'eval forward keeps running mean');
      assert.deepEqual(yEval1, yEval2);
      assert.notDeepEqual(yEval1, yTrain);
      m.train();
      assert.ok(m.layers.every((l) => l.training));
    });
  } finally {
    m.dispose();
  }
});

test('state saves to safetensors and loads back exactly (file and bytes)', () => {
  const dir = tempDir('mnas-st-');
  const a = net(3), b = net(4);
  const before = liveTensors();
  try {
    tidy(() => {
      a.forward(randn([2, 2, 5, 5], new Generator(1))); // non-trivial running stats
    });
    const file = path.join(dir, 'sub', 'model.safetensors');
    saveSafetensors(file, a.stateDict(), { arch: 'test' });
    const loaded = loadSafetensors(file);
    assert.deepEqual(loaded.metadata, { arch: 'test' });
    assert.deepEqual([...loaded.tensors.keys()].sort(), [...a.stateDict().keys()].sort());
    b.loadStateDict(loaded.tensors);
    dispose(loaded.tensors);
    for (const [k, t] of a.stateDict()) assert.deepEqual(b.stateDict().get(k)!.toFloat32Array(), t.toFloat32Array(), k);
    a.eval();
    b.eval();
    tidy(() => {
      const x = randn([1, 2, 5, 5], new Generator(9));
      assert.deepEqual(b.forward(x).toFloat32Array(), a.forward(x).toFloat32Array());
    });
    assert.equal(liveTensors(), before);

    // header layout: u64 little-endian length, JSON padded to 8 bytes, sorted data
    const bytes = readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
    assert.deepEqual(header['0.weight'], { dtype: 'F32', shape: [4, 2, 3, 3], data_offsets: header['0.weight']!.data_offsets });
    assert.equal(bytes.byteLength, 8 + n + Object.values(header).filter((e) => 'dtype' in e).reduce((s, e) => s + e.data_offsets[1]! - e.data_offsets[0]!, 0));
  } finally {
    a.dispose();
    b.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadStateDict rejects missing, unexpected and mis-shaped entries without changing anything', () => {
  const m = net(5);
  try {
    const w0 = m.stateDict().get('0.weight')!.toFloat32Array();
    tidy(() => {
      const state = new Map<string, Tensor>([...m.stateDict()].map(([k, t]) => [k, t.clone()]));
      state.delete('1.running_var');
      assert.throws(() => m.loadStateDict(state), /missing key '1.running_var'/);
      state.set('1.running_var', tensor([1, 1, 1, 1]));
      state.set('extra', tensor([1]));
      assert.throws(() => m.loadStateDict(state), /unexpected key 'extra'/);
      state.delete('extra');
      state.set('0.weight', tensor([1, 2]));
      assert.throws(() => m.loadStateDict(state), /'0.weight': shape \[2\] does not match/);
      assert.deepEqual(m.stateDict().get('0.weight')!.toFloat32Array(), w0, 'unchanged after a failed load');
      state.delete('0.weight');
      m.loadStateDict(state, false); // non-strict: missing keys are fine
    });
  } finally {
    m.dispose();
  }
});

test('safetensors codec: every dtype round-trips; malformed files are clear errors', () => {
  tidy(() => {
    const tensors = new Map<string, Tensor>([
      ['f32', tensor([1.5, -2], [2, 1])],
      ['f64', float64Tensor([Math.PI, -1e-300])],
      ['i64', int64Tensor(new BigInt64Array([2n ** 62n, -3n]))],
      ['u8', uint8Tensor(new Uint8Array([0, 200, 255]))],
      ['empty', tensor([], [0, 3])],
    ]);
    const bytes = encodeSafetensors(tensors);
    const back = decodeSafetensors(bytes).tensors;
    assert.deepEqual([...back.get('f32')!.toFloat32Array()], [1.5, -2]);
    assert.deepEqual(back.get('f32')!.shape, [2, 1]);
    assert.deepEqual([...back.get('f64')!.toFloat64Array()], [Math.PI, -1e-300]);
    assert.deepEqual([...back.get('i64')!.toBigInt64Array()], [2n ** 62n, -3n]);
    assert.deepEqual([...back.get('u8')!.toUint8Array()], [0, 200, 255]);
    assert.equal(back.get('u8')!.dtype, 'uint8');
    assert.deepEqual(back.get('empty')!.shape, [0, 3]);
    // a view into a bigger buffer at an odd offset decodes too
    const shifted = new Uint8Array(bytes.byteLength + 3);
    shifted.set(bytes, 3);
    assert.deepEqual([...decodeSafetensors(shifted.subarray(3)).tensors.get('f64')!.toFloat64Array()], [Math.PI, -1e-300]);

    const header = (h: unknown, data = new Uint8Array(0)) => {
      const json = Buffer.from(JSON.stringify(h));
      const out = new Uint8Array(8 + json.byteLength + data.byteLength);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
      out.set(json, 8);
      out.set(data, 8 + json.byteLength);
      return out;
    };
    const before = liveTensors();
    assert.throws(() => decodeSafetensors(new Uint8Array(4)), /too short/);
    assert.throws(() => decodeSafetensors(header({}).subarray(0, 9)), /exceeds the file size/);
    assert.throws(() => decodeSafetensors(Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0, 123, 120])), /header is not valid JSON/);
    assert.throws(() => decodeSafetensors(header({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, new Uint8Array(2))), /unsupported dtype F16/);
    assert.throws(() => decodeSafetensors(header({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4))), /inconsistent/);
    assert.throws(() => decodeSafetensors(header({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(2))), /inconsistent/);
    assert.throws(() => decodeSafetensors(header({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4))), /invalid shape/);
    assert.throws(() => decodeSafetensors(header({ a: { dtype: 'toString', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4))), /unsupported dtype/);
    assert.throws(
      () => decodeSafetensors(header({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: 5 }, new Uint8Array(4))),
      /'b' is malformed/,
    );
    assert.equal(liveTensors(), before, 'a failed decode frees what it had made');
    assert.throws(() => encodeSafetensors(new Map([['b', tensor([1]).to('bool')]])), /unsupported dtype bool/);
    const dir = tempDir('mnas-st-');
    try {
      assert.throws(() => loadSafetensors(path.join(dir, 'missing.safetensors')), /cannot read weights file .*ENOENT/);
      writeFileSync(path.join(dir, 'x.safetensors'), bytes);
      assert.deepEqual([...loadSafetensors(path.join(dir, 'x.safetensors')).tensors.get('f32')!.toFloat32Array()], [1.5, -2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('toChannelsLast keeps the parameters (values, names, grad) and the outputs', () => {
  const m = net(6);
  try {
    m.eval();
    tidy(() => {
      const x = randn([1, 2, 6, 6], new Generator(2));
      const y0 = m.forward(x).toFloat32Array();
      m.toChannelsLast();
      const w = m.stateDict().get('0.weight')!;
      assert.ok(w.isContiguous('channels_last') && w.requiresGrad);
      assertClose(m.forward(x.contiguous('channels_last')).toFloat32Array(), y0, 'channels_last output', 1e-5, 1e-6);
    });
  } finally {
    m.dispose();
  }
});
