/**
 * A trained model's ONNX file stands on its own: it takes pixel / 255 (the normalization is in the
 * graph, its metadata says so), and onnxruntime alone reproduces the test accuracy `mnas train`
 * reported, from the raw test images.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { loadDataset } from '../src/data/load.js';
import { runCli } from '../src/cli/testing.js';
import { tempDir } from '../src/util/testing.js';

const dir = tempDir('mnas-onnx-accuracy-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('onnxruntime on raw pixels / 255 gives the test accuracy mnas train reported', async () => {
  const onnx = path.join(dir, 'model.onnx');
  const r = runCli(['train', 'bench-fmnist', '--dataset', 'synthetic', '--subset', '3000', '--epochs', '2', '--warmup-epochs', '0.1', '--threads', '1', '--onnx', onnx, '--json', '--quiet'], 300_000);
  assert.equal(r.status, 0, r.stderr);
  const reported = (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { test_accuracy: number }).test_accuracy;
  assert.ok(reported > 0.5, `the model learned something (${reported})`);

  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
  const test = loadDataset({ name: 'synthetic', seed: 0 }).test;
  const pixels = test.height * test.width * test.channels;
  const batch = 250;
  let correct = 0;
  for (let start = 0; start < test.count; start += batch) {
    const n = Math.min(batch, test.count - start);
    const input = new Float32Array(n * pixels);
    for (let i = 0; i < n * pixels; i++) input[i] = test.images[start * pixels + i]! / 255; // one channel: HWC is CHW
    const out = await session.run({ input: new ort.Tensor('float32', input, [n, test.channels, test.height, test.width]) });
    const logits = out['logits']!.data as Float32Array;
    for (let k = 0; k < n; k++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (logits[k * 10 + c]! > logits[k * 10 + best]!) best = c;
      if (best === test.labels[start + k]) correct++;
    }
  }
  const accuracy = correct / test.count;
  // BN folding changes the float rounding: a few borderline images may flip, no more
  assert.ok(Math.abs(accuracy - reported) <= 0.003, `onnxruntime ${accuracy} against reported ${reported}`);
  await session.release();
});
