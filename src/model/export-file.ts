/**
 * Writing an architecture to a file, in one call: resolve it (preset, arch string, arch file),
 * plan it, and write either the eval-mode ONNX model (export.ts) with the given or seeded random
 * weights, or the weights themselves as safetensors (the arch string in the metadata, so a
 * safetensors export followed by an ONNX export with those weights reproduces the default ONNX
 * export). Files are written atomically. What `mnas export` does, without printing; also the
 * library's export function.
 */
import { withGlobal, type Arch, type InputShape } from '../space/arch.js';
import { ArchError } from '../space/arch-error.js';
import { parseArch, printArch } from '../space/arch-string.js';
import { getPreset, hasPreset } from '../space/presets.js';
import { resolveArch, type ArchOverrides } from '../space/resolve.js';
import { encodeSafetensors, loadSafetensors, SafetensorsError, tensor, type Tensor } from '../torch/index.js';
import { InputError } from '../util/input-error.js';
import { costOfPlan } from './cost.js';
import { exportOnnx, normalizationFromMetadata, NORMALIZATION_METADATA, randomWeights, resolutionProblem, weightsFromTensors, WeightsMismatchError, type InputNormalization } from './export.js';
import { checkPlanFits } from './limits.js';
import { saveModel } from './onnx/index.js';
import { buildPlan, type NetworkPlan } from './plan.js';

export const EXPORT_FORMATS = ['onnx', 'safetensors'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportToFileOptions {
  /** The file to write (atomically). */
  readonly out: string;
  /** Default 'onnx'. */
  readonly format?: ExportFormat;
  /**
   * A safetensors file with the plan's parameters; default: a trained preset's own weights (see
   * presets.ts), otherwise seeded random weights. A file that records the training data's
   * normalization (as `mnas train --save` writes) gives an ONNX graph that takes pixel / 255.
   */
  readonly weights?: string;
  /** Seeded random weights even for a trained preset. */
  readonly randomWeights?: boolean;
  /** Overrides of the arch's input shape and classes. */
  readonly input?: InputShape;
  readonly classes?: number;
  /** ONNX opset, 13 (default) or 17. */
  readonly opset?: 13 | 17;
  /** Seed of the random weights used without `weights` (default 0). */
  readonly seed?: number;
}

export interface ExportSummary {
  path: string;
  format: ExportFormat;
  bytes: number;
  params: number;
  /** null for safetensors */
  opset: number | null;
  /** 'random seed=<n>', the weights file, or 'trained: <file>' for a trained preset's own */
  weights: string;
  /** Whether the ONNX graph normalizes its input itself (takes pixel / 255). */
  normalizesInput: boolean;
  arch: string;
}

/**
 * A `weights` file that cannot be used. The message starts with the option's name ("weights
 * <file>: ..."), so a command line can show it under its own flag.
 */
export class WeightsFileError extends InputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeightsFileError';
  }
}

/** The output file cannot be written. */
export class OutputFileError extends InputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutputFileError';
  }
}

/**
 * Resolves `arch`, exports it and writes `options.out`; returns what was written. Every refusal
 * is an InputError with a one-line message (ArchError, LimitError, WeightsFileError,
 * OutputFileError); invalid option values are RangeErrors.
 */
export function exportToFile(arch: string | Arch, o: ExportToFileOptions): ExportSummary {
  const format = o.format ?? 'onnx';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new RangeError(`format must be one of ${EXPORT_FORMATS.join(', ')}, got '${String(format)}'`);
  const opset = o.opset ?? 13;
  if (opset !== 13 && opset !== 17) throw new RangeError(`opset must be 13 or 17, got '${String(opset)}'`);
  const seed = o.seed ?? 0;
  if (!o.out || o.out.trim() === '') throw new RangeError('out: a file to write is required');
  const overrides: ArchOverrides = {
    ...(o.input !== undefined ? { input: o.input } : {}),
    ...(o.classes !== undefined ? { classes: o.classes } : {}),
  };
  const resolved = typeof arch === 'string' ? resolveArch(arch, overrides) : Object.keys(overrides).length ? withGlobal(arch, overrides) : arch;
  const plan = buildPlan(resolved);
  checkPlanFits(plan, { use: 'export' });
  const tooSmall = resolutionProblem(plan);
  if (tooSmall) throw new ArchError(tooSmall);
  const archString = printArch(resolved);
  if (o.weights !== undefined && o.randomWeights) throw new RangeError('weights and randomWeights exclude each other');
  const trained = typeof arch === 'string' && o.weights === undefined && !o.randomWeights && hasPreset(arch.trim()) ? getPreset(arch.trim()).trained : undefined;
  const weightsFile = o.weights ?? trained?.weights;
  const given = weightsFile !== undefined ? readWeightsFile(weightsFile, plan) : undefined;
  const normalization = given?.normalization ?? undefined;

  let bytes: Uint8Array;
  if (format === 'onnx') {
    bytes = exportOnnx(plan, given?.weights, { opset, seed, ...(normalization ? { inputNormalization: normalization } : {}) });
  } else {
    const weights = given?.weights ?? randomWeights(plan, seed);
    const tensors = new Map<string, Tensor>();
    try {
      for (const p of plan.params) tensors.set(p.name, tensor(weights.get(p.name) as Float32Array, p.shape));
      bytes = encodeSafetensors(tensors, { arch: archString, producer: 'mnas', ...(normalization ? { [NORMALIZATION_METADATA]: JSON.stringify(normalization) } : {}) });
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }
  let written: string;
  try {
    written = saveModel(o.out, bytes);
  } catch (e) {
    throw new OutputFileError(`cannot write '${o.out}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  return {
    path: written,
    format,
    bytes: bytes.byteLength,
    params: costOfPlan(plan).params,
    opset: format === 'onnx' ? opset : null,
    weights: trained ? `trained: ${trained.weights}` : (o.weights ?? `random seed=${seed}`),
    normalizesInput: format === 'onnx' && normalization !== undefined,
    arch: archString,
  };
}

/**
 * Loads a safetensors file and checks it against the plan (names, shapes, dtype, values, and the
 * arch recorded in its metadata if any). Throws WeightsFileError naming the file.
 */
function readWeightsFile(file: string, plan: NetworkPlan): { weights: Map<string, Float32Array>; normalization: InputNormalization | null } {
  let loaded;
  try {
    loaded = loadSafetensors(file);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new WeightsFileError(`weights: ${e.message}`, { cause: e });
    throw e;
  }
  try {
    // names and shapes first: the most specific message
    const weights = weightsFromTensors(plan, loaded.tensors);
    const saved = loaded.metadata.arch;
    if (typeof saved === 'string') {
      let savedArch: Arch;
      try {
        savedArch = parseArch(saved);
      } catch (e) {
        throw new WeightsFileError(`weights ${file}: its metadata arch '${saved}' does not parse: ${(e as Error).message}`, { cause: e });
      }
      // the input resolution, dropout and BN momentum do not change eval-mode weights
      const g = plan.arch.global;
      const comparable = printArch(withGlobal(savedArch, { input: g.input, dropout: g.dropout, bnMomentum: g.bnMomentum }));
      if (comparable !== printArch(plan.arch)) {
        throw new WeightsFileError(`weights ${file} was saved for arch '${saved}', not '${printArch(plan.arch)}'`);
      }
    }
    let normalization: InputNormalization | null;
    try {
      normalization = normalizationFromMetadata(loaded.metadata);
    } catch (e) {
      throw new WeightsFileError(`weights ${file}: ${(e as Error).message}`, { cause: e });
    }
    if (normalization && normalization.mean.length !== plan.arch.global.input.channels) {
      throw new WeightsFileError(`weights ${file}: its input normalization has ${normalization.mean.length} channels, the arch ${plan.arch.global.input.channels}`);
    }
    return { weights, normalization };
  } catch (e) {
    if (e instanceof WeightsMismatchError) throw new WeightsFileError(`weights ${file}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    for (const t of loaded.tensors.values()) t.dispose();
  }
}
