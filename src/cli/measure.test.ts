import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportOnnx } from '../model/export.js';
import { LimitError } from '../model/limits.js';
import { decodeModel } from '../model/onnx/index.js';
import { encodeModelObject } from '../model/onnx/proto.js';
import { OrtCpuDevice } from '../latency/ort-cpu.js';
import { UsageError } from './errors.js';
import { measureCommand, measureProtocol } from './measure.js';
import { interleavedProtocol } from '../latency/interleaved.js';
import { DEFAULT_PROTOCOL } from '../latency/protocol.js';
import { buildPlan } from '../model/plan.js';
import { presetArch } from '../space/presets.js';
import { tempDir } from '../util/testing.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

function mnas(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FAST = ['--max-seconds', '0.3'];

test('mnas measure <preset> --json: exit 0, last line one JSON object with the stats and the device', () => {
  const r = mnas('measure', 'bench-fmnist', '--json', ...FAST);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trimEnd().split('\n').at(-1) as string) as Record<string, unknown> & { device: { id: string; kind: string; threads: number } };
  for (const k of ['latency_ms', 'median_ms', 'p10_ms', 'p90_ms', 'mean_ms', 'cv', 'runs']) assert.equal(typeof j[k], 'number', k);
  assert.equal(j.quantile, 0.1);
  assert.equal(j.latency_ms, j.p10_ms, 'the latency is the 10th percentile of the runs');
  assert.ok((j.median_ms as number) >= (j.latency_ms as number) && (j.latency_ms as number) > 0);
  assert.equal(typeof j.converged, 'boolean');
  assert.equal(j.device.kind, 'ort-cpu');
  assert.equal(j.device.threads, 1);
  assert.equal(j.macs, 7_159_968);
});

test('mnas measure: text output, arch strings, --threads, --input, an .onnx file', () => {
  const text = mnas('measure', 'in28x28x1_cls10_stem8s1_head0:r1_k3_s22_e3_i8_o16', '--threads', '2', ...FAST);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /latency: [\d.]+ ms \(p10 of the runs\)  median [\d.]+/);
  assert.match(text.stdout, /ort-cpu:t2 .*2 threads/);
  const dir = tempDir('mnas-measure-');
  try {
    const file = join(dir, 'm.onnx');
    writeFileSync(file, exportOnnx(buildPlan(presetArch('bench-fmnist'))));
    const r = mnas('measure', file, '--json', ...FAST);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trimEnd().split('\n').at(-1) as string) as { model: string; median_ms: number };
    assert.equal(j.model, 'm.onnx');
    assert.ok(j.median_ms > 0);
    // the engine cannot run an .onnx file: usage error
    assert.equal(mnas('measure', file, '--device', 'engine').status, 2);
    // not an ONNX model
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'not a model');
    const bad = mnas('measure', junk);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /^mnas: measure: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mnas measure --against: the ratio to the reference, timed in turn with it; text and JSON; a device that cannot is refused', () => {
  const r = mnas('measure', 'mnasnet-a1-fmnist', '--against', 'bench-fmnist', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trimEnd().split('\n').at(-1) as string) as { ratio: number; reference_ms: number; median_ms: number; pairs: number; runs_per_block: number; sessions: number };
  assert.ok(j.ratio > 1.2, `ratio ${j.ratio}`);
  assert.ok(j.median_ms > j.reference_ms && j.pairs >= 12 && j.runs_per_block >= 3);
  assert.equal(j.sessions, 3);
  const text = mnas('measure', 'bench-fmnist', '--against', 'bench-fmnist', '--sessions', '2', '--quantile', '0.5');
  assert.match(text.stdout, /latency: [\d.]+ ms \(the median of the runs\)/);
  assert.match(text.stdout, /against the reference \([\d.]+ ms in the same blocks, the same quantile\): ratio (0\.9|1\.0)\d+ .* over 2 sessions of each\n/);
  const engine = mnas('measure', 'bench-fmnist', '--against', 'bench-fmnist', '--device', 'engine');
  assert.equal(engine.status, 2);
  assert.match(engine.stderr, /^mnas: measure: device 'engine' cannot measure against a reference \(ort-cpu and browser can\)\n$/);
});

test('mnas measure: bad input exits 2 with a message', () => {
  const cases: string[][] = [
    ['measure', 'no-such-preset'],
    ['measure', 'bench-fmnist', '--device', 'tpu'],
    ['measure', 'bench-fmnist', '--threads', '0'],
    ['measure', 'bench-fmnist', '--threads', 'two'],
    ['measure', 'bench-fmnist', '--input', '28x28'],
    ['measure', 'bench-fmnist', '--input', '0x28x1'],
    ['measure', 'bench-fmnist', '--against', 'no-such-preset'],
    ['measure', 'bench-fmnist', '--sessions', '2'],
    ['measure', 'bench-fmnist', '--quantile', '0'],
    ['measure', 'bench-fmnist', '--quantile', '1.5'],
    ['measure', 'bench-fmnist', '--against', 'bench-fmnist', '--sessions', '0'],
    ['measure', 'bench-fmnist', '--against', 'bench-fmnist', '--sessions', '17'],
    ['measure', 'in28x28x1_cls10:r1_k3_x9'],
    ['measure', '/nonexistent/model.onnx'],
    ['measure'],
  ];
  for (const args of cases) {
    const r = mnas(...args);
    assert.equal(r.status, 2, `${args.join(' ')} -> ${r.status}: ${r.stderr}`);
    assert.ok(r.stderr.length > 0);
  }
});

test('mnas latency: bad requests exit 2', () => {
  const cases: string[][] = [
    ['latency', 'eval', '--device', 'ort-cpu', '--space', 'nope', '--samples', '3'],
    ['latency', 'eval', '--device', 'ort-cpu', '--space', 'fmnist', '--samples', '0'],
    ['latency', 'eval', '--device', 'ort-cpu', '--space', 'fmnist'],
    ['latency', 'eval', '--device', 'ort-cpu', '--space', 'fmnist', '--samples', '3', '--table', '/nonexistent.json'],
    ['latency', 'eval', '--device', 'ort-cpu', '--space', 'fmnist', '--samples', '3', '--passes', '0'],
    ['latency', 'study', '--device', 'gpu', '--space', 'fmnist', '--samples', '3'],
    ['latency', 'profile', '--space', 'fmnist'],
    ['latency', 'profile', '--device', 'ort-cpu', '--space', 'fmnist', '--passes', '0'],
  ];
  for (const args of cases) {
    const r = mnas(...args);
    assert.equal(r.status, 2, `${args.join(' ')} -> ${r.status}: ${r.stderr}`);
  }
});

test('mnas latency study: measures, writes JSON + SVG, last line JSON', () => {
  const dir = tempDir('mnas-study-cli-');
  try {
    const r = mnas('latency', 'study', '--device', 'ort-cpu', '--space', 'fmnist', '--samples', '4', '--out', dir, '--json', '--quiet');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trimEnd().split('\n').at(-1) as string) as { samples: number; spearman_macs: number; report: { svg: string } };
    assert.equal(j.samples, 4);
    assert.ok(j.spearman_macs >= -1 && j.spearman_macs <= 1);
    assert.match(j.report.svg, /latency-vs-macs\.svg$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** bench-fmnist's ONNX with the input declared as `dims` (static). */
function withDeclaredInput(dims: number[]): Uint8Array {
  const model = decodeModel(exportOnnx(buildPlan(presetArch('bench-fmnist')))) as { graph: { input: Array<{ type: { tensorType: { shape: { dim: unknown[] } } } }> } };
  model.graph.input[0]!.type.tensorType.shape.dim = dims.map((d) => ({ dimValue: d }));
  return encodeModelObject(model as unknown as Record<string, unknown>);
}

test('mnas measure: an ONNX file declaring a huge static input is refused in one line naming the input, before any tensor', async () => {
  const dir = tempDir('mnas-measure-big-');
  try {
    const big = join(dir, 'big.onnx');
    writeFileSync(big, withDeclaredInput([1, 3, 100_000, 100_000]));
    const started = performance.now();
    const r = mnas('measure', big);
    const took = (performance.now() - started) / 1000;
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^mnas: measure: '[^']*big\.onnx' input 'input' \[1, 3, 100000, 100000\] height: 100000 exceeds the limit 4096 \(input height and width\)\n$/);
    assert.ok(took < 5, `returned in ${took.toFixed(1)} s`);
    await assert.rejects(measureCommand(big, { device: 'ort-cpu', threads: 1, seed: 0 }), (e: unknown) => e instanceof UsageError && e.cause instanceof LimitError);
    // --input past the limits, an arch past them: the same one line
    for (const args of [['bench-fmnist', '--input', '100000x100000x3'], ['in28x28x1_cls10_stem16s1_head0:r99999999999_k3_s11_e1_i16_o16']]) {
      const bad = mnas('measure', ...args);
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, /^mnas: measure: [^\n]*exceeds the limit [^\n]*\n$/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ort-cpu refuses an input that cannot fit in memory before creating the session or the tensor', async () => {
  const device = new OrtCpuDevice();
  const model = { name: 'huge', onnx: new Uint8Array([1, 2, 3]), inputShape: [1, 64, 1_000_000, 1_000_000] as const };
  await assert.rejects(device.open(model), (e: unknown) => e instanceof LimitError && /^ort-cpu: input of model 'huge' \[1, 64, 1000000, 1000000\] needs [\d.]+ TB, more than/.test(e.message));
  await assert.rejects(device.open({ ...model, inputShape: [1, 3, 1.5, 2] }), (e: unknown) => e instanceof LimitError && /non-positive or inexact/.test(e.message));
});

test('--max-seconds caps the timing; the minimum of a plain measurement follows it down, an interleaved one keeps its own (0.5 s)', () => {
  assert.deepEqual(measureProtocol({ maxSeconds: 0.1 }), { maxSeconds: 0.1, minSeconds: 0.1 });
  assert.deepEqual(measureProtocol({ maxSeconds: 3 }), { maxSeconds: 3, minSeconds: DEFAULT_PROTOCOL.minSeconds });
  const against = measureProtocol({ maxSeconds: 2, against: 'bench-fmnist' });
  assert.equal(against.minSeconds, undefined);
  assert.equal(interleavedProtocol(against).minSeconds, 0.5);
  assert.equal(interleavedProtocol(measureProtocol({ maxSeconds: 0.3, against: 'bench-fmnist' })).minSeconds, 0.3);
});
