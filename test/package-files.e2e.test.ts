/**
 * The package leaves out test helpers and fixtures (package.json `files`), so no module the
 * package ships may import one: it would install and then fail with ERR_MODULE_NOT_FOUND
 * (test/package-install.e2e.test.ts finds that too, but only after minutes of compiling).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
