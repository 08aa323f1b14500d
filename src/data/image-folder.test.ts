import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { DataFileError } from './data-file-error.js';
import { makeTempDir } from './fixture-files.js';
import { makeImageFolder, writeImage } from './image-fixtures.js';
import { decodeImageFolder, listImageFolder } from './image-folder.js';

const temp = makeTempDir('mnas-image-folder-');
after(temp.cleanup);
let n = 0;
const fresh = () => join(temp.dir, `case${n++}`);

const rejectsWith = async (fn: () => Promise<unknown> | unknown, file: string, pattern: RegExp) => {
  await assert.rejects(async () => fn(), (e: unknown) => {
    assert.ok(e instanceof DataFileError, String(e));
    assert.equal(e.path, file);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
};

describe('image folder', () => {
  it('lists classes in name order, holds out every 10th image of each class, decodes and resizes to the target', async () => {
    const root = fresh();
    await makeImageFolder(root, { classes: ['cat', 'ant', 'bee'], perClass: 12, height: 20, width: 24, format: 'png' });
    const listing = listImageFolder(root);
    assert.deepEqual(listing.classNames, ['ant', 'bee', 'cat']);
    assert.equal(listing.layout, 'flat');
    assert.equal(listing.test.length, 3);
    assert.equal(listing.train.length, 33);
    assert.ok(listing.test.every((f) => f.file.endsWith('0009.png')));
    const { train, test, skipped } = await decodeImageFolder(listing, { target: { height: 16, width: 16, channels: 3 } }, 'mine');
    assert.equal(train.count, 33);
    assert.equal(train.images.length, 33 * 16 * 16 * 3);
    assert.deepEqual([train.height, train.width, train.channels, train.classes], [16, 16, 3, 3]);
    assert.equal(test.count, 3);
    assert.deepEqual([...test.labels], [0, 1, 2]);
    assert.deepEqual(skipped, []);
  });

  it('converts RGB JPEGs to one grayscale channel, and keeps the size with resizing off', async () => {
    const root = fresh();
    await makeImageFolder(root, { classes: ['a', 'b'], perClass: 10, height: 9, width: 7, format: 'jpeg' });
    const { train } = await decodeImageFolder(listImageFolder(root), { target: { height: 28, width: 28, channels: 1 }, resize: false }, 'mine');
    assert.deepEqual([train.height, train.width, train.channels], [9, 7, 1]);
    assert.equal(train.images.length, 18 * 9 * 7);
  });

  it('reads train/ and test/ (or val/) folders as an explicit split', async () => {
    const root = fresh();
    await makeImageFolder(join(root, 'train'), { classes: ['x', 'y'], perClass: 3, height: 8, width: 8 });
    await makeImageFolder(join(root, 'val'), { classes: ['y'], perClass: 2, height: 8, width: 8 });
    const listing = listImageFolder(root);
    assert.equal(listing.layout, 'split');
    assert.equal(listing.train.length, 6);
    assert.deepEqual(listing.test.map((f) => f.label), [1, 1]);
  });

  it('names the file or folder of each kind of bad data', async () => {
    const one = fresh();
    await makeImageFolder(one, { classes: ['only'], perClass: 10, height: 8, width: 8 });
    await rejectsWith(() => listImageFolder(one), one, /only one class folder \('only'\)/);

    const missing = join(temp.dir, 'nope');
    await rejectsWith(() => listImageFolder(missing), missing, /cannot read folder: ENOENT/);

    const stray = fresh();
    await makeImageFolder(stray, { classes: ['a', 'b'], perClass: 10, height: 8, width: 8 });
    writeFileSync(join(stray, 'a', 'notes.txt'), 'hello');
    await rejectsWith(() => listImageFolder(stray), join(stray, 'a', 'notes.txt'), /not a PNG or JPEG.*--skip-bad-files/);

    const corrupt = fresh();
    await makeImageFolder(corrupt, { classes: ['a', 'b'], perClass: 10, height: 8, width: 8 });
    writeFileSync(join(corrupt, 'b', '0003.png'), Buffer.from('this is not a png'));
    await rejectsWith(() => decodeImageFolder(listImageFolder(corrupt), { target: { height: 8, width: 8, channels: 3 } }, 'x'), join(corrupt, 'b', '0003.png'), /cannot decode image/);

    const mixed = fresh();
    await makeImageFolder(mixed, { classes: ['a', 'b'], perClass: 10, height: 8, width: 8 });
    await writeImage(join(mixed, 'b', '0005.png'), new Uint8Array(6 * 8 * 3), 6, 8, 3);
    await rejectsWith(
      () => decodeImageFolder(listImageFolder(mixed), { target: { height: 8, width: 8, channels: 3 }, resize: false }, 'x'),
      join(mixed, 'b', '0005.png'),
      /is 8x6 but .*0000\.png is 8x8; with resizing off/,
    );
  });

  it('an unreadable class folder is an error naming it', async (t) => {
    const root = fresh();
    await makeImageFolder(root, { classes: ['a', 'b'], perClass: 10, height: 8, width: 8 });
    chmodSync(join(root, 'b'), 0o000);
    try {
      if (process.getuid?.() !== 0) await rejectsWith(() => listImageFolder(root), join(root, 'b'), /cannot read folder: EACCES/);
      else {
        // root reads every folder: list it from a process running as nobody
        for (let dir = root; dir !== dirname(temp.dir); dir = dirname(dir)) chmodSync(dir, 0o755);
        const module = join(import.meta.dirname, 'image-folder.js');
        const probe = spawnSync(process.execPath, ['-e', 'require("node:fs").accessSync(process.argv[1])', module], { uid: 65534, gid: 65534 });
        if (probe.status !== 0) {
          t.skip(`the checkout is not readable by nobody (${dirname(module)}), so the child that lists the folder as nobody cannot load mnas`);
          return;
        }
        const script = `import('${pathToFileURL(module).href}').then((m) => m.listImageFolder(process.argv[1])).then(() => console.log('listed'), (e) => console.log(e.name + ' ' + e.path + ': ' + e.message))`;
        const r = spawnSync(process.execPath, ['-e', script, root], { uid: 65534, gid: 65534, encoding: 'utf8' });
        assert.equal(r.stdout.trim(), `DataFileError ${join(root, 'b')}: ${join(root, 'b')}: cannot read folder: EACCES`, r.stderr);
      }
    } finally {
      chmodSync(join(root, 'b'), 0o755);
    }
  });

  it('skips and lists bad files only when asked', async () => {
    const root = fresh();
    await makeImageFolder(root, { classes: ['a', 'b'], perClass: 10, height: 8, width: 8 });
    writeFileSync(join(root, 'a', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
    writeFileSync(join(root, 'a', 'readme.md'), 'x');
    mkdirSync(join(root, 'b', 'nested'));
    writeFileSync(join(root, '.DS_Store'), 'hidden files are ignored');
    const listing = listImageFolder(root, { skipBadFiles: true });
    const { train, test, skipped } = await decodeImageFolder(listing, { target: { height: 8, width: 8, channels: 3 }, skipBadFiles: true }, 'x');
    assert.equal(train.count + test.count, 20);
    assert.deepEqual(skipped.map((s) => s.file.slice(root.length + 1)).sort(), ['a/broken.jpg', 'a/readme.md', 'b/nested']);
    assert.ok(skipped.every((s) => s.reason.length > 0));
  });
});
