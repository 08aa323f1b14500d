/**
 * The engine's training-speed benchmark, the same protocol as the PyTorch peer
 * (shared/bench/pytorch_reference.py): random data, SGD (momentum 0.9, lr 0.01), cross-entropy;
 * training images/s is the median epoch after 3 warm-up steps, inference images/s the median
 * eval epoch at the same batch, latency the median of 200 batch-1 forwards after 20 warm-ups.
 */
import { buildNetwork } from '../model/builder.js';
import { presetArch } from '../space/presets.js';
import { median } from '../util/stats.js';
import {
  crossEntropy, getNumThreads, manualSeed, noGrad, rand, randint, setNumThreads, SGD, slice, startMemoryUsage, tidy, torchVersion, type MemoryUsage,
} from '../torch/index.js';

export interface TrainSpeedOptions {
  preset: string;
  threads: number;
  batch: number;
  images: number;
  epochs: number;
  channelsLast: boolean;
  seed: number;
  onEpoch?: (phase: 'train' | 'eval', epoch: number, seconds: number) => void;
}

export interface TrainSpeedResult {
  engine: string;
  torch: string;
  preset: string;
  params: number;
  threads: number;
  batch: number;
  channels_last: boolean;
  train_img_s: number;
  infer_img_s: number;
  latency_b1_ms: number;
  /** Memory of the whole benchmark: peak RSS, page faults, kernel time, allocator cache use. */
  memory: MemoryUsage;
  train_epoch_s: number[];
}

export function runTrainSpeed(o: TrainSpeedOptions): TrainSpeedResult {
  if (o.images < o.batch) throw new Error(`bench: --images (${o.images}) must be at least --batch (${o.batch})`);
  setNumThreads(o.threads);
  manualSeed(o.seed);
  const usage = startMemoryUsage();
  const arch = presetArch(o.preset);
  const { height, width, channels } = arch.global.input;
  const net = buildNetwork(arch, { seed: o.seed, init: 'pytorch', channelsLast: o.channelsLast });
  const format = o.channelsLast ? 'channels_last' : 'contiguous';
  const X = tidy(() => rand([o.images, channels, height, width]).contiguous(format)).keep();
  const Y = randint(0, arch.global.classes, [o.images]).keep();
  const B = o.batch;
  const nb = Math.floor(o.images / B);
  const opt = new SGD(net.parameters(), { momentum: 0.9 });
  try {
    const step = (i: number) =>
      tidy(() => {
        opt.zeroGrad();
        crossEntropy(net.forward(slice(X, 0, i * B, (i + 1) * B)), slice(Y, 0, i * B, (i + 1) * B)).backward();
        opt.step(0.01);
      });
    net.train();
    for (let i = 0; i < 3; i++) step(i % nb);
    const trainTimes: number[] = [];
    for (let e = 0; e < o.epochs; e++) {
      const t0 = performance.now();
      for (let i = 0; i < nb; i++) step(i);
      trainTimes.push((performance.now() - t0) / 1000);
      o.onEpoch?.('train', e, trainTimes[e] as number);
    }
    net.eval();
    const evalTimes: number[] = [];
    const lat: number[] = [];
    noGrad(() => {
      for (let i = 0; i < 3; i++) tidy(() => net.forward(slice(X, 0, 0, B)));
      for (let e = 0; e < o.epochs; e++) {
        const t0 = performance.now();
        for (let i = 0; i < nb; i++) tidy(() => net.forward(slice(X, 0, i * B, (i + 1) * B)));
        evalTimes.push((performance.now() - t0) / 1000);
        o.onEpoch?.('eval', e, evalTimes[e] as number);
      }
      const x1 = tidy(() => slice(X, 0, 0, 1).clone().contiguous(format)).keep();
      for (let i = 0; i < 20; i++) tidy(() => net.forward(x1));
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        tidy(() => net.forward(x1));
        lat.push(performance.now() - t0);
      }
      x1.dispose();
    });
    return {
      engine: 'mnas',
      torch: torchVersion().torch,
      preset: o.preset,
      params: net.parameterCount(),
      threads: getNumThreads(),
      batch: B,
      channels_last: o.channelsLast,
      train_img_s: (nb * B) / median(trainTimes),
      infer_img_s: (nb * B) / median(evalTimes),
      latency_b1_ms: median(lat),
      train_epoch_s: trainTimes,
      memory: usage.end(),
    };
  } finally {
    opt.dispose();
    net.dispose();
    X.dispose();
    Y.dispose();
  }
}
