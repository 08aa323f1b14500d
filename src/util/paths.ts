import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The repository root (the folder holding package.json), found from this file's location,
 * so it works both from src/ and from the compiled dist/src/. */
export function repoRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return (root = dir);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('repoRoot: no package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Where node-gyp puts a native addon of this package (`name`: e.g. 'mnas_torch.node'). */
export function nativeAddonPath(name: string): string {
  return path.join(repoRoot(), 'native', 'build', 'Release', name);
}
