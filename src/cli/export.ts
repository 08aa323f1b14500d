/**
 * `mnas export <preset|arch-string|file> --out <file> [--format onnx|safetensors]
 *   [--weights w.safetensors] [--input HxWxC] [--classes N] [--opset 13|17] [--seed N] [--json]`
 *
 * onnx: the eval-mode model (BN folded, no dropout, dynamic batch; src/model/export.ts) with the
 * given weights, or deterministic random weights (seeded by --seed) when --weights is omitted.
 * safetensors: the weights themselves (the given file after validation, or the same seeded
 * random weights the onnx export would use), with the arch string in the metadata, so
 * `--format safetensors` then `--format onnx --weights` reproduces the default onnx export.
 *
 * Files are written atomically (saveModel). Prints a summary (path, format, bytes, params, opset);
 * with --json one JSON line. Every invalid request is a UsageError (exit code 2).
 */
import type { Command } from 'commander';
import { costOfPlan } from '../model/cost.js';
import { checkPlanFits, MAX_CLASSES, parseInputShapeText } from '../model/limits.js';
import { exportOnnx, randomWeights, resolutionProblem, weightsFromTensors, WeightsMismatchError } from '../model/export.js';
import { saveModel } from '../model/onnx/index.js';
import { buildPlan, type NetworkPlan } from '../model/plan.js';
import { withGlobal, type Arch, type InputShape } from '../space/arch.js';
import { parseArch, printArch } from '../space/arch-string.js';
import { resolveArch, type ArchOverrides } from '../space/resolve.js';
import { encodeSafetensors, loadSafetensors, SafetensorsError, tensor, type Tensor } from '../torch/index.js';
import { UsageError } from './errors.js';
import { choiceOption, intOption } from './options.js';

export type Writer = (text: string) => void;

export const EXPORT_FORMATS = ['onnx', 'safetensors'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportCommandOptions {
  out: string;
  format?: ExportFormat;
  weights?: string;
  input?: string;
  classes?: number;
  opset?: 13 | 17;
  seed?: number;
  json?: boolean;
}

export interface ExportSummary {
  path: string;
  format: ExportFormat;
  bytes: number;
  params: number;
  /** null for safetensors */
  opset: number | null;
  /** 'random seed=<n>' or the weights file */
  weights: string;
  arch: string;
}

export function registerExport(program: Command, write: Writer = (s) => void process.stdout.write(s)): Command {
  return program
    .command('export')
    .description('write an architecture as an ONNX model (BN folded, dynamic batch) or its weights as safetensors')
    .argument('<arch>', 'a preset name, an arch string, or a file holding an arch string or JSON')
    .requiredOption('--out <file>', 'output file (written atomically)')
    .option('--format <format>', `output format: ${EXPORT_FORMATS.join(' or ')}`, choiceOption('export: --format', EXPORT_FORMATS), 'onnx')
    .option('--weights <file>', 'safetensors weights (names and shapes of the network plan); default: seeded random weights')
    .option('--input <HxWxC>', 'override the input shape, e.g. 224x224x3')
    .option('--classes <n>', 'override the number of classes', intOption('export: --classes', 1, MAX_CLASSES))
    .option('--opset <n>', 'ONNX opset: 13 or 17', (v: string) => Number(choiceOption('export: --opset', ['13', '17'] as const)(v)) as 13 | 17, 13)
    .option('--seed <n>', 'seed of the random weights used without --weights', intOption('export: --seed', 0), 0)
    .option('--json', 'print one JSON line instead of the text summary')
    .action((spec: string, options: ExportCommandOptions) => {
      const summary = runExport(spec, options);
      write(options.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    });
}

/** Resolves, exports and writes; returns the summary. Throws UsageError on any invalid request. */
export function runExport(spec: string, o: ExportCommandOptions): ExportSummary {
  const format = o.format ?? 'onnx';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`export: --format must be one of ${EXPORT_FORMATS.join(', ')}, got '${String(format)}'`);
  const opset = o.opset ?? 13;
  if (opset !== 13 && opset !== 17) throw new UsageError(`export: --opset must be 13 or 17, got '${String(opset)}'`);
  const seed = o.seed ?? 0;
  if (!o.out || o.out.trim() === '') throw new UsageError('export: --out <file> is required');
  const overrides: ArchOverrides = {
    ...(o.input !== undefined ? { input: parseInputShape(o.input) } : {}),
    ...(o.classes !== undefined ? { classes: o.classes } : {}),
  };
  let arch: Arch;
  let plan: NetworkPlan;
  try {
    arch = resolveArch(spec, overrides);
    plan = buildPlan(arch);
    checkPlanFits(plan, { use: 'export' });
  } catch (e) {
    throw new UsageError(`export: ${(e as Error).message}`, { cause: e });
  }
  const tooSmall = resolutionProblem(plan);
  if (tooSmall) throw new UsageError(`export: ${tooSmall}`);
  const archString = printArch(arch);
  const given = o.weights !== undefined ? readWeights(o.weights, plan) : undefined;
  const weightsLabel = o.weights !== undefined ? o.weights : `random seed=${seed}`;

  let bytes: Uint8Array;
  if (format === 'onnx') {
    bytes = exportOnnx(plan, given, { opset, seed });
  } else {
    const weights = given ?? randomWeights(plan, seed);
    const tensors = new Map<string, Tensor>();
    try {
      for (const p of plan.params) tensors.set(p.name, tensor(weights.get(p.name) as Float32Array, p.shape));
      bytes = encodeSafetensors(tensors, { arch: archString, producer: 'mnas' });
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }
  let written: string;
  try {
    written = saveModel(o.out, bytes);
  } catch (e) {
    throw new UsageError(`export: cannot write '${o.out}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  return {
    path: written,
    format,
    bytes: bytes.byteLength,
    params: costOfPlan(plan).params,
    opset: format === 'onnx' ? opset : null,
    weights: weightsLabel,
    arch: archString,
  };
}

/**
 * Loads a safetensors file and checks it against the plan (names, shapes, dtype, values, and the
 * arch recorded in its metadata if any). Every problem is a UsageError naming the file.
 */
export function readWeights(file: string, plan: NetworkPlan): Map<string, Float32Array> {
  let loaded;
  try {
    loaded = loadSafetensors(file);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new UsageError(`export: --weights: ${e.message}`, { cause: e });
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
        throw new UsageError(`export: --weights ${file}: its metadata arch '${saved}' does not parse: ${(e as Error).message}`, { cause: e });
      }
      // the input resolution, dropout and BN momentum do not change eval-mode weights
      const g = plan.arch.global;
      const comparable = printArch(withGlobal(savedArch, { input: g.input, dropout: g.dropout, bnMomentum: g.bnMomentum }));
      if (comparable !== printArch(plan.arch)) {
        throw new UsageError(`export: --weights ${file} was saved for arch '${saved}', not '${printArch(plan.arch)}'`);
      }
    }
    return weights;
  } catch (e) {
    if (e instanceof WeightsMismatchError) throw new UsageError(`export: --weights ${file}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    for (const t of loaded.tensors.values()) t.dispose();
  }
}

export function parseInputShape(text: string): InputShape {
  try {
    return parseInputShapeText(text);
  } catch (e) {
    throw new UsageError(`export: ${(e as Error).message}`, { cause: e });
  }
}

const group = (n: number): string => n.toLocaleString('en-US');

export function formatSummary(s: ExportSummary): string {
  const what = s.format === 'onnx' ? `onnx opset ${s.opset}` : 'safetensors';
  return [
    `wrote ${s.path}`,
    `  format ${what}, ${group(s.bytes)} bytes, ${group(s.params)} params, weights ${s.weights}`,
    `  arch ${s.arch}`,
    '',
  ].join('\n');
}
