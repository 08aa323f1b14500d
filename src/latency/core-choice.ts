/**
 * The core a one-thread CPU measurement runs on. On a VM each vCPU shares a physical core with
 * whatever the host runs on that core's other hardware thread; while that neighbour is busy,
 * port-bound code such as inference kernels runs 1.2-1.8x slower on that vCPU, latency-bound code
 * barely slower, and the process's other vCPU is usually unaffected (bench/contention-trace.mjs and
 * bench/core-spells.mjs, 2026-12-04: no steal time, no run delay, never both cores at once in 120 s).
 * So a measurement first times a short probe on each core its thread may use and pins the measuring
 * thread to the fastest one for its duration, then restores the thread's cores.
 *
 * Linux only (the thread's cores from /proc, set by a system call on the main thread, which is
 * where a one-thread onnxruntime-node session runs); elsewhere, with one core, or with
 * MNAS_PICK_CORE=0 (to compare both ways in one benchmark), the body runs where it is.
 */
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { procStatFields } from '../util/proc-stat.js';
import { setThreadAffinity } from '../util/thread-affinity.js';

/** Seconds of probe runs per core, and at least this many runs. */
export const PROBE_SECONDS = 0.02;
export const MIN_PROBE_RUNS = 3;
/** At most this many cores are probed (the first of the thread's), so a big machine pays a bounded cost. */
export const MAX_PROBED_CORES = 8;

export interface CoreChoice {
  /** The core the measurement ran on. */
  core: number;
  /** The probe's median run time on each core probed, ms. */
  probe_median_ms: Record<string, number>;
}

/** "0-3,5,7-8" (a kernel CPU list) → [0, 1, 2, 3, 5, 7, 8]; throws on anything else. */
export function parseCpuList(list: string): number[] {
  const cores: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`not a CPU list: '${list}'`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new Error(`not a CPU list: '${list}'`);
    for (let c = from; c <= to; c++) cores.push(c);
  }
  return cores;
}

/** The cores the main thread may run on, or null where that cannot be read. */
export function mainThreadCores(): number[] | null {
  if (process.platform !== 'linux') return null;
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${process.pid}/task/${process.pid}/status`, 'utf8'));
    return m ? parseCpuList(m[1]!) : null;
  } catch {
    return null;
  }
}

/** Restricts the main thread to `cores` (called on it); false when that failed (not the main thread, not Linux, not allowed). */
export function pinMainThread(cores: readonly number[]): boolean {
  return isMainThread && setThreadAffinity(cores);
}

/** The core the main thread last ran on (field 39 of /proc/PID/task/PID/stat), or null. */
export function currentCore(): number | null {
  const fields = procStatFields(`/proc/${process.pid}/task/${process.pid}/stat`);
  const core = Number(fields?.[36]);
  return Number.isInteger(core) ? core : null;
}

export function pickCoreEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.MNAS_PICK_CORE !== '0';
}

async function probeMedian(probe: () => Promise<void>): Promise<number> {
  await probe();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < MIN_PROBE_RUNS || performance.now() - start < PROBE_SECONDS * 1000) {
    const a = performance.now();
    await probe();
    times.push(performance.now() - a);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(0.5 * (times.length - 1))]!;
}

/**
 * Runs `body` with the main thread pinned to the core where `probe` ran fastest, and puts the
 * thread's cores back afterwards, whatever happens. `body` is told the seconds the probe took (the
 * model has been running that long: a warm-up may count them). Without a choice to make (see the
 * file comment) it just runs `body(0)`, and `choice` is absent.
 */
export async function onFastestCore<T>(probe: () => Promise<void>, body: (probedSeconds: number) => Promise<T>, signal?: AbortSignal): Promise<{ value: T; choice?: CoreChoice }> {
  const cores = pickCoreEnabled() ? mainThreadCores() : null;
  if (!cores || cores.length < 2) return { value: await body(0) };
  const probed: Array<[number, number]> = [];
  let pinned = false;
  const start = performance.now();
  try {
    for (const core of cores.slice(0, MAX_PROBED_CORES)) {
      signal?.throwIfAborted();
      if (!pinMainThread([core])) break;
      pinned = true;
      probed.push([core, await probeMedian(probe)]);
    }
    if (probed.length < 2) return { value: await body((performance.now() - start) / 1000) };
    const [best] = probed.reduce((a, b) => (b[1] < a[1] ? b : a));
    if (best !== probed.at(-1)![0]) pinMainThread([best]);
    const value = await body((performance.now() - start) / 1000);
    return { value, choice: { core: best, probe_median_ms: Object.fromEntries(probed.map(([c, ms]) => [String(c), ms])) } };
  } finally {
    if (pinned) pinMainThread(cores);
  }
}
