/**
 * Where libtorch's CPU memory goes. The addon installs a caching allocator (native/cpu_allocator.cc)
 * that keeps freed blocks for reuse instead of returning them to the kernel, which on a VM made
 * page faults the main cost of a training step. `MNAS_ALLOCATOR=system` (read when the addon
 * loads) switches back to libtorch's default allocator for comparisons; the cache limit comes
 * from `MNAS_ALLOCATOR_CACHE_MB` (default an eighth of RAM) or `setCacheLimit`.
 *
 * Process-level figures (resident set, peak resident set, page faults) come from /proc and
 * getrusage, so they also count what the allocator does not see (the dataset, V8, onnxruntime).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { native, type NativeAllocatorStats } from './native.js';

export type AllocatorStats = Readonly<NativeAllocatorStats>;

/** Counters and byte totals of libtorch's CPU allocator (all zero but `kind` and `limitBytes` with the system allocator). */
export function allocatorStats(): AllocatorStats {
  return native().allocatorStats();
}

/** Starts the peak figures of allocatorStats() again from the current values. */
export function resetAllocatorPeaks(): void {
  native().resetAllocatorPeaks();
}

/** Limits the bytes of freed blocks the cache keeps; lowering it releases the excess now. */
export function setAllocatorCacheLimit(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`setAllocatorCacheLimit: bytes must be a whole number >= 0, got ${bytes}`);
  native().setAllocatorCacheLimit(bytes);
}

/** Returns every cached block to the system. */
export function emptyAllocatorCache(): void {
  native().emptyAllocatorCache();
}

function statusField(field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size of this process now, bytes (undefined where /proc is not available). */
export function residentBytes(): number | undefined {
  return statusField('VmRSS');
}

/** The process's peak resident set size since start or since resetPeakResident(), bytes. */
export function peakResidentBytes(): number | undefined {
  return statusField('VmHWM') ?? process.resourceUsage().maxRSS * 1024;
}

/**
 * Restarts the kernel's peak-RSS counter at the current RSS (Linux: "5" to /proc/self/clear_refs),
 * so peakResidentBytes() measures one phase such as a trial. Returns false where that is not possible.
 */
export function resetPeakResident(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** What one phase of work cost in memory: take a snapshot before, then call `end()`. */
export interface MemoryUsage {
  /** Peak resident set of the process during the phase, bytes (process-wide). */
  readonly peakRssBytes: number | null;
  /** Minor page faults during the phase (process-wide). */
  readonly minorFaults: number;
  /** Kernel CPU seconds during the phase (process-wide). */
  readonly systemSeconds: number;
  /** User and kernel CPU seconds of all the process's threads during the phase (process-wide). */
  readonly cpuSeconds: number;
  /** Allocator: peak bytes in live tensors, and peak bytes held (live + cached) during the phase. */
  readonly peakTensorBytes: number;
  readonly peakAllocatorBytes: number;
  /** Allocator: share of allocations served from the cache during the phase (null with the system allocator). */
  readonly cacheHitRate: number | null;
  /** Allocator: bytes cached at the end of the phase. */
  readonly cachedBytes: number;
  readonly allocator: 'caching' | 'system';
}

export function startMemoryUsage(): { end(): MemoryUsage } {
  const peakResettable = resetPeakResident();
  resetAllocatorPeaks();
  const ru0 = process.resourceUsage();
  const a0 = allocatorStats();
  return {
    end(): MemoryUsage {
      const ru = process.resourceUsage();
      const a = allocatorStats();
      const allocations = a.allocations - a0.allocations - (a.smallAllocations - a0.smallAllocations);
      const peak = peakResettable ? peakResidentBytes() : undefined;
      return {
        peakRssBytes: peak ?? null,
        minorFaults: ru.minorPageFault - ru0.minorPageFault,
        systemSeconds: (ru.systemCPUTime - ru0.systemCPUTime) / 1e6,
        cpuSeconds: (ru.userCPUTime - ru0.userCPUTime + ru.systemCPUTime - ru0.systemCPUTime) / 1e6,
        peakTensorBytes: a.peakInUseBytes,
        peakAllocatorBytes: a.peakReservedBytes,
        cacheHitRate: a.kind === 'caching' && allocations > 0 ? (a.hits - a0.hits) / allocations : null,
        cachedBytes: a.cachedBytes,
        allocator: a.kind,
      };
    },
  };
}
