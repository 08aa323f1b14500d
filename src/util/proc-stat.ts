/**
 * Reading Linux's /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat) files. Their second field, the
 * command name, is in parentheses and may itself hold spaces and parentheses, so the fields are
 * taken after its last ')'.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of the utime and stime fields (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * The fields after the command name (0: the state letter, 11 and 12: user and system clock ticks,
 * 36: the CPU last run on), or undefined when the file cannot be read (the process or thread is
 * gone, or there is no /proc).
 */
export function procStatFields(file: string): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process's state letter (R running, S sleeping, T stopped, Z zombie, ...), or undefined once it is gone. */
export function processState(pid: number): string | undefined {
  return procStatFields(`/proc/${pid}/stat`)?.[0];
}

/** CPU seconds (user + system, all threads) a process has used so far; NaN once it is gone. */
export function processCpuSeconds(pid: number): number {
  const fields = procStatFields(`/proc/${pid}/stat`);
  return fields ? (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND : Number.NaN;
}
