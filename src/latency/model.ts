/**
 * Turning what the user gave (preset, arch string, arch file, or an .onnx file) into a
 * LatencyModel: the ONNX bytes every ONNX device runs, the arch string the engine builds from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { checkInputShape, checkPlanFits, checkTensorFits } from '../model/limits.js';
import { buildPlan, type NetworkPlan } from '../model/plan.js';
import { decodeModel } from '../model/onnx/index.js';
import type { Arch, InputShape } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import { resolveArch } from '../space/resolve.js';
import type { LatencyModel } from './device.js';
import { exportOnnx } from '../model/export.js';

/**
 * Whole-network ONNX for a plan (the project's exporter, seeded random weights, BN folded).
 * Throws LimitError first if the network cannot fit in memory for batch-1 inference.
 */
export function planToModel(plan: NetworkPlan, name: string, seed = 0): LatencyModel {
  checkPlanFits(plan, { batch: 1, use: 'eval' });
  const { input } = plan;
  return { name, onnx: exportOnnx(plan, undefined, { seed }), inputShape: [1, input.channels, input.height, input.width], arch: printArch(plan.arch) };
}

export function archToModel(arch: Arch, name = printArch(arch), seed = 0): LatencyModel {
  const plan = buildPlan(arch);
  return { ...planToModel(plan, name, seed), arch: printArch(arch) };
}

/** Reads the first graph input's shape from ONNX bytes; symbolic dims (batch) become 1. */
export function onnxInputShape(bytes: Uint8Array): number[] | null {
  return onnxInput(bytes)?.dims ?? null;
}

/** The first graph input (not an initializer): its name and shape as onnxInputShape reads it. */
export function onnxInput(bytes: Uint8Array): { name: string; dims: number[] } | null {
  const m = decodeModel(bytes) as { graph?: { input?: Array<{ name?: string; type?: { tensorType?: { shape?: { dim?: Array<{ dimValue?: number; dimParam?: string }> } } } }>; initializer?: Array<{ name?: string }> } };
  const inits = new Set((m.graph?.initializer ?? []).map((i) => i.name));
  const input = (m.graph?.input ?? []).find((i) => !inits.has(i.name));
  const dims = input?.type?.tensorType?.shape?.dim;
  if (!input || !dims) return null;
  return { name: input.name ?? '', dims: dims.map((d, i) => (typeof d.dimValue === 'number' && d.dimValue > 0 ? d.dimValue : i === 0 ? 1 : NaN)) };
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
    let where = '--input';
    if (o.input) {
      shape = [1, o.input.channels, o.input.height, o.input.width];
    } else {
      let input: ReturnType<typeof onnxInput>;
      try {
        input = onnxInput(bytes);
      } catch (e) {
        throw new Error(`'${spec}' is not a valid ONNX model: ${(e as Error).message}`);
      }
      if (!input) throw new Error(`'${spec}': cannot read the input shape from the model; pass --input HxWxC`);
      shape = input.dims;
      where = `'${spec}' input '${input.name}' [${shape.join(', ')}]`;
    }
    if (shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new Error(`'${spec}': input shape [${shape.join(', ')}] is not a fixed NCHW shape; pass --input HxWxC`);
    }
    const inputShape = [1, shape[1] as number, shape[2] as number, shape[3] as number] as const;
    // before any tensor exists: the device allocates this input (and the model its activations)
    checkInputShape({ channels: inputShape[1], height: inputShape[2], width: inputShape[3] }, where);
    checkTensorFits(inputShape, where);
    return { name: basename(spec), onnx: bytes, inputShape };
  }
  const arch = resolveArch(spec, o.input ? { input: o.input } : {});
  return archToModel(arch, spec.includes(':') ? printArch(arch) : spec, o.seed ?? 0);
}
