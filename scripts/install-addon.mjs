#!/usr/bin/env node
/**
 * `npm install mnas` runs this: builds the libtorch addon (native/) with node-gyp against the
 * running Node's own headers (<prefix of process.execPath>/include/node, i.e. --nodedir of this
 * node; nothing is downloaded) and against libtorch from $LIBTORCH (a libtorch distribution's
 * folder, holding include/ and lib/) or Debian's libtorch-dev. Anything missing stops the install
 * with a message naming it and how to provide it. MNAS_SKIP_ADDON_BUILD=1 skips the build (then
 * training and search do not work until `npm rebuild mnas`).
 *
 * In a development checkout (not under node_modules/) `npm install` does not build: there
 * `npm run build:native` (this script with --build) or scripts/setup.sh does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stderr.write(`mnas install: ${line}\n`);
const fail = (line) => {
  say(line);
  process.exit(1);
};

const installedAsPackage = path.basename(path.dirname(root)) === 'node_modules' || path.basename(path.dirname(path.dirname(root))) === 'node_modules';
if (!installedAsPackage && !process.argv.includes('--build')) {
  say('development checkout: not building the addon on npm install (npm run build:native builds it)');
  process.exit(0);
}
if (process.env.MNAS_SKIP_ADDON_BUILD === '1') {
  say('MNAS_SKIP_ADDON_BUILD=1: not building the libtorch addon (run `npm rebuild mnas` later to build it)');
  process.exit(0);
}

const nodedir = path.resolve(path.dirname(process.execPath), '..');
const headers = path.join(nodedir, 'include', 'node');
if (!existsSync(path.join(headers, 'node_api.h'))) {
  fail(`the headers of this Node (${process.execPath}) are not in ${headers}; install them with the same Node distribution (Debian/NodeSource packages and the nodejs.org tarballs ship them) — mnas never downloads them`);
}

const libtorch = process.env.LIBTORCH;
const DEBIAN_TORCH_HEADER = '/usr/include/torch/csrc/api/include/torch/torch.h';
if (libtorch) {
  const header = path.join(libtorch, 'include', 'torch', 'csrc', 'api', 'include', 'torch', 'torch.h');
  if (!existsSync(header)) fail(`LIBTORCH=${libtorch} is not a libtorch distribution: ${header} is missing (LIBTORCH must be the folder holding include/ and lib/)`);
  if (!existsSync(path.join(libtorch, 'lib'))) fail(`LIBTORCH=${libtorch} has no lib/ folder`);
} else if (!existsSync(DEBIAN_TORCH_HEADER)) {
  fail(`libtorch not found: no ${DEBIAN_TORCH_HEADER}. Install Debian's libtorch-dev (apt-get install libtorch-dev libopenblas0-openmp), or set LIBTORCH to a libtorch distribution's folder (holding include/ and lib/) and install again`);
}

// npm gives its own node-gyp to install scripts; otherwise a node-gyp package, or one on PATH
const require = createRequire(import.meta.url);
const nodeGyp = process.env.npm_config_node_gyp || (() => {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
})();
const command = nodeGyp ? process.execPath : 'node-gyp';
const args = [...(nodeGyp ? [nodeGyp] : []), 'rebuild', '--directory=native', `--nodedir=${nodedir}`, `--jobs=${Math.max(1, availableParallelism())}`];
say(`building the libtorch addon against ${headers} and ${libtorch ? `LIBTORCH=${libtorch}` : "Debian's libtorch"} (a few minutes)`);
const r = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, LIBTORCH: libtorch ?? '' } });
if (r.error) fail(`cannot run node-gyp (${r.error.message}); it comes with npm, or install it with npm install -g node-gyp`);
if (r.status !== 0) fail(`building the addon failed (node-gyp exit ${r.status}); a C++17 compiler, make and python3 are needed (Debian: apt-get install build-essential python3)`);
for (const addon of ['mnas_torch.node', 'mnas_sys.node']) {
  if (!existsSync(path.join(root, 'native', 'build', 'Release', addon))) fail(`node-gyp finished but native/build/Release/${addon} is missing`);
}
say('built native/build/Release/mnas_torch.node and mnas_sys.node');
