/**
 * The models shipped in the package's models/ folder (the searched Fashion-MNIST models of
 * results/fashion-mnist): each loads as a preset with its weights, its files are the ones its card
 * hashed, onnxruntime alone scores the card's test accuracy on the real Fashion-MNIST test set
 * from raw pixels / 255, and export and measure take it by name.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { loadDataset } from '../src/data/load.js';
import { decodeModel } from '../src/model/onnx/index.js';
import { presets, shippedModels } from '../src/index.js';
import { printArch } from '../src/space/arch-string.js';
import { runCli } from '../src/cli/testing.js';
import { repoRoot } from '../src/util/paths.js';
import { tempDir } from '../src/util/testing.js';

const dir = tempDir('mnas-shipped-models-');
after(() => rmSync(dir, { recursive: true, force: true }));

const SHIPPED = ['mnas-fmnist-a', 'mnas-fmnist-b'];
const lastJson = (stdout: string): Record<string, unknown> => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

test('the searched Fashion-MNIST models ship as presets with their weights, and their files are the ones the cards hashed', () => {
  const models = shippedModels();
  for (const name of SHIPPED) {
    const m = models.get(name);
    assert.ok(m, `${name} is shipped`);
    assert.equal(m.dir, path.join(repoRoot(), 'models', name));
    assert.equal(m.card.dataset, 'fashion-mnist');
    assert.equal(m.card.recipe.images, 60_000, 'trained on the whole training set');
    assert.ok(m.card.testAccuracy.seeds >= 3, `${name}: accuracy over at least 3 seeds`);
    for (const [file, want] of [[m.weights, m.card.files.weights], [m.onnx, m.card.files.onnx]] as const) {
      assert.equal(sha256(file), want.sha256, `${file}: the card's SHA-256`);
      assert.equal(readFileSync(file).length, want.bytes);
    }
    const preset = presets.get(name);
    assert.equal(preset.trained?.weights, m.weights, 'the library preset carries the weights');
    assert.equal(printArch(preset.arch), m.card.arch);
    assert.match(preset.description, /trained on fashion-mnist: test accuracy \d+\.\d\d% \+- \d\.\d\d \(3 seeds\)/);
  }
});

test('onnxruntime alone, on the Fashion-MNIST test set as raw pixels / 255, scores what each card says', async () => {
  const data = loadDataset({ name: 'fashion-mnist' }).test;
  assert.equal(data.count, 10_000);
  const pixels = data.height * data.width * data.channels;
  const batch = 500;
  for (const name of SHIPPED) {
    const m = shippedModels().get(name)!;
    const meta = (decodeModel(readFileSync(m.onnx)) as { metadataProps: { key: string; value: string }[] }).metadataProps;
    assert.equal(meta.find((p) => p.key === 'preprocessing')?.value, m.card.preprocessing, `${name}: the ONNX metadata states its preprocessing`);
    const session = await ort.InferenceSession.create(m.onnx, { intraOpNumThreads: 1 });
    let correct = 0;
    for (let start = 0; start < data.count; start += batch) {
      const n = Math.min(batch, data.count - start);
      const input = Float32Array.from(data.images.subarray(start * pixels, (start + n) * pixels), (v) => v / 255); // one channel: HWC is CHW
      const logits = (await session.run({ input: new ort.Tensor('float32', input, [n, data.channels, data.height, data.width]) }))['logits']!.data as Float32Array;
      for (let k = 0; k < n; k++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (logits[k * 10 + c]! > logits[k * 10 + best]!) best = c;
        if (best === data.labels[start + k]) correct++;
      }
    }
    await session.release();
    // BN folding changes the float rounding: a few borderline images may flip, no more
    assert.ok(Math.abs(correct / data.count - m.card.testAccuracy.shipped) <= 0.003, `${name}: onnxruntime ${correct / data.count}, card ${m.card.testAccuracy.shipped}`);
  }
});

test('mnas export and mnas measure take a shipped model by name: export writes its own trained graph', () => {
  for (const name of SHIPPED) {
    const m = shippedModels().get(name)!;
    const out = path.join(dir, `${name}.onnx`);
    const exported = runCli(['export', name, '--out', out, '--json'], 60_000);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(lastJson(exported.stdout)['weights'], `trained: ${m.weights}`);
    const graphOf = (f: string) => (decodeModel(readFileSync(f)) as { graph: unknown }).graph;
    assert.deepEqual(graphOf(out), graphOf(m.onnx), `${name}: the exported graph and weights are the shipped ONNX's`);
    const measured = runCli(['measure', name, '--max-seconds', '0.3', '--json'], 60_000);
    assert.equal(measured.status, 0, measured.stderr);
    assert.equal(lastJson(measured.stdout)['arch'], m.card.arch);
  }
});
