/**
 * The one kind of file the dashboard serves from a run directory: what final training exported
 * for a trial (`final/<rank>-trial-<id>/<name>`). The path is built from checked parts, and the
 * file must resolve (symbolic links followed) to a regular file inside the run directory.
 */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';

const SUBDIR = /^\d{1,6}-trial-\d{1,12}$/;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$/;

/** The exported file's absolute path, or undefined if the parts are malformed or it is not a file inside the run. */
export function exportedFile(runDir: string, subdir: string, name: string): string | undefined {
  if (!SUBDIR.test(subdir) || !NAME.test(name)) return undefined;
  let real: string;
  let root: string;
  try {
    root = realpathSync(runDir);
    real = realpathSync(path.join(runDir, 'final', subdir, name));
  } catch {
    return undefined;
  }
  if (!real.startsWith(root + path.sep)) return undefined;
  return statSync(real, { throwIfNoEntry: false })?.isFile() ? real : undefined;
}
