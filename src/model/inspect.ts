/**
 * What an architecture costs before it is trained: its plan's per-layer channels, sizes,
 * parameters, MACs and activations, with totals and the canonical arch string.
 */
import type { Arch } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import { resolveArch, withOverrides, type ArchOverrides } from '../space/resolve.js';
import { costOfPlan, type LayerCost } from './cost.js';
import { buildPlan } from './plan.js';

export interface Inspection {
  /** The canonical arch string (overrides applied). */
  readonly arch: string;
  readonly params: number;
  /** BN running statistics. */
  readonly buffers: number;
  readonly macs: number;
  /** Activation elements of one image, the input included. */
  readonly activations: number;
  /** The largest layer input + output, elements. */
  readonly peakActivations: number;
  readonly layers: readonly LayerCost[];
}

/**
 * Inspects a preset name, arch string, arch file or Arch, with optional input, classes and head
 * overrides. Throws ArchError / LimitError (InputErrors) for an architecture that cannot be built.
 */
export function inspect(spec: string | Arch, overrides: ArchOverrides = {}): Inspection {
  const arch = typeof spec === 'string' ? resolveArch(spec, overrides) : withOverrides(spec, overrides);
  const cost = costOfPlan(buildPlan(arch));
  return { arch: printArch(arch), params: cost.params, buffers: cost.buffers, macs: cost.macs, activations: cost.activations, peakActivations: cost.peakActivations, layers: cost.layers };
}
