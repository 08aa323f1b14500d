import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../util/rng.js';
import { foldConvBn, type BatchNormParams } from './fold.js';
import { BATCH, GraphBuilder, OnnxGraphError, type Float32Tensor, type Value } from './graph.js';
import { decodeModel, type Opset } from './proto.js';
import * as ref from './reference-ops.js';

const TOL = 1e-4;

interface Case {
  bytes: Uint8Array;
  input: Value;
  outputs: Value[];
  /** Reference outputs, in the order of `outputs`. */
  reference: (x: Float32Tensor) => Float32Tensor[];
}

/** Runs the model in onnxruntime with batch sizes 1 and 3 on one session and compares to the reference. */
async function checkCase(c: Case, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const session = await ort.InferenceSession.create(c.bytes);
  try {
    for (const batch of [1, 3]) {
      const inShape = c.input.shape.map((d) => (d === BATCH ? batch : (d as number)));
      const x = ref.randn(rng, inShape);
      const result = await session.run({ [c.input.name]: new ort.Tensor('float32', x.data, inShape) });
      const expected = c.reference(x);
      c.outputs.forEach((out, i) => {
        const want = expected[i] as Float32Tensor;
        const got = result[out.name];
        assert.ok(got, `onnxruntime returned no '${out.name}'`);
        assert.deepEqual([...got.dims], want.shape, `${out.name} (batch ${batch}) shape`);
        // the builder's inferred shape agrees with the real one
        assert.deepEqual(
          out.shape.map((d) => (d === BATCH ? batch : d)),
          want.shape,
          `${out.name}: builder inferred ${JSON.stringify(out.shape)}`,
        );
        const diff = ref.maxAbsDiff(got.data as Float32Array, want.data);
        assert.ok(diff < TOL, `${out.name} (batch ${batch}): max abs diff ${diff} >= ${TOL}`);
      });
    }
  } finally {
    await session.release();
  }
}

const he = (fanIn: number) => Math.sqrt(2 / fanIn);

/** Adds Conv with BN folded into it; returns the folded node and the reference conv->BN function. */
function convBn(
  g: GraphBuilder,
  rng: Rng,
  x: Value,
  cin: number,
  cout: number,
  k: number,
  opts: { stride?: number; group?: number; pads?: [number, number, number, number]; name?: string; withConvBias?: boolean },
): { y: Value; ref: (t: Float32Tensor) => Float32Tensor } {
  const group = opts.group ?? 1;
  const w = ref.randn(rng, [cout, cin / group, k, k], he((cin / group) * k * k));
  const b = opts.withConvBias ? ref.randn(rng, [cout], 0.1).data : undefined;
  const bn: BatchNormParams = ref.randomBn(rng, cout);
  const pads = opts.pads ?? ([(k - 1) >> 1, (k - 1) >> 1, (k - 1) >> 1, (k - 1) >> 1] as [number, number, number, number]);
  const s = opts.stride ?? 1;
  const folded = foldConvBn(w, b, bn);
  const y = g.conv(x, { weight: folded.weight, bias: folded.bias, strides: s, pads, group, ...(opts.name ? { name: opts.name } : {}) });
  return { y, ref: (t) => ref.batchNorm(ref.conv2d(t, w, b, { strides: [s, s], pads, group }), bn) };
}

describe('onnx graph builder vs onnxruntime (batch 1 and 3, dynamic batch)', () => {
  it('conv: regular 3x3, depthwise 5x5 stride 2, pointwise, TF-same asymmetric pads, each with folded BN + relu/relu6', async () => {
    const rng = new Rng(1);
    const g = new GraphBuilder();
    const x = g.input('x', [BATCH, 8, 11, 11]);
    const c1 = convBn(g, rng, x, 8, 16, 3, { name: 'stem', withConvBias: true });
    const a1 = g.relu(c1.y);
    const c2 = convBn(g, rng, a1, 16, 16, 5, { stride: 2, group: 16, name: 'dw' });
    const a2 = g.relu6(c2.y);
    const c3 = convBn(g, rng, a2, 16, 12, 1, {});
    const c4 = convBn(g, rng, c3.y, 12, 6, 5, { stride: 2 }); // regular (not depthwise) kernel 5 stride 2
    const c5 = convBn(g, rng, c4.y, 6, 4, 3, { stride: 2, pads: [0, 0, 1, 1] });
    const out = g.output(g.relu(c5.y), 'out');
    g.output(a2);
    await checkCase(
      {
        bytes: g.toBytes(),
        input: x,
        outputs: [out, a2],
        reference: (t) => {
          const r2 = ref.relu6(c2.ref(ref.relu(c1.ref(t))));
          return [ref.relu(c5.ref(c4.ref(c3.ref(r2)))), r2];
        },
      },
      11,
    );
  });

  it('squeeze-and-excitation block: GAP -> 1x1 conv+bias -> relu -> 1x1 conv+bias -> sigmoid -> mul', async () => {
    const rng = new Rng(2);
    const g = new GraphBuilder();
    const x = g.input('x', [BATCH, 16, 5, 5]);
    const w1 = ref.randn(rng, [4, 16, 1, 1], 0.4);
    const b1 = ref.randn(rng, [4], 0.2).data;
    const w2 = ref.randn(rng, [16, 4, 1, 1], 0.6);
    const b2 = ref.randn(rng, [16], 0.2).data;
    const s = g.sigmoid(g.conv(g.relu(g.conv(g.globalAveragePool(x), { weight: w1, bias: b1, name: 'se.reduce' })), { weight: w2, bias: b2, name: 'se.expand' }));
    const y = g.output(g.mul(x, s, 'se.scale'));
    await checkCase(
      {
        bytes: g.toBytes(),
        input: x,
        outputs: [y],
        reference: (t) => [ref.mul(t, ref.sigmoid(ref.conv2d(ref.relu(ref.conv2d(ref.globalAvgPool(t), w1, b1)), w2, b2)))],
      },
      12,
    );
  });

  it('residual Add around conv + relu', async () => {
    const rng = new Rng(3);
    const g = new GraphBuilder();
    const x = g.input('x', [BATCH, 8, 6, 6]);
    const w = ref.randn(rng, [8, 8, 3, 3], he(72));
    const b = ref.randn(rng, [8], 0.1).data;
    const y = g.output(g.add(x, g.relu(g.conv(x, { weight: w, bias: b, pads: 1 })), 'res'));
    await checkCase({ bytes: g.toBytes(), input: x, outputs: [y], reference: (t) => [ref.add(t, ref.relu(ref.conv2d(t, w, b, { pads: [1, 1, 1, 1] })))] }, 13);
  });

  it('AveragePool 3x3 stride 2 pad 1 count_include_pad=0 on odd sizes (7x7 -> 4x4)', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', [BATCH, 3, 7, 7]);
    const y = g.output(g.averagePool(x, { kernel: 3, strides: 2, pads: 1 }));
    assert.deepEqual(y.shape, [BATCH, 3, 4, 4]);
    await checkCase({ bytes: g.toBytes(), input: x, outputs: [y], reference: (t) => [ref.avgPool2d(t, 3, 2, 1, false)] }, 14);
  });

  it('channel zero-pad via Pad and channel Slice (two outputs)', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', [BATCH, 5, 4, 3]);
    const padded = g.output(g.padChannels(x, 8, 'pad8'));
    const sliced = g.output(g.sliceChannels(padded, 6, 'keep6'));
    const back = g.output(g.sliceChannels(x, 2));
    await checkCase(
      {
        bytes: g.toBytes(),
        input: x,
        outputs: [padded, sliced, back],
        reference: (t) => {
          const p = ref.padChannels(t, 8);
          return [p, ref.sliceChannels(p, 6), ref.sliceChannels(t, 2)];
        },
      },
      15,
    );
  });

  for (const opset of [13, 17] as Opset[]) {
    it(`classifier head GAP -> Flatten -> Gemm, and ReduceMean head (opset ${opset})`, async () => {
      const rng = new Rng(4);
      const g = new GraphBuilder({ opset });
      const x = g.input('x', [BATCH, 16, 4, 4]);
      const w = ref.randn(rng, [10, 16], 0.3);
      const b = ref.randn(rng, [10], 0.1).data;
      const logits = g.output(g.gemm(g.flatten(g.globalAveragePool(x)), { weight: w, bias: b, name: 'fc' }), 'logits');
      const pooled = g.output(g.reduceMean(x, [2, 3], false), 'pooled');
      assert.deepEqual(logits.shape, [BATCH, 10]);
      await checkCase(
        {
          bytes: g.toBytes(),
          input: x,
          outputs: [logits, pooled],
          reference: (t) => [ref.linear(ref.flatten(ref.globalAvgPool(t)), w, b), ref.flatten(ref.globalAvgPool(t))],
        },
        16,
      );
    });
  }

  it('a small MnasNet-like network end to end (stem, MBConv with SE and residual, head)', async () => {
    const rng = new Rng(5);
    const g = new GraphBuilder({ opset: 17 });
    const x = g.input('image', [BATCH, 3, 15, 15]);
    const stem = convBn(g, rng, x, 3, 8, 3, { stride: 2, name: 'stem.conv' });
    const s = g.relu(stem.y, 'stem.act');
    const exp = convBn(g, rng, s, 8, 24, 1, { name: 'b1.expand' });
    const e = g.relu6(exp.y);
    const dw = convBn(g, rng, e, 24, 24, 5, { group: 24, name: 'b1.dw' });
    const d = g.relu6(dw.y);
    const w1 = ref.randn(rng, [6, 24, 1, 1], 0.3);
    const b1 = ref.randn(rng, [6], 0.1).data;
    const w2 = ref.randn(rng, [24, 6, 1, 1], 0.5);
    const b2 = ref.randn(rng, [24], 0.1).data;
    const gate = g.sigmoid(g.conv(g.relu(g.conv(g.globalAveragePool(d), { weight: w1, bias: b1 })), { weight: w2, bias: b2 }));
    const se = g.mul(d, gate);
    const proj = convBn(g, rng, se, 24, 8, 1, { name: 'b1.project' });
    const res = g.add(s, proj.y, 'b1.add');
    const pool = g.averagePool(res, { kernel: 3, strides: 2, pads: 1 });
    const fw = ref.randn(rng, [5, 8], 0.4);
    const fb = ref.randn(rng, [5], 0.1).data;
    const out = g.output(g.gemm(g.flatten(g.globalAveragePool(pool)), { weight: fw, bias: fb }), 'logits');
    await checkCase(
      {
        bytes: g.toBytes(),
        input: x,
        outputs: [out],
        reference: (t) => {
          const rs = ref.relu(stem.ref(t));
          const rd = ref.relu6(dw.ref(ref.relu6(exp.ref(rs))));
          const rg = ref.sigmoid(ref.conv2d(ref.relu(ref.conv2d(ref.globalAvgPool(rd), w1, b1)), w2, b2));
          const rr = ref.add(rs, proj.ref(ref.mul(rd, rg)));
          return [ref.linear(ref.flatten(ref.globalAvgPool(ref.avgPool2d(rr, 3, 2, 1, false))), fw, fb)];
        },
      },
      17,
    );
  });
});

describe('onnx graph builder with symbolic spatial dims', () => {
  it('runs one model at two resolutions (conv stride 2 -> GAP -> Flatten -> Gemm)', async () => {
    const rng = new Rng(6);
    const g = new GraphBuilder();
    const x = g.input('x', [BATCH, 3, 'height', 'width']);
    const w = ref.randn(rng, [4, 3, 3, 3], 0.4);
    const fw = ref.randn(rng, [2, 4], 0.5);
    const feat = g.conv(x, { weight: w, strides: 2, pads: 1 });
    assert.equal(typeof feat.shape[2], 'string');
    const y = g.output(g.gemm(g.flatten(g.globalAveragePool(g.relu(feat))), { weight: fw }), 'y');
    assert.deepEqual(y.shape, [BATCH, 2]);
    const session = await ort.InferenceSession.create(g.toBytes());
    try {
      for (const [n, h, wd] of [[1, 9, 9], [3, 6, 11]] as const) {
        const t = ref.randn(rng, [n, 3, h, wd]);
        const out = await session.run({ x: new ort.Tensor('float32', t.data, t.shape) });
        const want = ref.linear(ref.flatten(ref.globalAvgPool(ref.relu(ref.conv2d(t, w, undefined, { strides: [2, 2], pads: [1, 1, 1, 1] })))), fw);
        assert.deepEqual([...(out.y?.dims ?? [])], want.shape);
        assert.ok(ref.maxAbsDiff(out.y?.data as Float32Array, want.data) < TOL);
      }
    } finally {
      await session.release();
    }
  });
});

describe('onnx model proto contents', () => {
  it('writes ir_version 8, opset, producer "mnas", dim_param batch, little-endian raw_data', () => {
    const g = new GraphBuilder({ producerVersion: '0.1.0' });
    const x = g.input('x', [BATCH, 2, 3, 3]);
    const w = new Float32Array([1.5, -2, 0.25, 3]);
    g.output(g.conv(x, { weight: { data: w, shape: [2, 2, 1, 1] }, name: 'c' }), 'y');
    g.setMetadata('arch', 'test');
    const m = decodeModel(g.toBytes()) as {
      irVersion: number;
      producerName: string;
      producerVersion: string;
      opsetImport: { domain?: string; version: number }[];
      metadataProps: { key: string; value: string }[];
      graph: {
        node: { opType: string; name: string; input: string[]; output: string[] }[];
        initializer: { name: string; dims: number[]; dataType: number; rawData: Uint8Array }[];
        input: { name: string; type: { tensorType: { elemType: number; shape: { dim: { dimParam?: string; dimValue?: number }[] } } } }[];
        output: { name: string }[];
      };
    };
    assert.equal(m.irVersion, 8);
    assert.equal(m.producerName, 'mnas');
    assert.equal(m.producerVersion, '0.1.0');
    assert.deepEqual(m.opsetImport.map((o) => [o.domain ?? '', o.version]), [['', 13]]);
    assert.deepEqual(m.metadataProps, [{ key: 'arch', value: 'test' }]);
    const inDims = m.graph.input[0]?.type.tensorType.shape.dim;
    assert.deepEqual(inDims, [{ dimParam: 'batch' }, { dimValue: 2 }, { dimValue: 3 }, { dimValue: 3 }]);
    assert.equal(m.graph.input[0]?.type.tensorType.elemType, 1);
    const init = m.graph.initializer.find((i) => i.name === 'c.weight');
    assert.ok(init);
    assert.deepEqual(init.dims, [2, 2, 1, 1]);
    assert.equal(init.dataType, 1);
    const raw = new DataView(init.rawData.buffer, init.rawData.byteOffset, init.rawData.byteLength);
    assert.deepEqual([0, 1, 2, 3].map((i) => raw.getFloat32(i * 4, true)), [...w]);
    assert.deepEqual(m.graph.node.map((n) => n.opType), ['Conv', 'Identity']);
    assert.deepEqual(m.graph.output.map((o) => o.name), ['y']);
  });

  it('stores int64 initializers (Pad pads, Slice starts/ends) as int64 raw_data', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [BATCH, 3, 2, 2]);
    g.output(g.padChannels(x, 5, 'p'));
    const m = decodeModel(g.toBytes()) as { graph: { initializer: { name: string; dataType: number; rawData: Uint8Array }[] } };
    const pads = m.graph.initializer.find((i) => i.name === 'p.pads');
    assert.ok(pads);
    assert.equal(pads.dataType, 7);
    const v = new DataView(pads.rawData.buffer, pads.rawData.byteOffset, pads.rawData.byteLength);
    assert.deepEqual(Array.from({ length: 8 }, (_, i) => Number(v.getBigInt64(i * 8, true))), [0, 0, 0, 0, 0, 2, 0, 0]);
  });

  it('relu6 shares its Clip min/max scalar constants across nodes', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [BATCH, 3]);
    g.output(g.relu6(g.relu6(x)));
    const m = decodeModel(g.toBytes()) as { graph: { initializer: unknown[]; node: { input: string[] }[] } };
    assert.equal(m.graph.initializer.length, 2);
    assert.deepEqual(m.graph.node[0]?.input.slice(1), m.graph.node[1]?.input.slice(1));
  });

  it('generates unique node and tensor names', () => {
    const g = new GraphBuilder();
    let v = g.input('x', [BATCH, 4]);
    for (let i = 0; i < 5; i++) v = g.relu(v);
    g.output(v);
    const m = decodeModel(g.toBytes()) as { graph: { node: { name: string; output: string[] }[] } };
    const names = m.graph.node.map((n) => n.name);
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(m.graph.node.map((n) => n.output[0]), names);
  });
});

describe('onnx builder errors', () => {
  const w = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });
  const throwsNamed = (fn: () => unknown, node: string, pattern: RegExp) =>
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof OnnxGraphError, `expected OnnxGraphError, got ${String(e)}`);
      assert.equal(e.node, node);
      assert.match(e.message, pattern);
      return true;
    });

  it('names the Conv node when the weight does not match the input channels or groups', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [BATCH, 16, 8, 8]);
    throwsNamed(() => g.conv(x, { weight: w([32, 8, 3, 3]), name: 'blocks.1.conv' }), 'blocks.1.conv', /Conv 'blocks\.1\.conv'.*expects 8 input channel.*'x' has 16 channels/);
    throwsNamed(() => g.conv(x, { weight: w([16, 2, 3, 3]), group: 16, name: 'dw' }), 'dw', /expects 2 input channel\(s\) per group \(group 16\).*\(1 per group\)/);
    throwsNamed(() => g.conv(x, { weight: w([24, 1, 3, 3]), group: 5, name: 'g5' }), 'g5', /not divisible by group 5/);
    throwsNamed(() => g.conv(x, { weight: w([16, 16, 3]), name: 'r3' }), 'r3', /must be OIHW \(rank 4\)/);
    throwsNamed(() => g.conv(x, { weight: { data: new Float32Array(5), shape: [2, 16, 1, 1] }, name: 'len' }), 'len.weight', /needs 32 values, got 5/);
    throwsNamed(() => g.conv(x, { weight: w([4, 16, 1, 1]), bias: new Float32Array(3), name: 'bias' }), 'bias', /bias has 3 values, expected 4/);
    throwsNamed(() => g.conv(x, { weight: w([4, 16, 9, 9]), name: 'big' }), 'big', /smaller than the kernel extent 9/);
  });

  it('rejects non-finite weights, naming the initializer', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [BATCH, 1, 2, 2]);
    throwsNamed(() => g.conv(x, { weight: { data: new Float32Array([NaN]), shape: [1, 1, 1, 1] }, name: 'c' }), 'c.weight', /non-finite value NaN at flat index 0/);
    throwsNamed(
      () => g.conv(x, { weight: { data: new Float32Array([1]), shape: [1, 1, 1, 1] }, bias: new Float32Array([Infinity]), name: 'c' }),
      'c.bias',
      /non-finite value Infinity/,
    );
    // nothing was half-added by the failed calls: the same name still works
    assert.equal(g.conv(x, { weight: { data: new Float32Array([1]), shape: [1, 1, 1, 1] }, bias: new Float32Array([0]), name: 'c' }).name, 'c');
  });

  it('names the node for broadcast, Gemm, pooling, pad and slice mistakes', () => {
    const g = new GraphBuilder();
    const a = g.input('a', [BATCH, 16, 7, 7]);
    const b = g.input('b', [BATCH, 24, 7, 7]);
    throwsNamed(() => g.add(a, b, 'res'), 'res', /Add 'res': shapes \[batch,16,7,7\] \('a'\) and \[batch,24,7,7\] \('b'\) do not broadcast/);
    const f = g.flatten(g.globalAveragePool(a));
    throwsNamed(() => g.gemm(f, { weight: w([10, 32]), name: 'fc' }), 'fc', /expects 32 input features, but input '.*' has 16/);
    throwsNamed(() => g.gemm(a, { weight: w([10, 16]), name: 'fc2' }), 'a', /Gemm 'fc2': input 'a' must have rank 2/);
    throwsNamed(() => g.averagePool(a, { kernel: 3, pads: 3, name: 'ap' }), 'ap', /smaller than the kernel/);
    throwsNamed(() => g.padChannels(a, 8, 'pc'), 'pc', /cannot zero-pad 16 channels of 'a' to 8/);
    throwsNamed(() => g.sliceChannels(a, 17, 'sc'), 'sc', /cannot keep 17 channels/);
    throwsNamed(() => g.pad(a, [0, 1], 'pp'), 'pp', /needs 8 entries/);
  });

  it('rejects duplicate names, foreign values and empty graphs', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [BATCH, 4]);
    g.relu(x, 'act');
    throwsNamed(() => g.relu(x, 'act'), 'act', /duplicate name 'act'/);
    throwsNamed(() => g.gemm(x, { weight: w([3, 5]), name: 'fc' }), 'fc', /expects 5 input features/);
    assert.equal(g.gemm(x, { weight: w([3, 4]), name: 'fc' }).name, 'fc', 'a failed call does not reserve its name');
    throwsNamed(() => g.input('x', [BATCH, 4]), 'x', /duplicate name 'x'/);
    const other = new GraphBuilder().input('y', [BATCH, 4]);
    throwsNamed(() => g.relu(other), 'y', /does not belong to this graph builder/);
    throwsNamed(() => new GraphBuilder().toBytes(), '<model>', /no inputs/);
    const noOut = new GraphBuilder();
    noOut.input('x', [1]);
    throwsNamed(() => noOut.toBytes(), '<model>', /no outputs/);
    assert.throws(() => new GraphBuilder({ opset: 12 as Opset }), /opset 12 is not supported/);
  });
});
