/**
 * The package as a user gets it (issue 13): `npm pack` the project into a temporary folder,
 * install the tarball into an empty project (`npm install ./mnas-*.tgz`, dependencies from the
 * registry; the install script compiles the libtorch addon against this Node's own headers),
 * then run `npx mnas inspect mnasnet-a1`, a synthetic search and a proxy trial there, and check
 * what the package holds (no tests, fixtures or tools).
 *
 * Slow (the addon compile takes minutes on 2 cores): runs only with MNAS_PACKAGE_TEST=1, e.g.
 *   MNAS_PACKAGE_TEST=1 node --test dist/test/package-install.e2e.test.js
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';
import { tempDir } from '../src/util/testing.js';

const enabled = process.env.MNAS_PACKAGE_TEST === '1';

function run(command: string, args: string[], cwd: string, timeoutMs = 1_200_000): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} in ${cwd} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

test('npm pack, install the tarball into an empty folder, and run mnas there', { skip: enabled ? false : 'set MNAS_PACKAGE_TEST=1 (compiles the addon: minutes)', timeout: 1_800_000 }, () => {
  const work = tempDir('mnas-package-');
  try {
    const packDir = path.join(work, 'pack');
    const project = path.join(work, 'project');
    for (const d of [packDir, project]) spawnSync('mkdir', ['-p', d]);
    const started = performance.now();
    run('npm', ['pack', '--pack-destination', packDir, '--silent'], repoRoot());
    const tarball = readdirSync(packDir).find((f) => /^mnas-.*\.tgz$/.test(f));
    assert.ok(tarball, 'npm pack wrote mnas-*.tgz');

    const listing = run('tar', ['-tzf', path.join(packDir, tarball)], work).stdout.split('\n').filter(Boolean);
    assert.ok(listing.includes('package/LICENSE') && listing.includes('package/scripts/install-addon.mjs') && listing.includes('package/native/binding.gyp'));
    assert.deepEqual(listing.filter((f) => /\.test\.js$|^package\/(test|tools|bench)\/|^package\/dist\/test\/|fixtures/.test(f)), [], 'no tests, fixtures or tools');

    // the user's project: an empty package.json that lets mnas and better-sqlite3 run their install scripts;
    // onnxruntime-node's CPU binaries ship in its npm package, its script would only fetch CUDA ones (ONNXRUNTIME_NODE_INSTALL=skip)
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-mnas', version: '1.0.0', private: true, allowScripts: { mnas: true, 'better-sqlite3': true, 'onnxruntime-node': false, protobufjs: false } }, null, 2));
    run('npm', ['install', path.join(packDir, tarball)], project);
    const installSeconds = (performance.now() - started) / 1000;
    process.stderr.write(`package test: pack + install (addon compile included) took ${installSeconds.toFixed(0)} s\n`);
    assert.ok(existsSync(path.join(project, 'node_modules', 'mnas', 'native', 'build', 'Release', 'mnas_torch.node')), 'the install script built the addon');

    const inspect = run('npx', ['mnas', 'inspect', 'mnasnet-a1'], project);
    assert.match(inspect.stdout, /total +3,887,038 +311,579,072/);

    const synthetic = run('npx', ['mnas', 'search', '--evaluator', 'synthetic', '--strategy', 'random', '--budget', '20', '--out', 'runs/synthetic', '--quiet', '--json'], project);
    assert.equal((JSON.parse(synthetic.stdout.trim().split('\n').pop()!) as { trials: number }).trials, 20);

    const proxy = run('npx', ['mnas', 'train', 'fmnist-default', '--dataset', 'synthetic', '--proxy', '--subset', '256', '--validation', '200', '--batch', '64', '--threads', '1', '--json', '--quiet'], project);
    const trial = JSON.parse(proxy.stdout.trim().split('\n').pop()!) as { status: string; val_accuracy: number };
    assert.equal(trial.status, 'done');
    assert.ok(trial.val_accuracy >= 0 && trial.val_accuracy <= 1);

    // the browser device's packages are optional: without them it says what to install
    const browser = spawnSync('npx', ['mnas', 'devices', 'serve', '--port', '0'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    assert.equal(browser.status, 2, browser.stderr);
    assert.match(browser.stderr, /needs the optional package onnxruntime-web, which is not installed: run npm install onnxruntime-web/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
