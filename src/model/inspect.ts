/**
 * What an architecture costs before it is trained: its plan's per-layer channels, sizes,
 * parameters, MACs and activations, with totals and the canonical arch string.
 */
import type { Arch } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import { resolveArch, withOverrides, type ArchOverrides } from '../space/resolve.js';
import { costOfPlan, type NetworkCost } from './cost.js';
import { buildPlan } from './plan.js';

/** The network's cost (params, BN buffers, MACs, activations incl. the input, the peak layer in+out, per layer) and its canonical arch string (overrides applied). */
export interface Inspection extends NetworkCost {
  readonly arch: string;
}

/**
 * Inspects a preset name, arch string, arch file or Arch, with optional input, classes and head
 * overrides. Throws ArchError / LimitError (InputErrors) for an architecture that cannot be built.
 */
export function inspect(spec: string | Arch, overrides: ArchOverrides = {}): Inspection {
  const arch = typeof spec === 'string' ? resolveArch(spec, overrides) : withOverrides(spec, overrides);
  return { arch: printArch(arch), ...costOfPlan(buildPlan(arch)) };
}
