import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataFileError } from '../data/data-file-error.js';
import { makeTempDir } from '../data/fixture-files.js';
import { encodeNpy } from '../data/npy.js';
import { writeStoredZip } from '../data/zip.js';
import { printArch } from '../space/arch-string.js';
import { getSpace } from '../space/space.js';
import { makeImageFolder } from '../data/image-fixtures.js';
import { parseSearchConfig } from './config.js';
import { resolveSearchConfig } from './run-config.js';
import { prepareSearchData } from './search-data.js';

test('the space takes the data\'s input shape and classes unless the config gives them; given ones the data must have', async () => {
  const temp = makeTempDir('mnas-search-data-');
  try {
    const file = join(temp.dir, 'three.npz');
    const n = 30;
    writeFileSync(file, writeStoredZip(new Map([
      ['images.npy', encodeNpy('u1', [n, 32, 32, 3], new Uint8Array(n * 32 * 32 * 3).map((_, i) => (i * 31) & 255))],
      ['labels.npy', encodeNpy('i8', [n], Array.from({ length: n }, (_, i) => i % 3))],
    ])));
    const cacheDir = join(temp.dir, 'cache');
    const lines: string[] = [];
    const config = parseSearchConfig({ space: 'cifar', dataset: { name: file, cacheDir } });
    const { data, space } = await prepareSearchData(config, getSpace('cifar'), (l) => lines.push(l));
    assert.equal(data.classes, 3);
    assert.ok(printArch(space.decode(space.defaultDna())).startsWith('in32x32x3_cls3_'));
    assert.deepEqual(space.decisions().map((d) => d.label), getSpace('cifar').decisions().map((d) => d.label));
    assert.match(lines.join('\n'), /space 'cifar' with the data's 3 classes \(instead of 10\)/);

    const builtin = await prepareSearchData(parseSearchConfig({ dataset: { name: 'synthetic' } }), getSpace('fmnist'), () => {});
    assert.equal(builtin.space, getSpace('fmnist'));

    // 32x32x3 arrays in the 28x28x1 fmnist frame: the frame takes the data's shape
    const fmnistLines: string[] = [];
    const wider = await prepareSearchData(parseSearchConfig({ dataset: { name: file, cacheDir } }), getSpace('fmnist'), (l) => fmnistLines.push(l));
    assert.ok(printArch(wider.space.decode(wider.space.defaultDna())).startsWith('in32x32x3_cls3_'));
    assert.match(fmnistLines.join('\n'), /space 'fmnist' with the data's input 32x32x3 \(instead of 28x28x1\) and 3 classes \(instead of 10\)/);

    // given values: the configured space has them (run-config.ts) and the data must match
    const givenInput = parseSearchConfig({ space: 'fmnist', input: '28x28x1', dataset: { name: file, cacheDir } });
    await assert.rejects(prepareSearchData(givenInput, resolveSearchConfig(givenInput).space, () => {}),
      (e: unknown) => e instanceof DataFileError && /three\.npz: images are 32x32x3 but the input given \(--input, config "input"\) is 28x28x1 \(channels differ\)/.test(e.message));
    const givenClasses = parseSearchConfig({ space: 'cifar', classes: 5, dataset: { name: file, cacheDir } });
    await assert.rejects(prepareSearchData(givenClasses, resolveSearchConfig(givenClasses).space, () => {}),
      (e: unknown) => e instanceof DataFileError && /three\.npz: the data has 3 classes but the number given \(--classes, config "classes"\) is 5/.test(e.message));
    const matching = parseSearchConfig({ space: 'cifar', input: '32x32x3', classes: 3, dataset: { name: file, cacheDir } });
    const kept = await prepareSearchData(matching, resolveSearchConfig(matching).space, () => {});
    assert.ok(printArch(kept.space.decode(kept.space.defaultDna())).startsWith('in32x32x3_cls3_'));

    // an image folder is resized to the given input
    const folder = join(temp.dir, 'shapes');
    await makeImageFolder(folder, { classes: ['a', 'b'], perClass: 10, height: 20, width: 20 });
    const small = parseSearchConfig({ space: 'cifar', input: '16x16x3', dataset: { name: folder, cacheDir } });
    const resized = await prepareSearchData(small, resolveSearchConfig(small).space, () => {});
    assert.deepEqual(resized.data.shape, { height: 16, width: 16, channels: 3 });
    assert.ok(printArch(resized.space.decode(resized.space.defaultDna())).startsWith('in16x16x3_cls2_'));
  } finally {
    temp.cleanup();
  }
});

test('the config\'s input and classes are checked with the rest of the config', () => {
  assert.throws(() => parseSearchConfig({ input: '32x32' }), /input: must be HxWxC, e\.g\. 32x32x3/);
  assert.throws(() => parseSearchConfig({ input: '0x32x3' }), /input must be HxWxC with positive integers/);
  assert.throws(() => parseSearchConfig({ input: '99999x32x3' }), /input height: 99999 exceeds the limit/);
  assert.throws(() => parseSearchConfig({ classes: 0 }), /classes: /);
  assert.equal(resolveSearchConfig(parseSearchConfig({ space: 'cifar', input: '64x48x1', classes: 7 })).space.skeleton.classes, 7);
});
