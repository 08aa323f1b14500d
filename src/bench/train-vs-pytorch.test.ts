import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isInputError } from '../util/input-error.js';
import { fakeFolder } from './fake-processes.js';
import { DEFAULT_PEER_PYTHON, PeerUnavailableError } from './pytorch-peer.js';
import { runTrainVsPytorch } from './train-vs-pytorch.js';

const figures = (train_img_s: number, infer_img_s: number, latency_b1_ms: number) => ({ train_img_s, infer_img_s, latency_b1_ms });

test('train vs PyTorch: alternating rounds with the same settings; medians and medians of per-round ratios', () => {
  const folder = fakeFolder();
  try {
    const mnas = folder.fake('mnas', [figures(200, 800, 1), figures(300, 900, 2), figures(250, 1000, 3)]);
    const peer = folder.fake('pytorch', [figures(100, 400, 2), figures(100, 450, 2), figures(125, 500, 2)]);
    const rounds: number[] = [];
    const r = runTrainVsPytorch({ rounds: 3, threads: 2, batch: 32, images: 256, epochs: 2, mnasMain: mnas.script, python: process.execPath, peerScript: peer.script, onRound: (i) => rounds.push(i) });
    assert.deepEqual(rounds, [1, 2, 3]);
    // the side that goes first alternates from round to round
    assert.deepEqual(folder.order(), ['mnas', 'pytorch', 'pytorch', 'mnas', 'mnas', 'pytorch']);
    const flags = ['--threads', '2', '--batch', '32', '--images', '256', '--epochs', '2'];
    assert.deepEqual(mnas.calls()[0], ['bench', 'train', '--preset', 'bench-fmnist', ...flags, '--json']);
    assert.deepEqual(peer.calls()[0], [...flags, '--channels-last']);
    assert.deepEqual(r.mnas, figures(250, 900, 2));
    assert.deepEqual(r.pytorch_channels_last, figures(100, 450, 2));
    // per-round ratios: train 2, 3, 2; infer 2, 2, 2; latency 0.5, 1, 1.5
    assert.equal(r.ratio_train, 2);
    assert.equal(r.ratio_infer, 2);
    assert.equal(r.ratio_latency, 1);
    assert.deepEqual(Object.keys(r), ['rounds', 'threads', 'batch', 'images', 'epochs', 'mnas', 'pytorch_channels_last', 'ratio_train', 'ratio_infer', 'ratio_latency']);
  } finally {
    folder.remove();
  }
});

test('train vs PyTorch: a python without torch, or none, is refused before the mnas side runs', () => {
  const folder = fakeFolder();
  try {
    const mnas = folder.fake('mnas', [figures(200, 800, 1)]);
    const peer = folder.fake('pytorch', [figures(100, 400, 2)]);
    // Debian's python3 without its site packages (-S), where python3-torch lives
    const bare = path.join(folder.dir, 'python-without-site');
    writeFileSync(bare, `#!/bin/sh\nexec ${DEFAULT_PEER_PYTHON} -S "$@"\n`, { mode: 0o755 });
    const run = (python: string) => () => runTrainVsPytorch({ rounds: 1, threads: 1, batch: 32, images: 256, epochs: 1, mnasMain: mnas.script, python, peerScript: peer.script });
    assert.throws(run(bare), (e: unknown) => e instanceof PeerUnavailableError && isInputError(e) && /has no torch module \(apt-get install python3-torch\)/.test((e as Error).message));
    assert.throws(run(path.join(folder.dir, 'no-such-python')), (e: unknown) => e instanceof PeerUnavailableError && /not found/.test((e as Error).message));
    assert.deepEqual(mnas.calls(), [], 'mnas did not run');
  } finally {
    folder.remove();
  }
});
