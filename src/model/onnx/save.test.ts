import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { BATCH, GraphBuilder } from './graph.js';
import { saveModel } from './save.js';
import { tempDir } from '../../util/testing.js';

const tmpRoot = tempDir('mnas-onnx-');
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function tinyModel(scale: number): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', [BATCH, 2]);
  g.output(g.gemm(x, { weight: { data: new Float32Array([scale, 0, 0, scale]), shape: [2, 2] } }), 'y');
  return g.toBytes();
}

describe('saveModel', () => {
  it('creates parent directories, writes atomically (no temp file left) and loads in onnxruntime', async () => {
    const file = path.join(tmpRoot, 'a', 'b', 'model.onnx');
    const bytes = tinyModel(2);
    const written = saveModel(file, bytes);
    assert.equal(written, path.resolve(file));
    assert.deepEqual(new Uint8Array(fs.readFileSync(file)), bytes);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['model.onnx']);
    const session = await ort.InferenceSession.create(file);
    try {
      const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, -3, 0.5, 4]), [2, 2]) });
      assert.deepEqual([...(out.y?.data as Float32Array)], [2, -6, 1, 8]);
    } finally {
      await session.release();
    }
  });

  it('replaces an existing model', () => {
    const file = path.join(tmpRoot, 'replace.onnx');
    saveModel(file, tinyModel(1));
    const second = tinyModel(3);
    saveModel(file, second);
    assert.deepEqual(new Uint8Array(fs.readFileSync(file)), second);
    assert.deepEqual(fs.readdirSync(tmpRoot).filter((n) => n.endsWith('.tmp')), []);
  });

  it('fails clearly and leaves no temp file when the target is a directory', () => {
    const dir = path.join(tmpRoot, 'isdir.onnx');
    fs.mkdirSync(dir);
    assert.throws(() => saveModel(dir, tinyModel(1)));
    assert.deepEqual(fs.readdirSync(tmpRoot).filter((n) => n.endsWith('.tmp')), []);
  });
});
