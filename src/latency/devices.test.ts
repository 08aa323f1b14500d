import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan } from '../model/plan.js';
import { exportOnnx } from '../model/export.js';
import { presetArch } from '../space/presets.js';
import { printArch } from '../space/arch-string.js';
import type { LatencyResult } from './device.js';
import { layersModel } from './layer-onnx.js';
import { archToModel, resolveModel } from './model.js';
import { createDevice, deviceKinds, registerDevice, UnknownDeviceError } from './registry.js';
import { OrtCpuDevice } from './ort-cpu.js';

const QUICK = { warmupRuns: 3, warmupSeconds: 0, minRuns: 15, minSeconds: 0.02, maxSeconds: 0.5 };

function assertSane(r: LatencyResult): void {
  assert.ok(Number.isFinite(r.median_ms) && r.median_ms > 0, `median ${r.median_ms}`);
  assert.ok(r.p10_ms <= r.median_ms && r.median_ms <= r.p90_ms);
  assert.ok(r.mean_ms > 0 && r.cv >= 0);
  assert.ok(r.runs >= 1 && r.seconds > 0);
  assert.equal(typeof r.converged, 'boolean');
}

test('ort-cpu measures an exported model and describes itself', async () => {
  const plan = buildPlan(presetArch('bench-fmnist'));
  const device = await createDevice('ort-cpu', { threads: 1 });
  const r = await device.measure({ name: 'bench-fmnist', onnx: exportOnnx(plan), inputShape: [1, 1, 28, 28] }, QUICK);
  assertSane(r);
  assert.ok(r.runs >= 15);
  assert.equal(r.device.kind, 'ort-cpu');
  assert.equal(r.device.id, 'ort-cpu:t1');
  assert.equal(r.device.threads, 1);
  assert.equal(r.device.runtime, 'onnxruntime-node');
  assert.match(r.device.runtimeVersion, /^\d+\.\d+/);
  assert.ok(r.device.cpu.length > 0);
  await device.close();
});

test('ort-cpu: threads are configurable, preallocated output is filled, bad models are named', async () => {
  const d = new OrtCpuDevice({ threads: 2 });
  assert.equal((await d.describe()).threads, 2);
  const model = archToModel(presetArch('bench-fmnist'), 'bench');
  const runner = await d.open(model);
  assert.deepEqual(runner.outputShape, [1, 10]);
  await runner.run();
  await runner.close();
  await assert.rejects(d.measure({ name: 'junk', onnx: new Uint8Array([1, 2, 3, 4]), inputShape: [1, 1, 2, 2] }), /ort-cpu: cannot load model 'junk'/);
  await assert.rejects(d.measure({ ...model, inputShape: [1, 3, 28, 28] }), /does not run with input/);
  assert.throws(() => new OrtCpuDevice({ threads: 0 }), /threads/);
});

test('single-layer models run on ort-cpu (every layer kind of a plan)', async () => {
  const plan = buildPlan(presetArch('fmnist-default'));
  const d = new OrtCpuDevice();
  const kinds = new Set<string>();
  for (const l of plan.layers) {
    if (kinds.has(l.kind) && l.kind !== 'block') continue;
    kinds.add(l.kind);
    const r = await d.measure(layersModel([l], l.name), { ...QUICK, minSeconds: 0, minRuns: 6, maxSeconds: 0.05 });
    assertSane(r);
  }
  assert.deepEqual([...kinds].sort(), ['block', 'classifier', 'pool', 'stem']);
});

test('engine device measures a network built from the arch string, and layer stacks', async () => {
  const device = await createDevice('engine', { threads: 1 });
  const arch = presetArch('bench-fmnist');
  const r = await device.measure({ name: 'bench', onnx: new Uint8Array(), inputShape: [1, 1, 28, 28], arch: printArch(arch) }, QUICK);
  assertSane(r);
  assert.equal(r.device.kind, 'engine');
  assert.equal(r.device.threads, 1);
  assert.match(r.device.runtime, /libtorch/);
  const plan = buildPlan(arch);
  const stack = await device.measure(layersModel(plan.layers.slice(-3), 'tail'), QUICK);
  assertSane(stack);
  await assert.rejects(device.measure({ name: 'x.onnx', onnx: new Uint8Array(), inputShape: [1, 1, 28, 28] }, QUICK), /no arch string/);
  await device.close();
});

test('registry: known kinds, unknown kind, bad threads, replaceable entries', async () => {
  assert.deepEqual(deviceKinds().slice(0, 3), ['ort-cpu', 'engine', 'browser']);
  await assert.rejects(createDevice('tpu'), UnknownDeviceError);
  await assert.rejects(createDevice('ort-cpu', { threads: 0 }), /threads/);
  let got: unknown;
  registerDevice('fake-test', (o) => {
    got = o;
    return new OrtCpuDevice();
  });
  await createDevice('fake-test', { threads: 3, extra: 'x' });
  assert.deepEqual(got, { threads: 3, extra: 'x' });
});

test('resolveModel: presets, arch strings and their errors', () => {
  const m = resolveModel('bench-fmnist');
  assert.equal(m.name, 'bench-fmnist');
  assert.deepEqual(m.inputShape, [1, 1, 28, 28]);
  assert.ok(m.arch && m.onnx.length > 1000);
  const big = resolveModel('bench-fmnist', { input: { height: 32, width: 32, channels: 3 } });
  assert.deepEqual(big.inputShape, [1, 3, 32, 32]);
  assert.throws(() => resolveModel('no-such-model'), /not a preset/);
  assert.throws(() => resolveModel('/nonexistent/x.onnx'), /does not exist/);
});
