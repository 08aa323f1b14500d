/**
 * `mnas export <preset|arch-string|file> --out <file> [--format onnx|safetensors]
 *   [--weights w.safetensors | --random-weights] [--input HxWxC] [--classes N] [--opset 13|17] [--seed N] [--json]`
 *
 * onnx: the eval-mode model (BN folded, no dropout, dynamic batch) with the given weights, a
 * trained preset's own weights, or deterministic random weights (seeded by --seed). Weights that
 * record the training data's normalization give a graph that takes pixel / 255. safetensors: the
 * weights themselves, with the arch string in the metadata, so `--format safetensors` then
 * `--format onnx --weights` reproduces the default onnx export (src/model/export-file.ts).
 *
 * Prints a summary (path, format, bytes, params, opset); with --json one JSON line. Every invalid
 * request is a UsageError (exit code 2).
 */
import type { Command } from 'commander';
import { EXPORT_FORMATS, exportToFile, WeightsFileError, type ExportFormat, type ExportSummary } from '../model/export-file.js';
import { MAX_CLASSES, parseInputShapeText } from '../model/limits.js';
import type { InputShape } from '../space/arch.js';
import { InputError } from '../util/input-error.js';
import { UsageError } from './errors.js';
import { choiceOption, intOption } from './options.js';

export type Writer = (text: string) => void;

export interface ExportCommandOptions {
  out: string;
  format?: ExportFormat;
  weights?: string;
  randomWeights?: boolean;
  input?: string;
  classes?: number;
  opset?: 13 | 17;
  seed?: number;
  json?: boolean;
}

export function registerExport(program: Command, write: Writer = (s) => void process.stdout.write(s)): Command {
  return program
    .command('export')
    .description('write an architecture as an ONNX model (BN folded, dynamic batch) or its weights as safetensors')
    .argument('<arch>', 'a preset name, an arch string, or a file holding an arch string or JSON')
    .requiredOption('--out <file>', 'output file (written atomically)')
    .option('--format <format>', `output format: ${EXPORT_FORMATS.join(' or ')}`, choiceOption('export: --format', EXPORT_FORMATS), 'onnx')
    .option('--weights <file>', 'safetensors weights (names and shapes of the network plan); default: a trained preset\'s own weights, otherwise seeded random weights')
    .option('--random-weights', 'seeded random weights even for a trained preset')
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

/** Resolves, exports and writes (exportToFile); returns the summary. Throws UsageError on any invalid request. */
export function runExport(spec: string, o: ExportCommandOptions): ExportSummary {
  const format = o.format ?? 'onnx';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`export: --format must be one of ${EXPORT_FORMATS.join(', ')}, got '${String(format)}'`);
  const opset = o.opset ?? 13;
  if (opset !== 13 && opset !== 17) throw new UsageError(`export: --opset must be 13 or 17, got '${String(opset)}'`);
  if (!o.out || o.out.trim() === '') throw new UsageError('export: --out <file> is required');
  const input = o.input !== undefined ? parseInputShape(o.input) : undefined;
  if (o.weights !== undefined && o.randomWeights) throw new UsageError('export: --weights and --random-weights exclude each other');
  try {
    return exportToFile(spec, {
      out: o.out,
      format,
      opset,
      seed: o.seed ?? 0,
      ...(o.weights !== undefined ? { weights: o.weights } : {}),
      ...(o.randomWeights ? { randomWeights: true } : {}),
      ...(input ? { input } : {}),
      ...(o.classes !== undefined ? { classes: o.classes } : {}),
    });
  } catch (e) {
    // a weights file's message starts with the option's name: show it as the flag
    if (e instanceof WeightsFileError) throw new UsageError(`export: --${e.message}`, { cause: e });
    if (e instanceof InputError) throw new UsageError(`export: ${e.message}`, { cause: e });
    throw e;
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
    ...(s.normalizesInput ? ['  input: pixel / 255 (the training normalization is part of the graph)'] : []),
    `  arch ${s.arch}`,
    '',
  ].join('\n');
}
