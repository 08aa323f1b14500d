/**
 * A synthetic dataset generated in code from a seed, for tests and for runs on machines
 * without a real dataset. Each of the 10 classes is a Gabor-like pattern: a grating with a
 * class-specific orientation (5 angles, 36 degrees apart) and spatial period (coarse for
 * classes 0-4, fine for 5-9), under a Gaussian window at a random position, with random
 * phase, contrast and (for 3 channels) tint, plus Gaussian pixel noise. Telling classes apart
 * needs local oriented filters, which a small CNN learns quickly; raw-pixel templates do not
 * work because the phase and position are random. Flips are not allowed: mirroring changes
 * the orientation, hence the class.
 */
import { Rng } from '../util/rng.js';
import { withTrainingStats, type DatasetWithoutStats, type TrainTestDatasets } from './dataset.js';

export const SYNTHETIC_CLASSES = 10;
export const SYNTHETIC_CLASS_NAMES = Array.from({ length: SYNTHETIC_CLASSES }, (_, k) => syntheticClassName(k));

export interface SyntheticOptions {
  readonly seed?: number;
  /** Training images (default 10,000). */
  readonly trainCount?: number;
  /** Test images (default 2,000). */
  readonly testCount?: number;
  /** '28x28x1' (default, MNIST-like) or '32x32x3' (CIFAR-like). */
  readonly shape?: SyntheticShape;
  /** Standard deviation of the pixel noise, as a fraction of the full range (default 0.3). */
  readonly noise?: number;
}

export type SyntheticShape = '28x28x1' | '32x32x3';

/** Orientation (radians) and spatial period (pixels) of class k's grating. */
export function syntheticClassPattern(k: number): { angle: number; period: number } {
  return { angle: ((k % 5) * Math.PI) / 5, period: k < 5 ? 7 : 3.5 };
}

function syntheticClassName(k: number): string {
  const { angle, period } = syntheticClassPattern(k);
  return `${Math.round((angle * 180) / Math.PI)}deg/${period}px`;
}

function generate(count: number, height: number, width: number, channels: number, noise: number, rng: Rng, name: string): DatasetWithoutStats {
  const images = new Uint8Array(count * height * width * channels);
  const labels = new Uint8Array(count);
  const order = rng.permutation(count); // balanced classes in random order
  const tint = new Float64Array(channels);
  // The window and the grating are separable in x and y, so per-pixel work is a few multiplies:
  // exp(-(dx²+dy²)/2s²) = ex[x]·ey[y] and cos(ax+by+φ) = cx[x]·cy[y] - sx[x]·sy[y].
  const ex = new Float64Array(width), cx = new Float64Array(width), sx = new Float64Array(width);
  const ey = new Float64Array(height), cy = new Float64Array(height), sy = new Float64Array(height);
  const gaussian = new GaussianPairs(rng);
  for (let n = 0; n < count; n++) {
    const label = order[n]! % SYNTHETIC_CLASSES;
    labels[n] = label;
    const { angle, period } = syntheticClassPattern(label);
    const kx = (2 * Math.PI * Math.cos(angle)) / period;
    const ky = (2 * Math.PI * Math.sin(angle)) / period;
    const phase = 2 * Math.PI * rng.next();
    const amplitude = 0.5 * (0.4 + 0.6 * rng.next());
    const centerY = height * (0.3 + 0.4 * rng.next());
    const centerX = width * (0.3 + 0.4 * rng.next());
    const sigma = Math.min(height, width) * (0.2 + 0.1 * rng.next());
    const inv2s2 = 1 / (2 * sigma * sigma);
    for (let c = 0; c < channels; c++) tint[c] = channels === 1 ? 1 : 0.4 + 0.6 * rng.next();
    for (let x = 0; x < width; x++) {
      ex[x] = Math.exp(-(x - centerX) * (x - centerX) * inv2s2);
      cx[x] = Math.cos(kx * x + phase);
      sx[x] = Math.sin(kx * x + phase);
    }
    for (let y = 0; y < height; y++) {
      ey[y] = amplitude * Math.exp(-(y - centerY) * (y - centerY) * inv2s2);
      cy[y] = Math.cos(ky * y);
      sy[y] = Math.sin(ky * y);
    }
    let o = n * height * width * channels;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const wave = ex[x]! * ey[y]! * (cx[x]! * cy[y]! - sx[x]! * sy[y]!);
        for (let c = 0; c < channels; c++) {
          const v = 0.5 + wave * tint[c]! + noise * gaussian.next();
          images[o++] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
        }
      }
    }
  }
  return {
    name, images, labels, count, height, width, channels,
    classes: SYNTHETIC_CLASSES,
    classNames: SYNTHETIC_CLASS_NAMES,
    allowsHorizontalFlip: false,
  };
}

/** Standard normals from Box-Muller, using both values of each pair (Rng.normal drops one). */
class GaussianPairs {
  private spare = 0;
  private hasSpare = false;

  constructor(private readonly rng: Rng) {}

  next(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u = (this.rng.nextUint32() + 1) / 4294967297; // (0, 1)
    const theta = (2 * Math.PI * this.rng.nextUint32()) / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`synthetic.ts: ${what} must be a positive integer, got ${value}`);
  return value;
}

export function makeSyntheticDataset(options: SyntheticOptions = {}): TrainTestDatasets {
  const seed = options.seed ?? 0;
  const trainCount = positiveInteger(options.trainCount ?? 10_000, 'trainCount');
  const testCount = positiveInteger(options.testCount ?? 2_000, 'testCount');
  const shape = options.shape ?? '28x28x1';
  const noise = options.noise ?? 0.3;
  if (!(noise >= 0)) throw new Error(`synthetic.ts: noise must be >= 0, got ${noise}`);
  let dims: [number, number, number];
  if (shape === '28x28x1') dims = [28, 28, 1];
  else if (shape === '32x32x3') dims = [32, 32, 3];
  else throw new Error(`synthetic.ts: unknown shape "${String(shape)}", expected '28x28x1' or '32x32x3'`);
  const rng = new Rng(seed);
  const trainRng = rng.fork();
  const testRng = rng.fork();
  return withTrainingStats(
    generate(trainCount, ...dims, noise, trainRng, 'synthetic/train'),
    generate(testCount, ...dims, noise, testRng, 'synthetic/test'),
  );
}
