import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { InputError } from '../util/input-error.js';
import { registerTrain, TrainFailedError } from './train.js';
import { assertUsageExit, runCli } from './testing.js';

const TINY = 'in28x28x1_cls10_stem8s1_head0:r1_k3_s22_e1_i8_o16,r1_k3_s22_e3_i16_o24';

async function run(...args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const program = new Command('mnas').exitOverride().configureOutput({ writeErr: (s) => void (err += s), writeOut: (s) => void (out += s) });
  registerTrain(program, {
    stdout: (s) => void (out += s),
    stderr: { write: (s: string) => ((err += s), true), isTTY: false },
  });
  await program.parseAsync(['train', ...args], { from: 'user' });
  return { out, err };
}

const usage = (pattern: RegExp) => (e: unknown) => e instanceof InputError && pattern.test(e.message);

test('mnas train --json: the last stdout line is one JSON object with the run record; progress goes to stderr', async () => {
  const { out, err } = await run(TINY, '--dataset', 'synthetic', '--subset', '512', '--validation', '300', '--epochs', '2', '--batch', '64', '--threads', '1', '--json');
  const r = JSON.parse(out.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
  assert.equal(r['status'], 'done');
  for (const key of ['val_accuracy', 'test_accuracy', 'epochs', 'seconds', 'train_img_s']) assert.equal(typeof r[key], 'number', key);
  assert.equal(r['epochs'], 2);
  assert.equal(r['train_images'], 512);
  assert.equal(r['validation_images'], 300);
  assert.match(err, /epoch 2\/2: loss/);
  assert.match(err, /^train \d+\/16 epoch/m, 'plain progress lines when stderr is not a terminal');
});

test('mnas train --proxy: validation accuracy, no test set', async () => {
  const { out } = await run(TINY, '--dataset', 'synthetic', '--proxy', '--subset', '256', '--batch', '64', '--threads', '1', '--json', '--quiet');
  const r = JSON.parse(out.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
  assert.equal(typeof r['val_accuracy'], 'number');
  assert.equal(r['test_accuracy'], null);
  assert.equal(r['validation_images'], 1666, 'the default hold-out: a sixth of the 10,000 synthetic training images');
});

test('mnas train: a diverging run prints the reason, then throws TrainFailedError (exit code 1)', async () => {
  let out = '';
  const program = new Command('mnas').exitOverride();
  registerTrain(program, { stdout: (s) => void (out += s), stderr: { write: () => true } });
  await assert.rejects(
    program.parseAsync(['train', TINY, '--dataset', 'synthetic', '--subset', '256', '--batch', '64', '--lr', '1e9', '--warmup-epochs', '0', '--threads', '1', '--quiet'], { from: 'user' }),
    (e: unknown) => e instanceof TrainFailedError && !(e instanceof InputError),
  );
  assert.match(out, /^failed: diverged at epoch 1 step \d+: /);
});

test('mnas train: bad input is an InputError', async () => {
  await assert.rejects(run(TINY, '--dataset', 'imagenet'), usage(/imagenet: not a dataset name \(fashion-mnist, mnist, cifar10, synthetic, synthetic-rgb\) and no such file or folder/));
  await assert.rejects(run(TINY, '--dataset', 'mnist'), usage(/needs a data directory/));
  await assert.rejects(run(TINY, '--dataset', 'cifar10', '--data-dir', '/nonexistent/cifar'), usage(/--data-dir '\/nonexistent\/cifar' does not exist/));
  await assert.rejects(run(TINY, '--dataset', 'mnist', '--data-dir', '/tmp'), usage(/\/tmp/));
  await assert.rejects(run(TINY, '--epochs', '0'), usage(/--epochs must be an integer in \[1, 10000\]/));
  await assert.rejects(run(TINY, '--lr', 'fast'), usage(/--lr must be a number/));
  await assert.rejects(run(TINY, '--batch', '-3'), usage(/--batch/));
  await assert.rejects(run(TINY, '--label-smoothing', '1'), usage(/--label-smoothing/));
  await assert.rejects(run(TINY, '--optimizer', 'adagrad'), usage(/--optimizer must be one of sgd, rmsprop/));
  await assert.rejects(run(TINY, '--schedule', 'linear'), usage(/--schedule must be one of cosine, exponential, constant/));
  await assert.rejects(run(TINY, '--epochs', '2', '--warmup-epochs', '2'), usage(/--warmup-epochs \(2\) must be less than --epochs \(2\)/));
  await assert.rejects(run('mnasnet-z'), usage(/'mnasnet-z' is not a preset/));
  await assert.rejects(run(TINY, '--dataset', 'synthetic', '--subset', '9000', '--validation', '1001'), usage(/--subset \(9000\) exceeds the 8999 training images left after 1001 for validation/));
  await assert.rejects(run(TINY, '--dataset', 'synthetic', '--subset', '100', '--batch', '128'), usage(/fewer than one batch of 128/));
});

test('mnas train --input / --classes: given values override the arch and the data must have them; found before training', async () => {
  await assert.rejects(run(TINY, '--dataset', 'synthetic', '--input', '32x32x3'), usage(/^train: synthetic: images are 28x28x1 but the input given \(--input\) is 32x32x3 \(channels differ\)$/));
  await assert.rejects(run(TINY, '--dataset', 'synthetic', '--classes', '5'), usage(/^train: synthetic: the data has 10 classes but the number given \(--classes\) is 5$/));
  await assert.rejects(run(TINY, '--input', '32x32'), usage(/^train: --input must be HxWxC/));
  await assert.rejects(run(TINY, '--classes', '0'), usage(/--classes must be an integer in \[1, 100000\]/));
  // given values that agree with the data; the arch's own (28x28x1, 10 classes) give way to them
  const rgb = TINY.replace('in28x28x1_cls10', 'in64x64x1_cls3');
  const { out } = await run(rgb, '--dataset', 'synthetic-rgb', '--input', '32x32x3', '--classes', '10', '--subset', '128', '--validation', '64', '--epochs', '1', '--batch', '64', '--threads', '1', '--no-test', '--json', '--quiet');
  const r = JSON.parse(out.trimEnd().split('\n').at(-1)!) as { status: string; arch: string };
  assert.equal(r.status, 'done');
  assert.ok(r.arch.startsWith('in32x32x3_cls10_'), r.arch);
});

/** `mnas train ...args` is refused: exit 2, one line `mnas: train: ...`, no stack, within `seconds`. */
const refuse = (args: string[], message: RegExp, seconds: number) => assertUsageExit(runCli(['train', ...args]), message, { prefix: 'train: ', seconds });

test('mnas train: a width past the limit is refused before any data or tensor (the issue\'s command)', () => {
  refuse(
    ['in28x28x1_cls10_stem16s1_head0:r1_k3_s11_e1_i16_o100000000', '--subset', '128', '--epochs', '1'],
    /arch\.blocks\[0\]\.filters: 100000000 exceeds the limit 8192 \(channels of a layer\)$/m,
    5,
  );
});

test('mnas train: a network within every static limit that cannot fit in memory at the batch is refused before training', () => {
  // 512 layers of 2048 channels at 28x28: 1.7e12 MACs, 6 TB of activations at batch 1024
  const huge = `in28x28x1_cls10_stem16s1_head0:${Array(8).fill('r64_k1_s11_e1_o2048').join(',')}`;
  refuse(
    [huge, '--subset', '1024', '--batch', '1024', '--epochs', '1'],
    /the network needs at least [\d.]+ TB for training at batch 1024 \(weights [\d.]+ GB, activations [\d.]+ TB\), more than the [\d.]+ [GT]B usable/,
    15, // loads the data set first (its shape decides the network's)
  );
});
