/** `mnas bench train-vs-pytorch`: `mnas bench train` against the PyTorch reference, alternating (see src/bench/train-vs-pytorch.ts). */
import type { Command } from 'commander';
import { runTrainVsPytorch, TRAIN_VS_PYTORCH_PRESET, type TrainVsPytorchReport } from '../../bench/train-vs-pytorch.js';
import { UsageError } from '../errors.js';
import { intOption } from '../options.js';

interface BenchTrainVsPytorchOptions {
  rounds: number;
  threads: number;
  batch: number;
  images: number;
  epochs: number;
  json?: boolean;
}

function formatReport(r: TrainVsPytorchReport): string {
  const f = (x: number) => x.toFixed(1).padStart(11);
  const ms = (x: number) => x.toFixed(3).padStart(13);
  const ratio = (x: number) => x.toFixed(3).padStart(11);
  return (
    `${TRAIN_VS_PYTORCH_PRESET}, ${r.rounds} alternating rounds, ${r.threads} threads, batch ${r.batch}\n` +
    `               train img/s   infer img/s   latency b1 ms\n` +
    `mnas           ${f(r.mnas.train_img_s)}   ${f(r.mnas.infer_img_s)}   ${ms(r.mnas.latency_b1_ms)}\n` +
    `pytorch (cl)   ${f(r.pytorch_channels_last.train_img_s)}   ${f(r.pytorch_channels_last.infer_img_s)}   ${ms(r.pytorch_channels_last.latency_b1_ms)}\n` +
    `median ratio   ${ratio(r.ratio_train)}   ${ratio(r.ratio_infer)}   ${r.ratio_latency.toFixed(3).padStart(13)}  (mnas / pytorch; latency: lower is better)\n`
  );
}

export function registerBenchTrainVsPytorch(bench: Command): void {
  bench
    .command('train-vs-pytorch')
    .description(`\`mnas bench train --preset ${TRAIN_VS_PYTORCH_PRESET}\` against the PyTorch reference (MNAS_PYTORCH_REFERENCE), alternating rounds`)
    .option('--rounds <n>', 'alternating rounds', intOption('--rounds', 1, 1000), 5)
    .option('--threads <n>', 'intra-op threads of both sides', intOption('--threads', 1, 256), 2)
    .option('--batch <n>', 'batch size', intOption('--batch', 1, 65536), 64)
    .option('--images <n>', 'images per epoch', intOption('--images', 1), 2048)
    .option('--epochs <n>', 'timed epochs per run (median reported)', intOption('--epochs', 1, 1000), 5)
    .option('--json', 'print one JSON object on the last line')
    .action((o: BenchTrainVsPytorchOptions) => {
      if (o.images < o.batch) throw new UsageError(`bench train-vs-pytorch: --images (${o.images}) must be at least --batch (${o.batch})`);
      const report = runTrainVsPytorch({
        rounds: o.rounds,
        threads: o.threads,
        batch: o.batch,
        images: o.images,
        epochs: o.epochs,
        onRound: (round, mnas, pytorch) =>
          process.stderr.write(`round ${round}/${o.rounds}: mnas ${mnas.train_img_s.toFixed(0)} img/s, pytorch ${pytorch.train_img_s.toFixed(0)} img/s, ratio ${(mnas.train_img_s / pytorch.train_img_s).toFixed(3)}\n`),
      });
      process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatReport(report));
    });
}
