/**
 * ONNX export: every preset and seeded samples of every space load in onnxruntime, and on the
 * same (briefly trained, so BN statistics are non-trivial) weights the folded export matches the
 * engine's eval-mode forward within 1e-4, at batch 2 (the batch dimension is dynamic).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { parseArch, printArch } from '../space/arch-string.js';
import { withGlobal, type Arch } from '../space/arch.js';
import { presetArch, presetNames } from '../space/presets.js';
import { getSpace, spaceNames } from '../space/space.js';
import {
  crossEntropy, Generator, manualSeed, noGrad, randint, randn, setNumThreads, SGD, tensor, tidy,
} from '../torch/index.js';
import { Rng } from '../util/rng.js';
import { buildNetwork } from './builder.js';
import { checkWeights, exportOnnx, randomWeights, resolutionProblem, weightsFromNetwork, WeightsMismatchError } from './export.js';
import { decodeModel } from './onnx/index.js';
import { buildPlan, type NetworkPlan } from './plan.js';

setNumThreads(1);
const TOLERANCE = 1e-4;
let maxDiffSeen = 0;
let maxLogitSeen = 0;
after(() => {
  // measured parity, reported in the test output
  console.log(`# export parity: max abs diff seen ${maxDiffSeen.toExponential(3)} (tolerance ${TOLERANCE}), largest engine logit ${maxLogitSeen.toFixed(2)}`);
});

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };

async function runOrt(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  try {
    assert.deepEqual(session.inputNames, ['input']);
    assert.deepEqual(session.outputNames, ['logits']);
    const out = await session.run({ input: new ort.Tensor('float32', x, shape) });
    const logits = out.logits;
    assert.ok(logits, 'no logits output');
    return { data: logits.data as Float32Array, dims: logits.dims };
  } finally {
    await session.release();
  }
}

/** 224x224 presets are tested at a small resolution (the graph is resolution-specific, the ops are not). */
function small(arch: Arch, size: number): Arch {
  const { height } = arch.global.input;
  return height > size ? withGlobal(arch, { input: { height: size, width: size, channels: arch.global.input.channels } }) : arch;
}

/**
 * Builds the engine network, trains it a few SGD steps on random data (BN momentum raised so the
 * running statistics move far from their initial 0/1), then compares eval-mode engine logits
 * with onnxruntime on the folded export, batch 2. Returns the max abs difference.
 */
async function parity(arch0: Arch, seed: number, opset: 13 | 17 = 13): Promise<number> {
  const arch = withGlobal(arch0, { bnMomentum: 0.3 });
  const plan = buildPlan(arch);
  const { height, width, channels } = plan.input;
  const gen = new Generator(seed + 1000);
  manualSeed(seed); // dropout draws from libtorch's global generator
  const net = buildNetwork(arch, { seed });
  try {
    const opt = new SGD(net.parameters(), { momentum: 0.9 });
    net.train();
    for (let step = 0; step < 3; step++) {
      tidy(() => {
        opt.zeroGrad();
        const x = randn([8, channels, height, width], gen);
        const y = randint(0, plan.classes, [8], gen);
        crossEntropy(net.forward(x), y).backward();
        opt.step(0.01);
      });
    }
    opt.dispose();
    net.eval();
    const x = tidy(() => randn([2, channels, height, width], gen).toFloat32Array());
    const expected = noGrad(() => tidy(() => net.forward(tensor(x, [2, channels, height, width])).toFloat32Array()));
    const weights = weightsFromNetwork(net);
    // BN running stats really moved
    const rv = weights.get('stem.bn.running_var') as Float32Array;
    assert.ok(rv.some((v) => Math.abs(v - 1) > 0.05), 'BN running variance still at its initial value');
    const bytes = exportOnnx(plan, weights, { opset });
    const got = await runOrt(bytes, x, [2, channels, height, width]);
    assert.deepEqual(got.dims, [2, plan.classes]);
    assert.equal(got.data.length, expected.length);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < expected.length; i++) {
      assert.ok(Number.isFinite(expected[i] as number), `engine logit ${i} is not finite`);
      diff = Math.max(diff, Math.abs((got.data[i] as number) - (expected[i] as number)));
      scale = Math.max(scale, Math.abs(expected[i] as number));
    }
    // test setup guard: BN trained on a few values per channel (e.g. 1x1 maps) can blow eval-mode
    // logits up to 1e6 (seed 0 gives mnasnet-a1-fmnist logits of 866), so the tolerance is
    // relative to the logits' size above 1 (float32 keeps about 7 digits)
    assert.ok(scale > 1e-3 && scale < 1e4, `${printArch(arch)}: engine logits max |.| ${scale}: the test setup is degenerate`);
    maxLogitSeen = Math.max(maxLogitSeen, scale);
    maxDiffSeen = Math.max(maxDiffSeen, diff);
    const tolerance = TOLERANCE * Math.max(1, scale);
    assert.ok(diff <= tolerance, `${printArch(arch)}: max abs diff ${diff} > ${tolerance} (logits up to ${scale})`);
    return diff;
  } finally {
    net.dispose();
  }
}

describe('exportOnnx parity with the engine (eval mode, trained BN stats, batch 2)', () => {
  // the 28x28 baselines end on 4x4 maps under a 1280-wide head: three SGD steps on random data
  // leave their eval-mode logits in the hundreds (a degenerate setup, not an export problem), so
  // they are compared at 56x56
  const atLeast56 = new Set(['mobilenet-v2-fmnist', 'mnasnet-a1-fmnist']);
  for (const name of presetNames()) {
    it(`preset ${name}`, async () => {
      const arch = presetArch(name);
      await parity(atLeast56.has(name) ? withGlobal(arch, { input: { height: 56, width: 56, channels: 1 } }) : small(arch, 64), 1);
    });
  }

  for (const spaceName of spaceNames()) {
    it(`10 seeded samples of space ${spaceName}`, async () => {
      const space = getSpace(spaceName);
      const rng = new Rng(2024);
      for (let i = 0; i < 10; i++) {
        // 64x64 for the 224 space: its last stages keep a 2x2 map, so BN sees enough values per channel
        const arch = small(space.decode(space.sample(rng)), 64);
        await parity(arch, 10 + i);
      }
    });
  }

  it('pool shortcuts (downsample, zero-pad, truncate), regular conv with SE, no head; opset 17', async () => {
    const arch = parseArch(
      'in20x20x3_cls7_stem8s2_head0:r2_k3_s22_e3_o24_poolskip,conv_r2_k5_s22_e1_o16_se0.25_poolskip,r1_k5_s11_e1_o16_poolskip,r2_k3_s11_e6_o8_se0.25',
    );
    const plan = buildPlan(arch);
    const kinds = plan.layers.flatMap((l) => (l.kind === 'block' && l.shortcut ? [`${l.shortcut.kind}/${l.shortcut.downsample}/${l.shortcut.channelChange}`] : []));
    assert.ok(kinds.includes('pool/true/zero_pad') && kinds.includes('pool/true/truncate') && kinds.includes('pool/false/none'), kinds.join(' '));
    await parity(arch, 3, 17);
    await parity(arch, 4, 13);
  });
});

describe('exportOnnx graph', () => {
  it('has input [batch,C,H,W], output logits [batch,classes], the arch in metadata, the chosen opset', () => {
    const arch = presetArch('mnasnet-a1');
    const model = decodeModel(exportOnnx(buildPlan(arch), undefined, { opset: 17, name: 'a1' })) as {
      opsetImport: { version: number }[];
      metadataProps: { key: string; value: string }[];
      graph: { name: string; node: { opType: string; name: string; attribute: { name: string; i?: number }[] }[]; input: unknown[]; output: unknown[] };
    };
    assert.equal(model.opsetImport[0]?.version, 17);
    assert.equal(model.graph.name, 'a1');
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    assert.equal(meta.arch, printArch(arch));
    assert.equal(meta.weights, 'random seed=0');
    const dims = (v: unknown) => ((v as { type: { tensorType: { shape: { dim: { dimValue?: number; dimParam?: string }[] } } } }).type.tensorType.shape.dim).map((d) => d.dimParam ?? d.dimValue);
    assert.deepEqual(dims(model.graph.input[0]), ['batch', 3, 224, 224]);
    assert.deepEqual(dims(model.graph.output[0]), ['batch', 1000]);
    const ops = model.graph.node.map((n) => n.opType);
    assert.ok(!ops.includes('BatchNormalization') && !ops.includes('Dropout'), 'BN must be folded, no dropout');
    // mnasnet-a1: 1 stem + 16 block layers (+2 expand each except the first: 15) + head = conv+bn pairs; SE layers add 2 convs each
    const plan = buildPlan(arch);
    const convBn = plan.params.filter((p) => p.name.endsWith('.conv.weight')).length;
    const se = plan.layers.filter((l) => l.kind === 'block' && l.se).length;
    assert.equal(ops.filter((o) => o === 'Conv').length, convBn + 2 * se);
    assert.equal(ops.filter((o) => o === 'Sigmoid').length, se);
    assert.equal(ops.filter((o) => o === 'Add').length, plan.layers.filter((l) => l.kind === 'block' && l.shortcut).length);
    assert.equal(ops.filter((o) => o === 'Gemm').length, 1);
    assert.ok(model.graph.node.some((n) => n.name === 'blocks.2.1.se.reduce' && n.opType === 'Conv'));
  });

  it('pool shortcut is AveragePool 3x3 s2 p1 count_include_pad=0, then Pad or Slice on channels', () => {
    const plan = buildPlan(parseArch('in16x16x3_cls5_stem8s1_head0:r1_k3_s22_e3_o16_poolskip,conv_r1_k3_s22_e1_o8_poolskip'));
    const model = decodeModel(exportOnnx(plan)) as { graph: { node: { opType: string; name: string; attribute: { name: string; i?: number; ints?: number[] }[] }[] } };
    const pools = model.graph.node.filter((n) => n.opType === 'AveragePool');
    assert.equal(pools.length, 2);
    for (const p of pools) {
      const a = Object.fromEntries(p.attribute.map((x) => [x.name, x.ints?.length ? x.ints : (x.i ?? 0)]));
      assert.deepEqual(a, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 0 });
    }
    assert.ok(model.graph.node.some((n) => n.opType === 'Pad' && n.name === 'blocks.0.0.shortcut.pad'));
    assert.ok(model.graph.node.some((n) => n.opType === 'Slice' && n.name === 'blocks.1.0.shortcut.slice'));
  });

  it('random weights are deterministic per seed', () => {
    const plan = buildPlan(presetArch('fmnist-default'));
    assert.deepEqual(exportOnnx(plan, undefined, { seed: 5 }), exportOnnx(plan, undefined, { seed: 5 }));
    assert.notDeepEqual(exportOnnx(plan, undefined, { seed: 5 }), exportOnnx(plan, undefined, { seed: 6 }));
    // the default is seed 0, and exporting randomWeights(plan, 0) explicitly gives the same graph
    const viaWeights = decodeModel(exportOnnx(plan, randomWeights(plan, 0))) as { graph: unknown };
    const viaDefault = decodeModel(exportOnnx(plan)) as { graph: unknown };
    assert.deepEqual(viaWeights.graph, viaDefault.graph);
  });

  it('random weights keep activations sane for every preset at its own resolution and samples of every space', async () => {
    const archs: [string, Arch][] = presetNames().map((n) => [n, presetArch(n)]);
    for (const s of spaceNames()) {
      const space = getSpace(s);
      const rng = new Rng(7);
      for (let i = 0; i < 3; i++) archs.push([`${s} sample ${i}`, space.decode(space.sample(rng))]);
    }
    for (const [label, arch] of archs) {
      const plan = buildPlan(arch);
      const { height, width, channels } = plan.input;
      const rng = new Rng(1);
      const x = Float32Array.from({ length: 2 * channels * height * width }, () => rng.normal());
      const { data } = await runOrt(exportOnnx(plan), x, [2, channels, height, width]);
      const maxAbs = data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const mean = data.reduce((s, v) => s + v, 0) / data.length;
      const std = Math.sqrt(data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length);
      assert.ok(data.every(Number.isFinite), `${label}: non-finite logits`);
      assert.ok(maxAbs < 20 && std > 1e-3, `${label}: logits max |.| ${maxAbs}, std ${std}`);
    }
  });
});

interface DecodedGraph {
  node: { name: string; opType: string; input: string[]; output: string[]; attribute: unknown[] }[];
  initializer: { name: string; dims: number[]; rawData: Uint8Array }[];
  output: { name: string }[];
}

const graphOf = (bytes: Uint8Array): DecodedGraph => (decodeModel(bytes) as { graph: DecodedGraph }).graph;

describe('exportOnnx layer ranges', () => {
  // conv, mbconv and dsconv layers, SE, identity and pooling shortcuts, a head
  const plan = buildPlan(parseArch('in16x16x3_cls5_stem8s1_head24:r2_k3_s22_e3_i8_o16_se0.25,conv_r1_k5_s11_e1_o8_poolskip,r1_k3_s22_e1_o8_se0.5'));
  const whole = graphOf(exportOnnx(plan, undefined, { seed: 4 }));
  const wholeNodes = new Map(whole.node.map((n) => [n.name, n]));
  const wholeWeights = new Map(whole.initializer.map((t) => [t.name, t]));

  it('emits each layer alone as the same nodes, with the same names and weights, as inside the whole network', () => {
    const seen = new Set<string>();
    for (let i = 0; i < plan.layers.length; i++) {
      const alone = graphOf(exportOnnx(plan, undefined, { seed: 4, layers: { from: i, to: i + 1 } }));
      const last = i === plan.layers.length - 1;
      assert.equal(alone.output[0]?.name, last ? 'logits' : 'output');
      const body = alone.node.filter((n) => !(n.opType === 'Identity' && n.name === alone.output[0]?.name));
      assert.ok(body.length > 0);
      for (const n of body) {
        const w = wholeNodes.get(n.name);
        assert.ok(w, `${plan.layers[i]!.name}: node '${n.name}' is not in the whole network`);
        assert.equal(n.opType, w.opType, n.name);
        assert.deepEqual(n.attribute, w.attribute, n.name);
        assert.deepEqual(n.output, w.output, n.name);
        // the layer's input is the graph input alone, the previous layer's output inside the network
        n.input.forEach((x, k) => assert.ok(x === w.input[k] || x === 'input', `${n.name} input ${k}: ${x} vs ${w.input[k]}`));
        seen.add(n.name);
      }
      for (const t of alone.initializer) {
        const w = wholeWeights.get(t.name);
        assert.ok(w, `initializer '${t.name}' is not in the whole network`);
        assert.deepEqual(t.dims, w.dims, t.name);
        assert.deepEqual(t.rawData, w.rawData, t.name);
      }
    }
    // together the layers are the whole network (less its output Identity)
    assert.deepEqual([...seen].sort(), whole.node.filter((n) => n.opType !== 'Identity').map((n) => n.name).sort());
  });

  it('emits runs of layers, records the range, refuses empty ranges; the full range is the whole network', () => {
    const model = decodeModel(exportOnnx(plan, undefined, { layers: { from: 1, to: 4 } })) as { metadataProps: { key: string; value: string }[]; graph: DecodedGraph };
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    assert.equal(meta.layers, `${plan.layers[1]!.name}..${plan.layers[3]!.name}`);
    assert.ok(model.graph.node.some((n) => n.name === 'blocks.0.1.add'));
    assert.deepEqual(exportOnnx(plan, undefined, { layers: { from: 0, to: plan.layers.length } }), exportOnnx(plan));
    assert.throws(() => exportOnnx(plan, undefined, { layers: { from: 3, to: 3 } }), RangeError);
    assert.throws(() => exportOnnx(plan, undefined, { layers: { from: 0, to: plan.layers.length + 1 } }), RangeError);
  });

  it('runs in onnxruntime and gives what the whole network gives from the same point', async () => {
    const { height, width, channels } = plan.input;
    const rng = new Rng(3);
    const x = Float32Array.from({ length: channels * height * width }, () => rng.normal());
    const logits = (await runOrt(exportOnnx(plan, undefined, { seed: 4 }), x, [1, channels, height, width])).data;
    const head = plan.layers.length - 2;
    const session = await ort.InferenceSession.create(exportOnnx(plan, undefined, { seed: 4, layers: { from: 0, to: head } }), SESSION_OPTIONS);
    let features: ort.Tensor;
    try {
      features = (await session.run({ input: new ort.Tensor('float32', x, [1, channels, height, width]) })).output as ort.Tensor;
    } finally {
      await session.release();
    }
    const tail = await runOrt(exportOnnx(plan, undefined, { seed: 4, layers: { from: head, to: plan.layers.length } }), features.data as Float32Array, [...features.dims]);
    tail.data.forEach((v, k) => assert.ok(Math.abs(v - logits[k]!) < 1e-5, `logit ${k}: ${v} vs ${logits[k]}`));
  });
});

describe('weightsFromNetwork', () => {
  it('gives every plan entry in logical (OIHW) order, also from a channels_last network', () => {
    const arch = presetArch('bench-fmnist');
    const plan = buildPlan(arch);
    const a = buildNetwork(arch, { seed: 3 });
    const b = buildNetwork(arch, { seed: 3, channelsLast: true });
    try {
      const wa = weightsFromNetwork(a);
      const wb = weightsFromNetwork(b);
      assert.deepEqual([...wa.keys()].sort(), plan.params.map((p) => p.name).sort());
      checkWeights(plan, wa);
      for (const [k, v] of wa) assert.deepEqual(wb.get(k), v, k);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

describe('weight validation', () => {
  const plan: NetworkPlan = buildPlan(presetArch('bench-fmnist'));
  const base = () => new Map(randomWeights(plan, 1));

  it('names a missing parameter', () => {
    const w = base();
    w.delete('blocks.2.1.se.reduce.bias');
    assert.throws(() => exportOnnx(plan, w), (e: unknown) => e instanceof WeightsMismatchError && /missing parameter 'blocks\.2\.1\.se\.reduce\.bias' \(shape \[10\]\)/.test(e.message));
  });

  it('names a mis-shaped parameter with the expected shape', () => {
    const w = base();
    w.set('blocks.1.0.expand.conv.weight', new Float32Array(10));
    assert.throws(
      () => exportOnnx(plan, w),
      (e: unknown) => e instanceof WeightsMismatchError && /'blocks\.1\.0\.expand\.conv\.weight' has 10 values, the plan's shape \[96,16,1,1\] needs 1536/.test(e.message),
    );
  });

  it('names unexpected parameters, bad values, and lists every problem', () => {
    const w = base();
    w.set('blocks.9.0.project.conv.weight', new Float32Array(4));
    (w.get('stem.bn.running_var') as Float32Array)[3] = -1;
    (w.get('classifier.bias') as Float32Array)[0] = NaN;
    assert.throws(() => checkWeights(plan, w), (e: unknown) => {
      assert.ok(e instanceof WeightsMismatchError);
      assert.equal(e.problems.length, 3);
      assert.match(e.message, /unexpected parameter 'blocks\.9\.0\.project\.conv\.weight'/);
      assert.match(e.message, /'stem\.bn\.running_var' has an invalid value -1 at flat index 3/);
      assert.match(e.message, /'classifier\.bias' has an invalid value NaN at flat index 0/);
      return true;
    });
  });

  it('rejects an unsupported opset', () => {
    assert.throws(() => exportOnnx(plan, undefined, { opset: 11 as 13 }), /opset must be 13 or 17, got 11/);
  });
});

describe('resolutionProblem', () => {
  it('accepts every preset at its own resolution and finds the smallest input that fits', () => {
    for (const name of presetNames()) assert.equal(resolutionProblem(buildPlan(presetArch(name))), null, name);
    const a1 = (h: number, w: number) => buildPlan(withGlobal(presetArch('mnasnet-a1'), { input: { height: h, width: w, channels: 3 } }));
    assert.equal(resolutionProblem(a1(17, 17)), null);
    assert.equal(
      resolutionProblem(a1(16, 16)),
      "input 16x16 is too small for this arch: 'blocks.5.0.depthwise' (stride 2) would downsample a 1x1 map; the arch needs at least 17x17",
    );
    assert.match(resolutionProblem(a1(224, 3)) ?? '', /'blocks\.2\.0\.depthwise' \(stride 2\) would downsample a 56x1 map/);
    // fmnist space: stem stride 1, three stride-2 blocks -> at least 5x5
    const f = (n: number) => buildPlan(withGlobal(presetArch('fmnist-default'), { input: { height: n, width: n, channels: 1 } }));
    assert.equal(resolutionProblem(f(5)), null);
    assert.match(resolutionProblem(f(4)) ?? '', /needs at least 5x5/);
  });
});
