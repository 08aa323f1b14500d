/**
 * Turning what the user gave (preset, arch string, arch file, or an .onnx file) into a
 * LatencyModel: the ONNX bytes every ONNX device runs, the arch string the engine builds from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { buildPlan, type NetworkPlan } from '../model/plan.js';
import { decodeModel } from '../model/onnx/index.js';
import type { Arch, InputShape } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import { resolveArch } from '../space/resolve.js';
import type { LatencyModel } from './device.js';
import { exportOnnx } from '../model/export.js';

/** Whole-network ONNX for a plan (the project's exporter, seeded random weights, BN folded). */
export function planToModel(plan: NetworkPlan, name: string, seed = 0): LatencyModel {
  const { input } = plan;
  return { name, onnx: exportOnnx(plan, undefined, { seed }), inputShape: [1, input.channels, input.height, input.width], arch: printArch(plan.arch) };
}

export function archToModel(arch: Arch, name = printArch(arch), seed = 0): LatencyModel {
  const plan = buildPlan(arch);
  return { ...planToModel(plan, name, seed), arch: printArch(arch) };
}

/** Reads the first graph input's shape from ONNX bytes; symbolic dims (batch) become 1. */
export function onnxInputShape(bytes: Uint8Array): number[] | null {
  const m = decodeModel(bytes) as { graph?: { input?: Array<{ type?: { tensorType?: { shape?: { dim?: Array<{ dimValue?: number; dimParam?: string }> } } } }>; initializer?: Array<{ name?: string }> } };
  const inits = new Set((m.graph?.initializer ?? []).map((i) => i.name));
  const input = (m.graph?.input ?? []).find((i) => !inits.has((i as { name?: string }).name));
  const dims = input?.type?.tensorType?.shape?.dim;
  if (!dims) return null;
  return dims.map((d, i) => (typeof d.dimValue === 'number' && d.dimValue > 0 ? d.dimValue : i === 0 ? 1 : NaN));
}

export interface ResolveModelOptions {
  input?: InputShape;
  seed?: number;
}

/**
 * Resolves `spec`: an existing `*.onnx` file is loaded as is (input shape from the file, or
 * `input`); anything else goes through resolveArch (preset, arch string, arch file) and is
 * exported with seeded random weights. Throws Error with a user-facing message.
 */
export function resolveModel(spec: string, o: ResolveModelOptions = {}): LatencyModel {
  if (/\.onnx$/i.test(spec)) {
    if (!existsSync(spec)) throw new Error(`ONNX file '${spec}' does not exist`);
    const bytes = new Uint8Array(readFileSync(spec));
    let shape: number[] | null;
    if (o.input) {
      shape = [1, o.input.channels, o.input.height, o.input.width];
    } else {
      try {
        shape = onnxInputShape(bytes);
      } catch (e) {
        throw new Error(`'${spec}' is not a valid ONNX model: ${(e as Error).message}`);
      }
      if (!shape) throw new Error(`'${spec}': cannot read the input shape from the model; pass --input HxWxC`);
    }
    if (shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new Error(`'${spec}': input shape [${shape.join(', ')}] is not a fixed NCHW shape; pass --input HxWxC`);
    }
    return { name: basename(spec), onnx: bytes, inputShape: [1, shape[1] as number, shape[2] as number, shape[3] as number] };
  }
  const arch = resolveArch(spec, o.input ? { input: o.input } : {});
  return archToModel(arch, spec.includes(':') ? printArch(arch) : spec, o.seed ?? 0);
}
