/**
 * LatencyModels: from a network plan (or a range of its layers), from what a user gave (preset,
 * arch string, arch file), or from an .onnx file. A planned model carries its plan, which the
 * engine device builds from; its ONNX bytes are exported from that plan by the one exporter
 * (model/export.ts) the first time a device reads them, and only once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { exportOnnx } from '../model/export.js';
import { checkInputShape, checkPlanFits, checkTensorFits } from '../model/limits.js';
import { decodeModel } from '../model/onnx/index.js';
import { allLayers, buildPlan, layersIn, type LayerRange, type NetworkPlan } from '../model/plan.js';
import type { Arch, InputShape } from '../space/arch.js';
import { printArch } from '../space/arch-string.js';
import { resolveArch } from '../space/resolve.js';
import { InputError } from '../util/input-error.js';
import type { LatencyModel, PlanSource } from './device.js';

/** An .onnx file that cannot be measured: missing, not ONNX, or without a fixed NCHW input. */
export class OnnxFileError extends InputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OnnxFileError';
  }
}

/**
 * The layers `range` selects of `plan`, with seeded random weights (randomWeights). The bytes are
 * exported on first read of `onnx`. RangeError for a range that selects no layer.
 */
export function layersToModel(plan: NetworkPlan, range: LayerRange, name: string, seed = 0): LatencyModel {
  const first = layersIn(plan, range)[0]!;
  const source: PlanSource = { kind: 'plan', plan, layers: range, seed };
  let bytes: Uint8Array | undefined;
  return {
    name,
    inputShape: [1, first.inChannels, first.inSize.height, first.inSize.width],
    source,
    get onnx(): Uint8Array {
      bytes ??= exportOnnx(plan, undefined, { seed, layers: range });
      return bytes;
    },
  };
}

/**
 * The whole network of a plan, with seeded random weights. Throws LimitError first if the network
 * cannot fit in memory for batch-1 inference.
 */
export function planToModel(plan: NetworkPlan, name: string, seed = 0): LatencyModel {
  checkPlanFits(plan, { batch: 1, use: 'eval' });
  return layersToModel(plan, allLayers(plan), name, seed);
}

export function archToModel(arch: Arch, name = printArch(arch), seed = 0): LatencyModel {
  return planToModel(buildPlan(arch), name, seed);
}

/** The first graph input (not an initializer): its name and shape; symbolic dims become 1 (batch) or NaN. */
function onnxInput(bytes: Uint8Array): { name: string; dims: number[] } | null {
  const m = decodeModel(bytes) as { graph?: { input?: Array<{ name?: string; type?: { tensorType?: { shape?: { dim?: Array<{ dimValue?: number; dimParam?: string }> } } } }>; initializer?: Array<{ name?: string }> } };
  const inits = new Set((m.graph?.initializer ?? []).map((i) => i.name));
  const input = (m.graph?.input ?? []).find((i) => !inits.has(i.name));
  const dims = input?.type?.tensorType?.shape?.dim;
  if (!input || !dims) return null;
  return { name: input.name ?? '', dims: dims.map((d, i) => (typeof d.dimValue === 'number' && d.dimValue > 0 ? d.dimValue : i === 0 ? 1 : NaN)) };
}

/**
 * An .onnx file as it is (bytes only, no plan): the input shape from the file, or `input` when
 * given. Throws OnnxFileError, or LimitError when the input cannot fit in memory.
 */
export function onnxFileModel(file: string, input?: InputShape): LatencyModel {
  if (!existsSync(file)) throw new OnnxFileError(`ONNX file '${file}' does not exist`);
  const bytes = new Uint8Array(readFileSync(file));
  let shape: number[];
  let where = '--input';
  if (input) {
    shape = [1, input.channels, input.height, input.width];
  } else {
    let declared: ReturnType<typeof onnxInput>;
    try {
      declared = onnxInput(bytes);
    } catch (e) {
      throw new OnnxFileError(`'${file}' is not a valid ONNX model: ${(e as Error).message}`, { cause: e });
    }
    if (!declared) throw new OnnxFileError(`'${file}': cannot read the input shape from the model; pass --input HxWxC`);
    shape = declared.dims;
    where = `'${file}' input '${declared.name}' [${shape.join(', ')}]`;
  }
  if (shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new OnnxFileError(`'${file}': input shape [${shape.join(', ')}] is not a fixed NCHW shape; pass --input HxWxC`);
  }
  const inputShape = [1, shape[1] as number, shape[2] as number, shape[3] as number] as const;
  // before any tensor exists: the device allocates this input (and the model its activations)
  checkInputShape({ channels: inputShape[1], height: inputShape[2], width: inputShape[3] }, where);
  checkTensorFits(inputShape, where);
  return { name: basename(file), onnx: bytes, inputShape };
}

export interface ResolveModelOptions {
  /** Input shape: overrides the arch's, or fixes an .onnx file's. */
  input?: InputShape;
  /** Seed of the random weights of a model built from an arch (default 0). */
  seed?: number;
}

/**
 * Resolves `spec`: a `*.onnx` file is loaded as is (onnxFileModel); anything else goes through
 * resolveArch (preset, arch string, arch file) and is planned with seeded random weights.
 * Every refusal is an InputError with a one-line message.
 */
export function resolveModel(spec: string, o: ResolveModelOptions = {}): LatencyModel {
  if (/\.onnx$/i.test(spec)) return onnxFileModel(spec, o.input);
  const arch = resolveArch(spec, o.input ? { input: o.input } : {});
  return archToModel(arch, spec.includes(':') ? printArch(arch) : spec, o.seed ?? 0);
}
