/**
 * Trained models shipped with mnas: `models/<name>/` in the package, each with its weights
 * (weights.safetensors), its ONNX graph that takes pixel / 255 (model.onnx) and a model card
 * (card.json: the arch, the data and recipe it was trained with, test accuracy over seeds,
 * params, MACs, latency per device, files with their SHA-256). `mnas bench models --save DIR`
 * writes exactly this layout. Each shipped model is a preset of its own name (presets.ts), so
 * `mnas export`, `mnas measure`, `mnas train` and the library take it by name.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { InputError } from '../util/input-error.js';
import { repoRoot } from '../util/paths.js';
import { parseArch, printArch } from './arch-string.js';
import type { Arch } from './arch.js';

export const CARD_FILE = 'card.json';
export const WEIGHTS_FILE = 'weights.safetensors';
export const ONNX_FILE = 'model.onnx';

const fraction = z.number().min(0).max(1);
const count = z.number().int().nonnegative();
const file = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: count }).strict();

export const ModelCardSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
    description: z.string().min(1),
    arch: z.string().min(1),
    dataset: z.string().min(1),
    /** The final recipe: training images, epochs, images held out, and the split's seed. */
    recipe: z.object({ images: count, epochs: z.number().int().positive(), validation: count, splitSeed: count }).strict(),
    /** Test accuracy over the seeds trained (std null for one seed), and of the seed whose weights are shipped. */
    testAccuracy: z.object({ seeds: z.number().int().positive(), mean: fraction, std: z.number().nonnegative().nullable(), min: fraction, max: fraction, shipped: fraction, shippedSeed: count }).strict(),
    params: count,
    macs: count,
    /** Median batch-1 latency (ms) per device, measured on the machine named in `trained`. */
    latencyMs: z.record(z.string(), z.number().positive()),
    /** What model.onnx takes, in words (also in its metadata). */
    preprocessing: z.string().min(1),
    /** The training data's per-channel normalization (part of model.onnx's graph) and class names. */
    inputNormalization: z
      .object({ mean: z.array(z.number()).min(1), std: z.array(z.number().positive()).min(1), classNames: z.array(z.string()).optional() })
      .strict()
      .refine((n) => n.mean.length === n.std.length, 'mean and std must have one length'),
    trained: z.object({ host: z.string(), cpu: z.string(), threads: z.number().int().positive(), seconds: z.number().nonnegative(), finishedAt: z.string() }).strict(),
    files: z.object({ weights: file, onnx: file }).strict(),
  })
  .strict();

export type ModelCard = z.infer<typeof ModelCardSchema>;

export interface ShippedModel {
  readonly name: string;
  readonly dir: string;
  readonly card: ModelCard;
  readonly arch: Arch;
  /** Absolute paths of the weights and the ONNX graph. */
  readonly weights: string;
  readonly onnx: string;
}

/** A card that does not describe a usable model: a packaging defect, named by its file. */
export class ModelCardError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'ModelCardError';
  }
}

/** The folder of the models shipped with the package. */
export function shippedModelsDir(): string {
  return path.join(repoRoot(), 'models');
}

/** Folders of a user's own trained models (same layout), searched after the shipped ones. */
export const MODELS_DIR_ENV = 'MNAS_MODELS_DIR';

let cached: ReadonlyMap<string, ShippedModel> | undefined;

/** The shipped models and those in MNAS_MODELS_DIR (folders separated like PATH), by name; read once. */
export function shippedModels(): ReadonlyMap<string, ShippedModel> {
  if (cached) return cached;
  const all = new Map<string, ShippedModel>();
  const extra = (process.env[MODELS_DIR_ENV] ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const dir of [shippedModelsDir(), ...extra]) {
    for (const m of readModelsDir(dir).values()) {
      const other = all.get(m.name);
      if (other) throw new ModelCardError(`two trained models are named '${m.name}': ${other.dir} and ${m.dir}`);
      all.set(m.name, m);
    }
  }
  return (cached = all);
}

/** Every `<dir>/<name>/card.json` with its files; a folder without a card is not a model. */
export function readModelsDir(dir: string): ReadonlyMap<string, ShippedModel> {
  const models = new Map<string, ShippedModel>();
  if (!existsSync(dir)) return models;
  for (const entry of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const modelDir = path.join(dir, entry.name);
    if (!existsSync(path.join(modelDir, CARD_FILE))) continue;
    const m = readModel(modelDir);
    models.set(m.name, m);
  }
  return models;
}

/** One model folder: its card checked, its files present. Throws ModelCardError naming the file. */
export function readModel(dir: string): ShippedModel {
  const file = path.join(dir, CARD_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelCardError(`${file}: not JSON: ${(e as Error).message}`);
  }
  const parsed = ModelCardSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelCardError(`${file}: ${issue.path.join('.') || 'the card'}: ${issue.message}`);
  }
  const card = parsed.data;
  if (card.name !== path.basename(dir)) throw new ModelCardError(`${file}: name '${card.name}' is not its folder's '${path.basename(dir)}'`);
  let arch: Arch;
  try {
    arch = parseArch(card.arch);
  } catch (e) {
    throw new ModelCardError(`${file}: arch does not parse: ${(e as Error).message}`);
  }
  const weights = path.join(dir, WEIGHTS_FILE);
  const onnx = path.join(dir, ONNX_FILE);
  for (const f of [weights, onnx]) if (!existsSync(f)) throw new ModelCardError(`${file}: ${path.basename(f)} is missing`);
  return { name: card.name, dir, card, arch, weights, onnx };
}

/** Whether the shipped model `m` is the architecture `arch` (a built-in preset of the same name must be). */
export function sameArch(m: ShippedModel, arch: Arch): boolean {
  return printArch(m.arch) === printArch(arch);
}
