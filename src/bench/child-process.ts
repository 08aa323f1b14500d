/**
 * Benchmarks that run the command line (or a peer) as separate processes: where the built `mnas`
 * is, and running a process that prints one JSON object on its last line.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { InputError } from '../util/input-error.js';
import { repoRoot } from '../util/paths.js';

/** The built `mnas` entry point (dist/src/cli/main.js). */
export function mnasMainScript(): string {
  return path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
}

/**
 * Runs `command args` to completion and parses the JSON object on the last line of its stdout.
 * Exit code 2 (the child refused its input) is an InputError naming `who` and the child's message;
 * any other failure an Error with the child's stderr.
 */
export function runForLastJsonLine<T>(command: string, args: readonly string[], who: string): T {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.error) throw new Error(`${who} could not run: ${r.error.message}`);
  if (r.status === 2) throw new InputError(`${who} refused its input: ${(r.stderr.trim().split('\n')[0] ?? '').replace(/^mnas: /, '')}`);
  if (r.status !== 0) throw new Error(`${who} failed (${r.signal ?? `exit ${r.status}`}): ${r.stderr.trim()}`);
  const line = r.stdout.trimEnd().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${who} did not print JSON on its last line:\n${r.stdout}`);
  }
}
