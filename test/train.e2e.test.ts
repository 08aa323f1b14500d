/**
 * End to end: `mnas train` as a user runs it (a separate process), its exit codes, its JSON
 * line, and the files it writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSafetensors } from '../src/torch/index.js';
import { tempDir } from '../src/util/testing.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const TINY = 'in28x28x1_cls10_stem8s1_head0:r1_k3_s22_e1_i8_o16,r1_k3_s22_e3_i16_o24';

function mnas(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('mnas train trains, prints one JSON line, saves weights and ONNX; exit 0', () => {
  const dir = tempDir('mnas-train-e2e-');
  try {
    const weights = path.join(dir, 'w.safetensors');
    const onnx = path.join(dir, 'm.onnx');
    const r = mnas('train', TINY, '--dataset', 'synthetic', '--subset', '1024', '--validation', '500', '--epochs', '2', '--batch', '64',
      '--threads', '1', '--json', '--save', weights, '--onnx', onnx);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!) as Record<string, number | string | null>;
    assert.equal(result['status'], 'done');
    assert.ok((result['val_accuracy'] as number) > 0.2, `val accuracy ${result['val_accuracy']}`);
    assert.equal(typeof result['test_accuracy'], 'number');
    assert.equal(result['epochs'], 2);
    assert.ok((result['seconds'] as number) > 0 && (result['train_img_s'] as number) > 0);
    assert.match(r.stderr, /epoch 1\/2: loss/);
    const saved = loadSafetensors(weights);
    assert.equal(saved.metadata['arch'], result['arch']);
    assert.ok(saved.tensors.has('classifier.weight') && saved.tensors.has('stem.bn.running_var'));
    for (const t of saved.tensors.values()) t.dispose();
    assert.ok(existsSync(onnx) && statSync(onnx).size > 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mnas train exit codes: 2 for bad input, 1 for a diverged run', () => {
  for (const args of [
    ['--dataset', 'imagenet'],
    ['--dataset', 'cifar10', '--data-dir', '/nonexistent/dir'],
    ['--dataset', 'mnist'],
    ['--epochs', 'ten'],
    ['--batch', '0'],
    ['--lr', '-0.1'],
    ['--threads', '0'],
  ]) {
    const r = mnas('train', TINY, ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /mnas: |error: /);
  }
  assert.equal(mnas('train', 'not-an-arch').code, 2);
  const diverged = mnas('train', TINY, '--dataset', 'synthetic', '--subset', '256', '--batch', '64', '--lr', '1e9', '--warmup-epochs', '0',
    '--threads', '1', '--json');
  assert.equal(diverged.code, 1, diverged.stderr);
  const result = JSON.parse(diverged.stdout.trimEnd().split('\n').at(-1)!) as { status: string; reason: string };
  assert.equal(result.status, 'failed');
  assert.match(result.reason, /^diverged at epoch 1 step \d+: /);
});
