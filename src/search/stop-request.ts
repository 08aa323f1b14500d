/**
 * Stopping a search from outside its process, on this machine or another one that shares the run
 * directory: `mnas runs stop` writes a stop request (`mnas.stop`) into the run directory; the
 * search polls for it and, when it appears, stops exactly as on SIGINT (in-flight trials stay
 * pending, the run is resumable with --resume). The search looks after every trial and every
 * STOP_POLL_MS during long ones. A file and a poll rather than a signal, because
 * a signal reaches only processes on the same machine and a file works on any shared filesystem.
 *
 * A search that ended early without crashing (a stop request, SIGINT, SIGTERM) leaves a note of
 * it (`mnas.stopped`): a run that is neither finished nor running is "stopped" with the note and
 * "interrupted" (it crashed or was killed) without. A new session clears both files.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/write-atomic.js';

export const STOP_REQUEST_FILE = 'mnas.stop';
export const STOPPED_FILE = 'mnas.stopped';
/** How often a running search looks for a stop request. */
export const STOP_POLL_MS = 500;

export interface StopNote {
  /** When the request was made, or when the search stopped. */
  readonly at: string;
  /** What asked for it: 'stop request' (`mnas runs stop`) or 'signal' (SIGINT, SIGTERM, an abort of the caller). */
  readonly reason: string;
  readonly pid: number;
  readonly host: string;
}

/** Asks the search running in `dir` to stop (it sees the request within STOP_POLL_MS). */
export function requestStop(dir: string): StopNote {
  const note: StopNote = { at: new Date().toISOString(), reason: 'stop request', pid: process.pid, host: hostname() };
  writeFileAtomic(join(dir, STOP_REQUEST_FILE), `${JSON.stringify(note)}\n`);
  return note;
}

export function stopRequested(dir: string): boolean {
  return existsSync(join(dir, STOP_REQUEST_FILE));
}

/** The note of a search that stopped early without crashing, if the last session left one. */
export function readStopNote(dir: string): StopNote | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, STOPPED_FILE), 'utf8')) as StopNote;
  } catch {
    return undefined;
  }
}

/** Called when a search session starts (holding the run lock): earlier requests and notes are void. */
export function clearStopFiles(dir: string): void {
  rmSync(join(dir, STOP_REQUEST_FILE), { force: true });
  rmSync(join(dir, STOPPED_FILE), { force: true });
}

/** Called when a search session ends early without crashing. */
export function writeStopNote(dir: string, reason: string): void {
  const note: StopNote = { at: new Date().toISOString(), reason, pid: process.pid, host: hostname() };
  writeFileAtomic(join(dir, STOPPED_FILE), `${JSON.stringify(note)}\n`);
  rmSync(join(dir, STOP_REQUEST_FILE), { force: true });
}

/**
 * An AbortSignal that aborts when a stop request appears in `dir`: check() looks at once (the
 * search calls it after every trial), and a timer looks every `intervalMs` for trials that take
 * long; close() ends the timer.
 */
export function watchStopRequest(dir: string, intervalMs = STOP_POLL_MS): { readonly signal: AbortSignal; check(): boolean; close(): void } {
  const controller = new AbortController();
  const check = (): boolean => {
    if (!controller.signal.aborted && stopRequested(dir)) {
      clearInterval(timer);
      controller.abort(new Error('stop requested'));
    }
    return controller.signal.aborted;
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return { signal: controller.signal, check, close: () => clearInterval(timer) };
}
