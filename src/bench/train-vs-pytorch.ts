/**
 * `mnas bench train-vs-pytorch`: engine training speed against PyTorch in one run, alternating the
 * two so that machine noise hits both alike. Each round runs `mnas bench train` and the PyTorch peer
 * (shared/bench/pytorch_reference.py, Debian's python3-torch, channels_last) as separate processes
 * with the same settings; the report gives medians and the median of per-round ratios.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../util/input-error.js';
import { repoRoot } from '../util/paths.js';
import { median } from '../util/stats.js';
import { mnasMainScript, runForLastJsonLine } from './child-process.js';
import { DEFAULT_PEER_PYTHON, requireTorchPython } from './pytorch-peer.js';

/** The network both sides train. */
export const TRAIN_VS_PYTORCH_PRESET = 'bench-fmnist';

export interface TrainVsPytorchOptions {
  rounds: number;
  threads: number;
  batch: number;
  images: number;
  epochs: number;
  /** The PyTorch reference script (default: MNAS_PYTORCH_REFERENCE, else shared/bench/pytorch_reference.py). */
  peerScript?: string;
  /** The Python that runs it (default Debian's /usr/bin/python3, which has python3-torch). */
  python?: string;
  /** The `mnas` entry script to run (default: the built one). */
  mnasMain?: string;
  /** Called after each round with both sides' figures (1-based round). */
  onRound?: (round: number, mnas: TrainFigures, pytorch: TrainFigures) => void;
}

/** What either side prints as JSON. */
export interface TrainFigures {
  train_img_s: number;
  infer_img_s: number;
  latency_b1_ms: number;
}

export interface TrainVsPytorchReport {
  rounds: number;
  threads: number;
  batch: number;
  images: number;
  epochs: number;
  /** Medians over the rounds. */
  mnas: TrainFigures;
  pytorch_channels_last: TrainFigures;
  /** Medians of the per-round mnas / pytorch ratios. */
  ratio_train: number;
  ratio_infer: number;
  ratio_latency: number;
}

/** The PyTorch reference script; an InputError naming MNAS_PYTORCH_REFERENCE when there is none. */
export function findPytorchReference(): string {
  const candidates = [process.env['MNAS_PYTORCH_REFERENCE'] ?? '', path.join(repoRoot(), '..', 'shared', 'bench', 'pytorch_reference.py'), '/work/shared/bench/pytorch_reference.py'];
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new InputError('bench train-vs-pytorch: pytorch_reference.py not found: set MNAS_PYTORCH_REFERENCE to its path');
  return found;
}

export function runTrainVsPytorch(o: TrainVsPytorchOptions): TrainVsPytorchReport {
  const peer = o.peerScript ?? findPytorchReference();
  const flags = ['--threads', String(o.threads), '--batch', String(o.batch), '--images', String(o.images), '--epochs', String(o.epochs)];
  const main = o.mnasMain ?? mnasMainScript();
  const python = o.python ?? DEFAULT_PEER_PYTHON;
  // before the first round's mnas side, which would otherwise run for nothing
  requireTorchPython(python, 'bench train-vs-pytorch');
  const ours: TrainFigures[] = [];
  const theirs: TrainFigures[] = [];
  for (let r = 0; r < o.rounds; r++) {
    // alternate which goes first so neither always runs on a warmer or cooler machine
    const order = r % 2 === 0 ? (['mnas', 'pytorch'] as const) : (['pytorch', 'mnas'] as const);
    for (const who of order) {
      if (who === 'mnas') ours.push(runForLastJsonLine<TrainFigures>(process.execPath, [main, 'bench', 'train', '--preset', TRAIN_VS_PYTORCH_PRESET, ...flags, '--json'], 'bench train-vs-pytorch: mnas bench train'));
      else theirs.push(runForLastJsonLine<TrainFigures>(python, [peer, ...flags, '--channels-last'], 'bench train-vs-pytorch: the PyTorch reference'));
    }
    o.onRound?.(r + 1, ours[r] as TrainFigures, theirs[r] as TrainFigures);
  }
  const medians = (xs: readonly TrainFigures[]): TrainFigures => ({
    train_img_s: median(xs.map((x) => x.train_img_s)),
    infer_img_s: median(xs.map((x) => x.infer_img_s)),
    latency_b1_ms: median(xs.map((x) => x.latency_b1_ms)),
  });
  const ratio = (k: keyof TrainFigures) => median(ours.map((x, i) => x[k] / (theirs[i] as TrainFigures)[k]));
  return {
    rounds: o.rounds,
    threads: o.threads,
    batch: o.batch,
    images: o.images,
    epochs: o.epochs,
    mnas: medians(ours),
    pytorch_channels_last: medians(theirs),
    ratio_train: ratio('train_img_s'),
    ratio_infer: ratio('infer_img_s'),
    ratio_latency: ratio('latency_b1_ms'),
  };
}
