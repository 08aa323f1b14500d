/**
 * The model card of a trained model folder (src/space/shipped-models.ts): what `mnas bench
 * models --save DIR` writes next to each model's seed-0 weights and ONNX graph, from the trained
 * table's rows, so the folder can be shipped as a preset as it is.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { normalizationFromMetadata } from '../model/export.js';
import { decodeModel } from '../model/onnx/index.js';
import { CARD_FILE, ModelCardSchema, ONNX_FILE, WEIGHTS_FILE, type ModelCard } from '../space/shipped-models.js';
import { parseSafetensorsHeader } from '../torch/safetensors.js';
import { mean, sampleStd } from '../util/stats.js';
import type { TrainRow, TrainSetting } from './table.js';

export interface CardInput {
  readonly name: string;
  readonly description: string;
  readonly arch: string;
  readonly setting: TrainSetting;
  /** Every final-recipe row of the model (one per seed); the one whose weights are in `dir` is `shippedSeed`'s. */
  readonly rows: readonly TrainRow[];
  readonly shippedSeed: number;
  readonly latencyMs: { readonly [device: string]: number };
}

/** Writes DIR/card.json for the weights.safetensors and model.onnx already in `dir`; returns the card. */
export function writeModelCard(dir: string, c: CardInput): ModelCard {
  const done = c.rows.filter((r) => r.status === 'done' && r.testAccuracy !== null);
  const shipped = done.find((r) => r.seed === c.shippedSeed);
  if (!shipped) throw new Error(`model card ${c.name}: seed ${c.shippedSeed} has no finished final training`);
  const tests = done.map((r) => r.testAccuracy as number);
  const testMean = mean(tests)!; // a shipped seed was found, so tests is not empty
  const std = sampleStd(tests);
  const weightsBytes = readFileSync(path.join(dir, WEIGHTS_FILE));
  const onnxBytes = readFileSync(path.join(dir, ONNX_FILE));
  const normalization = normalizationFromMetadata(parseSafetensorsHeader(weightsBytes, WEIGHTS_FILE).metadata);
  if (!normalization) throw new Error(`model card ${c.name}: ${WEIGHTS_FILE} records no input normalization (trained before mnas recorded it?)`);
  const card: ModelCard = {
    name: c.name,
    description: c.description,
    arch: c.arch,
    dataset: c.setting.dataset,
    recipe: { images: c.setting.images, epochs: c.setting.epochs, validation: c.setting.validation, splitSeed: c.setting.splitSeed },
    testAccuracy: { seeds: tests.length, mean: testMean, std, min: Math.min(...tests), max: Math.max(...tests), shipped: shipped.testAccuracy as number, shippedSeed: c.shippedSeed },
    params: shipped.params,
    macs: shipped.macs,
    latencyMs: { ...c.latencyMs },
    preprocessing: onnxPreprocessing(onnxBytes),
    inputNormalization: { mean: [...normalization.mean], std: [...normalization.std], ...(normalization.classNames ? { classNames: [...normalization.classNames] } : {}) },
    trained: { host: shipped.host, cpu: cpus()[0]?.model ?? 'unknown', threads: shipped.threads, seconds: shipped.seconds, finishedAt: shipped.finishedAt },
    files: { weights: fileFacts(weightsBytes), onnx: fileFacts(onnxBytes) },
  };
  const checked = ModelCardSchema.parse(card);
  const file = path.join(dir, CARD_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(checked, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return checked;
}

function fileFacts(bytes: Buffer): { sha256: string; bytes: number } {
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
}

function onnxPreprocessing(bytes: Buffer): string {
  const m = decodeModel(bytes) as { metadataProps?: Array<{ key?: string; value?: string }> };
  const p = m.metadataProps?.find((e) => e.key === 'preprocessing')?.value;
  if (!p) throw new Error(`${ONNX_FILE} states no preprocessing in its metadata`);
  return p;
}
