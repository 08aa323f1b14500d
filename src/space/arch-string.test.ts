import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { ArchError } from './arch-error.js';
import { makeArch, withGlobal, type Arch } from './arch.js';
import { parseArch, printArch } from './arch-string.js';
import { getPreset, presetNames } from './presets.js';
import { getSpace, spaceNames } from './space.js';
import { parseTfBlocks, printTfBlocks } from './tf-block-string.js';
import { parseTimm, printTimm, printTimmStages } from './timm-string.js';

const A1 =
  'in224x224x3_cls1000_stem32s2_head1280:r1_k3_s11_e1_i32_o16_noskip,r2_k3_s22_e6_i16_o24,r3_k5_s22_e3_i24_o40_se0.25,' +
  'r4_k3_s22_e6_i40_o80,r2_k3_s11_e6_i80_o112_se0.25,r3_k5_s22_e6_i112_o160_se0.25,r1_k3_s11_e6_i160_o320';

test('mnasnet-a1 prints as the tensorflow/tpu strings behind a global prefix', () => {
  assert.equal(printArch(getPreset('mnasnet-a1').arch), A1);
  assert.deepEqual(parseArch(A1), getPreset('mnasnet-a1').arch);
});

for (const name of spaceNames()) {
  test(`${name}: 1000 sampled archs round-trip through the arch string exactly`, () => {
    const space = getSpace(name);
    const rng = new Rng(11);
    for (let i = 0; i < 1000; i++) {
      const arch = space.decode(space.sample(rng));
      const text = printArch(arch);
      const back = parseArch(text);
      assert.deepEqual(back, arch, text);
      assert.equal(printArch(back), text);
    }
  });
}

test('every preset round-trips, including non-default global params', () => {
  for (const name of presetNames()) {
    const arch = getPreset(name).arch;
    assert.deepEqual(parseArch(printArch(arch)), arch, name);
  }
  const odd = withGlobal(getPreset('bench-fmnist').arch, { dropout: 0, bnMomentum: 0.9, bnEps: 1e-5 });
  const text = printArch(odd);
  assert.match(text, /_drop0_bnm0\.9_bne0\.00001:/);
  assert.deepEqual(parseArch(text), odd);
});

test('conv op and pool skip have their own tokens; i is optional; whitespace is ignored', () => {
  const arch = parseArch('in32x32x3_cls10_stem16s1_head0 : conv_r2_k5_s22_e1_o24_poolskip , r1_k3_s11_e6_o24_se0.25_noskip');
  assert.equal(arch.blocks[0]!.op, 'conv');
  assert.equal(arch.blocks[0]!.skip, 'pool');
  assert.equal(arch.blocks[0]!.inputFilters, undefined);
  assert.equal(arch.blocks[1]!.op, 'mbconv');
  assert.equal(arch.blocks[1]!.skip, 'none');
  assert.equal(printArch(arch), 'in32x32x3_cls10_stem16s1_head0:conv_r2_k5_s22_e1_o24_poolskip,r1_k3_s11_e6_o24_se0.25_noskip');
});

test('malformed arch strings name the block, the token index and the token', () => {
  const g = 'in28x28x1_cls10_stem16s1_head0';
  const cases: [string, RegExp][] = [
    [`${g}:r1_k3_s11_e1_o16,r2_k3_s22_x6_o24`, /block 1, token 3 'x6': unknown token/],
    [`${g}:r1_k3_s12_e1_o16`, /block 0, token 2 's12': non-square strides/],
    [`${g}:r1_k3_s2_e1_o16`, /block 0, token 2 's2': stride must be two digits/],
    [`${g}:r1_k3_s11_e1_o16_se`, /block 0, token 5 'se': SE ratio must be a number/],
    [`${g}:r1_k3_s11_e1_o16_r2`, /block 0, token 5 'r2': 'r' given twice/],
    [`${g}:r1_k3_s11_e1_o16_noskip_poolskip`, /block 0, token 6 'poolskip': 'skip' given twice/],
    [`${g}:r1_k3_s11_e1`, /block 0 is missing 'o'/],
    [`${g}:r1_k3_s11_e1_o16,`, /block 1 is empty/],
    [`${g}:r1__k3_s11_e1_o16`, /block 0, token 1 '': empty token/],
    [`${g}:conv_r1_k3_s11_e6_o16`, /'conv' has no expansion/],
    [`${g}:r1_k4_s11_e6_o16`, /kernel: must be odd/],
    ['in28x28_cls10_stem16s1_head0:r1_k3_s11_e1_o16', /global prefix, token 0 'in28x28': input must be/],
    ['in28x28x1_cls10_stem16_head0:r1_k3_s11_e1_o16', /global prefix, token 2 'stem16': stem must be/],
    ['in28x28x1_cls10_stem16s1_head0_foo3:r1_k3_s11_e1_o16', /global prefix, token 4 'foo3': unknown token/],
    ['in28x28x1_stem16s1_head0:r1_k3_s11_e1_o16', /global prefix is missing 'cls'/],
    ['r1_k3_s11_e1_o16', /missing ':'/],
    [`${g}:r1_k3_s11_e1_i8_o16,r1_k3_s11_e1_i8_o16`, /blocks\[1\]\.inputFilters: declared 8 but block 0 outputs 16/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseArch(text), message, text);
});

test('tf block-string lists decode and encode', () => {
  const strings = ['r1_k3_s11_e1_i32_o16_noskip', 'r2_k3_s22_e6_i16_o24', 'r3_k5_s22_e3_i24_o40_se0.25'];
  const blocks = parseTfBlocks(strings);
  assert.deepEqual(blocks.map((b) => b.op), ['dsconv', 'mbconv', 'mbconv']);
  const arch = makeArch({ global: { input: { height: 224, width: 224, channels: 3 }, classes: 1000, stem: { filters: 32, stride: 2 }, head: 1280 }, blocks });
  assert.deepEqual(printTfBlocks(arch), strings);
  assert.deepEqual(parseTfBlocks(strings.join(',')), blocks);
  for (const name of ['mnasnet-a1', 'mnasnet-b1', 'mnasnet-small', 'mobilenet-v2', 'bench-fmnist']) {
    const preset = getPreset(name).arch;
    assert.deepEqual(parseTfBlocks(printTfBlocks(preset)), preset.blocks, name);
  }
  // mnasnet-small keeps its declared i16 after the 8-filter stem
  assert.equal(printTfBlocks(getPreset('mnasnet-small').arch)[0], 'r1_k3_s11_e1_i16_o8');
});

test('tf block strings: errors, and what the grammar cannot express', () => {
  assert.throws(() => parseTfBlocks(['r1_k3_s11_e1_o16']), /block 0 is missing 'i'/);
  assert.throws(() => parseTfBlocks(['r1_k3_s11_e1_i32_o16', 'r1_k3_s11_e1_i32_o16_poolskip']), /tf block string: block 1, token 6 'poolskip': unknown token/);
  assert.throws(() => parseTfBlocks(['r1_k3_s11_e1_i32_o16', 'r1_k3_s11_e1_i32_o16']), /block 1 says i32 but block 0 outputs o16/);
  const pool = parseArch('in28x28x1_cls10_stem16s1_head0:r1_k3_s11_e1_o16_poolskip');
  assert.throws(() => printTfBlocks(pool), /pooling skip/);
  const conv = parseArch('in28x28x1_cls10_stem16s1_head0:conv_r1_k3_s11_e1_o16');
  assert.throws(() => printTfBlocks(conv), /regular conv/);
});

const TIMM_A1 =
  'ds_r1_k3_s1_e1_c16_noskip | ir_r2_k3_s2_e6_c24 | ir_r3_k5_s2_e3_c40_se0.25 | ir_r4_k3_s2_e6_c80 | ' +
  'ir_r2_k3_s1_e6_c112_se0.25 | ir_r3_k5_s2_e6_c160_se0.25 | ir_r1_k3_s1_e6_c320';

const withoutInput = (arch: Arch) => arch.blocks.map(({ inputFilters: _unused, ...rest }) => rest);

test('timm strings decode to the same blocks as the tf strings, and encode back', () => {
  const a1 = getPreset('mnasnet-a1').arch;
  assert.deepEqual(parseTimm(TIMM_A1), withoutInput(a1));
  assert.equal(printTimm(a1.blocks), TIMM_A1);
  assert.deepEqual(printTimmStages(a1.blocks)[1], ['ir_r2_k3_s2_e6_c24']);
  assert.deepEqual(parseTimm([['ds_r1_k3_s1_c16_noskip'], ['ir_r2_k3_s2_e6_c24', 'ir_r1_k3_s1_e6_c24']]).length, 3);
  assert.deepEqual(parseTimm('ds_r1_k3_s1_c16,cn_r1_k3_s2_c24|ir_r1_k5_s1_e3_c24').map((b) => b.op), ['dsconv', 'conv', 'mbconv']);
});

for (const name of spaceNames()) {
  test(`${name}: 1000 sampled archs round-trip through timm and tf strings where expressible`, () => {
    const space = getSpace(name);
    const rng = new Rng(5);
    for (let i = 0; i < 1000; i++) {
      const arch = space.decode(space.sample(rng));
      const expressible = arch.blocks.every((b) => b.skip !== 'pool');
      if (!expressible) {
        assert.throws(() => printTimm(arch.blocks), /pooling skip/);
        continue;
      }
      const text = printTimm(arch.blocks);
      assert.deepEqual(parseTimm(text), withoutInput(arch));
      assert.equal(printTimm(parseTimm(text)), text);
      if (arch.blocks.every((b) => b.op !== 'conv')) assert.deepEqual(parseTfBlocks(printTfBlocks(arch)), arch.blocks);
    }
  });
}

test('malformed timm strings name the block, token index and token', () => {
  const cases: [string, RegExp][] = [
    ['ds_r1_k3_s1_c16 | er_r1_k3_s2_e6_c24', /block 1, token 0 'er': unknown block type/],
    ['ir_r1_k3_s2_e6_c24_nre', /block 0, token 6 'nre': unknown token/],
    ['ir_r1_k3_s2_c24', /block 0 is missing 'e'/],
    ['ir_r1_k3_s1_e1_c24', /'ir' with e1/],
    ['ds_r1_k3_s1_e6_c24', /'ds' has no expansion/],
    ['ds_r1_k3_sx_c24', /block 0, token 3 'sx': 's' must be followed by an integer/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseTimm(text), message, text);
});

test('numbers that are not safe integers are refused while parsing, naming the token', () => {
  const g = 'in28x28x1_cls10_stem16s1_head0';
  const notSafe = (token: string) => (e: unknown) =>
    e instanceof ArchError && new RegExp(`token \\d+ '${token}': \\d+ is not a safe integer \\(at most 9007199254740991\\)`).test(e.message);
  assert.throws(() => parseArch(`${g}:r1_k3_s11_e1_i16_o99999999999999999999`), notSafe('o99999999999999999999'));
  assert.throws(() => parseArch(`${g}:r1_k3_s11_e1_i16_o${'9'.repeat(400)}`), (e: unknown) => e instanceof ArchError && e.message.length < 300);
  assert.throws(() => parseArch(`in28x28x1_cls99999999999999999999_stem16s1_head0:r1_k3_s11_e1_o16`), notSafe('cls99999999999999999999'));
  assert.throws(() => parseArch(`in99999999999999999999x28x1_cls10_stem16s1_head0:r1_k3_s11_e1_o16`), notSafe('in99999999999999999999x28x1'));
  assert.throws(() => parseTfBlocks(['r1_k3_s11_e1_i16_o99999999999999999999']), notSafe('o99999999999999999999'));
  assert.throws(() => parseTimm('ds_r99999999999999999999_k3_s1_c16'), notSafe('r99999999999999999999'));
});

/** Mutations of valid arch strings and random strings: parseArch throws ArchError with one line, or parses. */
test('parseArch on 20,000 random and mutated strings up to 4 KB: only ArchError, one-line messages, no hang', () => {
  const rng = new Rng(7);
  const seeds = [
    ...presetNames().map((n) => printArch(getPreset(n).arch)),
    'in28x28x1_cls10_stem16s1_head0_drop0.5_bnm0.9_bne1e-5:conv_r2_k5_s22_e1_o24_poolskip,r1_k3_s11_e6_o24_se0.25_noskip',
  ];
  const pieces = ['_', ',', ':', 'x', 'e', 'r', 'o', 'se', 'k', 's22', '99999999999999999999', '1e400', '-1', '0', '.', '\n', '\u0000', '\u2028', '\ud800', ' ', 'noskip', 'poolskip', 'conv', 'in', 'cls', 'head', '__proto__', 'constructor'];
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789_,:x.-+ \n\t';
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T;
  const started = performance.now();
  let parsed = 0;
  for (let i = 0; i < 20_000; i++) {
    let text: string;
    const mode = rng.int(4);
    if (mode === 0) {
      text = Array.from({ length: rng.int(200) }, () => alphabet[rng.int(alphabet.length)]).join('');
    } else if (mode === 1) {
      text = Array.from({ length: rng.int(600) }, () => pick(pieces)).join('');
    } else {
      text = pick(seeds);
      for (let m = 1 + rng.int(mode === 2 ? 3 : 40); m > 0; m--) {
        const at = rng.int(text.length + 1);
        const op = rng.int(3);
        if (op === 0) text = text.slice(0, at) + pick(pieces) + text.slice(at);
        else if (op === 1) text = text.slice(0, at) + text.slice(at + 1 + rng.int(8));
        else text = text.slice(0, at) + text.slice(at, at + rng.int(400)).repeat(1 + rng.int(4)) + text.slice(at);
      }
      text = text.slice(0, 4096);
    }
    try {
      parseArch(text);
      parsed++;
    } catch (e) {
      assert.ok(e instanceof ArchError, `${JSON.stringify(text)} threw ${String(e)}`);
      assert.ok(!/[\n\r\u2028\u2029]/.test(e.message) && e.message.length < 1000, `one short line: ${JSON.stringify(e.message)}`);
    }
  }
  assert.ok(parsed > 10, `some mutations stay valid (${parsed})`);
  assert.ok(performance.now() - started < 20_000);
});
