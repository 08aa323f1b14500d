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
import { parseSearchConfig } from './config.js';
import { prepareSearchData } from './search-data.js';

test('the space takes the data\'s classes; built-in data keeps the space; a shape mismatch names the data and the space', async () => {
  const temp = makeTempDir('mnas-search-data-');
  try {
    const file = join(temp.dir, 'three.npz');
    const n = 30;
    writeFileSync(file, writeStoredZip(new Map([
      ['images.npy', encodeNpy('u1', [n, 32, 32, 3], new Uint8Array(n * 32 * 32 * 3).map((_, i) => (i * 31) & 255))],
      ['labels.npy', encodeNpy('i8', [n], Array.from({ length: n }, (_, i) => i % 3))],
    ])));
    const lines: string[] = [];
    const config = parseSearchConfig({ space: 'cifar', dataset: { name: file, cacheDir: join(temp.dir, 'cache') } });
    const { data, space } = await prepareSearchData(config, getSpace('cifar'), (l) => lines.push(l));
    assert.equal(data.classes, 3);
    assert.ok(printArch(space.decode(space.defaultDna())).startsWith('in32x32x3_cls3_'));
    assert.deepEqual(space.decisions().map((d) => d.label), getSpace('cifar').decisions().map((d) => d.label));
    assert.match(lines.join('\n'), /space 'cifar' with 3 classes \(the data's\) instead of 10/);

    const builtin = await prepareSearchData(parseSearchConfig({ dataset: { name: 'synthetic' } }), getSpace('fmnist'), () => {});
    assert.equal(builtin.space, getSpace('fmnist'));

    await assert.rejects(prepareSearchData(config, getSpace('fmnist'), () => {}), (e: unknown) => e instanceof DataFileError && /three\.npz: images are 32x32x3 but space 'fmnist' takes 28x28x1/.test(e.message));
  } finally {
    temp.cleanup();
  }
});
