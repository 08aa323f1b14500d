/**
 * The package's install script (scripts/install-addon.mjs) without compiling anything: a copy
 * placed as an installed package (node_modules/mnas/scripts/) stops with a message naming what is
 * missing for a LIBTORCH that is not a libtorch distribution or for no libtorch at all (Debian's
 * hidden in a private mount namespace), skips when asked, and does nothing
 * in a development checkout. The real build is tested by package-install.e2e.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';
import { tempDir } from '../src/util/testing.js';

const SCRIPT = path.join(repoRoot(), 'scripts', 'install-addon.mjs');

function installedCopy(): { script: string; cleanup: () => void } {
  const dir = tempDir('mnas-install-addon-');
  const scripts = path.join(dir, 'node_modules', 'mnas', 'scripts');
  mkdirSync(scripts, { recursive: true });
  copyFileSync(SCRIPT, path.join(scripts, 'install-addon.mjs'));
  return { script: path.join(scripts, 'install-addon.mjs'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const run = (script: string, env: Record<string, string>) => spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...process.env, MNAS_SKIP_ADDON_BUILD: '', ...env } });

test('install script: a LIBTORCH that is not a libtorch distribution is named, with what it must hold', () => {
  const { script, cleanup } = installedCopy();
  try {
    const r = run(script, { LIBTORCH: '/nonexistent/libtorch' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^mnas install: LIBTORCH=\/nonexistent\/libtorch is not a libtorch distribution: .*torch\.h is missing \(LIBTORCH must be the folder holding include\/ and lib\/\)\n$/);
  } finally {
    cleanup();
  }
});

/** Whether this process may hide a folder in a private mount namespace (root with CAP_SYS_ADMIN and util-linux's unshare). */
const canHideFolders = process.getuid?.() === 0 && spawnSync('unshare', ['--mount', 'true']).status === 0;

test('install script: without LIBTORCH on a machine without Debian\'s libtorch, the message names what is missing and how to point LIBTORCH at it',
  { skip: canHideFolders ? false : 'needs root and unshare to hide /usr/include/torch' }, () => {
    const { script, cleanup } = installedCopy();
    const empty = tempDir('mnas-no-torch-');
    try {
      // /usr/include/torch replaced by an empty folder in this command's own mount namespace only
      const r = spawnSync('unshare', ['--mount', 'sh', '-c', `mount --bind "$1" /usr/include/torch && exec "$2" "$3"`, 'sh', empty, process.execPath, script],
        { encoding: 'utf8', env: { ...process.env, MNAS_SKIP_ADDON_BUILD: '', LIBTORCH: '' } });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^mnas install: libtorch not found: no \/usr\/include\/torch\/csrc\/api\/include\/torch\/torch\.h\. Install Debian's libtorch-dev .*, or set LIBTORCH to a libtorch distribution's folder \(holding include\/ and lib\/\) and install again\n$/);
    } finally {
      cleanup();
      rmSync(empty, { recursive: true, force: true });
    }
  });

test('install script: MNAS_SKIP_ADDON_BUILD=1 skips, and a development checkout does not build on npm install', () => {
  const { script, cleanup } = installedCopy();
  try {
    const skipped = run(script, { MNAS_SKIP_ADDON_BUILD: '1' });
    assert.equal(skipped.status, 0);
    assert.match(skipped.stderr, /not building the libtorch addon/);
  } finally {
    cleanup();
  }
  const dev = run(SCRIPT, {});
  assert.equal(dev.status, 0);
  assert.match(dev.stderr, /development checkout: not building the addon/);
});
