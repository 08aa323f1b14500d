import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allLayers, buildPlan } from '../model/plan.js';
import { exportOnnx } from '../model/export.js';
import { presetArch } from '../space/presets.js';
import { printArch } from '../space/arch-string.js';
import { InputError } from '../util/input-error.js';
import { ModelRejectedError, type LatencyModel, type LatencyResult } from './device.js';
import { measureLatency } from './measure.js';
import { archToModel, layersToModel, planToModel, resolveModel } from './model.js';
import { createDevice, DEVICE_KINDS, deviceKinds, registerDevice, UnknownDeviceError } from './registry.js';
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
  for (const [index, l] of plan.layers.entries()) {
    if (kinds.has(l.kind) && l.kind !== 'block') continue;
    kinds.add(l.kind);
    const r = await d.measure(layersToModel(plan, { from: index, to: index + 1 }, l.name), { ...QUICK, minSeconds: 0, minRuns: 6, maxSeconds: 0.05 });
    assertSane(r);
  }
  assert.deepEqual([...kinds].sort(), ['block', 'classifier', 'pool', 'stem']);
});

/** The model with no arch in its plan and ONNX bytes that must not be read: only the plan's layers can build it. */
function planOnly(model: LatencyModel): LatencyModel {
  const source = model.source;
  assert.ok(source?.kind === 'plan');
  return {
    name: model.name,
    inputShape: model.inputShape,
    source: { ...source, plan: { ...source.plan, arch: undefined as never } },
    get onnx(): Uint8Array {
      throw new Error('the engine read the ONNX bytes');
    },
  };
}

test('engine device builds networks and layer ranges from the plan it is given, not from an arch string or ONNX bytes', async () => {
  const device = await createDevice('engine', { threads: 1 });
  const plan = buildPlan(presetArch('bench-fmnist'));
  const r = await device.measure(planOnly(planToModel(plan, 'bench')), QUICK);
  assertSane(r);
  assert.equal(r.device.kind, 'engine');
  assert.equal(r.device.threads, 1);
  assert.match(r.device.runtime, /libtorch/);
  const n = plan.layers.length;
  assertSane(await device.measure(planOnly(layersToModel(plan, { from: n - 3, to: n }, 'tail')), QUICK));
  assertSane(await device.measure(planOnly(layersToModel(plan, { from: 1, to: 2 }, 'one block layer')), QUICK));
  await assert.rejects(
    device.measure({ name: 'x.onnx', onnx: new Uint8Array(), inputShape: [1, 1, 28, 28] }, QUICK),
    (e: unknown) => e instanceof ModelRejectedError && /^engine: model 'x\.onnx' is an ONNX file/.test(e.message),
  );
  await device.close();
});

test('planned models: the input of the first layer, the ONNX exported on first read and kept', () => {
  const plan = buildPlan(presetArch('fmnist-default'));
  const whole = planToModel(plan, 'fm', 3);
  assert.deepEqual(whole.source, { kind: 'plan', plan, layers: allLayers(plan), seed: 3 });
  assert.deepEqual(whole.inputShape, [1, 1, 28, 28]);
  assert.equal(whole.onnx, whole.onnx, 'exported once');
  assert.deepEqual(whole.onnx, exportOnnx(plan, undefined, { seed: 3 }));
  const last = plan.layers.length - 1;
  const classifier = layersToModel(plan, { from: last, to: last + 1 }, 'fc');
  assert.deepEqual(classifier.inputShape, [1, plan.layers[last]!.inChannels, 1, 1]);
  assert.throws(() => layersToModel(plan, { from: 2, to: 2 }, 'none'), RangeError);
});

test('registry: known kinds, unknown kind, bad threads, replaceable entries', async () => {
  assert.deepEqual(DEVICE_KINDS, ['ort-cpu', 'engine', 'browser']);
  assert.deepEqual(deviceKinds().slice(0, 3), [...DEVICE_KINDS]);
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
  assert.ok(m.source?.kind === 'plan' && m.onnx.length > 1000);
  const big = resolveModel('bench-fmnist', { input: { height: 32, width: 32, channels: 3 } });
  assert.deepEqual(big.inputShape, [1, 3, 32, 32]);
  assert.throws(() => resolveModel('no-such-model'), (e: unknown) => e instanceof InputError && /not a preset/.test(e.message));
  assert.throws(() => resolveModel('/nonexistent/x.onnx'), (e: unknown) => e instanceof InputError && /does not exist/.test(e.message));
});

test('measureLatency: a spec on a device it opens, a model on a device it leaves open, what network it measured', async () => {
  const m = await measureLatency('bench-fmnist', { protocol: QUICK });
  assertSane(m.result);
  assert.equal(m.result.device.id, 'ort-cpu:t1');
  assert.equal(m.network?.macs, 7_159_968);
  assert.equal(m.network?.arch, printArch(presetArch('bench-fmnist')));
  const device = new OrtCpuDevice({ threads: 2 });
  let closed = false;
  device.close = async () => {
    closed = true;
  };
  const plan = buildPlan(presetArch('bench-fmnist'));
  const two = await measureLatency(layersToModel(plan, { from: 1, to: 3 }, 'two layers'), { device, protocol: QUICK });
  assert.equal(two.result.device.threads, 2);
  assert.equal(two.network, undefined, 'a range of layers is not a network');
  assert.equal(closed, false);
  await assert.rejects(measureLatency('no-such-model'), InputError);
  await assert.rejects(measureLatency('bench-fmnist', { device: 'tpu' }), UnknownDeviceError);
});
