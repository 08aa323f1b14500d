/**
 * Engine training speed against PyTorch, in one run, alternating the two so that machine noise
 * hits both alike. Each round runs `mnas bench train` and the PyTorch peer
 * (shared/bench/pytorch_reference.py, Debian's python3-torch, channels_last) as separate
 * processes with the same settings; the report gives medians and the median of per-round ratios.
 *
 *   node dist/bench/train-vs-pytorch.js [--rounds 5] [--threads 2] [--batch 64] [--images 2048] [--epochs 5] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';
import { median } from '../src/util/stats.js';

interface Figures {
  train_img_s: number;
  infer_img_s: number;
  latency_b1_ms: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function lastJson(stdout: string, who: string): Figures {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Figures;
  } catch {
    throw new Error(`${who} did not print JSON on its last line:\n${stdout}`);
  }
}

function run(cmd: string, args: string[], who: string): Figures {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${who} failed (exit ${r.status}): ${r.stderr}`);
  return lastJson(r.stdout, who);
}

function findPeerScript(): string {
  const candidates = [
    process.env['MNAS_PYTORCH_REFERENCE'] ?? '',
    path.join(repoRoot(), '..', 'shared', 'bench', 'pytorch_reference.py'),
    '/work/shared/bench/pytorch_reference.py',
  ];
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new Error('pytorch_reference.py not found: set MNAS_PYTORCH_REFERENCE');
  return found;
}

const rounds = arg('rounds', 5);
const common = { threads: arg('threads', 2), batch: arg('batch', 64), images: arg('images', 2048), epochs: arg('epochs', 5) };
const flags = ['--threads', String(common.threads), '--batch', String(common.batch), '--images', String(common.images), '--epochs', String(common.epochs)];
const peer = findPeerScript();
const main = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const ours: Figures[] = [];
const theirs: Figures[] = [];
for (let r = 0; r < rounds; r++) {
  // alternate which goes first so neither always runs on a warmer or cooler machine
  const order = r % 2 === 0 ? ['mnas', 'pytorch'] : ['pytorch', 'mnas'];
  for (const who of order) {
    if (who === 'mnas') ours.push(run(process.execPath, [main, 'bench', 'train', '--preset', 'bench-fmnist', ...flags, '--json'], 'mnas'));
    else theirs.push(run('/usr/bin/python3', [peer, ...flags, '--channels-last'], 'pytorch'));
  }
  const o = ours[r] as Figures, t = theirs[r] as Figures;
  process.stderr.write(`round ${r + 1}/${rounds}: mnas ${o.train_img_s.toFixed(0)} img/s, pytorch ${t.train_img_s.toFixed(0)} img/s, ratio ${(o.train_img_s / t.train_img_s).toFixed(3)}\n`);
}
const key = (k: keyof Figures, xs: Figures[]) => median(xs.map((x) => x[k]));
const ratios = (k: keyof Figures) => median(ours.map((o, i) => o[k] / (theirs[i] as Figures)[k]));
const report = {
  rounds,
  ...common,
  mnas: { train_img_s: key('train_img_s', ours), infer_img_s: key('infer_img_s', ours), latency_b1_ms: key('latency_b1_ms', ours) },
  pytorch_channels_last: { train_img_s: key('train_img_s', theirs), infer_img_s: key('infer_img_s', theirs), latency_b1_ms: key('latency_b1_ms', theirs) },
  ratio_train: ratios('train_img_s'),
  ratio_infer: ratios('infer_img_s'),
  ratio_latency: ratios('latency_b1_ms'),
};
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(report)}\n`);
else {
  const f = (x: number) => x.toFixed(1);
  process.stdout.write(
    `bench-fmnist, ${rounds} alternating rounds, ${common.threads} threads, batch ${common.batch}\n` +
      `               train img/s   infer img/s   latency b1 ms\n` +
      `mnas           ${f(report.mnas.train_img_s).padStart(11)}   ${f(report.mnas.infer_img_s).padStart(11)}   ${report.mnas.latency_b1_ms.toFixed(3).padStart(13)}\n` +
      `pytorch (cl)   ${f(report.pytorch_channels_last.train_img_s).padStart(11)}   ${f(report.pytorch_channels_last.infer_img_s).padStart(11)}   ${report.pytorch_channels_last.latency_b1_ms.toFixed(3).padStart(13)}\n` +
      `median ratio   ${report.ratio_train.toFixed(3).padStart(11)}   ${report.ratio_infer.toFixed(3).padStart(11)}   ${report.ratio_latency.toFixed(3).padStart(13)}  (mnas / pytorch; latency: lower is better)\n`,
  );
}
