/** `mnas runs list`: every run at or below a folder, summarized. */
import path from 'node:path';
import { isInputError } from '../util/input-error.js';
import { findRunDirs, summarizeRun, type RunSummary } from './summary.js';

export interface RunsList {
  readonly root: string;
  readonly runs: RunSummary[];
  /** Run directories that could not be read, with why. */
  readonly skipped: { dir: string; error: string }[];
}

/** Every run at or below `root`, each summarized; unreadable runs are listed as skipped. An InputError if `root` is not a directory. */
export function listRuns(root: string, now: Date = new Date()): RunsList {
  const runs: RunSummary[] = [];
  const skipped: { dir: string; error: string }[] = [];
  for (const dir of findRunDirs(root)) {
    try {
      runs.push(summarizeRun(dir, now));
    } catch (e) {
      if (!isInputError(e)) throw e;
      skipped.push({ dir, error: e.message });
    }
  }
  return { root: path.resolve(root), runs, skipped };
}
