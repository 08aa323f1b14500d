/** What the host CPU is, for device descriptions (tables and results record where they were measured). */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(info) ?? /^Hardware\s*:\s*(.+)$/m.exec(info);
    if (m?.[1]) return m[1].trim();
  } catch {
    // not Linux: fall back to os.cpus()
  }
  return os.cpus()[0]?.model?.trim() || 'unknown';
}

/** SIMD extensions the CPU reports (x86 flags / ARM features), the ones that matter for conv kernels. */
function cpuSimd(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^(?:flags|Features)\s*:\s*(.+)$/m.exec(info);
    if (!m?.[1]) return '';
    const have = new Set(m[1].split(/\s+/));
    return ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512_vnni', 'amx_tile', 'neon', 'asimd', 'asimddp', 'sve'].filter((f) => have.has(f)).join(' ');
  } catch {
    return '';
  }
}

export function hostDetails(): Record<string, string | number> {
  return { logical_cpus: os.cpus().length, platform: `${process.platform}-${process.arch}`, node: process.version, simd: cpuSimd() };
}
