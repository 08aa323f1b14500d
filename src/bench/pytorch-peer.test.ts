import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findMnistFile } from '../data/mnist-format.js';
import { FASHION_MNIST_DEFAULT_DIR, loadFashionMnist } from '../data/fashion-mnist.js';
import { makeDataSplit } from '../data/split.js';
import { costOfPlan } from '../model/cost.js';
import { buildPlan } from '../model/plan.js';
import { parseArch } from '../space/arch-string.js';
import { PROXY_RECIPE } from '../train/recipe.js';
import { DEFAULT_PEER_PYTHON, PeerUnavailableError, PytorchPeer, writePeerSpec, type PeerSpec } from './pytorch-peer.js';
import { isInputError } from '../util/input-error.js';
import { tempDir } from '../util/testing.js';

// mbconv with SE, a downsampling pool skip that zero-pads channels, and a regular conv layer whose pool skip truncates them
const SMALL = 'in28x28x1_cls10_stem8s1_head0:r1_k3_s22_e3_i8_o16_se0.25_poolskip,conv_r1_k3_s11_e1_o12_poolskip';

function torchMissing(): string | undefined {
  const r = spawnSync(DEFAULT_PEER_PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${DEFAULT_PEER_PYTHON} cannot import torch (python3-torch is not installed)`;
}

function fashionMnistMissing(): string | undefined {
  return existsSync(findMnistFile(FASHION_MNIST_DEFAULT_DIR, 'train-images-idx3-ubyte'))
    ? undefined
    : `Fashion-MNIST is not in ${FASHION_MNIST_DEFAULT_DIR}`;
}

test('PyTorch peer: one proxy trial of a small architecture on 256 Fashion-MNIST images', async (t) => {
  const reason = torchMissing() ?? fashionMnistMissing();
  if (reason) {
    t.skip(reason);
    return;
  }
  const dir = tempDir('mnas-peer-');
  try {
    const specFile = path.join(dir, 'spec.json');
    const split = makeDataSplit(loadFashionMnist(), { seed: 0, validationSize: 256, proxyTrainSize: 256 });
    writePeerSpec(specFile, {
      archs: [SMALL],
      split,
      recipe: { ...PROXY_RECIPE, batchSize: 64 },
      dataFiles: {
        images: findMnistFile(FASHION_MNIST_DEFAULT_DIR, 'train-images-idx3-ubyte'),
        labels: findMnistFile(FASHION_MNIST_DEFAULT_DIR, 'train-labels-idx1-ubyte'),
      },
    });
    const spec = JSON.parse(readFileSync(specFile, 'utf8')) as PeerSpec;
    assert.deepEqual(spec.recipe.augmentation, { padding: 3, flip: true }, "'default' resolved for 28x28 Fashion-MNIST");
    assert.equal(spec.trials[0]!.plan.bnMomentum, PROXY_RECIPE.bnMomentum, "the recipe's BN momentum is in the plan");

    const peer = await PytorchPeer.start({ specFile, threads: 1, jemalloc: false });
    try {
      assert.equal(peer.info.threads, 1);
      assert.equal(peer.info.jemalloc, false);
      assert.equal(peer.info.trials, 1);
      const r = await peer.runTrial(0);
      assert.equal(r.status, 'done', r.status === 'failed' ? r.reason : '');
      assert.ok(r.status === 'done');
      assert.equal(r.trial, 0);
      assert.equal(r.arch, SMALL);
      assert.equal(r.params, costOfPlan(buildPlan(parseArch(SMALL))).params);
      assert.equal(r.steps, 4, '256 images in batches of 64, one epoch');
      assert.ok(r.valAccuracy >= 0 && r.valAccuracy <= 1, `accuracy ${r.valAccuracy}`);
      assert.ok(Number.isFinite(r.valLoss) && r.valLoss > 0, `loss ${r.valLoss}`);
      assert.ok(r.seconds > 0 && r.trainSeconds > 0 && r.trainSeconds <= r.seconds, `seconds ${r.seconds}, train ${r.trainSeconds}`);
      assert.ok(r.minorFaults >= 0 && r.systemSeconds >= 0);
      assert.ok(r.peakRssBytes === null || r.peakRssBytes > 1e6, `peak RSS ${r.peakRssBytes}`);
      await assert.rejects(peer.runTrial(1), /PyTorch peer \(trial 1\): stdin: expected \{"trial": 0\.\.0\}/);
    } finally {
      await peer.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PyTorch peer: start rejects naming what is missing', async () => {
  await assert.rejects(
    PytorchPeer.start({ specFile: '/nonexistent/spec.json', threads: 1, jemalloc: false, python: '/nonexistent/python3' }),
    /\/nonexistent\/python3 not found/,
  );
  await assert.rejects(
    PytorchPeer.start({ specFile: '/nonexistent/spec.json', threads: 1, jemalloc: false, python: process.execPath, script: '/nonexistent/peer.py' }),
    /the script \/nonexistent\/peer\.py does not exist/,
  );
  await assert.rejects(PytorchPeer.start({ specFile: '/nonexistent/spec.json', threads: 0, jemalloc: false }), /threads must be a positive integer/);
});

test('PyTorch peer: what the machine lacks is a PeerUnavailableError (an InputError: one line, exit 2), a failing peer is not', async () => {
  const dir = tempDir('mnas-peer-missing-');
  const spec = path.join(dir, 'spec.json');
  writeFileSync(spec, '{}');
  const fake = (name: string, message: Record<string, unknown>): string => {
    const file = path.join(dir, name);
    writeFileSync(file, `import sys\nprint(${JSON.stringify(JSON.stringify(message))}, flush=True)\nsys.exit(1)\n`);
    return file;
  };
  const noTorch = PytorchPeer.start({ specFile: spec, threads: 1, jemalloc: false, script: fake('no-torch.py', { error: 'python3-torch is missing (No module named torch)', missing: true }) });
  await assert.rejects(noTorch, (e: unknown) => e instanceof PeerUnavailableError && isInputError(e) && /python3-torch is missing/.test((e as Error).message));
  const broken = PytorchPeer.start({ specFile: spec, threads: 1, jemalloc: false, script: fake('broken.py', { error: 'cannot read the spec' }) });
  await assert.rejects(broken, (e: unknown) => !isInputError(e) && e instanceof Error && /cannot read the spec/.test(e.message));
  await assert.rejects(PytorchPeer.start({ specFile: spec, threads: 1, jemalloc: false, python: '/nonexistent/python3' }), PeerUnavailableError);
  // the real peer script on a Python that cannot see python3-torch (-S: no site packages)
  const bare = path.join(dir, 'python-without-site');
  writeFileSync(bare, `#!/bin/sh\nexec ${DEFAULT_PEER_PYTHON} -S "$@"\n`, { mode: 0o755 });
  await assert.rejects(PytorchPeer.start({ specFile: spec, threads: 1, jemalloc: false, python: bare }), (e: unknown) => e instanceof PeerUnavailableError && /python3-torch is missing/.test((e as Error).message));
});
