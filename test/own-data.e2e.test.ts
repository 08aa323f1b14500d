/**
 * `mnas search` on the user's own data, end to end: a short search on an image folder in the
 * cifar space (32x32x3; the images are 40x48 and resized), a proxy trial of the mobilenet-v2
 * space on a tiny 224x224 image folder, and bad data refused with one line and exit 2 before
 * the run folder exists. The folders are made here with sharp; decoded data goes to a cache
 * folder of the test (MNAS_CACHE_DIR).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeCifarLayout, writeMnistLayout } from '../src/data/fixture-files.js';
import { makeImageFolder } from '../src/data/image-fixtures.js';
import { encodeNpy } from '../src/data/npy.js';
import { writeStoredZip } from '../src/data/zip.js';
import { repoRoot } from '../src/util/paths.js';
import { tempDir } from '../src/util/testing.js';

const MAIN = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const root = tempDir('mnas-own-data-e2e-');
const cacheDir = path.join(root, 'cache');
test.after(() => rmSync(root, { recursive: true, force: true }));

function mnas(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, MNAS_CACHE_DIR: cacheDir } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;

function config(name: string, value: Record<string, unknown>): string {
  const file = path.join(root, `${name}.json`);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

test('a short search on an image folder in the cifar space: resized to 32x32x3, 3 classes, the cache reused by the next run', async () => {
  const images = path.join(root, 'shapes');
  await makeImageFolder(images, { classes: ['diagonal', 'horizontal', 'vertical'], perClass: 20, height: 40, width: 48, format: 'jpeg', seed: 1 });
  const tiny = config('tiny-cifar', { proxy: { images: 36, epochs: 1, batch: 12, threads: 1 } });
  const args = ['search', '--config', tiny, '--space', 'cifar', '--dataset', images, '--validation-images', '18', '--strategy', 'random', '--budget', '2',
    '--workers', '1', '--target-ms', '1', '--json'];
  const out = path.join(root, 'run-cifar');
  const r = mnas([...args, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /image folder .*shapes: 3 classes, 54 training and 6 test images of 32x32x3 \(decoded into /);
  assert.match(r.stderr, /space 'cifar' with the data's 3 classes \(instead of 10\)/);
  const j = lastJson(r.stdout);
  assert.equal(j['done'], 2);
  const best = j['best'] as { arch: string; accuracy: number };
  assert.ok(best.arch.startsWith('in32x32x3_cls3'), best.arch);
  assert.ok(best.accuracy >= 0 && best.accuracy <= 1);
  assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.mnasdata')).length, 1);

  const again = mnas([...args, '--budget', '1', '--out', path.join(root, 'run-cifar-2')]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /of 32x32x3 \(cache /);
  assert.doesNotMatch(again.stderr, /decoded into/);

  // mnas train reads the same folder at the arch's input (the same settings: the same cache file)
  const trained = mnas(['train', 'cifar-default', '--dataset', images, '--proxy', '--subset', '36', '--validation', '18', '--batch', '12', '--threads', '1', '--json']);
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stderr, /\(cache /);
  const t = lastJson(trained.stdout) as { status: string; arch: string };
  assert.equal(t.status, 'done');
  assert.ok(t.arch.startsWith('in32x32x3_cls3'), t.arch);
  assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.mnasdata')).length, 1);
});

test('a proxy trial of the mobilenet-v2 space on a tiny 224x224 image folder', async () => {
  const images = path.join(root, 'tiny224');
  await makeImageFolder(images, { classes: ['a', 'b'], perClass: 10, height: 224, width: 224, seed: 2 });
  const tiny = config('tiny-mbv2', { proxy: { images: 8, epochs: 1, batch: 4, threads: 1 }, dataset: { name: images, validationImages: 4 } });
  const r = mnas(['search', '--config', tiny, '--space', 'mobilenet-v2', '--strategy', 'random', '--budget', '1', '--workers', '0', '--target-ms', '100',
    '--out', path.join(root, 'run-mbv2'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = lastJson(r.stdout);
  assert.equal(j['done'], 1, r.stderr);
  assert.ok((j['best'] as { arch: string }).arch.startsWith('in224x224x3_cls2'));
});

test('IDX and CIFAR-10 folders as --dataset PATH or with --data-dir: a search in the cifar frame takes the IDX data\'s 28x28x1', async () => {
  const idx = path.join(root, 'idx');
  mkdirSync(idx);
  writeMnistLayout(idx, 80, 20);
  const cifar = path.join(root, 'cifar-batches');
  mkdirSync(cifar);
  writeCifarLayout(cifar, 12, 20);
  const tiny = config('tiny-idx', { proxy: { images: 40, epochs: 1, batch: 20, threads: 1 } });
  const search = (dataset: string[], out: string) => mnas(['search', '--config', tiny, '--space', 'cifar', ...dataset, '--validation-images', '20', '--strategy', 'random', '--budget', '1',
    '--workers', '0', '--target-ms', '1', '--out', path.join(root, out), '--json']);
  const onIdx = search(['--dataset', idx], 'run-idx');
  assert.equal(onIdx.status, 0, onIdx.stderr);
  assert.match(onIdx.stderr, /space 'cifar' with the data's input 28x28x1 \(instead of 32x32x3\)/);
  assert.ok((lastJson(onIdx.stdout)['best'] as { arch: string }).arch.startsWith('in28x28x1_cls10_'));
  const onCifar = search(['--dataset', 'cifar10', '--data-dir', cifar], 'run-cifar10');
  assert.equal(onCifar.status, 0, onCifar.stderr);
  assert.equal(lastJson(onCifar.stdout)['done'], 1);
  assert.ok((lastJson(onCifar.stdout)['best'] as { arch: string }).arch.startsWith('in32x32x3_cls10_'));

  const trained = mnas(['train', 'cifar-default', '--dataset', cifar, '--proxy', '--subset', '20', '--validation', '20', '--batch', '10', '--threads', '1', '--json', '--quiet']);
  assert.equal(trained.status, 0, trained.stderr);
  const t = lastJson(trained.stdout) as { status: string; arch: string; train_images: number };
  assert.equal(t.status, 'done');
  assert.ok(t.arch.startsWith('in32x32x3_cls10_'));
  assert.equal(t.train_images, 20);
});

test('bad data, or data that does not have the input shape or classes given: one line naming the file, exit 2, no run folder', async () => {
  const digits = path.join(root, 'digits.npz');
  writeFileSync(digits, writeStoredZip(new Map([
    ['images.npy', encodeNpy('u1', [20, 28, 28], new Uint8Array(20 * 28 * 28))],
    ['labels.npy', encodeNpy('i8', [20], Array.from({ length: 20 }, (_, i) => i % 2))],
  ])));
  const oneClass = path.join(root, 'one-class');
  await makeImageFolder(oneClass, { classes: ['only'], perClass: 10, height: 8, width: 8 });
  const corrupt = path.join(root, 'corrupt');
  await makeImageFolder(corrupt, { classes: ['a', 'b'], perClass: 10, height: 8, width: 8 });
  writeFileSync(path.join(corrupt, 'b', '0004.png'), 'not an image');
  for (const [dataset, says, given] of [
    [digits, /digits\.npz: images are 28x28x1 but the input given \(--input, config "input"\) is 32x32x3 \(channels differ\)/, ['--input', '32x32x3']],
    [oneClass, /one-class: only one class folder \('only'\)/, []],
    [path.join(root, 'missing'), /missing: not a dataset name/, []],
    [corrupt, /0004\.png: cannot decode image: .*--skip-bad-files/, []],
    // the classes are the subfolders: known, and refused, before any image is decoded
    [corrupt, /corrupt: the data has 2 classes but the number given \(--classes, config "classes"\) is 4/, ['--classes', '4']],
  ] as const) {
    const out = path.join(root, `never-${path.basename(dataset)}-${given.join('')}`);
    const r = mnas(['search', '--space', 'cifar', '--dataset', dataset, ...given, '--budget', '1', '--workers', '0', '--out', out]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, says);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(existsSync(out), false);
  }
  // skipped only when asked, and then listed
  const trained = mnas(['train', 'cifar-default', '--dataset', corrupt, '--skip-bad-files', '--proxy', '--subset', '8', '--validation', '4', '--batch', '4', '--threads', '1', '--json']);
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stderr, /data: skipped .*corrupt\/b\/0004\.png: cannot decode image/);
  assert.equal((lastJson(trained.stdout) as { status: string }).status, 'done');
});
