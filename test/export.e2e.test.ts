/**
 * `mnas export` as a user runs it: a child process of dist/src/cli/main.js. Invalid requests
 * exit with code 2 and a message on stderr naming the problem (and write nothing); a good request
 * exits 0 and writes a model onnxruntime loads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { tempDir } from '../src/util/testing.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
const tmp = tempDir('mnas-export-e2e-');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const file = (name: string): string => path.join(tmp, name);

function mnas(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'export', ...args], { encoding: 'utf8', cwd: tmp, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mnas export (child process)', () => {
  it('exits 0 and writes a model onnxruntime loads and runs at any batch size', async () => {
    const r = mnas('mnasnet-a1', '--input', '64x64x3', '--classes', '10', '--out', file('out/a1.onnx'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { path: string; bytes: number; params: number; opset: number; arch: string };
    assert.equal(s.path, file('out/a1.onnx'));
    assert.equal(s.bytes, fs.statSync(file('out/a1.onnx')).size);
    assert.equal(s.opset, 13);
    assert.match(s.arch, /^in64x64x3_cls10_stem32s2_head1280:/);
    const session = await ort.InferenceSession.create(file('out/a1.onnx'), { intraOpNumThreads: 1 });
    try {
      for (const batch of [1, 2]) {
        const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(batch * 3 * 64 * 64).fill(0.1), [batch, 3, 64, 64]) });
        assert.deepEqual(out.logits?.dims, [batch, 10]);
      }
    } finally {
      await session.release();
    }
  });

  it('writes safetensors weights and re-exports them to onnx (exit 0, text summary)', () => {
    let r = mnas('fmnist-default', '--format', 'safetensors', '--out', file('w.safetensors'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wrote .*w\.safetensors\n {2}format safetensors, [\d,]+ bytes, 245,178 params, weights random seed=0\n/);
    r = mnas('fmnist-default', '--weights', file('w.safetensors'), '--opset', '17', '--out', file('w.onnx'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /format onnx opset 17, [\d,]+ bytes, 245,178 params, weights .*w\.safetensors/);
  });

  const bad: [string, string[], RegExp][] = [
    ['unknown preset', ['mnasnet-z', '--out', 'x.onnx'], /export: 'mnasnet-z' is not a preset \(known: mnasnet-a1,/],
    ['malformed input shape', ['mnasnet-a1', '--input', '224x224', '--out', 'x.onnx'], /--input must be HxWxC with positive integers, e\.g\. 224x224x3, got '224x224'/],
    ['arch too deep for the input', ['mnasnet-a1', '--input', '8x8x3', '--out', 'x.onnx'], /input 8x8 is too small for this arch: .* the arch needs at least 17x17/],
    ['unknown format', ['mnasnet-a1', '--format', 'tflite', '--out', 'x.onnx'], /--format must be one of onnx, safetensors, got 'tflite'/],
    ['bad opset', ['mnasnet-a1', '--opset', '12', '--out', 'x.onnx'], /--opset must be one of 13, 17, got '12'/],
    ['missing weights file', ['fmnist-default', '--weights', 'nope.safetensors', '--out', 'x.onnx'], /--weights: cannot read weights file nope\.safetensors: ENOENT/],
    ['weights of another shape', ['fmnist-default', '--classes', '3', '--weights', 'w.safetensors', '--out', 'x.onnx'], /parameter 'classifier\.weight' has shape \[10,96\], the plan needs \[3,96\]/],
    ['weights of another arch', ['cifar-default', '--weights', 'w.safetensors', '--out', 'x.onnx'], /parameter 'stem\.conv\.weight' has shape \[16,1,3,3\], the plan needs \[16,3,3,3\]/],
    ['malformed arch string', ['in28x28x1_cls10_stem16s1_head0:r1_k3_s11_e1_o16_bogus', '--out', 'x.onnx'], /block 0, token 5 'bogus': unknown token/],
    ['missing --out', ['mnasnet-a1'], /required option '--out <file>' not specified/],
  ];
  for (const [label, args, message] of bad) {
    it(`exits 2 for ${label}`, () => {
      const r = mnas(...args);
      assert.equal(r.code, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
      assert.ok(!fs.existsSync(file('x.onnx')), 'nothing written');
    });
  }
});
