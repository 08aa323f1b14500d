import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { onnxruntimeWebDist } from './optional-deps.js';
import { tempDir } from '../../util/testing.js';

test('onnxruntime-web\'s files are found through the module resolver (where the package manager put them)', () => {
  const dist = onnxruntimeWebDist();
  const manifest = JSON.parse(readFileSync(path.join(dist, '..', 'package.json'), 'utf8')) as { name: string };
  assert.equal(manifest.name, 'onnxruntime-web');
});

test('without the optional packages the browser device names what to install', async () => {
  // the real module, copied where no node_modules holds onnxruntime-web or playwright-core (an install without them)
  const dir = tempDir('mnas-optional-deps-');
  try {
    const here = import.meta.dirname;
    mkdirSync(path.join(dir, 'latency', 'browser'), { recursive: true });
    mkdirSync(path.join(dir, 'util'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    copyFileSync(path.join(here, 'optional-deps.js'), path.join(dir, 'latency', 'browser', 'optional-deps.js'));
    copyFileSync(path.join(here, '..', '..', 'util', 'input-error.js'), path.join(dir, 'util', 'input-error.js'));
    const m = (await import(pathToFileURL(path.join(dir, 'latency', 'browser', 'optional-deps.js')).href)) as typeof import('./optional-deps.js');
    assert.throws(() => m.onnxruntimeWebDist(), (e: unknown) => e instanceof m.MissingOptionalDependencyError &&
      /needs the optional package onnxruntime-web, which is not installed: run npm install onnxruntime-web/.test((e as Error).message));
    await assert.rejects(m.importPlaywright(), (e: unknown) => e instanceof m.MissingOptionalDependencyError &&
      /needs the optional package playwright-core, which is not installed: run npm install playwright-core/.test((e as Error).message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
