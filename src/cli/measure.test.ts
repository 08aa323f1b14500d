import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportOnnx } from '../model/export.js';
import { buildPlan } from '../model/plan.js';
import { presetArch } from '../space/presets.js';

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
  for (const k of ['median_ms', 'p10_ms', 'p90_ms', 'mean_ms', 'cv', 'runs']) assert.equal(typeof j[k], 'number', k);
  assert.ok((j.median_ms as number) > 0);
  assert.equal(typeof j.converged, 'boolean');
  assert.equal(j.device.kind, 'ort-cpu');
  assert.equal(j.device.threads, 1);
  assert.equal(j.macs, 7_159_968);
});

test('mnas measure: text output, arch strings, --threads, --input, an .onnx file', () => {
  const text = mnas('measure', 'in28x28x1_cls10_stem8s1_head0:r1_k3_s22_e3_i8_o16', '--threads', '2', ...FAST);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /latency: median [\d.]+ ms/);
  assert.match(text.stdout, /ort-cpu:t2 .*2 threads/);
  const dir = mkdtempSync(join(tmpdir(), 'mnas-measure-'));
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

test('mnas measure: bad input exits 2 with a message', () => {
  const cases: string[][] = [
    ['measure', 'no-such-preset'],
    ['measure', 'bench-fmnist', '--device', 'tpu'],
    ['measure', 'bench-fmnist', '--threads', '0'],
    ['measure', 'bench-fmnist', '--threads', 'two'],
    ['measure', 'bench-fmnist', '--input', '28x28'],
    ['measure', 'bench-fmnist', '--input', '0x28x1'],
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
  const dir = mkdtempSync(join(tmpdir(), 'mnas-study-cli-'));
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
