import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import * as ort from 'onnxruntime-node';
import { buildNetwork } from '../model/builder.js';
import { exportOnnx, weightsFromNetwork } from '../model/export.js';
import { decodeModel } from '../model/onnx/index.js';
import { buildPlan } from '../model/plan.js';
import { parseArch, printArch } from '../space/arch-string.js';
import { withGlobal } from '../space/arch.js';
import { presetArch } from '../space/presets.js';
import {
  crossEntropy, encodeSafetensors, Generator, loadSafetensors, noGrad, randint, randn, setNumThreads, SGD, tensor, tidy, type Tensor,
} from '../torch/index.js';
import { UsageError } from './errors.js';
import type { ExportSummary } from '../model/export-file.js';
import { registerExport, runExport } from './export.js';
import { assertUsageExit, runCli } from './testing.js';
import { tempDir } from '../util/testing.js';

setNumThreads(1);
const tmp = tempDir('mnas-export-cli-');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const file = (name: string): string => path.join(tmp, name);

async function run(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command('mnas').exitOverride();
  registerExport(program, (s) => {
    out += s;
  });
  await program.parseAsync(['export', ...args], { from: 'user' });
  return out;
}

async function runJson(...args: string[]): Promise<ExportSummary> {
  const out = await run(...args, '--json');
  assert.equal(out.split('\n').filter(Boolean).length, 1, 'one JSON line');
  return JSON.parse(out) as ExportSummary;
}

function metadata(bytes: Uint8Array): Record<string, string> {
  const m = decodeModel(bytes) as { metadataProps?: { key: string; value: string }[] };
  return Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key, p.value]));
}

async function ortLogits(onnxFile: string, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnxFile, { intraOpNumThreads: 1 });
  try {
    return (await session.run({ input: new ort.Tensor('float32', x, shape) })).logits?.data as Float32Array;
  } finally {
    await session.release();
  }
}

function writeSafetensors(name: string, weights: ReadonlyMap<string, Float32Array>, shapes: ReadonlyMap<string, readonly number[]>, meta: Record<string, string> = {}): string {
  const tensors = new Map<string, Tensor>();
  for (const [k, v] of weights) tensors.set(k, tensor(v, shapes.get(k) ?? [v.length]));
  try {
    fs.writeFileSync(file(name), encodeSafetensors(tensors, meta));
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  return file(name);
}

describe('mnas export --format onnx', () => {
  it('writes the preset with seeded random weights; text summary and --json summary', async () => {
    const out = await run('fmnist-default', '--out', file('f.onnx'));
    assert.match(out, new RegExp(`^wrote ${file('f.onnx').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
    assert.match(out, /format onnx opset 13, [\d,]+ bytes, 245,178 params, weights random seed=0/);
    const s = await runJson('fmnist-default', '--out', file('f.onnx'), '--opset', '17', '--seed', '3');
    const bytes = new Uint8Array(fs.readFileSync(file('f.onnx')));
    assert.deepEqual(s, {
      path: file('f.onnx'),
      format: 'onnx',
      bytes: bytes.byteLength,
      params: 245_178,
      opset: 17,
      weights: 'random seed=3',
      normalizesInput: false,
      arch: printArch(presetArch('fmnist-default')),
    });
    assert.deepEqual(bytes, exportOnnx(buildPlan(presetArch('fmnist-default')), undefined, { opset: 17, seed: 3 }));
    assert.equal(metadata(bytes).arch, s.arch);
    // atomic write leaves no temporary files behind
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.tmp')), []);
  });

  it('applies --input and --classes; the model runs in onnxruntime with a dynamic batch', async () => {
    const s = await runJson('mnasnet-small', '--out', file('small.onnx'), '--input', '48x40x1', '--classes', '7');
    assert.equal(s.arch, printArch(withGlobal(presetArch('mnasnet-small'), { input: { height: 48, width: 40, channels: 1 }, classes: 7 })));
    for (const batch of [1, 3]) {
      const logits = await ortLogits(file('small.onnx'), new Float32Array(batch * 48 * 40).fill(0.5), [batch, 1, 48, 40]);
      assert.equal(logits.length, batch * 7);
      assert.ok(logits.every(Number.isFinite));
    }
  });

  it('reads the arch from a file (arch string or JSON)', async () => {
    const text = 'in20x20x3_cls4_stem8s2_head0:r1_k3_s11_e1_o8,r2_k3_s22_e6_o16_poolskip';
    fs.writeFileSync(file('arch.json'), JSON.stringify({ arch: text }));
    fs.writeFileSync(file('arch.txt'), `${text}\n`);
    assert.equal((await runJson(file('arch.json'), '--out', file('j.onnx'))).arch, text);
    assert.equal((await runJson(file('arch.txt'), '--out', file('t.onnx'))).arch, text);
  });

  it('exports trained engine weights from safetensors; onnxruntime matches the engine', async () => {
    const arch = parseArch('in24x24x3_cls6_stem8s2_head32:r1_k3_s11_e1_o8,r2_k5_s22_e3_o16_se0.25_poolskip,conv_r1_k3_s22_e1_o12_poolskip');
    const plan = buildPlan(withGlobal(arch, { bnMomentum: 0.5 }));
    const net = buildNetwork(plan.arch, { seed: 4 });
    const gen = new Generator(9);
    const opt = new SGD(net.parameters(), { momentum: 0.9 });
    net.train();
    for (let i = 0; i < 3; i++) {
      tidy(() => {
        opt.zeroGrad();
        crossEntropy(net.forward(randn([8, 3, 24, 24], gen)), randint(0, 6, [8], gen)).backward();
        opt.step(0.01);
      });
    }
    opt.dispose();
    net.eval();
    const x = tidy(() => randn([2, 3, 24, 24], gen).toFloat32Array());
    const expected = noGrad(() => tidy(() => net.forward(tensor(x, [2, 3, 24, 24])).toFloat32Array()));
    const shapes = new Map(plan.params.map((p) => [p.name, p.shape]));
    const weightsFile = writeSafetensors('trained.safetensors', weightsFromNetwork(net), shapes, { arch: printArch(plan.arch) });
    net.dispose();
    const s = await runJson(printArch(plan.arch), '--out', file('trained.onnx'), '--weights', weightsFile);
    assert.equal(s.weights, weightsFile);
    assert.equal(metadata(new Uint8Array(fs.readFileSync(file('trained.onnx')))).weights, 'given');
    const got = await ortLogits(file('trained.onnx'), x, [2, 3, 24, 24]);
    const diff = expected.reduce((m, v, i) => Math.max(m, Math.abs(v - (got[i] as number))), 0);
    assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
  });
});

describe('mnas export --format safetensors', () => {
  it('writes the seeded random weights with the arch in the metadata; onnx --weights of them gives the default model', async () => {
    const s = await runJson('bench-fmnist', '--format', 'safetensors', '--out', file('b.safetensors'), '--seed', '2');
    assert.equal(s.format, 'safetensors');
    assert.equal(s.opset, null);
    const loaded = loadSafetensors(file('b.safetensors'));
    const plan = buildPlan(presetArch('bench-fmnist'));
    try {
      assert.equal(loaded.metadata.arch, printArch(plan.arch));
      assert.deepEqual([...loaded.tensors.keys()].sort(), plan.params.map((p) => p.name).sort());
      for (const p of plan.params) assert.deepEqual(loaded.tensors.get(p.name)?.shape, p.shape);
    } finally {
      for (const t of loaded.tensors.values()) t.dispose();
    }
    await run('bench-fmnist', '--out', file('b1.onnx'), '--weights', file('b.safetensors'));
    await run('bench-fmnist', '--out', file('b2.onnx'), '--seed', '2');
    const g1 = (decodeModel(new Uint8Array(fs.readFileSync(file('b1.onnx')))) as { graph: unknown }).graph;
    const g2 = (decodeModel(new Uint8Array(fs.readFileSync(file('b2.onnx')))) as { graph: unknown }).graph;
    assert.deepEqual(g1, g2);
  });
});

describe('mnas export: invalid requests are UsageErrors', () => {
  const rejects = (args: string[], re: RegExp) =>
    assert.rejects(run(...args), (e: unknown) => {
      assert.ok(e instanceof UsageError, `expected a UsageError, got ${String(e)}`);
      assert.match(e.message, re);
      return true;
    });

  it('unknown preset, bad input shape, arch too big for the input, unknown format, bad opset, bad classes', async () => {
    await rejects(['mnasnet-z', '--out', file('x.onnx')], /'mnasnet-z' is not a preset/);
    await rejects(['mnasnet-a1', '--out', file('x.onnx'), '--input', '224x224'], /--input must be HxWxC/);
    await rejects(['mnasnet-a1', '--out', file('x.onnx'), '--input', '0x224x3'], /--input must be HxWxC/);
    await rejects(['mnasnet-a1', '--out', file('x.onnx'), '--input', '16x16x3'], /input 16x16 is too small for this arch: 'blocks\.5\.0\.depthwise' \(stride 2\) would downsample a 1x1 map; the arch needs at least 17x17/);
    await rejects(['mnasnet-a1', '--out', file('x.onnx'), '--format', 'tflite'], /--format must be one of onnx, safetensors, got 'tflite'/);
    await rejects(['mnasnet-a1', '--out', file('x.onnx'), '--opset', '11'], /--opset must be one of 13, 17, got '11'/);
    await rejects(['mnasnet-a1', '--out', file('x.onnx'), '--classes', 'ten'], /--classes must be an integer/);
    await rejects(['in28x28x1_cls10_stem16s1_head0:r1_k3_s11_e1_o16_bogus', '--out', file('x.onnx')], /block 0, token 5 'bogus': unknown token/);
    assert.ok(!fs.existsSync(file('x.onnx')), 'nothing written on error');
  });

  it('missing, unreadable, mismatched or foreign weights files', async () => {
    const plan = buildPlan(presetArch('fmnist-default'));
    const shapes = new Map(plan.params.map((p) => [p.name, p.shape]));
    await run('fmnist-default', '--format', 'safetensors', '--out', file('fm.safetensors'));
    await rejects(['fmnist-default', '--out', file('x.onnx'), '--weights', file('none.safetensors')], /--weights: cannot read weights file .*none\.safetensors: ENOENT/);
    fs.writeFileSync(file('junk.safetensors'), 'not a safetensors file at all');
    await rejects(['fmnist-default', '--out', file('x.onnx'), '--weights', file('junk.safetensors')], /--weights: .*junk\.safetensors: header length/);
    // different classes: the classifier is mis-shaped
    await rejects(
      ['fmnist-default', '--out', file('x.onnx'), '--weights', file('fm.safetensors'), '--classes', '5'],
      /parameter 'classifier\.weight' has shape \[10,96\], the plan needs \[5,96\]/,
    );
    // another arch: unexpected parameters
    await rejects(['bench-fmnist', '--out', file('x.onnx'), '--weights', file('fm.safetensors')], /unexpected parameter 'blocks\.4\.0\.[a-z.]+' \(not in the plan\)/);
    // a parameter missing (no metadata)
    const loaded = loadSafetensors(file('fm.safetensors'));
    const partial = new Map([...loaded.tensors].filter(([k]) => k !== 'blocks.2.0.se.expand.bias').map(([k, t]) => [k, t.toFloat32Array()]));
    for (const t of loaded.tensors.values()) t.dispose();
    writeSafetensors('partial.safetensors', partial, shapes);
    await rejects(['fmnist-default', '--out', file('x.onnx'), '--weights', file('partial.safetensors')], /missing parameter 'blocks\.2\.0\.se\.expand\.bias' \(shape \[72\]\)/);
    // same names and shapes but saved for another arch (identity vs no skip): caught by the metadata
    const noskip = printArch(presetArch('fmnist-default')).replace('r1_k3_s11_e6_i80_o96', 'r1_k3_s11_e6_i80_o96_noskip');
    await rejects([noskip, '--out', file('x.onnx'), '--weights', file('fm.safetensors')], /was saved for arch 'in28x28x1_cls10.*', not '.*_noskip'/);
    // ... but another input resolution is fine (the weights do not depend on it)
    const s = await runJson('fmnist-default', '--out', file('fm64.onnx'), '--weights', file('fm.safetensors'), '--input', '64x64x1');
    assert.equal(s.arch.split(':')[0], 'in64x64x1_cls10_stem16s1_head0');
    assert.ok(!fs.existsSync(file('x.onnx')), 'nothing written on error');
  });
});

/** `mnas export ...args` is refused: exit 2, one line `mnas: export: ...`, no stack, within 5 s. */
const refuse = (args: string[], message: RegExp) => assertUsageExit(runCli(['export', ...args]), message, { prefix: 'export: ' });

/** A safetensors file with this header text and `data` zero bytes after it. */
function rawSafetensors(name: string, header: string, data = 0, length?: bigint): string {
  const text = Buffer.from(header, 'utf8');
  const out = Buffer.alloc(8 + text.byteLength + data);
  out.writeBigUInt64LE(length ?? BigInt(text.byteLength), 0);
  text.copy(out, 8);
  fs.writeFileSync(file(name), out);
  return file(name);
}

describe('mnas export: size limits and malformed weights files end in one line and exit 2', () => {
  it('--classes 99999999999 (the issue\'s command), --input past the limit', () => {
    refuse(['bench-fmnist', '--classes', '99999999999', '--out', file('x.onnx')], /--classes must be an integer in \[1, 100000\], got '99999999999'$/m);
    refuse(['bench-fmnist', '--input', '100000x100000x3', '--out', file('x.onnx')], /--input height: 100000 exceeds the limit 4096/);
    assert.throws(() => runExport('bench-fmnist', { out: file('x.onnx'), classes: 99_999_999_999 }), (e: unknown) =>
      e instanceof UsageError && /^export: arch\.global\.classes: 99999999999 exceeds the limit 100000 \(classes\)$/.test(e.message));
    assert.ok(!fs.existsSync(file('x.onnx')), 'nothing written');
  });

  it('a network within the static limits whose weights cannot fit in memory is refused before any weight exists', () => {
    // 1024 layers of 8192 channels on a 1x1 input: 7e10 parameters, 0.8 TB for the export
    const huge = `in1x1x1_cls10_stem16s1_head0:${Array(16).fill('r64_k1_s11_e1_o8192').join(',')}`;
    const started = performance.now();
    assert.throws(() => runExport(huge, { out: file('x.onnx') }), (e: unknown) =>
      e instanceof UsageError && /^export: the network needs at least [\d.]+ GB for export \(weights [\d.]+ GB, activations 0 bytes\), more than/.test(e.message));
    assert.ok(performance.now() - started < 2000);
  });

  it('safetensors weights: null or non-object metadata, header past the file, bad dtypes, shapes and offsets', () => {
    const cases: [string, RegExp][] = [
      [rawSafetensors('meta-null.safetensors', '{"__metadata__":null}'), /"__metadata__" must be an object of strings, got null/],
      [rawSafetensors('meta-str.safetensors', '{"__metadata__":"arch"}'), /"__metadata__" must be an object of strings, got "arch"/],
      [rawSafetensors('long.safetensors', '{}', 0, 1n << 40n), /header length 1099511627776 exceeds the file size/],
      [rawSafetensors('dtype.safetensors', '{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}', 4), /entry 'w' has unsupported dtype "Q4"/],
      [rawSafetensors('shape.safetensors', '{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4), /entry 'w' has an invalid shape \[-1\]/],
      [rawSafetensors('range.safetensors', '{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 4), /data_offsets \[0, 16\] inconsistent with the 4 data bytes/],
      [rawSafetensors('overlap.safetensors', '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', 12), /entries 'a' \[0, 8\] and 'b' \[4, 12\] overlap/],
    ];
    for (const [weights, message] of cases) refuse(['bench-fmnist', '--weights', weights, '--out', file('x.onnx')], message);
    assert.ok(!fs.existsSync(file('x.onnx')), 'nothing written');
  });
});
