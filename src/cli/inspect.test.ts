import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { printArch } from '../space/arch-string.js';
import { getPreset } from '../space/presets.js';
import { UsageError } from './errors.js';
import { registerInspect } from './inspect.js';
import { assertUsageExit, runCli } from './testing.js';

async function run(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command('mnas').exitOverride();
  registerInspect(program, (text) => {
    out += text;
  });
  await program.parseAsync(['inspect', ...args], { from: 'user' });
  return out;
}

test('inspect prints a per-layer table with totals', async () => {
  const out = await run('mnasnet-a1');
  assert.match(out, /^arch: in224x224x3_cls1000_stem32s2_head1280:r1_k3_s11_e1_i32_o16_noskip,/);
  assert.match(out, /blocks\.2\.1 +mbconv e3 k5 s1 se10 \+identity +40@28x28 +40@28x28/);
  assert.match(out, /\ntotal +3,887,038 +311,579,072/);
});

test('inspect --json: last line is one JSON object with the counts', async () => {
  const out = await run('mnasnet-b1', '--json');
  const last = out.trimEnd().split('\n').at(-1) as string;
  const result = JSON.parse(last) as { params: number; macs: number; activations: number; arch: string; layers: unknown[] };
  assert.equal(result.params, 4_383_312);
  assert.equal(result.macs, 314_415_872);
  assert.ok(result.activations > 0);
  assert.equal(result.arch, printArch(getPreset('mnasnet-b1').arch));
  assert.equal(result.layers.length, 1 + 17 + 3);
});

test('inspect accepts arch strings and overrides', async () => {
  const text = 'in28x28x1_cls10_stem16s1_head0:r1_k3_s11_e1_i16_o16,r2_k3_s22_e6_i16_o24';
  const out = JSON.parse(await run(text, '--input', '32x32x3', '--classes', '100', '--head', '64', '--json')) as { arch: string };
  assert.equal(out.arch, 'in32x32x3_cls100_stem16s1_head64:r1_k3_s11_e1_i16_o16,r2_k3_s22_e6_i16_o24');
  const bench = JSON.parse(await run('bench-fmnist', '--json')) as { params: number };
  assert.equal(bench.params, 154_106);
});

test('mnas inspect reads timm arch strings (the issue\'s command), in timm\'s MnasNet frame unless --input / --classes', () => {
  const timmB1 = 'ds_r1_k3_s1_e1_c16_noskip | ir_r3_k3_s2_e3_c24 | ir_r3_k5_s2_e3_c40 | ir_r3_k5_s2_e6_c80 | ir_r2_k3_s1_e6_c96 | ir_r4_k5_s2_e6_c192 | ir_r1_k3_s1_e6_c320_noskip';
  const r = runCli(['inspect', timmB1, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const b1 = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!) as { params: number; arch: string };
  assert.equal(b1.arch, printArch(getPreset('mnasnet-b1').arch));
  assert.equal(b1.params, 4_383_312);
  const small = runCli(['inspect', "[['ds_r1_k3_s1_e1_c16'], ['ir_r2_k3_s2_e6_c24_se0.25']]", '--input', '32x32x3', '--classes', '10', '--json']);
  assert.equal(small.status, 0, small.stderr);
  assert.ok((JSON.parse(small.stdout.trimEnd().split('\n').at(-1)!) as { arch: string }).arch.startsWith('in32x32x3_cls10_stem32s2_head1280:'));
  assertUsageExit(runCli(['inspect', 'ds_r1_k3_s1_e1_c16 | ir_r2_x3']), /timm arch string: block 1, token 2 'x3': unknown token/, { prefix: 'inspect: ', seconds: 30 });
});

test('bad input gives a UsageError naming the problem', async () => {
  await assert.rejects(run('mnasnet-z'), (e: unknown) => e instanceof UsageError && /'mnasnet-z' is not a preset/.test(e.message));
  await assert.rejects(run('mnasnet-a1', '--input', '224x224'), (e: unknown) => e instanceof UsageError && /--input must be HxWxC/.test(e.message));
  await assert.rejects(run('mnasnet-a1', '--classes', 'ten'), (e: unknown) => e instanceof UsageError && /--classes/.test(e.message));
  await assert.rejects(
    run('in28x28x1_cls10_stem16s1_head0:r1_k3_s11_e1_o16_bogus'),
    (e: unknown) => e instanceof UsageError && /block 0, token 5 'bogus': unknown token/.test(e.message),
  );
});

const mnas = (...args: string[]) => runCli(args);

test('the commands of the hardening issue: limits are one line and exit 2, quickly', () => {
  const g = 'in28x28x1_cls10_stem16s1_head0';
  assertUsageExit(mnas('inspect', `${g}:r99999999999_k3_s11_e1_i16_o16`), /^mnas: inspect: arch string: arch\.blocks\[0\]\.repeats: 99999999999 exceeds the limit 64 \(repeats per block\)$/m);
  assertUsageExit(mnas('inspect', `${g}:r1_k3_s11_e1_i16_o99999999999999999999`), /token 5 'o99999999999999999999': 99999999999999999999 is not a safe integer/);
  assertUsageExit(mnas('inspect', 'bench-fmnist', '--classes', '1e20'), /--classes must be an integer >= 1, got '1e20'/);
  assertUsageExit(mnas('inspect', 'bench-fmnist', '--classes', '100000000000000000000'), /--classes 100000000000000000000 exceeds the limit 100000$/m);
  assertUsageExit(mnas('inspect', 'bench-fmnist', '--head', '99999999999'), /--head 99999999999 exceeds the limit 8192$/m);
  assertUsageExit(mnas('inspect', 'bench-fmnist', '--input', '100000x100000x3'), /--input height: 100000 exceeds the limit 4096/);
  assertUsageExit(mnas('inspect', `${g}:r1_k3_s11_e1_i16_o16\n_bogus`), /token 5 'o16\\u000a'/);
  assertUsageExit(mnas('inspect', `${g}:${Array(65).fill('r1_k3_s11_e1_o16').join(',')}`), /blocks: 65 exceeds the limit 64/);
});
