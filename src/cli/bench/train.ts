/**
 * `mnas bench train`: the engine's training-speed benchmark (see src/bench/train-speed.ts).
 * Against PyTorch, alternating runs: `mnas bench train-vs-pytorch`.
 */
import type { Command } from 'commander';
import { runTrainSpeed, type TrainSpeedOptions } from '../../bench/train-speed.js';
import { hasPreset, presetNames } from '../../space/presets.js';
import { UsageError } from '../errors.js';
import { intOption } from '../options.js';

type BenchTrainOptions = Omit<TrainSpeedOptions, 'onEpoch'> & { json?: boolean };

export function registerBenchTrain(bench: Command): void {
  bench
    .command('train')
    .description('training and inference speed of a preset network on random data (same protocol as the PyTorch peer)')
    .option('--preset <name>', 'network preset', 'bench-fmnist')
    .option('--threads <n>', 'intra-op threads', intOption('--threads', 1, 256), 2)
    .option('--batch <n>', 'batch size', intOption('--batch', 1, 65536), 64)
    .option('--images <n>', 'images per epoch', intOption('--images', 1), 2048)
    .option('--epochs <n>', 'timed epochs (median reported)', intOption('--epochs', 1, 1000), 5)
    .option('--channels-last', 'use channels_last memory (NHWC) for activations and conv weights (default, as the PyTorch peer)', true)
    .option('--no-channels-last', 'use contiguous NCHW memory')
    .option('--seed <n>', 'random seed', intOption('--seed', 0), 0)
    .option('--json', 'print one JSON object on the last line')
    .action((o: BenchTrainOptions) => {
      if (!hasPreset(o.preset)) throw new UsageError(`bench train: unknown preset '${o.preset}' (known: ${presetNames().join(', ')})`);
      if (o.images < o.batch) throw new UsageError(`bench train: --images (${o.images}) must be at least --batch (${o.batch})`);
      const r = runTrainSpeed({
        ...o,
        onEpoch: (phase, e, s) => process.stderr.write(`${phase} epoch ${e + 1}/${o.epochs}: ${s.toFixed(3)} s\n`),
      });
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        process.stdout.write(
          `${r.preset} (${r.params.toLocaleString('en-US')} params), ${r.threads} threads, batch ${r.batch}, ${r.channels_last ? 'channels_last' : 'contiguous'}\n` +
            `train ${r.train_img_s.toFixed(1)} img/s, inference ${r.infer_img_s.toFixed(1)} img/s, batch-1 latency ${r.latency_b1_ms.toFixed(3)} ms\n`,
        );
      }
    });
}
