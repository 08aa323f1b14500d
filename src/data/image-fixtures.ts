/**
 * Helpers for tests of the user-data readers: small image folders written with sharp (PNG or
 * JPEG), whose classes a small CNN can tell apart (class k: stripes at angle 180k/K degrees,
 * random phase and noise from a seed). Not used by production code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../util/rng.js';

export interface ImageFolderSpec {
  readonly classes: readonly string[];
  readonly perClass: number;
  readonly height: number;
  readonly width: number;
  /** 1 (grayscale) or 3 (RGB); default 3. */
  readonly channels?: 1 | 3;
  /** Default 'png'. */
  readonly format?: 'png' | 'jpeg';
  readonly seed?: number;
}

/** Raw pixels (HWC) of one striped image of class k of `classCount`. */
export function stripeImage(k: number, classCount: number, height: number, width: number, channels: number, rng: Rng): Uint8Array {
  const angle = (Math.PI * k) / classCount;
  const phase = 2 * Math.PI * rng.next();
  const period = Math.max(4, Math.min(height, width) / 4);
  const out = new Uint8Array(height * width * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const wave = Math.cos((2 * Math.PI * (x * Math.cos(angle) + y * Math.sin(angle))) / period + phase);
    for (let c = 0; c < channels; c++) {
      const v = 128 + 90 * wave + 30 * (rng.next() - 0.5);
      out[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return out;
}

/** Encodes raw HWC pixels as a PNG or JPEG file. */
export async function writeImage(file: string, pixels: Uint8Array, height: number, width: number, channels: number, format: 'png' | 'jpeg' = 'png'): Promise<void> {
  const image = sharp(Buffer.from(pixels), { raw: { width, height, channels: channels as 1 | 3 } });
  writeFileSync(file, await (format === 'png' ? image.png() : image.jpeg({ quality: 90 })).toBuffer());
}

/** Writes `root/<class>/<i>.<ext>` for every class; returns the files written. */
export async function makeImageFolder(root: string, spec: ImageFolderSpec): Promise<string[]> {
  const rng = new Rng(spec.seed ?? 0);
  const channels = spec.channels ?? 3;
  const format = spec.format ?? 'png';
  const files: string[] = [];
  for (const [k, className] of spec.classes.entries()) {
    mkdirSync(join(root, className), { recursive: true });
    for (let i = 0; i < spec.perClass; i++) {
      const file = join(root, className, `${String(i).padStart(4, '0')}.${format === 'png' ? 'png' : 'jpg'}`);
      await writeImage(file, stripeImage(k, spec.classes.length, spec.height, spec.width, channels, rng), spec.height, spec.width, channels, format);
      files.push(file);
    }
  }
  return files;
}
