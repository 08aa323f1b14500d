/**
 * The cache key of a user's dataset: a SHA-256 of the decoding settings and of every source
 * file's path (relative to the source), size and content hash. Hashing a large image folder
 * means reading all of it, so each file's content hash is remembered in a manifest (one JSON
 * file per source folder, in the cache folder) together with the size, mtime, ctime and inode
 * it had; a later load rereads only files whose stat differs.
 *
 * A file changed within the file system's timestamp resolution of being hashed can keep its
 * mtime, so an entry is trusted only once its mtime and ctime lie RACY_MS before the moment it
 * was hashed (git's "racily clean" rule): files written just before a load are hashed again
 * by the next one, never taken on trust.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { DataFileError } from './data-file-error.js';

/** Coarser than any common file system's timestamps (FAT: 2 s). */
const RACY_MS = 2_000;
const MANIFEST_VERSION = 1;

interface ManifestEntry {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  /** sha256 of the content, hex. */
  readonly sha256: string;
  /** Date.now() just before the content was read. */
  readonly hashedAtMs: number;
}

interface Manifest {
  readonly version: number;
  readonly root: string;
  /** Keyed by the path relative to the root. */
  readonly files: Record<string, ManifestEntry>;
}

/** How the key reads files and the clock; tests count the reads and move the clock through it. */
export interface SourceKeyIo {
  readonly readFile: (file: string) => Buffer;
  readonly now: () => number;
}

export const DEFAULT_SOURCE_KEY_IO: SourceKeyIo = { readFile: (file) => readFileSync(file), now: () => Date.now() };

export interface SourceKey {
  readonly key: string;
  /** Files whose content was read to compute the key (the others' hashes came from the manifest). */
  readonly filesRead: number;
  /** Writes the updated manifest (call once the data is accepted, so a refused source leaves no files). */
  readonly saveManifest: () => void;
}

/** The manifest file of the source at `root` inside `cacheDir`. */
export function manifestFile(cacheDir: string, root: string): string {
  return join(cacheDir, 'manifests', `${createHash('sha256').update(resolve(root)).digest('hex').slice(0, 20)}.json`);
}

/**
 * The key of `files` under `root` with `settings`; content is read only for files the manifest at
 * `manifestPath` does not vouch for. A DataFileError names a file that cannot be read.
 */
export function sourceKey(
  root: string,
  files: readonly string[],
  settings: object,
  manifestPath: string,
  io: SourceKeyIo = DEFAULT_SOURCE_KEY_IO,
  /** After each file whose content is read: files read so far, and how many will be. */
  onRead?: (done: number, total: number) => void,
): SourceKey {
  const known = readManifest(manifestPath, root);
  const listed = files.map((file) => {
    const name = relative(root, file);
    const stat = statOf(file);
    const previous = known?.files[name];
    return { file, name, stat, kept: previous && isUnchanged(previous, stat) ? previous : undefined };
  });
  const toRead = listed.filter((f) => f.kept === undefined).length;
  const entries: Record<string, ManifestEntry> = {};
  const hash = createHash('sha256');
  hash.update(JSON.stringify(settings));
  let filesRead = 0;
  for (const { file, name, stat, kept } of listed) {
    let entry: ManifestEntry;
    if (kept) entry = kept;
    else {
      const hashedAtMs = io.now();
      let bytes: Buffer;
      try {
        bytes = io.readFile(file);
      } catch (e) {
        throw new DataFileError(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      entry = { size: bytes.length, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, sha256: createHash('sha256').update(bytes).digest('hex'), hashedAtMs };
      filesRead++;
      onRead?.(filesRead, toRead);
    }
    entries[name] = entry;
    hash.update(`\0${name}\0${entry.size}\0${entry.sha256}`);
  }
  const changed = filesRead > 0;
  const dropped = known !== undefined && Object.keys(known.files).some((name) => !(name in entries));
  const manifest: Manifest = { version: MANIFEST_VERSION, root: resolve(root), files: entries };
  return {
    key: hash.digest('hex'),
    filesRead,
    saveManifest: () => {
      if (changed || dropped || known === undefined) writeManifest(manifestPath, manifest);
    },
  };
}

function statOf(file: string): Stats {
  try {
    return statSync(file);
  } catch (e) {
    throw new DataFileError(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function isUnchanged(e: ManifestEntry, s: Stats): boolean {
  const settled = e.mtimeMs < e.hashedAtMs - RACY_MS && e.ctimeMs < e.hashedAtMs - RACY_MS;
  return settled && e.size === s.size && e.mtimeMs === s.mtimeMs && e.ctimeMs === s.ctimeMs && e.ino === s.ino;
}

/** The manifest of `root`, or undefined when there is none or it is unusable (then every file is hashed). */
function readManifest(file: string, root: string): Manifest | undefined {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (m.version !== MANIFEST_VERSION || m.root !== resolve(root) || typeof m.files !== 'object' || m.files === null) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

function writeManifest(file: string, manifest: Manifest): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(manifest));
  renameSync(temporary, file);
}
