/**
 * The package leaves out test helpers and fixtures (package.json `files`), so no module the
 * package ships may import one: it would install and then fail with ERR_MODULE_NOT_FOUND
 * (test/package-install.e2e.test.ts finds that too, but only after minutes of compiling).
 * Also, in seconds: what `npm pack` would put in the package, and the LICENSE package.json names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';

const isTestOnly = (file: string): boolean =>
  /\.test\.ts$/.test(file) || /(^|\/)testing\.ts$/.test(file) || /(^|\/)(fixture-files|image-fixtures)\.ts$/.test(file) || /(^|\/)search\/fixtures\//.test(file);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

test('no shipped module imports a test helper or fixture', () => {
  const src = path.join(repoRoot(), 'src');
  const problems: string[] = [];
  for (const file of sources(src)) {
    const rel = path.relative(src, file);
    if (isTestOnly(rel)) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = path.relative(src, path.resolve(path.dirname(file), m[1]!)).replace(/\.js$/, '.ts');
      if (isTestOnly(target)) problems.push(`${rel} imports ${target}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('npm pack would ship what users need and no tests, fixtures or tools; the LICENSE is the license package.json names', () => {
  const root = repoRoot();
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  for (const needed of ['LICENSE', 'README.md', 'package.json', 'scripts/install-addon.mjs', 'native/binding.gyp', 'dist/src/cli/main.js', 'dist/src/index.d.ts', 'dist/src/data/source-key.js', ...['mnas-fmnist-a', 'mnas-fmnist-b'].flatMap((m) => ['card.json', 'weights.safetensors', 'model.onnx'].map((f) => `models/${m}/${f}`))]) {
    assert.ok(files.includes(needed), `${needed} is in the package`);
  }
  const notForUsers = files.filter((f) => /\.test\.(js|d\.ts)$|(^|\/)testing\.(js|d\.ts)$|fixture|^(test|tools|bench)\/|^dist\/test\/|^src\/.*\.ts$/.test(f));
  assert.deepEqual(notForUsers, []);

  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { license: string };
  assert.equal(pkg.license, 'Apache-2.0');
  const license = readFileSync(path.join(root, 'LICENSE'), 'utf8');
  assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
});
