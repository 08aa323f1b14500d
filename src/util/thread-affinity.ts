/**
 * Sets the CPU affinity of the calling thread (the main thread, for every caller in mnas) through
 * the small system addon native/sys_binding.cc: a system call, where util-linux's taskset forked
 * the whole process (8 ms at 250 MB). Linux only; elsewhere, or without the addon built, there is
 * no affinity to set. The thread's cores are read from /proc (../latency/core-choice.ts
 * mainThreadCores).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { nativeAddonPath } from './paths.js';

interface SysAddon {
  setThreadAffinity?: (cores: readonly number[]) => void;
}

let loaded: SysAddon | null | undefined;

function addon(): SysAddon | null {
  if (loaded !== undefined) return loaded;
  const file = nativeAddonPath('mnas_sys.node');
  loaded = existsSync(file) ? (createRequire(import.meta.url)(file) as SysAddon) : null;
  return loaded;
}

/** Restricts the calling thread to `cores`; false where affinity cannot be set (not Linux, no addon, not allowed). Throws on a bad core list. */
export function setThreadAffinity(cores: readonly number[]): boolean {
  const set = addon()?.setThreadAffinity;
  if (!set) return false;
  try {
    set(cores);
    return true;
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw e;
    return false;
  }
}
