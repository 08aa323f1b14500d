import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printArch } from './arch-string.js';
import { getPreset, presetNames } from './presets.js';
import { resolveArch } from './resolve.js';
import { tempDir } from '../util/testing.js';

test('the registry has the reference models and each space default', () => {
  for (const name of ['mnasnet-a1', 'mnasnet-b1', 'mnasnet-small', 'mobilenet-v2', 'bench-fmnist', 'mobilenet-v2-default', 'fmnist-default', 'cifar-default']) {
    assert.ok(presetNames().includes(name), name);
  }
  assert.throws(() => getPreset('mnasnet-z9'), /unknown preset 'mnasnet-z9' \(known: mnasnet-a1, .*bench-fmnist/);
});

test('mnasnet-small: the 8-filter stem wins over the first string\'s i16', () => {
  const arch = getPreset('mnasnet-small').arch;
  assert.equal(arch.global.stem.filters, 8);
  assert.equal(arch.blocks[0]!.inputFilters, 16);
});

test('resolveArch: preset, arch string, text file, JSON file, overrides', () => {
  const a1 = getPreset('mnasnet-a1').arch;
  assert.equal(resolveArch('mnasnet-a1'), a1);
  assert.deepEqual(resolveArch(printArch(a1)), a1);
  const dir = tempDir('mnas-resolve-');
  writeFileSync(join(dir, 'a1.txt'), `${printArch(a1)}\n`);
  assert.deepEqual(resolveArch(join(dir, 'a1.txt')), a1);
  writeFileSync(join(dir, 'a1.json'), JSON.stringify(a1));
  assert.deepEqual(resolveArch(join(dir, 'a1.json')), a1);
  writeFileSync(join(dir, 'wrapped.json'), JSON.stringify({ arch: printArch(a1) }));
  assert.deepEqual(resolveArch(join(dir, 'wrapped.json')), a1);
  const small = resolveArch('mnasnet-a1', { input: { height: 32, width: 32, channels: 3 }, classes: 10, head: 0 });
  assert.deepEqual(small.global.input, { height: 32, width: 32, channels: 3 });
  assert.equal(small.global.classes, 10);
  assert.equal(small.global.head, 0);
  assert.deepEqual(small.blocks, a1.blocks);
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...a1, blocks: [{ ...a1.blocks[0], kernel: 2 }] }));
  assert.throws(() => resolveArch(join(dir, 'bad.json')), /arch file '.*bad\.json': arch\.blocks\[0\]\.kernel: must be odd/);
});

test('resolveArch: unknown spec explains what it tried', () => {
  assert.throws(() => resolveArch('mnasnet-a2'), /'mnasnet-a2' is not a preset \(known: .*\), not an arch string .* not an existing file/);
  assert.throws(() => resolveArch('in28x28x1_cls10_stem16s1_head0:r1_k3'), /block 0 is missing/);
  assert.throws(() => resolveArch('mnasnet-a1', { classes: 0 }), /classes/);
});
