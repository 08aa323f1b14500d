/** Helpers for tests that run the `mnas` command line as a user does, in a child process. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall seconds, node's start included. */
  readonly seconds: number;
}

/** `node main.js ...args`, with `env` added to this process's environment. */
export function runCli(args: readonly string[], timeoutMs = 60_000, env: Readonly<Record<string, string>> = {}): CliRun {
  const started = performance.now();
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - started) / 1000 };
}

/**
 * A refusal of user input: exit 2, one stderr line `mnas: <prefix>...` without a stack trace,
 * matching `message`, within `seconds` (default 5).
 */
export function assertUsageExit(r: CliRun, message: RegExp, o: { prefix?: string; seconds?: number } = {}): void {
  const seconds = o.seconds ?? 5;
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`^mnas: ${(o.prefix ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\n]+\\n$`), 'one line');
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(r.stderr, message);
  assert.ok(r.seconds < seconds, `returned in ${r.seconds.toFixed(1)} s`);
}
